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
	"aisle/worker/assistant"
)

// catalogSync keeps the app's store catalog in IndexedDB (database "aisle-catalog-STORE", the
// name aisleSync uses too) and the store assistant's index of it in memory, rebuilt after every
// checkpoint applied. While online it holds the store's push stream and syncs on each event;
// offline, the last applied checkpoint stays and is used. Each state change is posted to the
// page as
//
//	{type:"catalog", store, state:"opening"|"syncing"|"synced"|"offline"|"error",
//	 version, seq, changes, error}
//
// (version/seq: the applied checkpoint, 0 when none yet; staff: a paired staff tablet, syncing
// the staff audience).
//
// Staff tablets. The page hands over the code of a pairing link ({type:"pair", code}); pair
// exchanges it for a staff token (client.Pair), keeps the credential in the replica's IndexedDB
// database and syncs the staff audience with it from then on, answering {type:"pair", ok, store,
// error, code}. When the server rejects the token (revoked or expired: client.CredentialRejected)
// at a sync or when the push stream reconnects, the credential and every staff record are
// deleted in one transaction (replica.StaffDropper), the assistant's index is rebuilt without
// them, the page is told {type:"unpaired", code}, and the device goes on as a customer's.
type catalogSync struct {
	storeID string
	origin  string
	// device is the installation's anonymous ID (idb.Storage.DeviceID), "" until the replica is
	// opened: written by run before it publishes db, so whoever has seen db reads it safely.
	device string
	cl     atomic.Pointer[client.Client] // the token it carries says whether this is a staff tablet
	follow client.Follower               // the push stream, with reconnection (started by run)
	// endWatch ends the current push stream, so that it is opened again with the current token.
	endWatch atomic.Pointer[context.CancelFunc]

	mu  gosync.Mutex // serialises syncs
	rep *replica.Replica
	// db is the opened replica (nil until then); IndexedDB serves reads of the applied
	// checkpoint while a sync stages pages.
	db atomic.Pointer[idb.Storage]
	// store is the assistant's index of the applied checkpoint (nil until one is applied);
	// questions read it without waiting for a sync or a reindex.
	store   atomic.Pointer[assistant.Store]
	indexed func(*assistant.Store) // when set, told of each new store
	version int64                  // the checkpoint version store was built from; guarded by mu
	opened  chan struct{}          // closed once the stored checkpoint is indexed (or there is none)

	smu    gosync.Mutex
	status catalogStatus
}

type catalogStatus struct {
	Store   string `json:"store"`
	State   string `json:"state"`
	Version int64  `json:"version"`
	Seq     int64  `json:"seq"`
	Changes int    `json:"changes"`
	Staff   bool   `json:"staff"` // a paired staff tablet: the replica holds the staff audience
	Error   string `json:"error,omitempty"`
	// Code is the catalog error code of Error when the server refused ("not_found": no such
	// store), "" otherwise.
	Code string `json:"code,omitempty"`
	// IndexMS is how long the last rebuild of the assistant's index took.
	IndexMS float64 `json:"index_ms,omitempty"`
	// The store the assistant answers from, once a checkpoint is on the device: its name, when
	// that checkpoint was published (Unix ms) and questions to suggest (assistant.Suggestions).
	Name        string   `json:"name,omitempty"`
	PublishedAt int64    `json:"published_at,omitempty"`
	Suggestions []string `json:"suggestions,omitempty"`
}

// suggestions is how many suggested questions the page shows.
const suggestions = 4

// storeParam reads ?store=ID from the worker's URL (engine.js?store=demo); default "demo".
func storeParam(g js.Value) string {
	q := g.Get("URLSearchParams").New(g.Get("location").Get("search"))
	if s := q.Call("get", "store"); s.Type() == js.TypeString && catalog.ValidID(s.String()) {
		return s.String()
	}
	return "demo"
}

