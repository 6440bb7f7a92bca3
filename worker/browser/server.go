// Package browser is the dedicated inference worker of the web app: it loads a model from the
// device's model store (every shard checked against its SHA-256), keeps it loaded for all tabs,
// and answers the chat requests that the service worker forwards through MessagePorts (see
// package wire for the protocol).
//
// The logic here is plain Go and runs under `go test`; the wasm entry point is cmd/engine and its
// JavaScript shim is engine.js.
package browser

import (
	"context"

	"sync"
	"time"

	"aisle/worker/browser/wire"
)

// Generator runs one generation on a loaded model.
type Generator interface {
	Generate(ctx context.Context, req wire.ChatRequest, emit func(wire.Delta) error) (wire.Result, error)
}

// Server serves chat requests with models it loads on first use and keeps loaded. It runs one
// generation at a time; later requests wait their turn (sending beats while they wait).
type Server struct {
	// Load loads model id; errors should be *wire.Error (model_not_found, model_corrupt, ...).
	Load func(ctx context.Context, id string) (Generator, error)
	// Yield, when set, is called between tokens at most every YieldEvery of compute, to let the
	// JavaScript event loop deliver messages (a cancel) while a generation runs.
	Yield      func()
	YieldEvery time.Duration
	// Coalesce, when positive, merges the text of tokens generated within this window into one
	// delta message: fewer messages through the service worker when the model is fast.
	Coalesce time.Duration
	// Busy, when set, is told before and after phases that may keep the worker from answering
	// (loading a model, prefill up to the first token), so the service worker waits longer.
	Busy func(busy bool)
	// Ground, when set, may rewrite a request's messages before generation (the worker puts the
	// local catalog's facts first, see package grounding). It runs while the request holds its
	// turn and must return msgs unchanged when it has nothing to add or fails.
	Ground func(ctx context.Context, msgs []wire.Message) []wire.Message

	mu     sync.Mutex // guards models and loading
	models map[string]Generator
	// loading holds a channel per model being loaded, closed when the load ends.
	loading map[string]chan struct{}

	turn chan struct{} // a one-slot semaphore: one generation at a time
	once sync.Once
}

func (s *Server) init() {
	s.once.Do(func() {
		s.models = map[string]Generator{}
		s.loading = map[string]chan struct{}{}
		s.turn = make(chan struct{}, 1)
	})
}

// Describer is implemented by generators that can say what they run on (e.g. "cpu").
type Describer interface {
	Describe() string
}

// Preload loads model id if it is not loaded yet and reports how long that took (0 if it was
// already loaded) and, when the generator is a Describer, what it runs on. It waits for a
// generation in progress to end.
func (s *Server) Preload(ctx context.Context, id string) (time.Duration, string, error) {
	s.init()
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return 0, "", ctx.Err()
	}
	defer func() { <-s.turn }()
	start := time.Now()
	g, loaded, err := s.model(ctx, id)
	if err != nil {
		return 0, "", err
	}
	info := ""
	if d, ok := g.(Describer); ok {
		info = d.Describe()
	}
	if !loaded {
		return 0, info, nil
	}
	return time.Since(start), info, nil
}

// model returns the loaded model id, loading it if needed; loaded reports whether this call
// loaded it. Concurrent calls for the same model share one load. Loading a model unloads the
// others (a phone holds one): callers hold the turn, so none of them is generating.
func (s *Server) model(ctx context.Context, id string) (g Generator, loaded bool, err error) {
	for {
		s.mu.Lock()
		if g, ok := s.models[id]; ok {
			s.mu.Unlock()
			return g, false, nil
		}
		if ch, ok := s.loading[id]; ok {
			s.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, false, wire.Errorf(wire.CodeCancelled, "request cancelled while the model was loading")
			}
		}
		ch := make(chan struct{})
		s.loading[id] = ch
		s.mu.Unlock()
		s.busy(true)
		g, err = s.Load(ctx, id)
		s.busy(false)
		s.mu.Lock()
		delete(s.loading, id)
		if err == nil {
			for other, og := range s.models {
				if c, ok := og.(interface{ Close() }); ok {
					c.Close()
				}
				delete(s.models, other)
			}
			s.models[id] = g
		}
		s.mu.Unlock()
		close(ch)
		return g, err == nil, err
	}
}

// Handle runs one request and reports on send: "accepted" at once, "beat" at least every
// wire.BeatInterval while waiting, loading or before the first token, then deltas and "done" or
// "error". cancel is closed when the requester cancels. send must not block.
func (s *Server) Handle(ctx context.Context, req wire.ChatRequest, send func(wire.Msg)) {
	s.init()
	send(wire.Msg{Kind: wire.KindAccepted})
	var mu sync.Mutex
	stage := "queued"
	setStage := func(st string) { mu.Lock(); stage = st; mu.Unlock() }
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(wire.BeatInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				mu.Lock()
				st := stage
				mu.Unlock()
				send(wire.Msg{Kind: wire.KindBeat, Beat: &wire.Beat{Stage: st}})
			}
		}
	}()
	fail := func(err error) { send(wire.Msg{Kind: wire.KindError, Error: wire.AsError(err)}) }

	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		fail(wire.Errorf(wire.CodeCancelled, "request cancelled while waiting for its turn"))
		return
	}
	defer func() { <-s.turn }()

	setStage("loading")
	loadStart := time.Now()
	g, loaded, err := s.model(ctx, req.Model)
	if err != nil {
		fail(err)
		return
	}
	var loadMS float64
	if loaded {
		loadMS = ms(time.Since(loadStart))
	}
	if s.Ground != nil {
		setStage("grounding")
		req.Messages = s.Ground(ctx, req.Messages)
	}
	setStage("prefill")
	s.busy(true)
	start := time.Now()
	var first time.Time
	lastYield := time.Now()
	lastSend := time.Now()
	var pending wire.Delta // text not sent yet
	flush := func(now time.Time) {
		d := pending
		send(wire.Msg{Kind: wire.KindDelta, Delta: &d})
		pending.Text = ""
		lastSend = now
	}
	res, err := g.Generate(ctx, req, func(d wire.Delta) error {
		now := time.Now()
		if first.IsZero() {
			first = now
			setStage("decode")
			s.busy(false)
			lastSend = time.Time{} // the first text goes out at once
		}
		pending.Text += d.Text
		pending.Token = d.Token
		if pending.Text != "" && now.Sub(lastSend) >= s.Coalesce || now.Sub(lastSend) > wire.BeatInterval {
			flush(now)
		}
		if s.Yield != nil && now.Sub(lastYield) >= s.YieldEvery {
			s.Yield()
			lastYield = time.Now()
		}
		if ctx.Err() != nil {
			return wire.Errorf(wire.CodeCancelled, "request cancelled")
		}
		return nil
	})
	if first.IsZero() {
		s.busy(false)
	}
	if err != nil {
		if ctx.Err() != nil {
			err = wire.Errorf(wire.CodeCancelled, "request cancelled")
		}
		fail(err)
		return
	}
	end := time.Now()
	if pending.Text != "" {
		flush(end)
	}
	res.LoadMS = loadMS
	if !first.IsZero() {
		res.PrefillMS = ms(first.Sub(start))
		res.DecodeMS = ms(end.Sub(first))
	}
	send(wire.Msg{Kind: wire.KindDone, Done: &res})
}

func (s *Server) busy(b bool) {
	if s.Busy != nil {
		s.Busy(b)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Names of the loaded models, for diagnostics.
func (s *Server) Loaded() []string {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id := range s.models {
		out = append(out, id)
	}
	return out
}
