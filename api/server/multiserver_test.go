package server_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"aisle/api/internal/pgtemp"
	"aisle/api/server"
	"aisle/api/store/sqlstore"
	"aisle/sync/client"
	"aisle/sync/wire"
)

// TestPushAcrossServers: two server processes share one PostgreSQL; a
// device streaming from B hears a checkpoint published through A, and B's
// nightly run does not publish the night A already sealed.
func TestPushAcrossServers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dsn := pgtemp.ForTest(t)
	open := func() *sqlstore.DB {
		st, err := sqlstore.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	stA, stB := open(), open()
	if err := server.Seed(ctx, stA, time.Now()); err != nil {
		t.Fatal(err)
	}
	secret, _ := server.NewToken()
	if err := server.EnsureAdminToken(ctx, stA, "admin", secret); err != nil {
		t.Fatal(err)
	}
	start := func(st *sqlstore.DB) (*server.Server, *httptest.Server) {
		night := func() time.Time { return time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC) } // 04:00 in Paris
		srv, err := server.New(st, server.Config{Rate: -1, Logger: quietLogger(), NightlyInterval: -1, PollInterval: 50 * time.Millisecond, Now: night})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(func() { srv.Shutdown(context.Background()); hs.Close() })
		return srv, hs
	}
	srvA, hsA := start(stA)
	srvB, hsB := start(stB)

	events := make(chan wire.Event, 4)
	go (&client.Client{BaseURL: hsB.URL}).Watch(ctx, "demo", func(ev wire.Event) { events <- ev })
	if ev := <-events; ev.Type != wire.EventHello {
		t.Fatalf("first event %+v", ev)
	}
	for srvB.Hub().Subscribers("demo") == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond) // B's poller has seen the current checkpoint
	a := &env{t: t, URL: hsA.URL, Admin: secret}
	a.do("POST", "/v1/admin/stores/demo/publish", secret, nil).want(t, 201)
	select {
	case ev := <-events:
		if ev.Type != wire.EventCheckpoint || ev.Checkpoint.Seq != 2 {
			t.Fatalf("event from B: %+v", ev)
		}
	case <-ctx.Done():
		t.Fatal("B never pushed the checkpoint published through A")
	}
	// Both processes run the nightly job; the night is sealed once.
	a.do("PUT", "/v1/admin/stores/demo/stock/BAGUETTE", secret, map[string]any{"quantity": 3}).want(t, 200)
	srvA.RunNightly(ctx)
	srvB.RunNightly(ctx)
	cp, err := stB.Checkpoint(ctx, "demo")
	if err != nil || cp.Seq != 3 || cp.Reason != wire.ReasonNightly {
		t.Fatalf("after two nightly runs: %+v %v", cp, err)
	}
}
