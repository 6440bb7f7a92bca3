//go:build js && wasm

// Package idb is the replica's storage in the browser: an IndexedDB
// database (through github.com/hack-pad/go-indexeddb) holding the applied
// entities, with indexes for local queries, the replica's meta state and
// its staged pages.
//
// Atomicity. IndexedDB commits a transaction as soon as the event loop
// finds it with no pending request, which in Go means as soon as the
// goroutine blocks. So every write transaction here is built the same way:
// data is read beforehand (a read-only transaction), then the read-write
// transaction's first request re-reads the meta record, and all writes are
// issued synchronously inside that request's success callback, after
// checking that the meta record has not moved (compare-and-set). The
// writes of a whole checkpoint therefore land in one transaction, and a
// concurrent writer (another tab) makes the second one fail cleanly.
//
// Layout (database version 2):
//
//	meta          key "meta" -> JSON of replica.Meta
//	staged        key: the page's After version -> JSON of its []wire.Change
//	<kind>        one store per wire.Kind, keyPath "id":
//	              {id, v: version, j: JSON of the entity, terms: [...]}
//	product, faq  index "terms" (multiEntry): words for prefix search
//	vector        out-of-line key: the change ID ("product:SKU", "faq:ID")
//	              -> JSON of the catalog.Vector (a string: what Contents
//	              reads in bulk is cheapest to clone and to join)
//
// Version 2 (2026-12-06) added the store "vector" (protocol 2). A database
// of version 1 is upgraded in place; its meta record has no protocol, so
// the replica takes its checkpoint again, with vectors, once the server
// speaks protocol 2.
//
// Bulk reads. Contents reads every store with one getAll request each, in
// one read-only transaction, on a second connection opened with plain
// syscall/js (go-indexeddb v0.3.2 has no getAll for values), and carries
// each store's records across to Go as one JSON string: per-record calls
// across the JS/Go boundary cost far more than the data.
package idb

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"syscall/js"

	"github.com/hack-pad/go-indexeddb/idb"

	"aisle/sync/catalog"
	"aisle/sync/replica"
	"aisle/sync/wire"
)

const (
	dbVersion   = 2
	metaStore   = "meta"
	stagedStore = "staged"
	metaKey     = "meta"
	termsIndex  = "terms"
)

// Storage is a replica.Storage and replica.Catalog in IndexedDB.
type Storage struct {
	db   *idb.Database
	raw  *rawDB // the same database, for bulk reads
	name string
}

var (
	_ replica.Storage = (*Storage)(nil)
	_ replica.Catalog = (*Storage)(nil)
)

func allStores() []string {
	out := []string{metaStore, stagedStore}
	for _, k := range wire.Kinds {
		out = append(out, string(k))
	}
	return out
}

func indexed(k wire.Kind) bool { return k == wire.KindProduct || k == wire.KindFAQ }

// plain reports whether kind's store holds plain JSON strings under
// out-of-line keys rather than {id, v, j, terms} objects.
func plain(k wire.Kind) bool { return k == wire.KindVector }

// sinceVersion is the database version that created kind's object store.
func sinceVersion(k wire.Kind) uint {
	if k == wire.KindVector {
		return 2
	}
	return 1
}

