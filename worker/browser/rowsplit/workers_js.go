//go:build js && wasm

package rowsplit

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"
	"time"

	"aisle/worker/gguf"
	"aisle/worker/model"
)

// jsShared is Shared over a SharedArrayBuffer.
type jsShared struct {
	sab, i32, u8, atomics js.Value
	views                 map[int]js.Value // Uint8Arrays from an offset to the end, by offset
}

func wrapShared(sab js.Value) *jsShared {
	g := js.Global()
	return &jsShared{sab: sab, i32: g.Get("Int32Array").New(sab), u8: g.Get("Uint8Array").New(sab),
		atomics: g.Get("Atomics"), views: map[int]js.Value{}}
}

// view returns a Uint8Array of the shared memory from off to its end. The protocol reads and
// writes at a handful of offsets, so each view is made once: a copy is then one call into
// JavaScript (which copies min(len(b), view's length) bytes from the view's start).
func (s *jsShared) view(off int) js.Value {
	v, ok := s.views[off]
	if !ok {
		v = s.u8.Call("subarray", off)
		s.views[off] = v
	}
	return v
}

func (s *jsShared) Write(off int, b []byte) { js.CopyBytesToJS(s.view(off), b) }
func (s *jsShared) Read(off int, b []byte)  { js.CopyBytesToGo(b, s.view(off)) }

func (s *jsShared) Load(w int) int32         { return int32(s.atomics.Call("load", s.i32, w).Int()) }
func (s *jsShared) Store(w int, v int32)     { s.atomics.Call("store", s.i32, w, v) }
func (s *jsShared) Add(w int, v int32) int32 { return int32(s.atomics.Call("add", s.i32, w, v).Int()) }
func (s *jsShared) Notify(w int)             { s.atomics.Call("notify", s.i32, w) }

func (s *jsShared) Wait(w int, old int32, timeout time.Duration) bool {
	return s.atomics.Call("wait", s.i32, w, old, float64(timeout.Milliseconds())).String() != "timed-out"
}

// Isolated reports whether this context can share memory with other workers
// (crossOriginIsolated, so SharedArrayBuffer exists).
func Isolated() bool {
	g := js.Global()
	return g.Get("crossOriginIsolated").Truthy() && g.Get("SharedArrayBuffer").Truthy()
}

