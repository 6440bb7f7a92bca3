//go:build js && wasm

// Command engine is the dedicated inference worker (engine.wasm), started by the page through
// engine.js?backend=auto|cpu|gpu (auto: WebGPU when the engine has a usable GPU backend, else the
// CPU path). Messages it understands (plain objects from the page, JSON strings on ports):
//
//	{type:"port"} + a port      a control port shared with the service worker (wire protocol)
//	{type:"load", model:ID}     load a model now; answers {type:"loaded", model, load_ms, backend}
//	                            or {type:"load-error", model, code, message}
//	{type:"catalog-sync"}       sync the store's catalog now (the page forwards the service
//	                            worker's periodicsync request)
//	{type:"pair", code}         pair this device as a staff tablet of the store with the code of
//	                            a pairing link (see catalogSync); answers {type:"pair", ok, ...}
//
// The CPU path can spread a model over several workers (engine.js?workers=auto|N; package
// rowsplit; "auto": one per core for a large model on a cross-origin isolated page): this worker
// leads, and row workers (rows.js, running this same program) each hold and compute their rows
// of every matrix.
//
// It syncs the catalog of the store named in its URL (engine.js?store=ID, default "demo") into
// IndexedDB and answers every chat as that store's assistant (package assistant; raw-mode
// requests go to the model alone); its state is posted as {type:"catalog", ...} (see
// catalogSync).
package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"aisle/sync/published"
	"aisle/worker/assistant"
	"aisle/worker/browser"
	"aisle/worker/browser/modelstore"
	"aisle/worker/browser/rowsplit"
	"aisle/worker/browser/webapi"
	"aisle/worker/browser/wire"
	"aisle/worker/engine"
	"aisle/worker/gguf"
	_ "aisle/worker/gpu" // registers the WebGPU backend (used on "auto" or "gpu" when usable)
	"aisle/worker/model"
)

func main() {
	g := js.Global()
	store := &modelstore.Store{Hash: webapi.SHA256}
	cache, err := webapi.CacheStorage{}.Open(context.Background(), modelstore.CacheName)
	if rowsplit.RowWorker() {
		rowsplit.ServeRowWorker(func(ctx context.Context, id, revision string) (*gguf.File, error) {
			if err != nil {
				return nil, err
			}
			store.Cache = cache
			st, err := store.Ready(ctx, id)
			if err != nil {
				return nil, err
			}
			if st == nil || st.Manifest.Revision != revision {
				return nil, fmt.Errorf("model %s@%s is no longer stored on this device", id, revision)
			}
			return browser.OpenStored(ctx, store, st.Manifest)
		})
		return
	}
	if err != nil {
		g.Call("postMessage", js.ValueOf(map[string]any{"type": "engine-failed", "message": err.Error()}))
		return
	}
	store.Cache = cache
	srv := &browser.Server{
		Busy: func(busy bool) {
			notice := wire.ControlIdle
			if busy {
				notice = wire.ControlBusy
			}
			for _, p := range controls {
				p.Call("postMessage", notice)
			}
		},
		Load:       browser.StoreLoader(store, promptSnapshots, engine.Options{Threads: 1, Backend: backend(g)}, rowSplit(g)),
		Yield:      func() { time.Sleep(time.Millisecond) },
		YieldEvery: 100 * time.Millisecond,
		Coalesce:   8 * time.Millisecond,
	}
	cat = startCatalog(storeParam(g), func(st *assistant.Store) { go warm(srv, st) })
	srv.Store = cat.assistantStore
	onMessage := js.FuncOf(func(_ js.Value, args []js.Value) any {
		handleMessage(srv, args[0])
		return nil
	})
	for _, e := range jsArray(g.Get("aisleEarly")) {
		handleMessage(srv, e)
	}
	g.Set("onmessage", onMessage)
	g.Call("postMessage", js.ValueOf(map[string]any{"type": "engine-started"}))
	select {}
}

