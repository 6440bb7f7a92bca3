package assistant

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"aisle/worker/assistant/eval"
	"aisle/worker/chat"
	"aisle/worker/engine"
	"aisle/worker/gguf"
	"aisle/worker/internal/llamacpp"
)

// bundledModel is the app's default model (`make app` publishes it; model/README.md is its card).
const bundledModel = "model/aisle-assistant.gguf"

// Bars of the bundled model on the held-out evaluation stores (testdata/eval: product families,
// brands and store names the model never saw in training).
const (
	minBundledAccuracy      = 0.98 // with the fact constraint and the prose gate, as the app runs it
	minBundledAccuracyAlone = 0.90 // without both, counting only answers in the model's own words
)

// slmCommand builds the slm command once per test binary.
func slmCommand(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "slm")
	if out, err := exec.Command("go", "build", "-o", bin, "aisle/worker/cmd/slm").CombinedOutput(); err != nil {
		t.Fatalf("go build slm: %v\n%s", err, out)
	}
	return bin
}

// TestBundledModelEvaluation asks the evaluation set through `slm ask -m` with the bundled
// model: as the app runs it (constraint and gate on; any wrong figure or staff leak fails), and
// with both off, where only answers in the model's own words count (a sentence of the facts
// added to an answer that lacked its key figure does not): this is what the model learned
// itself; its wrong figures there are what the safeguards exist for, reported, not failed on.
func TestBundledModelEvaluation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the evaluation set twice through the model")
	}
	bin := slmCommand(t)
	for _, tc := range []struct {
		name  string
		extra []string
		min   float64
		alone bool
	}{
		{"as the app runs it", nil, minBundledAccuracy, false},
		{"no constraint, no gate", []string{"--no-constraint", "--no-gate"}, minBundledAccuracyAlone, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ask := eval.SLM(context.Background(), bin, bundledModel, tc.extra...)
			var rep eval.Report
			if tc.alone {
				// What the safeguards are for: the model's own slips are counted, not failed on.
				sets, err := eval.LoadDir("testdata/eval")
				if err != nil {
					t.Fatal(err)
				}
				if rep, err = eval.Evaluate(sets, ask); err != nil {
					t.Fatal(err)
				}
				t.Logf("without the safeguards:\n%s", rep.Markdown(60))
			} else {
				rep = eval.Run(t, "testdata/eval", ask)
			}
			tot := rep.Total()
			acc := tot.Accuracy()
			if tc.alone {
				acc = float64(tot.OwnWords) / float64(tot.Total)
			}
			t.Logf("%s: %d/%d correct, %d of them in the model's own words; %d answers with a wrong figure", tc.name,
				tot.Correct, tot.Total, tot.OwnWords, tot.WrongFigures)
			if acc < tc.min {
				t.Errorf("accuracy %.3f, want at least %.2f", acc, tc.min)
			}
		})
	}
}

// TestBundledModelMatchesLlamaCpp: llama.cpp (node-llama-cpp) loads the bundled model,
// tokenizes the assistant's prompts as the engine does and writes the same greedy answers, so
// any llama.cpp-based runtime can run it.
func TestBundledModelMatchesLlamaCpp(t *testing.T) {
	llamacpp.Require(t)
	f, err := gguf.Open(bundledModel)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := engine.Load(f, engine.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	peer := llamacpp.StartT(t, bundledModel, llamacpp.Options{})

	store := mustStore(t, "testdata/eval/corner-pharmacy.json", false)
	for _, q := range []string{"how much is the ibuprofen?", "do you have sunscreen", "where are the plasters",
		"what time do you close on saturday", "hello!", "do you sell bicycles?"} {
		conv := store.NewConversation()
		conv.Ask(q)
		prompt, err := chat.For(chat.ChatML).Render(conv.Messages(), true)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := e.PromptTokens(engine.Request{Messages: conv.Messages()})
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := peer.Tokenize(prompt, false, true)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ours, theirs) {
			t.Fatalf("%q: prompt tokens differ:\nengine    %v\nllama.cpp %v", q, ours, theirs)
		}
		want, err := peer.GreedyUntilEOG(theirs, 64)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Generate(context.Background(), engine.Request{Messages: conv.Messages(), MaxTokens: 64}, func(engine.Delta) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%q -> %q", q, res.Text)
		// llama.cpp's list ends with the end-of-turn token; the engine stops before it
		if n := len(want); n > 0 && e.Tok.IsEOG(want[n-1]) {
			want = want[:n-1]
			if res.FinishReason != "stop" {
				t.Errorf("%q: llama.cpp ended the turn, the engine stopped for %q", q, res.FinishReason)
			}
		}
		if !slices.Equal(res.Tokens, want) {
			t.Errorf("%q: greedy tokens differ:\nengine    %v\nllama.cpp %v", q, res.Tokens, want)
		}
	}
}

// TestWarmedPromptCache: Warm evaluates the start every conversation with the store shares; the
// first question then reuses it (its prefill begins after the system prompt) and gets the answer
// it gets from a cold model, word for word.
func TestWarmedPromptCache(t *testing.T) {
	f, err := gguf.Open(bundledModel)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	load := func() *engine.Engine {
		e, err := engine.Load(f, engine.Options{Threads: 1, Backend: "cpu"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		return e
	}
	store := mustStore(t, "testdata/eval/corner-pharmacy.json", false)
	phrase := func(e *engine.Engine, q string) Phrased {
		conv := store.NewConversation()
		ph, err := NewPhraser(e, store).Phrase(context.Background(), conv, conv.Ask(q), func(string) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return ph
	}
	warm, cold := load(), load()
	if err := NewPhraser(warm, store).Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	sys, err := chat.For(chat.ChatML).Render(store.NewConversation().Messages()[:1], false)
	if err != nil {
		t.Fatal(err)
	}
	sysTokens := len(warm.Tok.Encode(sys, false, true))
	for _, q := range []string{"how much is the ibuprofen?", "do you sell bicycles?"} {
		got, want := phrase(warm, q), phrase(cold, q)
		if got.Result.CachedTokens < sysTokens {
			t.Errorf("%q: %d prompt tokens reused after Warm, want at least the system prompt's %d", q, got.Result.CachedTokens, sysTokens)
		}
		if got.Text != want.Text {
			t.Errorf("%q: warmed %q, cold %q", q, got.Text, want.Text)
		}
		if err := NewPhraser(warm, store).Warm(context.Background()); err != nil { // for the next question
			t.Fatal(err)
		}
	}
}
