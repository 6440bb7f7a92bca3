//go:build js && wasm

// Package jsapi exposes the replica to JavaScript (a page, a dedicated
// worker or a service worker) as globalThis.aisleSync. It is the only
// syscall/js layer of the sync tree besides the IndexedDB adapter. Every
// method returns a Promise; failures reject with an Error whose "code" is a
// catalog code ("unavailable", "not_found", ...).
//
//	await aisleSync.open({db, store, audience: "public"|"staff", token, baseURL})
//	await aisleSync.sync()            // {checkpoint, applied, reset, changes, pages, stage_ms, commit_ms}
//	await aisleSync.product(sku)      // replica.ProductView
//	await aisleSync.stock(sku)        // replica.StockView
//	await aisleSync.search(q, limit)  // [catalog.Product]
//	await aisleSync.faqs(q, limit)    // [catalog.FAQ]
//	await aisleSync.storeInfo()       // catalog.Store
//	await aisleSync.contents()        // replica.Contents: what the assistant indexes
//	await aisleSync.contentsSummary() // {checkpoint, products, stock, faqs, promotions, vectors, stock_staff, product_staff, read_ms}
//	await aisleSync.status()          // replica.Meta
//	aisleSync.watch(cb)               // sync now and on each push event (client.Follower); cb({type, result, error})
//	aisleSync.unwatch()
package jsapi

import (
	"context"
	"encoding/json"
	gosync "sync"
	"syscall/js"
	"time"

	"aisle/sync/catalog"
	"aisle/sync/client"
	"aisle/sync/replica"
	"aisle/sync/replica/idb"
	"aisle/sync/wire"
)

type state struct {
	mu      gosync.Mutex // serialises syncs
	store   *idb.Storage
	timed   *timedStorage
	rep     *replica.Replica
	cl      *client.Client
	unwatch context.CancelFunc
}

var st state

// Register installs globalThis.aisleSync.
func Register() {
	api := js.Global().Get("Object").New()
	fn := func(name string, f func(args []js.Value) (any, error)) {
		api.Set(name, js.FuncOf(func(this js.Value, args []js.Value) any { return promise(func() (any, error) { return f(args) }) }))
	}
	fn("open", open)
	fn("sync", func([]js.Value) (any, error) { return doSync(context.Background()) })
	fn("product", func(a []js.Value) (any, error) {
		return needOpen(func() (any, error) { return st.store.Product(ctx(), arg(a, 0)) })
	})
	fn("stock", func(a []js.Value) (any, error) {
		return needOpen(func() (any, error) { return st.store.Stock(ctx(), arg(a, 0)) })
	})
	fn("search", func(a []js.Value) (any, error) {
		return needOpen(func() (any, error) { return st.store.SearchProducts(ctx(), arg(a, 0), argInt(a, 1)) })
	})
	fn("faqs", func(a []js.Value) (any, error) {
		return needOpen(func() (any, error) { return st.store.FAQs(ctx(), arg(a, 0), argInt(a, 1)) })
	})
	fn("storeInfo", func([]js.Value) (any, error) {
		return needOpen(func() (any, error) { return st.store.StoreInfo(ctx()) })
	})
	fn("status", func([]js.Value) (any, error) { return needOpen(func() (any, error) { return st.store.Load(ctx()) }) })
	fn("contents", func([]js.Value) (any, error) {
		return needOpen(func() (any, error) { return st.store.Contents(ctx()) })
	})
	fn("contentsSummary", func([]js.Value) (any, error) { return needOpen(contentsSummary) })
	api.Set("watch", js.FuncOf(func(this js.Value, args []js.Value) any {
		var cb js.Value
		if len(args) > 0 && args[0].Type() == js.TypeFunction {
			cb = args[0]
		}
		watch(cb)
		return nil
	}))
	api.Set("unwatch", js.FuncOf(func(js.Value, []js.Value) any {
		if st.unwatch != nil {
			st.unwatch()
		}
		return nil
	}))
	js.Global().Set("aisleSync", api)
}

func ctx() context.Context { return context.Background() }

func arg(a []js.Value, i int) string {
	if i < len(a) && a[i].Type() == js.TypeString {
		return a[i].String()
	}
	return ""
}

func argInt(a []js.Value, i int) int {
	if i < len(a) && a[i].Type() == js.TypeNumber {
		return a[i].Int()
	}
	return 0
}

func needOpen(f func() (any, error)) (any, error) {
	if st.store == nil {
		return nil, catalog.Errorf(catalog.Invalid, "call aisleSync.open first")
	}
	return f()
}

// promise runs f in a goroutine (a js.FuncOf must not block) and settles a
// Promise with its JSON-encoded result.
func promise(f func() (any, error)) js.Value {
	var resolve, reject js.Value
	p := js.Global().Get("Promise").New(js.FuncOf(func(this js.Value, args []js.Value) any {
		resolve, reject = args[0], args[1]
		return nil
	}))
	go func() {
		v, err := f()
		if err == nil {
			var b []byte
			if b, err = json.Marshal(v); err == nil {
				resolve.Invoke(js.Global().Get("JSON").Call("parse", string(b)))
				return
			}
		}
		reject.Invoke(jsError(err))
	}()
	return p
}

func jsError(err error) js.Value {
	e := js.Global().Get("Error").New(err.Error())
	e.Set("code", string(catalog.ErrorCode(err)))
	return e
}

