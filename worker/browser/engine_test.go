package browser

import (
	"context"
	"fmt"
	"testing"

	"aisle/worker/assistant"
	"aisle/worker/browser/wire"
	"aisle/worker/engine"
	"aisle/worker/gguf"
)

// TestRawChatLongerThanTheContext: a raw chat of many turns, far longer than stories260K's 512
// positions, is answered: its oldest turns leave the prompt.
func TestRawChatLongerThanTheContext(t *testing.T) {
	f, err := gguf.Open("../testdata/models/stories260K.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := engine.Load(f, engine.Options{Threads: 1, Backend: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	req := wire.ChatRequest{Model: "stories", MaxTokens: 16, Mode: wire.ModeRaw}
	for i := range 12 {
		req.Messages = append(req.Messages, wire.Message{Role: "user", Content: fmt.Sprintf("Tell me story number %d about a dog and a cat who lived in a big house.", i)},
			wire.Message{Role: "assistant", Content: "Once upon a time there was a dog and a cat. They lived in a big house with a garden and they were happy."})
	}
	req.Messages = append(req.Messages, wire.Message{Role: "user", Content: "And then?"})
	res, err := EngineGenerator{E: e}.Generate(context.Background(), req, func(wire.Delta) error { return nil })
	if err != nil {
		t.Fatalf("a 25-message chat: %v", err)
	}
	if res.PromptTokens+res.CompletionTokens > e.ContextLen() || res.CompletionTokens == 0 {
		t.Errorf("prompt %d + answer %d tokens in a %d context", res.PromptTokens, res.CompletionTokens, e.ContextLen())
	}
}

// memSnapshots is a SnapshotStore in memory.
type memSnapshots map[string][]byte

func (m memSnapshots) Get(_ context.Context, key string) ([]byte, error) { return m[key], nil }
func (m memSnapshots) ReadAhead(string)                                  {}
func (m memSnapshots) Put(_ context.Context, key string, b []byte) error {
	m[key] = b
	return nil
}

// TestWarmKeepsASnapshot: the first start evaluates the store's conversation start and keeps its
// snapshot; the next cold start (a new engine) restores it instead and answers the same; a damaged
// snapshot is evaluated again and replaced.
func TestWarmKeepsASnapshot(t *testing.T) {
	f, err := gguf.Open("../assistant/model/aisle-assistant.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	snaps := memSnapshots{}
	start := func() EngineGenerator {
		e, err := engine.Load(f, engine.Options{Threads: 1, Backend: "cpu"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		return EngineGenerator{E: e, Snapshots: snaps, Model: "aisle-assistant@test"}
	}
	st := mixedStore(t)
	ask := func(g EngineGenerator) string {
		conv := st.NewConversation()
		a := conv.Ask("how much is the LED flashlight?")
		res, err := g.PhraseAnswer(context.Background(), st, conv, a, wire.ChatRequest{MaxTokens: 64}, func(string) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(res.PromptTokens, res.CompletionTokens, conv.Messages()[len(conv.Messages())-1].Content)
	}
	first := start()
	if out, err := first.Warm(context.Background(), st); err != nil || out != WarmEvaluated || len(snaps) != 1 {
		t.Fatalf("first start: %v, err %v, %d snapshots kept", out, err, len(snaps))
	}
	if out, _ := first.Warm(context.Background(), st); out != WarmHeld {
		t.Errorf("warming a model that holds the start: %v, want WarmHeld", out)
	}
	want := ask(first)
	second := start()
	if out, err := second.Warm(context.Background(), st); err != nil || out != WarmRestored {
		t.Fatalf("second start: %v, err %v", out, err)
	}
	if got := ask(second); got != want {
		t.Errorf("after a restore: %q, evaluated: %q", got, want)
	}
	for k := range snaps {
		snaps[k] = append([]byte(nil), snaps[k]...)
		snaps[k][100] ^= 1
	}
	third := start()
	if out, err := third.Warm(context.Background(), st); err != nil || out != WarmEvaluated {
		t.Fatalf("a damaged snapshot: %v, err %v", out, err)
	}
	fourth := start()
	if out, _ := fourth.Warm(context.Background(), st); out != WarmRestored {
		t.Error("the damaged snapshot was not replaced")
	}
}

// TestServerReportsTimeToFirstToken: a question asked before the store's start was warmed warms it
// inside the request (warm_ms), and its prompt then evaluates only the question's turn; the next
// conversation's first question finds the start in the cache. The timings up to the first token
// are reported apart from decoding.
func TestServerReportsTimeToFirstToken(t *testing.T) {
	f, err := gguf.Open("../assistant/model/aisle-assistant.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st := mixedStore(t)
	s := &Server{
		Load: func(context.Context, string) (Generator, error) {
			e, err := engine.Load(f, engine.Options{Threads: 1, Backend: "cpu"})
			if err != nil {
				return nil, err
			}
			t.Cleanup(e.Close)
			return EngineGenerator{E: e}, nil
		},
		Store: func() *assistant.Store { return st },
	}
	ask := func(q string) wire.Result {
		r := &recorder{}
		s.Handle(context.Background(), wire.ChatRequest{Model: "m", MaxTokens: 32, Messages: []wire.Message{{Role: "user", Content: q}}}, r.send)
		_, _, _, done := answerOf(t, r)
		return *done
	}
	first := ask("how much is the LED flashlight?")
	if first.LoadMS <= 0 || first.WarmMS <= 0 || first.PrefillMS <= 0 || first.CachedTokens == 0 || first.Phrasing == "" {
		t.Errorf("first question: %+v, want load, warm and prefill times and the start cached", first)
	}
	next := ask("where are the batteries?")
	if next.LoadMS != 0 || next.WarmMS != 0 || next.PrefillMS <= 0 || next.CachedTokens < first.CachedTokens {
		t.Errorf("next conversation: %+v, want no load nor warm, the start still cached (%d tokens)", next, first.CachedTokens)
	}
}

func TestSnapshotKeys(t *testing.T) {
	latest := SnapshotKey("aisle-assistant@00112233aabbccdd", "demo")
	if latest != "aisle-assistant@00112233aabbccdd|demo" {
		t.Fatalf("key %q", latest)
	}
	for key, want := range map[string]bool{
		"aisle-assistant@ffffffffffffffff|demo":  true,  // an older revision, same store
		"aisle-assistant@00112233aabbccdd|demo":  false, // itself
		"aisle-assistant@ffffffffffffffff|other": false, // another store
		"smollm2@ffffffffffffffff|demo":          false, // another model
		"aisle-assistant|demo":                   false, // not a snapshot key
	} {
		if got := Superseded(key, latest); got != want {
			t.Errorf("Superseded(%q) = %v, want %v", key, got, want)
		}
	}
}
