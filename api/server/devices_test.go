package server_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"aisle/api/server"
	"aisle/api/store"
	"aisle/sync/wire"
)

// devicesRows returns every stored device row as "store hash audience".
func devicesRows(t *testing.T, e *env) []string {
	t.Helper()
	rows, err := e.Store.SQL().QueryContext(context.Background(), `SELECT store, hash, audience, first_seen, last_sync_at FROM devices ORDER BY store, hash`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var st, hash, aud string
		var first, last int64
		if err := rows.Scan(&st, &hash, &aud, &first, &last); err != nil {
			t.Fatal(err)
		}
		if first == 0 || last < first {
			t.Errorf("device %s: first seen %d, last sync %d", hash, first, last)
		}
		out = append(out, st+" "+hash+" "+aud)
	}
	return out
}

func deviceHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// TestDeviceSeen: a sync request (checkpoint, changes, events) with a
// valid X-Aisle-Device records the device in its store by the ID's hash
// (never the ID), as staff for a token that reads the store's staff
// audience and as a customer otherwise; a malformed header is ignored and
// the request still succeeds.
func TestDeviceSeen(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	cust, staff, other, viaChanges, viaEvents := wire.NewDeviceID(), wire.NewDeviceID(), wire.NewDeviceID(), wire.NewDeviceID(), wire.NewDeviceID()
	var cp wire.Checkpoint
	e.do("GET", "/v1/stores/demo/checkpoint", "", nil, wire.HeaderDevice, cust).want(t, 200).JSON(t, &cp)
	e.do("GET", "/v1/stores/demo/checkpoint", "", nil, wire.HeaderDevice, cust).want(t, 200) // within the minute: no second write
	for _, bad := range []string{"x", cust + "A", cust[:21], strings.Repeat("A", 21) + "B", cust[:20] + "+/", " " + cust[1:]} {
		e.do("GET", "/v1/stores/demo/checkpoint", "", nil, wire.HeaderDevice, bad).want(t, 200)
	}
	e.do("GET", "/v1/stores/demo/checkpoint", e.token(store.RoleStaff, "demo"), nil, wire.HeaderDevice, staff).want(t, 200)
	// A staff token of another store reads demo's public audience: a customer there.
	e.do("PUT", "/v1/admin/stores/other", e.Admin, map[string]any{"name": "Other", "time_zone": "Europe/Paris"}).want(t, 200)
	e.do("GET", "/v1/stores/demo/checkpoint", e.token(store.RoleStaff, "other"), nil, wire.HeaderDevice, other).want(t, 200)
	e.do("GET", fmt.Sprintf("/v1/stores/demo/changes?target=%d", cp.Version), "", nil, wire.HeaderDevice, viaChanges).want(t, 200)
	// A request that fails records nothing.
	e.do("GET", "/v1/stores/nosuch/checkpoint", "", nil, wire.HeaderDevice, wire.NewDeviceID()).want(t, 404)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/v1/stores/demo/events", nil)
	req.Header.Set(wire.HeaderDevice, viaEvents)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || resp.StatusCode != 200 {
		t.Fatalf("events: %d %q %v", resp.StatusCode, line, err)
	}
	cancel()
	resp.Body.Close()

	want := []string{
		"demo " + deviceHash(cust) + " customer",
		"demo " + deviceHash(staff) + " staff",
		"demo " + deviceHash(other) + " customer",
		"demo " + deviceHash(viaChanges) + " customer",
		"demo " + deviceHash(viaEvents) + " customer",
	}
	got := devicesRows(t, e)
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("missing %q", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d devices stored, want %d: %q", len(got), len(want), got)
	}
	for _, g := range got {
		for _, id := range []string{cust, staff, other, viaChanges, viaEvents} {
			if strings.Contains(g, id) {
				t.Errorf("raw device ID stored: %q", g)
			}
		}
	}
}