type openOptions struct {
	DB       string        `json:"db"`
	Store    string        `json:"store"`
	Audience wire.Audience `json:"audience"`
	Token    string        `json:"token"`
	BaseURL  string        `json:"baseURL"`
	PageSize int           `json:"pageSize"`
}

func open(args []js.Value) (any, error) {
	if len(args) == 0 || args[0].Type() != js.TypeObject {
		return nil, catalog.Errorf(catalog.Invalid, "open needs an options object")
	}
	var o openOptions
	if err := json.Unmarshal([]byte(js.Global().Get("JSON").Call("stringify", args[0]).String()), &o); err != nil {
		return nil, catalog.Errorf(catalog.Invalid, "bad open options: %v", err)
	}
	if o.Audience == "" {
		o.Audience = wire.AudiencePublic
	}
	if o.DB == "" {
		o.DB = "aisle-catalog-" + o.Store
	}
	if !catalog.ValidID(o.Store) {
		return nil, catalog.Errorf(catalog.Invalid, "open needs a valid store id")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.store != nil {
		st.store.Close()
	}
	s, err := idb.Open(context.Background(), o.DB)
	if err != nil {
		return nil, err
	}
	st.store = s
	st.timed = &timedStorage{Storage: s}
	st.rep = &replica.Replica{Store: o.Store, Audience: o.Audience, Storage: st.timed, PageLimit: o.PageSize}
	st.cl = &client.Client{BaseURL: o.BaseURL, Token: o.Token}
	return s.Load(context.Background())
}

// syncResult is replica.Result plus where the time went.
type syncResult struct {
	replica.Result
	StageMs  float64 `json:"stage_ms"`
	CommitMs float64 `json:"commit_ms"`
	TotalMs  float64 `json:"total_ms"`
}

func doSync(ctx context.Context) (any, error) {
	if st.rep == nil {
		return nil, catalog.Errorf(catalog.Invalid, "call aisleSync.open first")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.timed.reset()
	t0 := time.Now()
	res, err := st.rep.Sync(ctx, st.cl)
	out := syncResult{Result: res, StageMs: ms(st.timed.stage), CommitMs: ms(st.timed.commit), TotalMs: ms(time.Since(t0))}
	return out, err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// timedStorage measures the time spent staging and committing.
type timedStorage struct {
	*idb.Storage
	stage, commit time.Duration
}

func (t *timedStorage) reset() { t.stage, t.commit = 0, 0 }

func (t *timedStorage) Stage(ctx context.Context, prev int64, next replica.Staging, ch []wire.Change) error {
	t0 := time.Now()
	defer func() { t.stage += time.Since(t0) }()
	return t.Storage.Stage(ctx, prev, next, ch)
}

func (t *timedStorage) Commit(ctx context.Context, s replica.Staging) error {
	t0 := time.Now()
	defer func() { t.commit += time.Since(t0) }()
	return t.Storage.Commit(ctx, s)
}

// watch follows the store (client.Follower): it syncs now and on every event
// of the push stream, reconnecting with backoff. cb (optional) hears
// {type, result, error} after each sync (type: the event's, or "start" for the
// sync at the start and after a reconnection) and {type: "disconnected",
// error, code} when the stream breaks.
func watch(cb js.Value) {
	if st.rep == nil {
		return
	}
	if st.unwatch != nil {
		st.unwatch()
	}
	ctx, cancel := context.WithCancel(context.Background())
	st.unwatch = cancel
	report := func(typ string, v any, err error) {
		if cb.IsUndefined() {
			return
		}
		b, _ := json.Marshal(v)
		msg := map[string]any{"type": typ, "result": js.Global().Get("JSON").Call("parse", string(b))}
		if err != nil {
			msg["error"] = err.Error()
			msg["code"] = string(catalog.ErrorCode(err))
		}
		cb.Invoke(js.ValueOf(msg))
	}
	store, cl := st.rep.Store, st.cl
	f := &client.Follower{
		Sync: func(ctx context.Context, ev *wire.Event) {
			if ctx.Err() != nil {
				return // unwatched meanwhile
			}
			typ := "start"
			if ev != nil {
				typ = ev.Type
			}
			res, err := doSync(context.Background())
			report(typ, res, err)
		},
		Watch: func(ctx context.Context, onEvent func(wire.Event)) error {
			return cl.Watch(ctx, store, onEvent)
		},
		Broken: func(err error, _ bool) { report("disconnected", nil, err) },
	}
	go f.Run(ctx)
}

// summary counts what Contents returned and times the read (the encoding
// of this result back to JavaScript excluded).
type summary struct {
	Checkpoint   wire.Checkpoint `json:"checkpoint"`
	Products     int             `json:"products"`
	Stock        int             `json:"stock"`
	FAQs         int             `json:"faqs"`
	Promotions   int             `json:"promotions"`
	Vectors      int             `json:"vectors"`
	StockStaff   int             `json:"stock_staff"`
	ProductStaff int             `json:"product_staff"`
	ReadMs       float64         `json:"read_ms"`
}

func contentsSummary() (any, error) {
	t0 := time.Now()
	c, err := st.store.Contents(ctx())
	if err != nil {
		return nil, err
	}
	return summary{Checkpoint: c.Checkpoint, Products: len(c.Products), Stock: len(c.Stock), FAQs: len(c.FAQs),
		Promotions: len(c.Promotions), Vectors: len(c.Vectors), StockStaff: len(c.StockStaff),
		ProductStaff: len(c.ProductStaff), ReadMs: ms(time.Since(t0))}, nil
}
