// Package browser is the dedicated inference worker of the web app: it loads a model from the
// device's model store (every shard checked against its SHA-256), keeps it loaded for all tabs,
// and answers the chat requests that the service worker forwards through MessagePorts (see
// package wire for the protocol).
//
// The logic here is plain Go and runs under `go test`; the wasm entry point is cmd/engine and its
// JavaScript shim is engine.js. The subpackages wire, webapi and modelstore are shared with the
// service worker, which imports only them, never this package.
package browser

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"aisle/worker/assistant"
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
	// Store, when set, makes the server the store assistant: requests in the assistant or quick
	// mode are answered from the store it returns (nil while no catalog has reached the device),
	// and only raw-mode requests go to the model as they are. Without Store every request is raw.
	Store func() *assistant.Store

	mu     sync.Mutex // guards models and loading
	models map[string]Generator
	// loading holds a channel per model being loaded, closed when the load ends.
	loading map[string]chan struct{}

	turn chan struct{} // a one-slot semaphore: one generation at a time
	once sync.Once
	// warmedFor is the store whose conversation start the loaded model holds (Warm); guarded by
	// the turn.
	warmedFor *assistant.Store
}

func (s *Server) init() {
	s.once.Do(func() {
		s.models = map[string]Generator{}
		s.loading = map[string]chan struct{}{}
		s.turn = make(chan struct{}, 1)
	})
}

// AnswerPhraser is a generator that can phrase the store assistant's answers (a chat model).
type AnswerPhraser interface {
	// CanPhrase reports whether it can, and why not (a model without a chat template cannot).
	CanPhrase() (bool, string)
	// PhraseAnswer has the model write a, the answer to the last question of conv, streaming
	// the words to emit (see assistant.Phraser).
	PhraseAnswer(ctx context.Context, s *assistant.Store, conv *assistant.Conversation, a assistant.Answer,
		req wire.ChatRequest, emit func(text string) error) (wire.Result, error)
}

// Warmer is a generator that can evaluate ahead of time the start every new conversation with a
// store shares (a chat model: assistant.Phraser.Warm), or restore it from a snapshot.
type Warmer interface {
	Warm(ctx context.Context, st *assistant.Store) (WarmOutcome, error)
}

// WarmOutcome is what a Warmer did.
type WarmOutcome int

const (
	WarmHeld      WarmOutcome = iota // nothing: the model already held the start (or cannot phrase)
	WarmEvaluated                    // the start was evaluated
	WarmRestored                     // the start was restored from a snapshot
)

// Warm has the loaded model evaluate (or restore from a snapshot) the start every new
// conversation with store st shares, so that the first question's prefill begins after it:
// called once the model is loaded and the catalog indexed, and again when a new catalog changes
// the store. It loads no model, does nothing without st, and waits for a generation in progress
// to end.
func (s *Server) Warm(ctx context.Context, st *assistant.Store) (WarmResult, error) {
	s.init()
	if st == nil {
		return WarmResult{}, nil
	}
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return WarmResult{}, ctx.Err()
	}
	defer func() { <-s.turn }()
	return s.warm(ctx, st)
}

// WarmResult says what Warm did: how many loaded models it warmed (evaluated or restored; not
// those that already held the start), and whether one of them was restored from a snapshot.
type WarmResult struct {
	Models   int
	Restored bool
}

// warm is Warm for a caller that holds the turn.
func (s *Server) warm(ctx context.Context, st *assistant.Store) (res WarmResult, err error) {
	s.mu.Lock()
	var warmers []Warmer
	for _, g := range s.models {
		if w, ok := g.(Warmer); ok {
			warmers = append(warmers, w)
		}
	}
	s.mu.Unlock()
	if len(warmers) > 0 {
		// evaluating the start keeps the worker from answering for a while (seconds for a
		// 135M-class model on a phone): the service worker waits longer meanwhile
		s.busy(true)
		defer s.busy(false)
	}
	for _, w := range warmers {
		out, err := w.Warm(ctx, st)
		if err != nil {
			return res, err
		}
		if out != WarmHeld {
			res.Models++
		}
		res.Restored = res.Restored || out == WarmRestored
	}
	s.warmedFor = st
	return res, nil
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
			s.warmedFor = nil // callers hold the turn
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

// Breakable is implemented by generators that can stop working for good (a model split across
// workers whose row worker died): the server then unloads it, and the next request loads it
// again.
type Breakable interface {
	Broken() bool
}

// dropBroken unloads the models that are broken. Callers hold the turn.
func (s *Server) dropBroken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, g := range s.models {
		if b, ok := g.(Breakable); ok && b.Broken() {
			if c, ok := g.(interface{ Close() }); ok {
				c.Close()
			}
			delete(s.models, id)
		}
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

	queued := time.Now()
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		fail(wire.Errorf(wire.CodeCancelled, "request cancelled while waiting for its turn"))
		return
	}
	defer func() {
		s.dropBroken()
		<-s.turn
	}()
	spent := wire.Result{QueuedMS: ms(time.Since(queued))}

	if s.Store == nil || req.Mode == wire.ModeRaw {
		s.generate(ctx, req, send, setStage, fail, spent)
		return
	}
	s.assist(ctx, req, send, setStage, fail, spent)
}

