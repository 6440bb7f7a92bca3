package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"aisle/sync/catalog"
	"aisle/worker/assistant"
	"aisle/worker/browser/wire"
)

type fakeGen struct{ words []string }

func (g fakeGen) Generate(ctx context.Context, req wire.ChatRequest, emit func(wire.Delta) error) (wire.Result, error) {
	for i, w := range g.words {
		if err := emit(wire.Delta{Text: w, Token: i}); err != nil {
			return wire.Result{}, err
		}
	}
	return wire.Result{PromptTokens: 2, CompletionTokens: len(g.words), FinishReason: "stop"}, nil
}

// slowGen blocks until ctx ends.
type slowGen struct{ started chan struct{} }

func (g slowGen) Generate(ctx context.Context, req wire.ChatRequest, emit func(wire.Delta) error) (wire.Result, error) {
	close(g.started)
	<-ctx.Done()
	return wire.Result{}, ctx.Err()
}

type recorder struct {
	mu   sync.Mutex
	msgs []wire.Msg
}

func (r *recorder) send(m wire.Msg) { r.mu.Lock(); r.msgs = append(r.msgs, m); r.mu.Unlock() }

func (r *recorder) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		if m.Kind != wire.KindBeat {
			out = append(out, m.Kind)
		}
	}
	return out
}

func TestServerHandle(t *testing.T) {
	loads := 0
	s := &Server{Load: func(ctx context.Context, id string) (Generator, error) {
		loads++
		if id != "m" {
			return nil, wire.Errorf(wire.CodeModelMissing, "no %s", id)
		}
		return fakeGen{words: []string{"a", "", "b"}}, nil
	}}
	for range 2 {
		r := &recorder{}
		s.Handle(context.Background(), wire.ChatRequest{Model: "m"}, r.send)
		got := r.kinds()
		want := []string{"accepted", "delta", "delta", "done"} // the empty delta is held back
		if len(got) != len(want) {
			t.Fatalf("kinds %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("kinds %v, want %v", got, want)
			}
		}
		done := r.msgs[len(r.msgs)-1].Done
		if done.CompletionTokens != 3 || done.FinishReason != "stop" {
			t.Errorf("done %+v", done)
		}
	}
	if loads != 1 {
		t.Errorf("model loaded %d times, want once", loads)
	}
	r := &recorder{}
	s.Handle(context.Background(), wire.ChatRequest{Model: "other"}, r.send)
	last := r.msgs[len(r.msgs)-1]
	if last.Kind != wire.KindError || last.Error.Code != wire.CodeModelMissing {
		t.Errorf("unknown model: %+v", last)
	}
}

func TestServerCoalesce(t *testing.T) {
	s := &Server{Coalesce: time.Hour, Load: func(context.Context, string) (Generator, error) {
		return fakeGen{words: []string{"a", "b", "", "c"}}, nil
	}}
	r := &recorder{}
	s.Handle(context.Background(), wire.ChatRequest{Model: "m"}, r.send)
	var texts []string
	for _, m := range r.msgs {
		if m.Kind == wire.KindDelta {
			texts = append(texts, m.Delta.Text)
		}
	}
	// The first token goes out at once; the rest waits for the window or the end.
	if len(texts) != 2 || texts[0] != "a" || texts[1] != "bc" {
		t.Errorf("deltas %q, want [a bc]", texts)
	}
}

func TestServerCancelAndBeats(t *testing.T) {
	g := slowGen{started: make(chan struct{})}
	s := &Server{Load: func(context.Context, string) (Generator, error) { return g, nil }}
	ctx, cancel := context.WithCancel(context.Background())
	r := &recorder{}
	done := make(chan struct{})
	go func() { s.Handle(ctx, wire.ChatRequest{Model: "m"}, r.send); close(done) }()
	<-g.started
	time.Sleep(wire.BeatInterval + 200*time.Millisecond)
	cancel()
	<-done
	beats := 0
	r.mu.Lock()
	for _, m := range r.msgs {
		if m.Kind == wire.KindBeat {
			beats++
		}
	}
	last := r.msgs[len(r.msgs)-1]
	r.mu.Unlock()
	if beats == 0 {
		t.Error("no beat while generating")
	}
	if last.Kind != wire.KindError || last.Error.Code != wire.CodeCancelled {
		t.Errorf("last message %+v, want a cancelled error", last)
	}
}