// Start starts parts-1 row workers (rows.js) for the model in f, stored as revision of model id,
// each loading its own rows from the device's model store, and returns the leader's Remote: over
// a SharedArrayBuffer on a cross-origin isolated page, else over messages. Call ready before the
// first product. f is only read for the model's configuration.
func Start(f *gguf.File, parts int, id, revision string) (leader *Leader, ready func(ctx context.Context) error, err error) {
	module := js.Global().Get("aisleModule")
	if !module.Truthy() {
		return nil, nil, errors.New("rowsplit: the engine's compiled module is not available (engine.js keeps it as self.aisleModule)")
	}
	c, err := model.ConfigFromGGUF(f)
	if err != nil {
		return nil, nil, err
	}
	layout := LayoutFor(c, parts)
	setup := map[string]any{"module": module, "parts": parts, "model": id, "revision": revision}
	var sab js.Value
	if Isolated() {
		sab = js.Global().Get("SharedArrayBuffer").New(layout.Size())
		setup["sab"], setup["actBytes"], setup["outBytes"] = sab, layout.ActBytes, layout.OutBytes
	}
	type answer struct {
		part int
		err  error
	}
	answers := make(chan answer, 2*parts)
	replies := make(chan Reply, 2*parts)
	workers := make([]js.Value, parts)
	var funcs []js.Func
	for p := 1; p < parts; p++ {
		w := js.Global().Get("Worker").New("/rows.js", map[string]any{"name": fmt.Sprintf("aisle-rows-%d", p)})
		onMessage := js.FuncOf(func(_ js.Value, args []js.Value) any {
			d := args[0].Get("data")
			switch d.Get("type").String() {
			case "rows-ready":
				answers <- answer{part: p}
			case "rows-failed":
				answers <- answer{part: p, err: errors.New(d.Get("message").String())}
			case "result":
				r := d.Get("results")
				b := make([]byte, r.Get("byteLength").Int())
				js.CopyBytesToGo(b, r)
				replies <- Reply{Part: p, Results: b}
			case "job-failed":
				replies <- Reply{Part: p, Err: errors.New(d.Get("message").String())}
			}
			return nil
		})
		onError := js.FuncOf(func(_ js.Value, args []js.Value) any {
			msg := "the worker stopped"
			if m := args[0].Get("message"); m.Truthy() {
				msg = m.String()
			}
			select {
			case answers <- answer{part: p, err: errors.New(msg)}:
			default:
			}
			select {
			case replies <- Reply{Part: p, Err: errors.New(msg)}:
			default:
			}
			return nil
		})
		w.Set("onmessage", onMessage)
		w.Set("onerror", onError)
		setup["part"] = p
		w.Call("postMessage", setup)
		workers[p] = w
		funcs = append(funcs, onMessage, onError)
	}
	stop := func() {
		for _, w := range workers[1:] {
			w.Call("terminate")
		}
		for _, fn := range funcs {
			fn.Release()
		}
	}
	if sab.Truthy() {
		leader = NewLeader(wrapShared(sab), layout, stop)
	} else {
		post := func(p int, job []byte) error {
			u8 := js.Global().Get("Uint8Array").New(len(job))
			js.CopyBytesToJS(u8, job)
			workers[p].Call("postMessage", map[string]any{"type": "job", "job": u8}, []any{u8.Get("buffer")})
			return nil
		}
		leader = NewMessageLeader(parts, post, replies, nil, stop)
	}
	ready = func(ctx context.Context) error {
		for waiting := parts - 1; waiting > 0; waiting-- {
			select {
			case a := <-answers:
				if a.err != nil {
					return fmt.Errorf("rowsplit: row worker %d: %w", a.part, a.err)
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	return leader, ready, nil
}

// RowWorker reports whether this Go instance was started as a row worker (by rows.js).
func RowWorker() bool { return js.Global().Get("aisleRows").Truthy() }

// ServeRowWorker is the life of a row worker: it loads its rows with open (which returns the
// stored model's file, its shards read when needed, after checking that the stored revision is
// the one asked for), tells the leader it is ready, and answers jobs until stopped: from the
// shared memory when it was given one, else from messages ({type: "job", job} answered by
// {type: "result", results} or {type: "job-failed", message}). Load errors are posted as
// {type: "rows-failed", message}.
func ServeRowWorker(open func(ctx context.Context, id, revision string) (*gguf.File, error)) {
	g := js.Global()
	cfg := g.Get("aisleRows")
	fail := func(err error) {
		g.Call("postMessage", map[string]any{"type": "rows-failed", "message": err.Error()})
	}
	share := model.Share{Part: cfg.Get("part").Int(), Parts: cfg.Get("parts").Int()}
	f, err := open(context.Background(), cfg.Get("model").String(), cfg.Get("revision").String())
	if err != nil {
		fail(err)
		return
	}
	part, err := model.LoadPart(f, share)
	if err != nil {
		fail(err)
		return
	}
	if sab := cfg.Get("sab"); sab.Truthy() {
		g.Call("postMessage", map[string]any{"type": "rows-ready"})
		layout := Layout{Parts: share.Parts, ActBytes: cfg.Get("actBytes").Int(), OutBytes: cfg.Get("outBytes").Int()}
		Serve(wrapShared(sab), layout, part)
		return
	}
	var job []byte
	g.Set("onmessage", js.FuncOf(func(_ js.Value, args []js.Value) any {
		d := args[0].Get("data")
		if d.Get("type").String() != "job" {
			return nil
		}
		in := d.Get("job")
		job = grow(job, in.Get("byteLength").Int())
		js.CopyBytesToGo(job, in)
		res, err := Answer(part, job)
		if err != nil {
			g.Call("postMessage", map[string]any{"type": "job-failed", "message": err.Error()})
			return nil
		}
		u8 := g.Get("Uint8Array").New(len(res))
		js.CopyBytesToJS(u8, res)
		g.Call("postMessage", map[string]any{"type": "result", "results": u8}, []any{u8.Get("buffer")})
		return nil
	}))
	g.Call("postMessage", map[string]any{"type": "rows-ready"})
	select {}
}
