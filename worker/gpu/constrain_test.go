//go:build cgo && !js

package gpu

import (
	"context"
	"fmt"
	"testing"

	"aisle/worker/constrain"
	"aisle/worker/engine"
	"aisle/worker/gguf"
	"aisle/worker/quant"
)

// ending wraps a constraint so that after n tokens the generation ends as soon as the rules let
// it (only end-of-generation tokens are then allowed), and records the tokens it accepts.
type ending struct {
	*constrain.State
	n        int
	eog      []int
	accepted []int
}

func (f *ending) Mask(allowed []uint32) {
	f.State.Mask(allowed)
	if len(f.accepted) >= f.n && f.State.Complete() {
		clear(allowed)
		for _, id := range f.eog {
			allowed[id/32] |= 1 << (id % 32)
		}
	}
}

func (f *ending) Accept(tok int) {
	f.accepted = append(f.accepted, tok)
	f.State.Accept(tok)
}

func loadEngine(t *testing.T, path, backend string) *engine.Engine {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	e, err := engine.Load(f, engine.Options{Backend: backend, Threads: 2, ContextLen: 256})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	if e.Backend != backend {
		t.Fatalf("backend %s: engine chose %s (%s)", backend, e.Backend, e.BackendReason)
	}
	return e
}

func generateWith(t *testing.T, e *engine.Engine, r engine.Request) engine.Result {
	t.Helper()
	res, err := e.Generate(context.Background(), r, func(engine.Delta) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var testRules = constrain.Rules{
	Figures:   []string{"6.95", "14", "2A", "PH-0101", "8:00-19:00"},
	Forbidden: [][]string{{"the"}, {"and"}, {"free", "shipping"}, {"a"}, {"s"}},
}

// TestEngineConstrainedMatchesCPU: under the same constraint, greedy generation on the GPU (mask
// uploaded each step, sampling on the device) gives exactly the CPU path's tokens, for a random
// F32 model (whose logits agree to rounding) with a SentencePiece vocabulary and for stories260K;
// the filter sees exactly the tokens generated, every answer passes Check, and the constraint
// changed the output.
func TestEngineConstrainedMatchesCPU(t *testing.T) {
	mustDevice(t)
	random := writeRandomModel(t, "llama", "tiny", quant.F32, "ggml-vocab-llama-spm.gguf")
	for _, c := range []struct {
		path   string
		prompt string
	}{{random, "Ibuprofen 400 mg costs"}, {stories, "Once upon a time"}} {
		var got [2]engine.Result
		for i, backend := range []string{"gpu", "cpu"} {
			e := loadEngine(t, c.path, backend)
			plain := generateWith(t, e, engine.Request{Prompt: c.prompt, MaxTokens: 40})
			f := &ending{State: constrain.NewState(constrain.Prepare(e.Tok), testRules), n: 40, eog: e.Tok.EOG()}
			got[i] = generateWith(t, e, engine.Request{Prompt: c.prompt, MaxTokens: 80, Filter: f})
			if fmt.Sprint(f.accepted) != fmt.Sprint(got[i].Tokens) {
				t.Errorf("%s: the filter accepted %v, the result has %v", backend, f.accepted, got[i].Tokens)
			}
			if vs := constrain.Check(testRules, got[i].Text); len(vs) > 0 || got[i].FinishReason != "stop" {
				t.Errorf("%s: %q (%s) breaks the rules: %v", backend, got[i].Text, got[i].FinishReason, vs)
			}
			if fmt.Sprint(plain.Tokens) == fmt.Sprint(got[i].Tokens[:min(len(got[i].Tokens), len(plain.Tokens))]) {
				t.Errorf("%s: the constraint changed nothing: %q", backend, plain.Text)
			}
		}
		if fmt.Sprint(got[0].Tokens) != fmt.Sprint(got[1].Tokens) {
			t.Errorf("%s: constrained greedy tokens differ\n gpu %v %q\n cpu %v %q", c.path, got[0].Tokens, got[0].Text, got[1].Tokens, got[1].Text)
		}
		t.Logf("%q", got[0].Text)
	}
}

// TestEngineConstrainedSampling: sampled generation under the mask (Gumbel-max on the GPU, the
// CPU sampler with top-k/top-p on the host) never breaks the rules, over several seeds.
func TestEngineConstrainedSampling(t *testing.T) {
	mustDevice(t)
	path := writeRandomModel(t, "llama", "tiny", quant.F32, "ggml-vocab-llama-spm.gguf")
	for _, backend := range []string{"gpu", "cpu"} {
		e := loadEngine(t, path, backend)
		v := constrain.Prepare(e.Tok)
		for seed := range uint64(6) {
			f := &ending{State: constrain.NewState(v, testRules), n: 30, eog: e.Tok.EOG()}
			r := engine.Request{Prompt: "Aisle 2A holds", MaxTokens: 80, Temperature: 1.5, Seed: seed, Filter: f}
			if backend == "cpu" && seed%2 == 1 {
				r.TopK, r.TopP = 200, 0.95 // the host's samplers too
			}
			res := generateWith(t, e, r)
			if vs := constrain.Check(testRules, res.Text); len(vs) > 0 || res.FinishReason != "stop" {
				t.Errorf("%s seed %d: %q (%s) breaks the rules: %v", backend, seed, res.Text, res.FinishReason, vs)
			}
			if fmt.Sprint(f.accepted) != fmt.Sprint(res.Tokens) {
				t.Errorf("%s seed %d: the filter accepted %v, the result has %v", backend, seed, f.accepted, res.Tokens)
			}
		}
	}
}

// TestEngineConstrainedTurns: on the GPU with a filter, a second turn extending the first reuses
// the KV cache and gives the tokens a fresh engine gives; a stop string ends a turn as before.
func TestEngineConstrainedTurns(t *testing.T) {
	mustDevice(t)
	path := writeRandomModel(t, "llama", "tiny", quant.F32, "ggml-vocab-llama-spm.gguf")
	turns := func(e *engine.Engine) (engine.Result, engine.Result) {
		v := constrain.Prepare(e.Tok)
		first := generateWith(t, e, engine.Request{Prompt: "Open 8:00-19:00", MaxTokens: 20, Filter: constrain.NewState(v, testRules)})
		prompt := append(append([]int(nil), first.PromptTokens...), first.Tokens...)
		prompt = append(prompt, e.Tok.Encode(" Price", false, false)...)
		second := generateWith(t, e, engine.Request{PromptTokens: prompt, MaxTokens: 20, Filter: constrain.NewState(v, testRules)})
		return first, second
	}
	e := loadEngine(t, path, "gpu")
	first, second := turns(e)
	if second.CachedTokens < len(first.PromptTokens)+len(first.Tokens)-1 {
		t.Errorf("the second turn reused %d tokens, want >= %d", second.CachedTokens, len(first.PromptTokens)+len(first.Tokens)-1)
	}
	prompt := append(append([]int(nil), first.PromptTokens...), first.Tokens...)
	prompt = append(prompt, e.Tok.Encode(" Price", false, false)...)
	fresh := generateWith(t, loadEngine(t, path, "gpu"), engine.Request{PromptTokens: prompt, MaxTokens: 20, Filter: constrain.NewState(constrain.Prepare(e.Tok), testRules)})
	if fmt.Sprint(fresh.Tokens) != fmt.Sprint(second.Tokens) {
		t.Errorf("second turn with the cache %v, fresh %v", second.Tokens, fresh.Tokens)
	}
	_, cpuSecond := turns(loadEngine(t, path, "cpu"))
	if fmt.Sprint(cpuSecond.Tokens) != fmt.Sprint(second.Tokens) {
		t.Errorf("second turn on the GPU %v, on the CPU %v", second.Tokens, cpuSecond.Tokens)
	}
	// a stop string ends a constrained turn on the GPU as on the CPU
	for _, backend := range []string{"gpu", "cpu"} {
		e := loadEngine(t, stories, backend)
		res := generateWith(t, e, engine.Request{Prompt: "Once upon a time", MaxTokens: 60, Stop: []string{"girl"},
			Filter: constrain.NewState(constrain.Prepare(e.Tok), constrain.Rules{Forbidden: [][]string{{"Lily"}}})})
		if res.FinishReason != "stop" || res.Text != ", there was a little " {
			t.Errorf("%s: %q (%s), want the text before the stop string", backend, res.Text, res.FinishReason)
		}
	}
}