// warm has the loaded model evaluate the start of every conversation with store st ahead of the
// first question (browser.Server.Warm). A failure costs only speed: the question evaluates it.
// The page is told {type: "warmed", ms, restored} when it is done (restored: from the snapshot
// kept in IndexedDB by an earlier start).
func warm(srv *browser.Server, st *assistant.Store) {
	if st == nil {
		return
	}
	start := time.Now()
	res, err := srv.Warm(context.Background(), st)
	if err != nil {
		js.Global().Get("console").Call("warn", "aisle: warming the model's prompt cache: "+err.Error())
		return
	}
	if res.Models > 0 { // none while the model is still loading: its load warms it
		js.Global().Call("postMessage", js.ValueOf(map[string]any{"type": "warmed", "ms": float64(time.Since(start).Microseconds()) / 1000, "restored": res.Restored}))
	}
}

// snapshotStore keeps the prompt snapshots (engine.Snapshot) in IndexedDB, one record per model
// revision and store (browser.SnapshotKey). Puts run in the background: the start a snapshot
// holds is ready once evaluated, and writing takes a few hundred ms; a put drops the snapshots it
// supersedes (the model's older revisions). A model's snapshots are read while it loads
// (ReadAhead), so that restoring its start does not wait for IndexedDB.
type snapshotStore struct {
	records webapi.Records
	mu      sync.Mutex
	model   string // whose snapshots ahead is reading
	ahead   *webapi.ReadAhead
}

var promptSnapshots = &snapshotStore{records: webapi.Records{DB: "aisle-prompt-cache", Store: "snapshots"}}

func (s *snapshotStore) ReadAhead(model string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.model, s.ahead = model, s.records.ReadAhead(browser.SnapshotKey(model, ""))
}

func (s *snapshotStore) Get(ctx context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	ahead := s.ahead
	if ahead != nil && strings.HasPrefix(key, browser.SnapshotKey(s.model, "")) {
		s.model, s.ahead = "", nil // taken once: the read's records are released with it
	} else {
		ahead = nil
	}
	s.mu.Unlock()
	if ahead != nil {
		if rec, ok, err := ahead.Take(ctx, key); err == nil && ok {
			return rec, nil
		}
	}
	return s.records.Get(ctx, key)
}

func (s *snapshotStore) Put(ctx context.Context, key string, snapshot []byte) error {
	go func() {
		ctx := context.WithoutCancel(ctx)
		if s.records.Put(ctx, key, snapshot) == nil {
			id, _, _ := strings.Cut(key, "@")
			s.records.Prune(ctx, id+"@", func(k string) bool { return browser.Superseded(k, key) })
		}
	}()
	return nil
}

// backend reads ?backend=auto|cpu|gpu from the worker's URL (engine.js?backend=cpu); default auto.
func backend(g js.Value) string {
	q := g.Get("URLSearchParams").New(g.Get("location").Get("search"))
	switch b := q.Call("get", "backend"); {
	case b.Type() == js.TypeString && (b.String() == "cpu" || b.String() == "gpu"):
		return b.String()
	}
	return "auto"
}

// rowSplit decides how many workers run a model (engine.js?workers=N, or "auto":
// rowsplit.AutoParts, when the CPU path runs it) and starts them (rowsplit.Start).
func rowSplit(g js.Value) *browser.RowSplit {
	q := g.Get("URLSearchParams").New(g.Get("location").Get("search"))
	asked := 0 // auto
	if w := q.Call("get", "workers"); w.Type() == js.TypeString {
		if n, err := strconv.Atoi(w.String()); err == nil && n >= 1 {
			asked = min(n, 16)
		}
	}
	be := backend(g)
	return &browser.RowSplit{
		Parts: func(m *published.Manifest) int {
			switch {
			case be == "gpu":
				return 1
			case asked > 0:
				return asked
			}
			parts := rowsplit.AutoParts(m.Size, g.Get("navigator").Get("hardwareConcurrency").Int(), rowsplit.Isolated())
			if parts > 1 && be == "auto" {
				if usable, _ := engine.GPUUsable(); usable {
					return 1
				}
			}
			return parts
		},
		Start: func(f *gguf.File, parts int, id, revision string) (model.Remote, func(context.Context) error, error) {
			return rowsplit.Start(f, parts, id, revision)
		},
		Failed: func(err error) {
			g.Get("console").Call("warn", "aisle: the model runs in one worker: "+err.Error())
		},
	}
}