// load returns the model for a request and, when this request loaded it, the load time in ms.
func (s *Server) load(ctx context.Context, id string, setStage func(string)) (Generator, float64, error) {
	setStage("loading")
	start := time.Now()
	g, loaded, err := s.model(ctx, id)
	if err != nil || !loaded {
		return g, 0, err
	}
	return g, ms(time.Since(start)), nil
}

// generate runs a raw request: the model on the messages as given. spent holds the request's
// timings so far (QueuedMS).
func (s *Server) generate(ctx context.Context, req wire.ChatRequest, send func(wire.Msg), setStage func(string), fail func(error), spent wire.Result) {
	g, loadMS, err := s.load(ctx, req.Model, setStage)
	if err != nil {
		fail(err)
		return
	}
	spent.LoadMS = loadMS
	s.stream(ctx, send, setStage, fail, spent, func(emit func(wire.Delta) error) (wire.Result, error) {
		return g.Generate(ctx, req, emit)
	})
}

// assist answers from the store: the structured answer first, then its text, phrased by the
// model when the request wants it and the model can (else composed from the facts). spent holds
// the request's timings so far (QueuedMS).
func (s *Server) assist(ctx context.Context, req wire.ChatRequest, send func(wire.Msg), setStage func(string), fail func(error), spent wire.Result) {
	setStage("answering")
	st := s.Store()
	conv, a := Replay(st, req.Messages)
	answer, err := json.Marshal(struct {
		Intent string           `json:"intent"`
		Facts  []assistant.Fact `json:"facts"`
	}{a.Intent, a.Facts})
	if err != nil {
		fail(err)
		return
	}
	send(wire.Msg{Kind: wire.KindDelta, Delta: &wire.Delta{Answer: answer, Token: -1}})
	facts := func(how string) {
		send(wire.Msg{Kind: wire.KindDelta, Delta: &wire.Delta{Text: a.Text, Token: -1}})
		res := spent
		res.FinishReason, res.Phrasing = "stop", how
		send(wire.Msg{Kind: wire.KindDone, Done: &res})
	}
	if req.Mode == wire.ModeQuick || st == nil {
		facts("facts")
		return
	}
	g, loadMS, err := s.load(ctx, req.Model, setStage)
	if err != nil {
		fail(err)
		return
	}
	spent.LoadMS = loadMS
	ph, ok := g.(AnswerPhraser)
	if !ok {
		facts("facts: the model cannot phrase answers")
		return
	}
	if can, why := ph.CanPhrase(); !can {
		facts("facts: " + why)
		return
	}
	if s.warmedFor != st {
		// The conversation start first: restored from its snapshot when one was kept (a question
		// asked the moment the model is loaded), else evaluated, as the question would have.
		setStage("prefill")
		start := time.Now()
		s.warm(ctx, st)
		spent.WarmMS = ms(time.Since(start))
	}
	s.stream(ctx, send, setStage, fail, spent, func(emit func(wire.Delta) error) (wire.Result, error) {
		return ph.PhraseAnswer(ctx, st, conv, a, req, func(text string) error {
			return emit(wire.Delta{Text: text, Token: -1})
		})
	})
}

// Replay rebuilds a conversation with the store assistant from a chat's messages (the user's
// questions in order, the assistant's replies as they were said; system messages are the
// client's and are not used) and answers its last user message. With no store it answers that
// the catalog is not on the device yet.
func Replay(st *assistant.Store, msgs []wire.Message) (*assistant.Conversation, assistant.Answer) {
	last := -1
	for i, m := range msgs {
		if m.Role == "user" {
			last = i
		}
	}
	question := ""
	if last >= 0 {
		question = msgs[last].Content
	}
	if st == nil {
		return nil, assistant.NoCatalog(question)
	}
	conv := st.NewConversation()
	for i := 0; i < last; i++ {
		switch msgs[i].Role {
		case "user":
			conv.Ask(msgs[i].Content)
		case "assistant":
			conv.Reply(msgs[i].Content)
		}
	}
	return conv, conv.Ask(question)
}

// stream runs a generation and reports it on send: deltas (coalesced), then done or error with
// the timings spent before it (QueuedMS, LoadMS, WarmMS) and its own. PrefillMS is the
// generator's when it measured one (to the model's first token, which an assistant answer may
// not show), else the time to the first text.
func (s *Server) stream(ctx context.Context, send func(wire.Msg), setStage func(string), fail func(error), spent wire.Result,
	run func(emit func(wire.Delta) error) (wire.Result, error)) {
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
	res, err := run(func(d wire.Delta) error {
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
	res.QueuedMS, res.LoadMS, res.WarmMS = spent.QueuedMS, spent.LoadMS, spent.WarmMS
	if res.PrefillMS == 0 && !first.IsZero() {
		res.PrefillMS = ms(first.Sub(start))
	}
	if res.PrefillMS > 0 {
		res.DecodeMS = max(ms(end.Sub(start))-res.PrefillMS, 0)
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