// Open opens (creating or upgrading) the database called name.
func Open(ctx context.Context, name string) (*Storage, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	req, err := idb.Global().Open(context.Background(), name, dbVersion, func(db *idb.Database, oldVersion, newVersion uint) error {
		// Runs inside upgradeneeded: must not block.
		if oldVersion < 1 {
			if _, err := db.CreateObjectStore(metaStore, idb.ObjectStoreOptions{}); err != nil {
				return err
			}
			if _, err := db.CreateObjectStore(stagedStore, idb.ObjectStoreOptions{}); err != nil {
				return err
			}
		}
		for _, k := range wire.Kinds {
			if sinceVersion(k) <= oldVersion {
				continue
			}
			opts := idb.ObjectStoreOptions{KeyPath: js.ValueOf("id")}
			if plain(k) {
				opts = idb.ObjectStoreOptions{}
			}
			st, err := db.CreateObjectStore(string(k), opts)
			if err != nil {
				return err
			}
			if indexed(k) {
				if _, err := st.CreateIndex(termsIndex, js.ValueOf("terms"), idb.IndexOptions{MultiEntry: true}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, catalog.Wrap(err, catalog.Unavailable, "open IndexedDB %q", name)
	}
	db, err := req.Await(context.Background())
	if err != nil {
		return nil, catalog.Wrap(err, catalog.Unavailable, "open IndexedDB %q", name)
	}
	raw, err := openRaw(name, dbVersion)
	if err != nil {
		db.Close()
		return nil, catalog.Wrap(err, catalog.Unavailable, "open IndexedDB %q", name)
	}
	return &Storage{db: db, raw: raw, name: name}, nil
}

// Close closes the database.
func (s *Storage) Close() error {
	s.raw.close()
	return s.db.Close()
}

// awaitTx starts waiting for tx to finish. Call it right after issuing the
// transaction's requests and before blocking: the waiting goroutine
// registers its listeners before control returns to JavaScript.
//
// Contexts: go-indexeddb may wait forever when handed a context that is
// already canceled (its listener removal races the result), and a
// transaction always ends by itself (complete, error or abort). So the
// library only ever gets context.Background(); callers check their own
// context before starting (see live).
func awaitTx(tx *idb.Transaction) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- tx.Await(context.Background()) }()
	return ch
}

// live returns ctx's error, if any: the check every method makes before
// touching the database.
func live(ctx context.Context) error { return ctx.Err() }

func storageErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if ce := (*catalog.Error)(nil); asCatalog(err, &ce) {
		return err
	}
	if strings.Contains(err.Error(), "QuotaExceeded") {
		return catalog.Wrap(err, catalog.Unavailable, "device storage is full during %s", what)
	}
	return catalog.Wrap(err, catalog.Unavailable, "IndexedDB failed during %s", what)
}

func asCatalog(err error, target **catalog.Error) bool {
	for e := err; e != nil; {
		if ce, ok := e.(*catalog.Error); ok {
			*target = ce
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// readMeta reads the meta record's JSON ("" when absent).
func (s *Storage) readMeta(ctx context.Context) (string, error) {
	if err := live(ctx); err != nil {
		return "", err
	}
	tx, err := s.db.Transaction(idb.TransactionReadOnly, metaStore)
	if err != nil {
		return "", err
	}
	st, err := tx.ObjectStore(metaStore)
	if err != nil {
		return "", err
	}
	req, err := st.Get(js.ValueOf(metaKey))
	if err != nil {
		return "", err
	}
	if err := <-awaitTx(tx); err != nil {
		return "", err
	}
	v, err := req.Result()
	if err != nil {
		return "", err
	}
	if v.Type() != js.TypeString {
		return "", nil
	}
	return v.String(), nil
}

func decodeMeta(raw string) (replica.Meta, error) {
	var m replica.Meta
	if raw == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return m, catalog.Wrap(err, catalog.Internal, "corrupt replica meta record")
	}
	return m, nil
}

// Load implements replica.Storage.
func (s *Storage) Load(ctx context.Context) (replica.Meta, error) {
	raw, err := s.readMeta(ctx)
	if err != nil {
		return replica.Meta{}, storageErr(err, "load")
	}
	return decodeMeta(raw)
}

// casWrite runs writes in one read-write transaction over stores, provided
// the meta record still holds expect (the JSON read earlier). writes runs
// inside an IndexedDB success callback: it must not block.
func (s *Storage) casWrite(ctx context.Context, expect string, stores []string, writes func(tx *idb.Transaction) error) error {
	if err := live(ctx); err != nil {
		return err
	}
	// Relaxed durability: the commit is reported once the data reached the
	// operating system. A power cut may lose the last checkpoint, never
	// corrupt one; the replica then simply syncs it again.
	tx, err := s.db.TransactionWithOptions(idb.TransactionOptions{Mode: idb.TransactionReadWrite, Durability: idb.DurabilityRelaxed}, metaStore, stores...)
	if err != nil {
		return err
	}
	ms, err := tx.ObjectStore(metaStore)
	if err != nil {
		return err
	}
	req, err := ms.Get(js.ValueOf(metaKey))
	if err != nil {
		return err
	}
	var cbErr error
	err = req.ListenSuccess(context.Background(), func() {
		v, err := req.Result()
		cur := ""
		if err == nil && v.Type() == js.TypeString {
			cur = v.String()
		}
		if err != nil || cur != expect {
			cbErr = catalog.Errorf(catalog.Conflict, "the replica was changed concurrently (another tab?)")
			_ = tx.Abort()
			return
		}
		if err := writes(tx); err != nil {
			cbErr = err
			_ = tx.Abort()
		}
	})
	if err != nil {
		return err
	}
	txErr := <-awaitTx(tx)
	if cbErr != nil {
		return cbErr
	}
	return txErr
}

func putMeta(tx *idb.Transaction, m replica.Meta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ms, err := tx.ObjectStore(metaStore)
	if err != nil {
		return err
	}
	_, err = ms.PutKey(js.ValueOf(metaKey), js.ValueOf(string(b)))
	return err
}

// Stage implements replica.Storage.
func (s *Storage) Stage(ctx context.Context, prevNext int64, next replica.Staging, changes []wire.Change) error {
	raw, err := s.readMeta(ctx)
	if err != nil {
		return storageErr(err, "stage")
	}
	meta, err := decodeMeta(raw)
	if err != nil {
		return err
	}
	cur := meta.Staging
	if cur != nil && *cur == next {
		return nil // replay
	}
	ok := (cur == nil && prevNext == 0) || (cur != nil && cur.Next == prevNext && cur.Target == next.Target && cur.Since == next.Since)
	if !ok {
		return catalog.Errorf(catalog.Conflict, "staging state moved (stored next differs from %d)", prevNext)
	}
	page, err := json.Marshal(changes)
	if err != nil {
		return catalog.Wrap(err, catalog.Internal, "encode staged page")
	}
	nm := meta
	st := next
	nm.Staging = &st
	err = s.casWrite(ctx, raw, []string{stagedStore}, func(tx *idb.Transaction) error {
		ss, err := tx.ObjectStore(stagedStore)
		if err != nil {
			return err
		}
		if cur == nil {
			if _, err := ss.Clear(); err != nil {
				return err
			}
		}
		// Keyed by the page's After version: ascending, unique, and a
		// replayed page overwrites itself.
		if _, err := ss.PutKey(js.ValueOf(float64(prevNext)), js.ValueOf(string(page))); err != nil {
			return err
		}
		return putMeta(tx, nm)
	})
	return storageErr(err, "stage")
}

// readStaged returns every staged change, in page order.
func (s *Storage) readStaged(ctx context.Context) ([]wire.Change, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	tx, err := s.db.Transaction(idb.TransactionReadOnly, stagedStore)
	if err != nil {
		return nil, err
	}
	ss, err := tx.ObjectStore(stagedStore)
	if err != nil {
		return nil, err
	}
	cur, err := ss.OpenCursor(idb.CursorNext)
	if err != nil {
		return nil, err
	}
	var out []wire.Change
	var decErr error
	err = cur.Iter(context.Background(), func(c *idb.CursorWithValue) error {
		v, err := c.Value()
		if err != nil {
			return err
		}
		var page []wire.Change
		if err := json.Unmarshal([]byte(v.String()), &page); err != nil {
			decErr = catalog.Wrap(err, catalog.Internal, "corrupt staged page")
			return decErr
		}
		out = append(out, page...)
		return nil
	})
	if decErr != nil {
		return nil, decErr
	}
	return out, err
}

// Commit implements replica.Storage: the whole checkpoint in one
// read-write transaction.
func (s *Storage) Commit(ctx context.Context, st replica.Staging) error {
	raw, err := s.readMeta(ctx)
	if err != nil {
		return storageErr(err, "commit")
	}
	meta, err := decodeMeta(raw)
	if err != nil {
		return err
	}
	if meta.Staging == nil && meta.Checkpoint == st.Target && meta.Store == st.Store {
		return nil // replay
	}
	if meta.Staging == nil || *meta.Staging != st || !st.Done {
		return catalog.Errorf(catalog.Conflict, "commit of a staging state that is not stored or not complete")
	}
	changes, err := s.readStaged(ctx)
	if err != nil {
		return storageErr(err, "commit")
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].Version < changes[j].Version })
	reset := st.Reset || meta.Store != st.Store || meta.Audience != st.Audience
	// Build every JS value before the transaction, with one JSON.parse
	// for all of them (far cheaper than building objects field by field
	// across the Go/JS boundary). The callback then only issues requests.
	vals, err := entityValues(changes)
	if err != nil {
		return err
	}
	next := replica.Meta{Store: st.Store, Audience: st.Audience, Checkpoint: st.Target, Protocol: st.Protocol}
	stores := allStores()[1:]
	err = s.casWrite(ctx, raw, stores, func(tx *idb.Transaction) error {
		objs := map[wire.Kind]*idb.ObjectStore{}
		for _, k := range wire.Kinds {
			o, err := tx.ObjectStore(string(k))
			if err != nil {
				return err
			}
			objs[k] = o
			if reset {
				if _, err := o.Clear(); err != nil {
					return err
				}
			}
		}
		for i, c := range changes {
			o := objs[c.Kind]
			if o == nil {
				return catalog.Errorf(catalog.Invalid, "unknown kind %q", c.Kind)
			}
			if c.Deleted {
				if _, err := o.Delete(js.ValueOf(c.ID)); err != nil {
					return err
				}
				continue
			}
			if plain(c.Kind) {
				if _, err := o.PutKey(js.ValueOf(c.ID), vals.Index(i)); err != nil {
					return err
				}
				continue
			}
			if _, err := o.Put(vals.Index(i)); err != nil {
				return err
			}
		}
		ss, err := tx.ObjectStore(stagedStore)
		if err != nil {
			return err
		}
		if _, err := ss.Clear(); err != nil {
			return err
		}
		return putMeta(tx, next)
	})
	return storageErr(err, "commit")
}

// storedEntity is the stored form of an entity (see the package comment).
type storedEntity struct {
	ID    string   `json:"id"`
	V     int64    `json:"v"`
	J     string   `json:"j"`
	Terms []string `json:"terms,omitempty"`
}

// entityValues returns a JS array holding, at index i, the stored value
// of changes[i]: an object, or the entity's JSON string for plain kinds
// (null for tombstones).
func entityValues(changes []wire.Change) (js.Value, error) {
	out := make([]any, len(changes))
	for i, c := range changes {
		if c.Deleted {
			continue
		}
		if plain(c.Kind) {
			out[i] = string(c.Data)
			continue
		}
		e := &storedEntity{ID: c.ID, V: c.Version, J: string(c.Data)}
		switch c.Kind {
		case wire.KindProduct:
			var p catalog.Product
			if err := json.Unmarshal(c.Data, &p); err != nil {
				return js.Value{}, catalog.Wrap(err, catalog.Invalid, "product %q: malformed data", c.ID)
			}
			e.Terms = replica.ProductTerms(p)
		case wire.KindFAQ:
			var f catalog.FAQ
			if err := json.Unmarshal(c.Data, &f); err != nil {
				return js.Value{}, catalog.Wrap(err, catalog.Invalid, "faq %q: malformed data", c.ID)
			}
			e.Terms = replica.FAQTerms(f)
		}
		out[i] = e
	}
	b, err := json.Marshal(out)
	if err != nil {
		return js.Value{}, catalog.Wrap(err, catalog.Internal, "encode entities")
	}
	return js.Global().Get("JSON").Call("parse", string(b)), nil
}

// Discard implements replica.Storage.
func (s *Storage) Discard(ctx context.Context) error {
	raw, err := s.readMeta(ctx)
	if err != nil {
		return storageErr(err, "discard")
	}
	meta, err := decodeMeta(raw)
	if err != nil {
		return err
	}
	if meta.Staging == nil {
		return nil
	}
	meta.Staging = nil
	err = s.casWrite(ctx, raw, []string{stagedStore}, func(tx *idb.Transaction) error {
		ss, err := tx.ObjectStore(stagedStore)
		if err != nil {
			return err
		}
		if _, err := ss.Clear(); err != nil {
			return err
		}
		return putMeta(tx, meta)
	})
	return storageErr(err, "discard")
}

// getMany reads the entities (kind, id) in one read-only transaction; a
// missing one yields nil.
func (s *Storage) getMany(ctx context.Context, keys []replica.Key) ([]json.RawMessage, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	var stores []string
	for _, k := range keys {
		if !names[string(k.Kind)] {
			names[string(k.Kind)] = true
			stores = append(stores, string(k.Kind))
		}
	}
	tx, err := s.db.Transaction(idb.TransactionReadOnly, stores[0], stores[1:]...)
	if err != nil {
		return nil, storageErr(err, "read")
	}
	reqs := make([]*idb.Request, len(keys))
	for i, k := range keys {
		o, err := tx.ObjectStore(string(k.Kind))
		if err != nil {
			return nil, storageErr(err, "read")
		}
		if reqs[i], err = o.Get(js.ValueOf(k.ID)); err != nil {
			return nil, storageErr(err, "read")
		}
	}
	if err := <-awaitTx(tx); err != nil {
		return nil, storageErr(err, "read")
	}
	out := make([]json.RawMessage, len(keys))
	for i, r := range reqs {
		v, err := r.Result()
		if err != nil {
			return nil, storageErr(err, "read")
		}
		if v.Type() == js.TypeObject {
			out[i] = json.RawMessage(v.Get("j").String())
		}
	}
	return out, nil
}

// scan returns the JSON of the entities of kind whose terms start with
// prefix (all entities when prefix is ""), at most max.
func (s *Storage) scan(ctx context.Context, kind wire.Kind, prefix string, max int) ([]json.RawMessage, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	tx, err := s.db.Transaction(idb.TransactionReadOnly, string(kind))
	if err != nil {
		return nil, storageErr(err, "scan")
	}
	o, err := tx.ObjectStore(string(kind))
	if err != nil {
		return nil, storageErr(err, "scan")
	}
	var cur *idb.CursorWithValueRequest
	if prefix == "" {
		cur, err = o.OpenCursor(idb.CursorNext)
	} else {
		var ix *idb.Index
		if ix, err = o.Index(termsIndex); err == nil {
			var kr *idb.KeyRange
			if kr, err = idb.NewKeyRangeBound(js.ValueOf(prefix), js.ValueOf(prefix+"\uffff"), false, false); err == nil {
				cur, err = ix.OpenCursorRange(kr, idb.CursorNext)
			}
		}
	}
	if err != nil {
		return nil, storageErr(err, "scan")
	}
	seen := map[string]bool{}
	var out []json.RawMessage
	err = cur.Iter(context.Background(), func(c *idb.CursorWithValue) error {
		v, err := c.Value()
		if err != nil {
			return err
		}
		id := v.Get("id").String()
		if !seen[id] {
			seen[id] = true
			out = append(out, json.RawMessage(v.Get("j").String()))
		}
		if len(out) >= max {
			return idb.ErrCursorStopIter
		}
		return nil
	})
	return out, storageErr(err, "scan")
}

// maxScan bounds the candidates a search examines.
const maxScan = 2000

func decodeAll[T any](raws []json.RawMessage) ([]T, error) {
	out := make([]T, 0, len(raws))
	for _, r := range raws {
		var v T
		if err := json.Unmarshal(r, &v); err != nil {
			return nil, catalog.Wrap(err, catalog.Internal, "corrupt local record")
		}
		out = append(out, v)
	}
	return out, nil
}

// StoreInfo implements replica.Catalog.
func (s *Storage) StoreInfo(ctx context.Context) (catalog.Store, error) {
	var st catalog.Store
	meta, err := s.Load(ctx)
	if err != nil {
		return st, err
	}
	raws, err := s.getMany(ctx, []replica.Key{{Kind: wire.KindStore, ID: meta.Store}})
	if err != nil {
		return st, err
	}
	if raws[0] == nil {
		return st, catalog.Errorf(catalog.NotFound, "store not synced yet")
	}
	err = json.Unmarshal(raws[0], &st)
	return st, err
}

// Product implements replica.Catalog.
func (s *Storage) Product(ctx context.Context, sku string) (replica.ProductView, error) {
	var v replica.ProductView
	raws, err := s.getMany(ctx, []replica.Key{{Kind: wire.KindProduct, ID: sku}, {Kind: wire.KindProductStaff, ID: sku},
		{Kind: wire.KindStock, ID: sku}, {Kind: wire.KindStockStaff, ID: sku}})
	if err != nil {
		return v, err
	}
	if raws[0] == nil {
		return v, catalog.Errorf(catalog.NotFound, "product %q not found locally", sku)
	}
	if err := json.Unmarshal(raws[0], &v.Product); err != nil {
		return v, catalog.Wrap(err, catalog.Internal, "corrupt local product")
	}
	if err := fillStock(&v.StockView, raws[2], raws[3]); err != nil {
		return v, err
	}
	if raws[1] != nil {
		v.Staff = new(catalog.ProductStaff)
		if err := json.Unmarshal(raws[1], v.Staff); err != nil {
			return v, catalog.Wrap(err, catalog.Internal, "corrupt local product")
		}
	}
	promos, err := s.scan(ctx, wire.KindPromotion, "", maxScan)
	if err != nil {
		return v, err
	}
	all, err := decodeAll[catalog.Promotion](promos)
	if err != nil {
		return v, err
	}
	v.Promotions = replica.PromotionsFor(sku, all)
	return v, nil
}

func fillStock(v *replica.StockView, stock, staff json.RawMessage) error {
	if stock != nil {
		v.Stock = new(catalog.Stock)
		if err := json.Unmarshal(stock, v.Stock); err != nil {
			return catalog.Wrap(err, catalog.Internal, "corrupt local stock")
		}
	}
	if staff != nil {
		v.StockStaff = new(catalog.StockStaff)
		if err := json.Unmarshal(staff, v.StockStaff); err != nil {
			return catalog.Wrap(err, catalog.Internal, "corrupt local stock")
		}
	}
	return nil
}

// Stock implements replica.Catalog.
func (s *Storage) Stock(ctx context.Context, sku string) (replica.StockView, error) {
	var v replica.StockView
	raws, err := s.getMany(ctx, []replica.Key{{Kind: wire.KindStock, ID: sku}, {Kind: wire.KindStockStaff, ID: sku}})
	if err != nil {
		return v, err
	}
	if raws[0] == nil {
		return v, catalog.Errorf(catalog.NotFound, "stock of %q not found locally", sku)
	}
	return v, fillStock(&v, raws[0], raws[1])
}

// firstTerm picks the query word whose index range is scanned (the
// longest, the most selective).
func firstTerm(q []string) string {
	best := ""
	for _, t := range q {
		if len(t) > len(best) {
			best = t
		}
	}
	return best
}

// SearchProducts implements replica.Catalog using the terms index.
func (s *Storage) SearchProducts(ctx context.Context, query string, limit int) ([]catalog.Product, error) {
	raws, err := s.scan(ctx, wire.KindProduct, firstTerm(catalog.SearchTerms(query)), maxScan)
	if err != nil {
		return nil, err
	}
	all, err := decodeAll[catalog.Product](raws)
	if err != nil {
		return nil, err
	}
	return replica.SearchProducts(all, query, limit), nil
}

// FAQs implements replica.Catalog using the terms index.
func (s *Storage) FAQs(ctx context.Context, query string, limit int) ([]catalog.FAQ, error) {
	raws, err := s.scan(ctx, wire.KindFAQ, firstTerm(catalog.SearchTerms(query)), maxScan)
	if err != nil {
		return nil, err
	}
	all, err := decodeAll[catalog.FAQ](raws)
	if err != nil {
		return nil, err
	}
	return replica.SearchFAQs(all, query, limit), nil
}
