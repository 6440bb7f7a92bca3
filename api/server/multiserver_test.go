package server_test

import (
	"context"
	"database/sql"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"aisle/api/internal/pgtemp"
	"aisle/api/server"
	"aisle/api/store/sqlstore"
	"aisle/sync/client"
	"aisle/sync/wire"
)

// pushPair is two server processes (A, B) sharing one PostgreSQL database,
// and a device streaming demo's events from B.
type pushPair struct {
	dsn            string
	stA, stB       *sqlstore.DB
	srvA, srvB     *server.Server
	a              *env
	events         chan wire.Event
	secret         string
	ctx            context.Context
	publishedSoFar int64
}

// newPushPair starts the pair. Its poll interval is an hour, so that only
// LISTEN/NOTIFY (or the poll once LISTEN is re-established) can carry a
// checkpoint from A to B within the test's deadline.
func newPushPair(t testing.TB, ctx context.Context) *pushPair {
	t.Helper()
	p := &pushPair{dsn: pgtemp.ForTest(t), ctx: ctx}
	open := func() *sqlstore.DB {
		st, err := sqlstore.OpenPostgres(ctx, p.dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	p.stA, p.stB = open(), open()
	if err := server.Seed(ctx, p.stA, time.Now()); err != nil {
		t.Fatal(err)
	}
	p.secret, _ = server.NewToken()
	if err := server.EnsureAdminToken(ctx, p.stA, "admin", p.secret); err != nil {
		t.Fatal(err)
	}
	start := func(st *sqlstore.DB) (*server.Server, *httptest.Server) {
		night := func() time.Time { return time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC) } // 04:00 in Paris
		srv, err := server.New(st, server.Config{Rate: -1, Logger: quietLogger(), NightlyInterval: -1, PollInterval: time.Hour, Now: night})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(func() { srv.Shutdown(context.Background()); hs.Close() })
		return srv, hs
	}
	var hsA, hsB *httptest.Server
	p.srvA, hsA = start(p.stA)
	p.srvB, hsB = start(p.stB)
	p.a = &env{t: t, URL: hsA.URL, Admin: p.secret}

	p.events = make(chan wire.Event, 4)
	wctx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go (&client.Client{BaseURL: hsB.URL}).Watch(wctx, "demo", func(ev wire.Event) {
		select {
		case p.events <- ev:
		case <-wctx.Done():
		}
	})
	if ev := p.next(t); ev.Type != wire.EventHello {
		t.Fatalf("first event %+v", ev)
	}
	p.publishedSoFar = 1 // the seed's checkpoint
	for p.srvB.Hub().Subscribers("demo") == 0 {
		if ctx.Err() != nil {
			t.Fatal("B never registered the stream")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return p
}

func (p *pushPair) next(t testing.TB) wire.Event {
	t.Helper()
	select {
	case ev := <-p.events:
		return ev
	case <-p.ctx.Done():
		t.Fatal("no event from B before the deadline")
		return wire.Event{}
	}
}

// publish publishes demo through A and requires B's stream to push exactly
// that checkpoint next.
func (p *pushPair) publish(t testing.TB) {
	t.Helper()
	p.a.do("POST", "/v1/admin/stores/demo/publish", p.secret, nil).want(t, 201)
	p.publishedSoFar++
	ev := p.next(t)
	if ev.Type != wire.EventCheckpoint || ev.Checkpoint.Seq != p.publishedSoFar {
		t.Fatalf("event from B after publish %d through A: %+v", p.publishedSoFar, ev)
	}
}

// TestPushAcrossServers: two server processes share one PostgreSQL; a
// device streaming from B hears every checkpoint published through A, in
// order, though B polls only hourly (LISTEN/NOTIFY carries them), and B's
// nightly run does not publish the night A already sealed.
func TestPushAcrossServers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := newPushPair(t, ctx)
	for range 20 {
		p.publish(t)
	}
	// Both processes run the nightly job; the night is sealed once.
	p.a.do("PUT", "/v1/admin/stores/demo/stock/BAGUETTE", p.secret, map[string]any{"quantity": 3}).want(t, 200)
	p.srvA.RunNightly(ctx)
	p.srvB.RunNightly(ctx)
	cp, err := p.stB.Checkpoint(ctx, "demo")
	if err != nil || cp.Seq != p.publishedSoFar+1 || cp.Reason != wire.ReasonNightly {
		t.Fatalf("after two nightly runs: %+v %v", cp, err)
	}
}

// TestPushListenReconnect: the listeners' PostgreSQL backends are
// terminated and a checkpoint is published through A while B's listener
// is down (its first retry is a second away); B's stream still gets it once
// the listener is back (B polls once LISTEN is re-established), and
// notifications flow again afterwards.
func TestPushListenReconnect(t *testing.T) {
	defer server.SetListenBackoff(time.Second)()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := newPushPair(t, ctx)
	p.publish(t) // the listener works

	db, err := sql.Open("pgx", p.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	listeners := func() map[int64]bool {
		rows, err := db.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, sqlstore.ListenApplicationName)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		pids := map[int64]bool{}
		for rows.Next() {
			var pid int64
			if err := rows.Scan(&pid); err != nil {
				t.Fatal(err)
			}
			pids[pid] = true
		}
		return pids
	}
	old := listeners()
	if len(old) != 2 {
		t.Fatalf("listener backends: %v, want A's and B's", old)
	}
	for pid := range old {
		var ok bool
		if err := db.QueryRowContext(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
			t.Fatalf("terminate %d: %v %v", pid, ok, err)
		}
	}
	p.publish(t) // published while B's listener is down, heard once it is back

	// Both listeners are back on new backends, and notifications flow.
	for {
		now := listeners()
		fresh := 0
		for pid := range now {
			if !old[pid] {
				fresh++
			}
		}
		if fresh == 2 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("listeners not back: before %v, now %v", old, now)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for range 3 {
		p.publish(t)
	}
}

// BenchmarkPushAcrossServers measures publish through A → checkpoint
// event on B's stream (LISTEN/NOTIFY; B polls hourly): the time from
// sending the publish request to receiving the event, median and p99.
//
//	go test -run '^$' -bench PushAcrossServers -benchtime 200x ./api/server/
func BenchmarkPushAcrossServers(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := newPushPair(b, ctx)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		p.publish(b)
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
}
