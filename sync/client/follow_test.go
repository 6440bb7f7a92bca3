package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// fakeClock is Follower.After under the test's control: each wait is recorded and ends when the
// test fires it.
type fakeClock struct {
	waits chan time.Duration
	fire  chan time.Time
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.waits <- d
	return c.fire
}

// TestFollower: the start syncs; a server out of reach is reconnected to after 1, 2, 4 s (each
// reconnection syncs); an event syncs with it and resets the backoff; a refusing server is left
// alone for RefusedRetry unless woken; cancelling ends the loop.
func TestFollower(t *testing.T) {
	clock := &fakeClock{waits: make(chan time.Duration), fire: make(chan time.Time)}
	var mu sync.Mutex
	var syncs []string
	synced := make(chan struct{}, 16)
	streams := make(chan func(onEvent func(wire.Event)) error)
	var broken []bool
	f := &Follower{
		Sync: func(_ context.Context, ev *wire.Event) {
			mu.Lock()
			if ev == nil {
				syncs = append(syncs, "start")
			} else {
				syncs = append(syncs, ev.Type)
			}
			mu.Unlock()
			synced <- struct{}{}
		},
		Watch: func(ctx context.Context, onEvent func(wire.Event)) error {
			select {
			case s := <-streams:
				return s(onEvent)
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		Broken:       func(err error, refused bool) { broken = append(broken, refused) },
		RefusedRetry: time.Hour,
		After:        clock.After,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()

	offline := func(func(wire.Event)) error { return errors.New("connection refused") }
	wait := func(want time.Duration) {
		t.Helper()
		if got := <-clock.waits; got != want {
			t.Fatalf("waited %v, want %v", got, want)
		}
	}
	<-synced // the start
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		streams <- offline
		wait(want)
		clock.fire <- time.Time{}
		<-synced // each reconnection syncs
	}
	// An event: synced with it; the backoff starts again at 1 s.
	streams <- func(onEvent func(wire.Event)) error {
		onEvent(wire.Event{Type: "checkpoint"})
		return errors.New("stream broken")
	}
	<-synced
	wait(time.Second)
	clock.fire <- time.Time{}
	<-synced
	// A refusing server waits RefusedRetry, unless woken.
	streams <- func(func(wire.Event)) error { return catalog.Errorf(catalog.NotFound, "no store demo") }
	wait(time.Hour)
	f.Wake()
	<-synced
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if got, want := fmt.Sprint(syncs), "[start start start start checkpoint start start]"; got != want {
		t.Errorf("syncs %s, want %s", got, want)
	}
	if len(broken) != 5 || broken[4] != true || broken[0] != false {
		t.Errorf("broken reports (refused?) %v", broken)
	}
}

func TestRefused(t *testing.T) {
	for err, want := range map[error]bool{
		catalog.Errorf(catalog.NotFound, "x"):    true,
		catalog.Errorf(catalog.Forbidden, "x"):   true,
		catalog.Errorf(catalog.Unavailable, "x"): false,
		errors.New("connection reset"):           false,
		context.DeadlineExceeded:                 false,
	} {
		if got := Refused(err); got != want {
			t.Errorf("Refused(%v) = %v", err, got)
		}
	}
}