// startCatalog opens the replica and starts the sync loop; it returns at once. indexed, when not
// nil, is told of each new store the assistant answers from.
func startCatalog(storeID string, indexed func(*assistant.Store)) *catalogSync {
	origin := js.Global().Get("location").Get("origin").String()
	c := &catalogSync{storeID: storeID, origin: origin, opened: make(chan struct{}), indexed: indexed}
	c.cl.Store(&client.Client{BaseURL: origin})
	c.follow = c.newFollower()
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
	defer func() {
		select {
		case <-c.opened:
		default:
			close(c.opened) // a failed open: questions do not wait for an index
		}
	}()
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
	// The anonymous installation ID sent with sync requests (wire.HeaderDevice); without one
	// (a storage failure) the device syncs all the same, uncounted.
	if dev, err := db.DeviceID(ctx); err == nil {
		c.device = dev
		c.cl.Store(c.newClient(""))
	}
	aud := wire.AudiencePublic
	if raw, err := db.Credential(ctx); err == nil && raw != "" {
		var cred client.Credential
		if json.Unmarshal([]byte(raw), &cred) == nil && cred.Token != "" && cred.Store == c.storeID {
			c.cl.Store(c.newClient(cred.Token))
			aud = wire.AudienceStaff
		}
	}
	c.mu.Lock()
	c.rep = &replica.Replica{Store: c.storeID, Audience: aud, Storage: db}
	c.mu.Unlock()
	c.set(func(s *catalogStatus) { s.Staff = aud == wire.AudienceStaff })
	c.db.Store(db)
	c.set(func(s *catalogStatus) { s.Version, s.Seq = meta.Checkpoint.Version, meta.Checkpoint.Seq })
	c.mu.Lock()
	c.reindex(ctx)
	c.mu.Unlock()
	close(c.opened)
	go c.refreshHourly(ctx)

	c.follow.Run(ctx)
}

// newFollower is the loop that keeps the replica up to date (client.Follower): a broken stream
// shows as offline, a refusing server (no such store) as an error with its code.
func (c *catalogSync) newFollower() client.Follower {
	return client.Follower{
		Sync: func(ctx context.Context, _ *wire.Event) { c.sync(ctx) }, // a failed sync is retried on the next event or reconnection
		Watch: func(ctx context.Context, onEvent func(wire.Event)) error {
			cl := c.client()
			wctx, cancel := context.WithCancel(ctx)
			defer cancel()
			c.endWatch.Store(&cancel)
			err := cl.Watch(wctx, c.storeID, onEvent)
			if ctx.Err() == nil && wctx.Err() != nil {
				return errRewatch // ended to be opened again with another credential
			}
			if cl.Token != "" && client.CredentialRejected(err) {
				c.mu.Lock()
				if c.client() == cl {
					c.unpairLocked(ctx, err)
				}
				c.mu.Unlock()
				return errRewatch
			}
			return err
		},
		Broken: func(err error, refused bool) {
			if errors.Is(err, errRewatch) {
				return
			}
			if refused {
				c.set(func(s *catalogStatus) {
					s.State, s.Error, s.Code = "error", err.Error(), string(catalog.ErrorCode(err))
				})
			} else {
				c.set(func(s *catalogStatus) { s.State, s.Error, s.Code = "offline", err.Error(), "" })
			}
		},
	}
}

// errRewatch ends a push stream that is opened again at once with the device's current
// credential (after pairing, or as a customer after the staff token was rejected).
var errRewatch = errors.New("push stream reopened with another credential")

// newClient is a sync client of the origin carrying token ("": a customer) and the device ID.
func (c *catalogSync) newClient(token string) *client.Client {
	return &client.Client{BaseURL: c.origin, Token: token, Device: c.device}
}

// client is the sync client, with the staff token of a paired tablet.
func (c *catalogSync) client() *client.Client { return c.cl.Load() }

// rewatch ends the push stream and wakes the loop, which opens it again with the current client.
func (c *catalogSync) rewatch() {
	if end := c.endWatch.Load(); end != nil {
		(*end)()
	}
	c.follow.Wake()
}

// pair exchanges a pairing code for a staff token of this store, keeps it in IndexedDB, and
// syncs the staff audience with it.
func (c *catalogSync) pair(code string) {
	<-c.opened
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	report := func(cred client.Credential, err error) {
		msg := map[string]any{"type": "pair", "ok": err == nil, "store": c.storeID}
		if err != nil {
			msg["error"], msg["code"] = err.Error(), string(catalog.ErrorCode(err))
		}
		js.Global().Call("postMessage", js.ValueOf(msg))
	}
	db := c.db.Load()
	if db == nil {
		report(client.Credential{}, catalog.Errorf(catalog.Unavailable, "the catalog could not be opened on this device"))
		return
	}
	cred, err := (&client.Client{BaseURL: c.origin}).Pair(ctx, code)
	if err == nil && cred.Store != c.storeID {
		err = catalog.Errorf(catalog.Invalid, "this pairing code is for store %q, not %q", cred.Store, c.storeID)
	}
	if err == nil {
		b, _ := json.Marshal(cred)
		err = db.SetCredential(ctx, string(b))
	}
	if err != nil {
		report(cred, err)
		return
	}
	c.mu.Lock()
	c.cl.Store(c.newClient(cred.Token))
	c.rep.Audience = wire.AudienceStaff
	c.mu.Unlock()
	c.set(func(s *catalogStatus) { s.Staff = true })
	report(cred, nil)
	c.rewatch()
	go c.sync(context.Background())
}