func jsArray(v js.Value) []js.Value {
	if !v.Truthy() {
		return nil
	}
	out := make([]js.Value, v.Length())
	for i := range out {
		out[i] = v.Index(i)
	}
	return out
}

// controls are the control ports handed to this worker (one per service worker restart); the
// busy notices go to all of them. Only touched on the JS event loop and from Go code that runs
// without yielding to it, so no lock is needed in wasm's single thread.
var controls []js.Value

// cat is the store's catalog replica, started before any message is handled.
var cat *catalogSync

// handleMessage runs on the JS event loop: it must not block.
func handleMessage(srv *browser.Server, e js.Value) {
	d := e.Get("data")
	if d.Type() != js.TypeObject {
		return
	}
	switch d.Get("type").String() {
	case "port":
		if ports := e.Get("ports"); ports.Length() > 0 {
			serveControl(srv, ports.Index(0))
		}
	case "catalog-sync":
		cat.syncNow()
	case "pair":
		if code := d.Get("code"); code.Type() == js.TypeString {
			go cat.pair(code.String())
		}
	case "load":
		id := d.Get("model").String()
		go func() {
			took, info, err := srv.Preload(context.Background(), id)
			g := js.Global()
			if err != nil {
				we := wire.AsError(err)
				g.Call("postMessage", js.ValueOf(map[string]any{"type": "load-error", "model": id, "code": we.Code, "message": we.Message}))
				return
			}
			g.Call("postMessage", js.ValueOf(map[string]any{"type": "loaded", "model": id, "load_ms": float64(took.Microseconds()) / 1000, "backend": info}))
			warm(srv, cat.assistantStore())
		}()
	}
}

// serveControl answers the wire protocol on a control port: each chat request brings its own
// reply port.
func serveControl(srv *browser.Server, port js.Value) {
	controls = append(controls, port)
	if len(controls) > 8 { // older ports belong to service worker instances that are gone
		controls = controls[len(controls)-8:]
	}
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		e := args[0]
		d := e.Get("data")
		if d.Type() != js.TypeString || e.Get("ports").Length() == 0 {
			return nil
		}
		reply := e.Get("ports").Index(0)
		m, err := wire.Decode(d.String())
		if err != nil {
			webapi.Post(reply, wire.Msg{Kind: wire.KindError, Error: wire.Errorf(wire.CodeInvalid, "%v", err)})
			return nil
		}
		switch m.Kind {
		case wire.KindPing:
			webapi.Post(reply, wire.Msg{Kind: wire.KindPong})
		case wire.KindChat:
			serveChat(srv, *m.Chat, reply)
		}
		return nil
	})
	port.Set("onmessage", fn)
}

func serveChat(srv *browser.Server, req wire.ChatRequest, reply js.Value) {
	ctx, cancel := context.WithCancel(context.Background())
	in := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if d := args[0].Get("data"); d.Type() == js.TypeString {
			if m, err := wire.Decode(d.String()); err == nil && m.Kind == wire.KindCancel {
				cancel()
			}
		}
		return nil
	})
	reply.Set("onmessage", in)
	go func() {
		defer func() {
			cancel()
			reply.Set("onmessage", js.Null())
			reply.Call("close")
			in.Release()
		}()
		srv.Handle(ctx, req, func(m wire.Msg) { webapi.Post(reply, m) })
	}()
}
