package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"aisle/api/internal/pgtemp"
	"aisle/api/internal/testkit"
	"aisle/api/store/sqlstore"
	"aisle/sync/client"
	"aisle/sync/wire"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtemp.StopShared()
	if built.bin != "" {
		os.RemoveAll(filepath.Dir(built.bin))
	}
	os.Exit(code)
}

// TestPushAcrossProcesses: two aisle-server processes on one PostgreSQL
// database, each listening (one aisle-listen backend each); a checkpoint
// published through the first reaches a push stream held on the second
// within 3 s (through LISTEN/NOTIFY, where a poll would take up to 5 s).
func TestPushAcrossProcesses(t *testing.T) {
	dsn := pgtemp.ForTest(t)
	bin, d := imageBinary(t)
	admin := "ask_" + "0123456789abcdef0123456789abcdef0123456789abcdef"
	addrs := testkit.FreeAddrs(t, 2)
	hc := &http.Client{Timeout: 10 * time.Second}
	var procs []*proc
	for _, addr := range addrs {
		root := imageRoot(t)
		p := startBinary(t, bin, root, imageEnv(d, root, "AISLE_ADDR="+addr, "AISLE_POSTGRES="+dsn, "AISLE_ADMIN_TOKEN="+admin, "AISLE_RATE=-1"))
		p.waitHealthz(t, hc, "http://"+addr+"/healthz") // one after the other: the first seeds the demo store
		procs = append(procs, p)
	}
	a, b := "http://"+addrs[0], "http://"+addrs[1]
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for n := 0; n != 2; {
		if err := db.QueryRow(`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
			sqlstore.ListenApplicationName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if time.Since(procs[1].started) > time.Minute {
			t.Fatalf("%d listening backends, want one per process", n)
		}
		time.Sleep(10 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	events := make(chan wire.Event, 8)
	go (&client.Client{BaseURL: b, HTTP: &http.Client{}}).Watch(ctx, "demo", func(ev wire.Event) { events <- ev })
	var hello wire.Event
	select {
	case hello = <-events:
	case <-ctx.Done():
		t.Fatalf("no hello from the second process\n%s", procs[1].out.String())
	}

	do := func(method, url string, body any) *http.Response {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, url, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for i := range 3 {
		if resp := do("PUT", a+"/v1/admin/stores/demo/stock/MILK-1L", map[string]any{"quantity": 40 + i}); resp.StatusCode != 200 {
			t.Fatalf("stock write on the first process: %d", resp.StatusCode)
		}
		resp := do("POST", a+"/v1/admin/stores/demo/publish", nil)
		var cp wire.Checkpoint
		json.NewDecoder(resp.Body).Decode(&cp)
		resp.Body.Close()
		if resp.StatusCode != 201 || cp.Seq <= hello.Checkpoint.Seq {
			t.Fatalf("publish on the first process: %d %+v", resp.StatusCode, cp)
		}
		published := time.Now()
		for got := false; !got; {
			select {
			case ev := <-events:
				got = ev.Type == wire.EventCheckpoint && ev.Checkpoint.Seq == cp.Seq
			case <-time.After(3 * time.Second):
				t.Fatalf("checkpoint %d published on the first process not on the second's stream within 3 s\n%s", cp.Seq, procs[1].out.String())
			}
		}
		t.Logf("checkpoint %d: on the other process's stream %v after the publish returned", cp.Seq, time.Since(published).Round(time.Microsecond))
	}
	for _, p := range procs {
		p.stop(t)
	}
}