func TestServerLoadFailureIsRetried(t *testing.T) {
	fail := true
	s := &Server{Load: func(context.Context, string) (Generator, error) {
		if fail {
			fail = false
			return nil, errors.New("boom")
		}
		return fakeGen{words: []string{"x"}}, nil
	}}
	if _, _, err := s.Preload(context.Background(), "m"); err == nil {
		t.Fatal("first load succeeded")
	}
	if took, _, err := s.Preload(context.Background(), "m"); err != nil || took <= 0 {
		t.Fatalf("second load: %v %v", took, err)
	}
	if took, _, _ := s.Preload(context.Background(), "m"); took != 0 {
		t.Errorf("a loaded model was loaded again")
	}
}

type closingGen struct {
	fakeGen
	closed *int
}

func (g closingGen) Close() { *g.closed++ }

func TestServerKeepsOneModel(t *testing.T) {
	closed := 0
	s := &Server{Load: func(_ context.Context, id string) (Generator, error) {
		return closingGen{fakeGen{words: []string{id}}, &closed}, nil
	}}
	s.Preload(context.Background(), "a")
	s.Preload(context.Background(), "b")
	if got := s.Loaded(); len(got) != 1 || got[0] != "b" || closed != 1 {
		t.Errorf("loaded %v, closed %d; want [b] and a closed", got, closed)
	}
}

// promptGen records the messages it was asked to continue.
type promptGen struct{ got *[]wire.Message }

func (g promptGen) Generate(ctx context.Context, req wire.ChatRequest, emit func(wire.Delta) error) (wire.Result, error) {
	*g.got = req.Messages
	return wire.Result{PromptTokens: len(req.Messages), FinishReason: "stop"}, nil
}

// mixedStore is the assistant's test store.
func mixedStore(t *testing.T) *assistant.Store {
	t.Helper()
	f, err := os.Open("../assistant/testdata/mixed-store.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sf, err := catalog.ParseStoreFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return assistant.NewStore(assistant.FromStoreFile(sf, false), time.Now())
}

// answerOf returns the structured answer and the text a request got.
func answerOf(t *testing.T, r *recorder) (intent string, skus []string, text string, done *wire.Result) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		switch m.Kind {
		case wire.KindDelta:
			if m.Delta.Answer != nil {
				var a struct {
					Intent string
					Facts  []struct{ SKU string }
				}
				if err := json.Unmarshal(m.Delta.Answer, &a); err != nil {
					t.Fatal(err)
				}
				if text != "" {
					t.Errorf("the answer came after text")
				}
				intent = a.Intent
				for _, f := range a.Facts {
					skus = append(skus, f.SKU)
				}
			}
			text += m.Delta.Text
		case wire.KindDone:
			done = m.Done
		case wire.KindError:
			t.Fatalf("error: %+v", m.Error)
		}
	}
	return
}

// The store assistant answers from the store: the structured answer first, then the text;
// quick answers need no model; a follow-up is replayed from the chat's messages; raw requests
// reach the model unchanged.
func TestServerAssistant(t *testing.T) {
	var got []wire.Message
	loads := 0
	st := mixedStore(t)
	var store *assistant.Store
	s := &Server{
		Load:  func(ctx context.Context, id string) (Generator, error) { loads++; return promptGen{&got}, nil },
		Store: func() *assistant.Store { return store },
	}
	ask := func(mode string, msgs ...wire.Message) *recorder {
		r := &recorder{}
		s.Handle(context.Background(), wire.ChatRequest{Mode: mode, Model: "m", Messages: msgs}, r.send)
		return r
	}
	user := func(c string) wire.Message { return wire.Message{Role: "user", Content: c} }

	// no catalog on the device yet
	intent, _, text, _ := answerOf(t, ask("", user("how much is the drill?")))
	if intent != assistant.IntentUnavailable || !strings.Contains(text, "catalog") {
		t.Errorf("no catalog: %q %q", intent, text)
	}
	store = st

	intent, skus, text, done := answerOf(t, ask(wire.ModeQuick, user("how much for XY-1234")))
	if intent != "price" || len(skus) != 1 || skus[0] != "XY-1234" || !strings.Contains(text, "129.00") || done.Phrasing != "facts" {
		t.Errorf("quick: %q %v %q %+v", intent, skus, text, done)
	}
	if loads != 0 {
		t.Errorf("quick answers loaded a model")
	}

	// the model here cannot phrase (no chat template): the facts' text, said why
	intent, skus, text, done = answerOf(t, ask("", user("do you have brie de meaux?"),
		wire.Message{Role: "assistant", Content: "Yes, 9 in aisle 2."}, user("how much is it?")))
	if intent != "price" || len(skus) == 0 || skus[0] != "GR-0006" || !strings.Contains(text, "9.99") ||
		!strings.HasPrefix(done.Phrasing, "facts: ") {
		t.Errorf("follow-up: %q %v %q %+v", intent, skus, text, done)
	}
	if loads != 1 {
		t.Errorf("model loads %d, want 1", loads)
	}

	r := ask(wire.ModeRaw, user("Once upon a time"))
	if len(got) != 1 || got[0].Content != "Once upon a time" {
		t.Fatalf("raw: generator saw %+v", got)
	}
	if k := r.kinds(); len(k) != 2 || k[1] != wire.KindDone {
		t.Fatalf("raw: messages %v", k)
	}
}