// TestConsoleDevices: the store page counts the devices seen in the last
// 24 hours, 7 and 30 days, customers and staff apart, and lists the most
// recent ones by a prefix of their hash, in the store's time zone.
func TestConsoleDevices(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	ctx := context.Background()
	now := time.Now()
	note := func(b byte, aud string, ago time.Duration) {
		t.Helper()
		sum := sha256.Sum256([]byte{b})
		if err := e.Store.NoteDeviceSync(ctx, "demo", sum[:], aud, now.Add(-ago)); err != nil {
			t.Fatal(err)
		}
	}
	note(0xa1, store.DeviceCustomer, time.Hour)
	note(0xa2, store.DeviceCustomer, 2*time.Hour)
	note(0xa3, store.DeviceStaff, 3*time.Hour)
	note(0xa4, store.DeviceCustomer, 3*24*time.Hour)
	note(0xa5, store.DeviceStaff, 20*24*time.Hour)
	note(0xa6, store.DeviceCustomer, 60*24*time.Hour)
	if err := e.Store.NoteDeviceSync(ctx, "other", []byte{0xb1, 0xb2, 0xb3, 0xb4, 0xb5}, store.DeviceCustomer, now); err != nil {
		t.Fatal(err)
	}
	cc := newConsoleClient(t, e)
	cc.signIn(e.Admin)
	status, body := cc.do("GET", "/admin/stores/demo", nil)
	if status != 200 {
		t.Fatalf("store page: %d", status)
	}
	checkAccessible(t, "/admin/stores/demo (devices)", body)
	for _, w := range []string{
		`<th scope="row">24 hours</th><td>2</td><td>1</td>`,
		`<th scope="row">7 days</th><td>3</td><td>1</td>`,
		`<th scope="row">30 days</th><td>3</td><td>2</td>`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("store page lacks %s", w)
		}
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	rowRe := regexp.MustCompile(`<tr><th scope="row"><code>([0-9a-f]+)</code></th><td>(\w+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>`)
	rows := rowRe.FindAllStringSubmatch(body, -1)
	if len(rows) != 6 {
		t.Fatalf("%d devices listed, want 6:\n%s", len(rows), body)
	}
	if first := deviceHash(string([]byte{0xa1})); rows[0][1] != first[:8] || rows[0][2] != "customer" || rows[2][2] != "staff" {
		t.Errorf("first rows: %q", rows[:3])
	}
	if want := time.UnixMilli(now.Add(-time.Hour).UnixMilli()).In(paris).Format("2006-01-02 15:04"); rows[0][4] != want || rows[0][3] != want {
		t.Errorf("times %q, %q, want %q (Europe/Paris)", rows[0][3], rows[0][4], want)
	}
	if strings.Contains(body, "<code>b1b2b3b4</code>") {
		t.Error("another store's device listed")
	}
}

// TestDeviceSyncThrottled: a device's syncs are written at most once a
// minute from one server process (the in-process throttle), even when the
// stored last sync would allow it, and again once the minute has passed; a
// failed write (the table gone) is logged, the request still answered.
func TestDeviceSyncThrottled(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC).UnixMilli())
	e := newEnv(t, sqliteDB, server.Config{Now: func() time.Time { return time.UnixMilli(clock.Load()) }})
	dev := wire.NewDeviceID()
	lastSync := func() int64 {
		t.Helper()
		var ms int64
		if err := e.Store.SQL().QueryRow(`SELECT last_sync_at FROM devices WHERE hash = $1`, deviceHash(dev)).Scan(&ms); err != nil {
			t.Fatal(err)
		}
		return ms
	}
	sync := func() {
		t.Helper()
		e.do("GET", "/v1/stores/demo/checkpoint", "", nil, wire.HeaderDevice, dev).want(t, 200)
	}
	sync()
	start := clock.Load()
	if got := lastSync(); got != start {
		t.Fatalf("last sync %d, want %d", got, start)
	}
	if _, err := e.Store.SQL().Exec(`UPDATE devices SET last_sync_at = 1`); err != nil {
		t.Fatal(err)
	}
	clock.Add(59 * time.Second.Milliseconds())
	sync()
	if got := lastSync(); got != 1 {
		t.Fatalf("written again within the minute: %d", got)
	}
	clock.Add(time.Second.Milliseconds())
	sync()
	if got, want := lastSync(), clock.Load(); got != want {
		t.Fatalf("after a minute: last sync %d, want %d", got, want)
	}
	if _, err := e.Store.SQL().Exec(`DROP TABLE devices`); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute.Milliseconds())
	sync()
}

// TestNightlyPrunesDevices: the nightly run forgets the devices unseen
// for 90 days and keeps the others.
func TestNightlyPrunesDevices(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	ctx := context.Background()
	now := time.Now()
	for i, ago := range []time.Duration{store.DeviceRetention + time.Hour, store.DeviceRetention - time.Hour} {
		if err := e.Store.NoteDeviceSync(ctx, "demo", []byte{byte(i)}, store.DeviceCustomer, now.Add(-ago)); err != nil {
			t.Fatal(err)
		}
	}
	e.Srv.RunNightly(ctx)
	if got := devicesRows(t, e); len(got) != 1 || got[0] != "demo 01 customer" {
		t.Fatalf("after the nightly run: %q", got)
	}
}
