package sqlstore_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"aisle/api/internal/pgtemp"
	"aisle/api/store"
	"aisle/api/store/sqlstore"
	"aisle/sync/wire"
)

// freezer forwards TCP connections to a Unix socket until freeze, which
// stops forwarding on the connections open then without closing them: to
// both ends they look alive and silent, as after a dropped NAT entry.
// Connections opened after freeze are forwarded.
type freezer struct {
	ln     net.Listener
	target string
	sent   atomic.Int64 // reads forwarded from clients to the server
	mu     gosync.Mutex
	open   []chan struct{} // closed to freeze each connection
}

func newFreezer(t *testing.T, socket string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, target: socket}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("unix", socket)
			if err != nil {
				c.Close()
				continue
			}
			frozen := make(chan struct{})
			f.mu.Lock()
			f.open = append(f.open, frozen)
			f.mu.Unlock()
			t.Cleanup(func() { c.Close(); up.Close() })
			go pipe(c, up, frozen, nil)
			go pipe(up, c, frozen, &f.sent)
		}
	}()
	return f
}

// pipe copies src to dst until frozen, then reads and drops what comes;
// it counts the reads it forwards in count (if not nil).
func pipe(dst io.Writer, src io.Reader, frozen <-chan struct{}, count *atomic.Int64) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		select {
		case <-frozen:
			continue
		default:
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
		if count != nil {
			count.Add(1)
		}
	}
}

func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.open {
		close(c)
	}
	f.open = nil
}

// TestListenNoticesSilentDeath: a listener whose connection goes silent
// (no reset, no answer) ends with an error within about twice ListenPing,
// where TCP keepalive would take minutes, and notifications before that
// are all delivered.
func TestListenNoticesSilentDeath(t *testing.T) {
	dsn := pgtemp.ForTest(t)
	dir := regexp.MustCompile(`host=(\S+)`).FindStringSubmatch(dsn)[1]
	f := newFreezer(t, filepath.Join(dir, ".s.PGSQL.5432"))
	proxied := regexp.MustCompile(`host=\S+ port=\d+`).ReplaceAllString(dsn, fmt.Sprintf("host=127.0.0.1 port=%d", f.ln.Addr().(*net.TCPAddr).Port))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	direct, err := sqlstore.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	s, err := sqlstore.OpenPostgres(ctx, proxied)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.ListenPing = 300 * time.Millisecond

	ready, heard, ended := make(chan struct{}), make(chan string, 8), make(chan error, 1)
	go func() {
		ended <- s.Listen(ctx, func() { close(ready) }, func(id string) { heard <- id })
	}()
	<-ready
	// Quiet: the listener pings, and the answered pings keep it going.
	for before := f.sent.Load(); f.sent.Load() < before+3; {
		select {
		case err := <-ended:
			t.Fatalf("listener ended on a live connection: %v", err)
		case <-ctx.Done():
			t.Fatal("no pings on a quiet connection")
		case <-time.After(10 * time.Millisecond):
		}
	}
	admin := store.Actor{Name: "test", Role: store.RoleAdmin}
	op, _ := store.PutStore(storeRec("s1"))
	if _, err := direct.Write(ctx, admin, []store.Op{op}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := direct.Publish(ctx, admin, "s1", wire.ReasonManual, ""); err != nil {
		t.Fatal(err)
	}
	if id := <-heard; id != "s1" {
		t.Fatalf("heard %q, want s1", id)
	}
	f.freeze()
	frozeAt := time.Now()
	select {
	case err := <-ended:
		if err == nil || ctx.Err() != nil {
			t.Fatalf("listener ended with %v (context %v), want a ping error", err, ctx.Err())
		}
		t.Logf("silent connection noticed after %v: %v", time.Since(frozeAt).Round(time.Millisecond), err)
	case <-time.After(30 * time.Second): // without pings: forever (the proxy keeps TCP alive)
		t.Fatalf("listener still waiting %v after its connection went silent", time.Since(frozeAt).Round(time.Millisecond))
	}
}