// unpairLocked makes a staff tablet whose token the server rejected (why) a customer device:
// the credential and every staff record are deleted, the assistant's index rebuilt from the
// public records kept. Callers hold c.mu.
func (c *catalogSync) unpairLocked(ctx context.Context, why error) {
	db := c.db.Load()
	if db == nil || c.rep == nil {
		return
	}
	if err := db.DropStaff(ctx); err != nil {
		c.set(func(s *catalogStatus) { s.State, s.Error, s.Code = "error", err.Error(), "" })
		return // the token stays: the next contact tries again
	}
	c.cl.Store(c.newClient(""))
	c.rep.Audience = wire.AudiencePublic
	c.version = -1
	c.reindex(ctx)
	c.set(func(s *catalogStatus) { s.Staff = false })
	js.Global().Call("postMessage", js.ValueOf(map[string]any{"type": "unpaired", "store": c.storeID,
		"code": string(catalog.ErrorCode(why)), "error": why.Error()}))
	c.rewatch()
}

// syncNow syncs at once and wakes the loop if it is waiting to reconnect.
func (c *catalogSync) syncNow() {
	c.follow.Wake()
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
	cl := c.client()
	res, err := c.rep.Sync(ctx, cl)
	if err != nil && cl.Token != "" && client.CredentialRejected(err) {
		// The staff token was revoked or expired: go on as a customer device at once.
		c.unpairLocked(ctx, err)
		res, err = c.rep.Sync(ctx, c.client())
	}
	c.set(func(s *catalogStatus) {
		if err != nil {
			s.State, s.Error, s.Code = "offline", err.Error(), ""
			if client.Refused(err) {
				s.State, s.Code = "error", string(catalog.ErrorCode(err))
			}
			return
		}
		s.State, s.Error, s.Code = "synced", "", ""
		s.Version, s.Seq, s.Changes = res.Checkpoint.Version, res.Checkpoint.Seq, s.Changes+res.Changes
	})
	if err == nil {
		c.reindex(ctx)
	}
	return err
}

// reindex rebuilds the assistant's index from the applied checkpoint when it changed (or force
// it). Callers hold c.mu. A failure keeps the index there was.
func (c *catalogSync) reindex(ctx context.Context) {
	db := c.db.Load()
	if db == nil {
		return
	}
	contents, err := db.Contents(ctx)
	if err != nil || contents.Checkpoint.Seq == 0 {
		return
	}
	if c.store.Load() != nil && contents.Checkpoint.Version == c.version {
		return
	}
	start := time.Now()
	st := assistant.NewStore(contents, time.Now())
	c.store.Store(st)
	c.version = contents.Checkpoint.Version
	c.set(func(s *catalogStatus) {
		s.IndexMS = float64(time.Since(start).Microseconds()) / 1000
		s.Name, s.Suggestions = st.Info.Name, st.Suggestions(suggestions)
		s.PublishedAt = contents.Checkpoint.PublishedAt.UnixMilli()
	})
	if c.indexed != nil {
		c.indexed(st)
	}
}

// refreshHourly rebuilds the index once an hour, so that promotions start and end on time.
func (c *catalogSync) refreshHourly(ctx context.Context) {
	for range time.Tick(time.Hour) {
		c.mu.Lock()
		c.version = -1
		c.reindex(ctx)
		c.mu.Unlock()
	}
}

// indexWait bounds how long a question waits for the stored catalog to be indexed at start.
const indexWait = 15 * time.Second

// assistantStore is the store the assistant answers from; nil while no checkpoint is applied.
// At start it waits (up to indexWait) for the stored checkpoint to be indexed, so that the first
// question after a reload is answered from the catalog rather than told there is none.
func (c *catalogSync) assistantStore() *assistant.Store {
	select {
	case <-c.opened:
	case <-time.After(indexWait):
	}
	return c.store.Load()
}