// warmingGen records the stores it was warmed for.
type warmingGen struct {
	fakeGen
	warmed *[]*assistant.Store
}

func (g warmingGen) Warm(_ context.Context, st *assistant.Store) (WarmOutcome, error) {
	*g.warmed = append(*g.warmed, st)
	if len(*g.warmed) > 1 {
		return WarmRestored, nil // from the second time on
	}
	return WarmEvaluated, nil
}

// TestServerWarm: Warm warms the loaded model for the store, loads none, and does nothing
// without a store.
func TestServerWarm(t *testing.T) {
	var warmed []*assistant.Store
	loads := 0
	s := &Server{Load: func(context.Context, string) (Generator, error) {
		loads++
		return warmingGen{fakeGen{words: []string{"x"}}, &warmed}, nil
	}}
	st := mixedStore(t)
	if res, err := s.Warm(context.Background(), st); err != nil || res.Models != 0 || loads != 0 || len(warmed) != 0 {
		t.Fatalf("before a model was loaded: err %v, %d loads, warmed %d times", err, loads, len(warmed))
	}
	s.Preload(context.Background(), "m")
	if _, err := s.Warm(context.Background(), nil); err != nil || len(warmed) != 0 {
		t.Fatalf("without a store: err %v, warmed %d times", err, len(warmed))
	}
	var busy []bool
	s.Busy = func(b bool) { busy = append(busy, b) }
	if res, err := s.Warm(context.Background(), st); err != nil || res.Restored || res.Models != 1 || len(warmed) != 1 || warmed[0] != st || loads != 1 {
		t.Fatalf("loaded model: err %v, %+v, warmed %v, %d loads", err, res, warmed, loads)
	}
	if fmt.Sprint(busy) != "[true false]" {
		t.Errorf("busy notices around the warm: %v, want [true false] (the service worker waits longer meanwhile)", busy)
	}
	if res, _ := s.Warm(context.Background(), st); !res.Restored {
		t.Error("the generator's restore is not reported")
	}
}

// breakingGen fails its answer and reports itself broken once *broken is set (a split model
// whose row worker died); it records being closed.
type breakingGen struct {
	broken, closed *bool
}

func (g breakingGen) Generate(ctx context.Context, req wire.ChatRequest, emit func(wire.Delta) error) (wire.Result, error) {
	if *g.broken {
		return wire.Result{}, wire.Errorf(wire.CodeInternal, "a row worker died")
	}
	return fakeGen{words: []string{"a"}}.Generate(ctx, req, emit)
}
func (g breakingGen) Broken() bool { return *g.broken }
func (g breakingGen) Close()       { *g.closed = true }

// TestServerReloadsABrokenModel: a model that breaks while answering is closed and unloaded
// after that request, and the next request loads it again.
func TestServerReloadsABrokenModel(t *testing.T) {
	loads, broken, closed := 0, false, false
	s := &Server{Load: func(context.Context, string) (Generator, error) {
		loads++
		return breakingGen{&broken, &closed}, nil
	}}
	ask := func() wire.Msg {
		r := &recorder{}
		s.Handle(context.Background(), wire.ChatRequest{Model: "m", Mode: wire.ModeRaw}, r.send)
		return r.msgs[len(r.msgs)-1]
	}
	if m := ask(); m.Kind != wire.KindDone || loads != 1 {
		t.Fatalf("first answer %+v, loads %d", m, loads)
	}
	broken = true
	if m := ask(); m.Kind != wire.KindError || !closed {
		t.Fatalf("answer of a broken model %+v, closed %v", m, closed)
	}
	broken = false
	if m := ask(); m.Kind != wire.KindDone || loads != 2 {
		t.Fatalf("after the break: %+v, loads %d (want loaded again)", m, loads)
	}
}
