//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"errors"
	gosync "sync"
	"sync/atomic"
	"syscall/js"
	"time"

	"aisle/sync/catalog"
	"aisle/sync/client"
	"aisle/sync/replica"
	"aisle/sync/replica/idb"
	"aisle/sync/wire"
	"aisle/worker/browser/grounding"
	bwire "aisle/worker/browser/wire"
)

// catalogSync keeps the app's store catalog in IndexedDB (database "aisle-catalog-STORE", the
// name aisleSync uses too) and answers the grounding lookups from it. While online it holds the
// store's push stream and syncs on each event; offline, the last applied checkpoint stays and
// is used. Each state change is posted to the page as
//
//	{type:"catalog", store, state:"opening"|"syncing"|"synced"|"offline"|"error",
//	 version, seq, changes, error}
//
// (version/seq: the applied checkpoint, 0 when none yet).
type catalogSync struct {
	storeID string
	cl      *client.Client
	wake    chan struct{} // syncNow wakes the loop waiting to reconnect

	mu  gosync.Mutex // serialises syncs
	rep *replica.Replica
	// db is the opened replica (nil until then), read by ground without waiting for a sync:
	// IndexedDB serves reads of the applied checkpoint while a sync stages pages.
	db atomic.Pointer[idb.Storage]

	smu    gosync.Mutex
	status catalogStatus
}

type catalogStatus struct {
	Store   string `json:"store"`
	State   string `json:"state"`
	Version int64  `json:"version"`
	Seq     int64  `json:"seq"`
	Changes int    `json:"changes"`
	Error   string `json:"error,omitempty"`
}

// storeParam reads ?store=ID from the worker's URL (engine.js?store=demo); default "demo".
func storeParam(g js.Value) string {
	q := g.Get("URLSearchParams").New(g.Get("location").Get("search"))
	if s := q.Call("get", "store"); s.Type() == js.TypeString && catalog.ValidID(s.String()) {
		return s.String()
	}
	return "demo"
}

// startCatalog opens the replica and starts the sync loop; it returns at once.
func startCatalog(storeID string) *catalogSync {
	origin := js.Global().Get("location").Get("origin").String()
	c := &catalogSync{storeID: storeID, cl: &client.Client{BaseURL: origin}, wake: make(chan struct{}, 1)}
	c.set(func(s *catalogStatus) { s.State = "opening" })
	go c.run()
	return c
}

func (c *catalogSync) set(f func(*catalogStatus)) {
	c.smu.Lock()
	c.status.Store = c.storeID
	f(&c.status)
	b, err := json.Marshal(c.status)
	c.smu.Unlock()
	if err != nil {
		return
	}
	msg := js.Global().Get("JSON").Call("parse", string(b))
	msg.Set("type", "catalog")
	js.Global().Call("postMessage", msg)
}

func (c *catalogSync) run() {
	ctx := context.Background()
	db, err := idb.Open(ctx, "aisle-catalog-"+c.storeID)
	if err != nil {
		c.set(func(s *catalogStatus) { s.State, s.Error = "error", err.Error() })
		return
	}
	meta, err := db.Load(ctx)
	if err != nil {
		c.set(func(s *catalogStatus) { s.State, s.Error = "error", err.Error() })
		return
	}
	c.mu.Lock()
	c.rep = &replica.Replica{Store: c.storeID, Audience: wire.AudiencePublic, Storage: db}
	c.mu.Unlock()
	c.db.Store(db)
	c.set(func(s *catalogStatus) { s.Version, s.Seq = meta.Checkpoint.Version, meta.Checkpoint.Seq })

	// The same loop as aisleSync.watch: sync now (the stream may be quiet for a day), then on
	// every event; reconnect with backoff when the server is out of reach (offline). A server
	// that answers but refuses (no such store, no sync API, another protocol) is asked again
	// only after permanentRetry or when the page asks (periodicsync, see syncNow).
	backoff := time.Second
	for {
		c.sync(ctx) // a failed sync is retried on the next event or reconnection
		err := c.cl.Watch(ctx, c.storeID, func(wire.Event) {
			backoff = time.Second
			go c.sync(ctx)
		})
		if err == nil { // Watch returns only on a broken stream; be safe all the same
			err = catalog.Errorf(catalog.Unavailable, "push stream ended")
		}
		delay := backoff
		if transient(err) {
			c.set(func(s *catalogStatus) { s.State, s.Error = "offline", err.Error() })
			backoff = min(2*backoff, 30*time.Second)
		} else {
			c.set(func(s *catalogStatus) { s.State, s.Error = "error", err.Error() })
			delay = permanentRetry
		}
		select {
		case <-c.wake:
			backoff = time.Second
		case <-time.After(delay):
		}
	}
}

// permanentRetry is how long the worker waits before asking again a server that refused.
const permanentRetry = 10 * time.Minute

// transient reports whether err (nil counts) may pass soon: anything but the server's own
// refusal (no such store or no sync API, credentials, protocol version).
func transient(err error) bool {
	var ce *catalog.Error
	if !errors.As(err, &ce) {
		return true // nil, a broken connection, a timeout
	}
	switch ce.Code {
	case catalog.Invalid, catalog.NotFound, catalog.Unauthorized, catalog.Forbidden, catalog.Unsupported:
		return false
	}
	return true
}

// syncNow syncs at once and wakes the loop if it is waiting to reconnect.
func (c *catalogSync) syncNow() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
	go c.sync(context.Background())
}

// sync brings the replica to the server's latest checkpoint; on failure the last good
// checkpoint stays applied (the replica applies a whole checkpoint or nothing).
func (c *catalogSync) sync(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rep == nil {
		return catalog.Errorf(catalog.Unavailable, "the catalog is not open yet")
	}
	c.set(func(s *catalogStatus) { s.State = "syncing" })
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	res, err := c.rep.Sync(ctx, c.cl)
	c.set(func(s *catalogStatus) {
		if err != nil {
			s.State, s.Error = "offline", err.Error()
			if !transient(err) {
				s.State = "error"
			}
			return
		}
		s.State, s.Error = "synced", ""
		s.Version, s.Seq, s.Changes = res.Checkpoint.Version, res.Checkpoint.Seq, s.Changes+res.Changes
	})
	return err
}

// ground puts the local catalog's facts for the last user message first. It never fails the
// chat: without a catalog, or on a lookup error, the messages go through unchanged.
func (c *catalogSync) ground(ctx context.Context, msgs []bwire.Message) []bwire.Message {
	db := c.db.Load()
	if db == nil {
		return msgs
	}
	in := make([]grounding.Message, len(msgs))
	for i, m := range msgs {
		in[i] = grounding.Message{Role: m.Role, Content: m.Content}
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out, err := grounding.Ground(ctx, db, in, grounding.Limits{})
	if err != nil || len(out) == len(in) {
		return msgs
	}
	res := make([]bwire.Message, len(out))
	for i, m := range out {
		res[i] = bwire.Message{Role: m.Role, Content: m.Content}
	}
	return res
}
