package client

import (
	"context"
	"errors"
	"time"

	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// Follower keeps a replica up to date: it syncs at once (the push stream may stay quiet for a
// day), then on every event of the store's push stream. While the server is out of reach it
// reconnects with backoff, 1 s doubling to 30 s, and syncs again on each reconnection; a server
// that answers but refuses (no such store, no sync API, credentials, another protocol) is asked
// again only after RefusedRetry, or when Wake is called (the page's periodic sync, a user's
// retry). The inference worker's catalog and the aisleSync JavaScript API both run it.
type Follower struct {
	// Sync brings the replica up to date; ev is the event that asked for it, nil for the start
	// and each reconnection. It runs in its own goroutine for events, so the stream is never
	// held up; the caller serialises syncs.
	Sync func(ctx context.Context, ev *wire.Event)
	// Watch holds the push stream, calling onEvent for each event, until it breaks or ctx ends
	// (Client.Watch).
	Watch func(ctx context.Context, onEvent func(wire.Event)) error
	// Broken, when set, hears why the stream broke and whether the server refused.
	Broken func(err error, refused bool)
	// RefusedRetry is how long a refusing server is left alone (default 10 minutes).
	RefusedRetry time.Duration
	// After is time.After (tests give a fake clock).
	After func(time.Duration) <-chan time.Time

	wake chan struct{}
}

// DefaultRefusedRetry is Follower.RefusedRetry's default.
const DefaultRefusedRetry = 10 * time.Minute

// Backoff bounds of a Follower's reconnections.
const (
	FirstBackoff = time.Second
	MaxBackoff   = 30 * time.Second
)

// Refused reports whether err is the server's own refusal, which waiting a few seconds does not
// change: no such store or no sync API, credentials, another protocol version. A broken
// connection, a timeout or an unavailable server are not.
func Refused(err error) bool {
	var ce *catalog.Error
	if !errors.As(err, &ce) {
		return false
	}
	switch ce.Code {
	case catalog.Invalid, catalog.NotFound, catalog.Unauthorized, catalog.Expired, catalog.Forbidden, catalog.Unsupported:
		return true
	}
	return false
}

func (f *Follower) init() {
	if f.wake == nil {
		f.wake = make(chan struct{}, 1)
	}
}

// Wake ends a wait before the next connection (a sync asked for now). Call it after Run started
// or before: it is remembered.
func (f *Follower) Wake() {
	f.init()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Run follows the store until ctx ends. Call Wake or Run only after the fields are set, and Run
// once.
func (f *Follower) Run(ctx context.Context) {
	f.init()
	after := f.After
	if after == nil {
		after = time.After
	}
	refusedRetry := f.RefusedRetry
	if refusedRetry <= 0 {
		refusedRetry = DefaultRefusedRetry
	}
	backoff := FirstBackoff
	for ctx.Err() == nil {
		f.Sync(ctx, nil)
		err := f.Watch(ctx, func(ev wire.Event) {
			backoff = FirstBackoff
			go f.Sync(ctx, &ev)
		})
		if ctx.Err() != nil {
			return
		}
		if err == nil { // Watch returns only on a broken stream; be safe all the same
			err = catalog.Errorf(catalog.Unavailable, "push stream ended")
		}
		refused := Refused(err)
		if f.Broken != nil {
			f.Broken(err, refused)
		}
		delay := backoff
		if refused {
			delay = refusedRetry
		} else {
			backoff = min(2*backoff, MaxBackoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
			backoff = FirstBackoff
		case <-after(delay):
		}
	}
}
