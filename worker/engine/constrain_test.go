package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aisle/worker/constrain"
	"aisle/worker/gguf"
	"aisle/worker/modelgen"
	"aisle/worker/quant"
)

var _ TokenFilter = (*constrain.State)(nil)

// Ending wraps a constraint so that after n tokens the generation ends as soon as the rules let
// it: the mask then allows only end-of-generation tokens (tests use it to get whole answers, which
// Check can judge, from models that rarely stop on their own).
type Ending struct {
	*constrain.State
	N, taken int
	EOG      []int
}

func (f *Ending) Mask(allowed []uint32) {
	f.State.Mask(allowed)
	if f.taken >= f.N && f.State.Complete() {
		clear(allowed)
		for _, id := range f.EOG {
			allowed[id/32] |= 1 << (id % 32)
		}
	}
}

func (f *Ending) Accept(tok int) {
	f.taken++
	f.State.Accept(tok)
}

// TestConstrainedStories: stories260K, which names nearly every girl Lily and counts in small
// figures, generates under rules that forbid "Lily" and allow only the figure 3: greedy and
// sampled, every answer passes Check, and the constraint visibly changed the greedy text.
func TestConstrainedStories(t *testing.T) {
	e := load(t)
	rules := constrain.Rules{Figures: []string{"3"}, Forbidden: [][]string{{"Lily"}, {"a", "little", "girl"}}}
	v := constrain.Prepare(e.Tok)
	free, _ := collect(t, e, Request{Prompt: "Once upon a time", MaxTokens: 60})
	if len(constrain.Check(rules, free.Text)) == 0 {
		t.Fatalf("the unconstrained text %q already keeps the rules: the test shows nothing", free.Text)
	}
	for _, r := range []Request{
		{Prompt: "Once upon a time", MaxTokens: 120},
		{Prompt: "Once upon a time", MaxTokens: 120, Temperature: 1, Seed: 1},
		{Prompt: "She had 3", MaxTokens: 120, Temperature: 1.2, TopK: 50, Seed: 2},
		{Prompt: "Lily counted to", MaxTokens: 120, Temperature: 0.9, TopP: 0.9, MinP: 0.02, RepeatPenalty: 1.1, Seed: 3},
	} {
		for seed := range uint64(4) {
			r.Seed += seed
			f := &Ending{State: constrain.NewState(v, rules), N: 40, EOG: e.Tok.EOG()}
			r.Filter = f
			res, _ := collect(t, e, r)
			if vs := constrain.Check(rules, res.Text); len(vs) > 0 {
				t.Errorf("%+v: %q breaks the rules: %v", r, res.Text, vs)
			}
			if res.FinishReason != "stop" {
				t.Errorf("%+v: finished by %s after %d tokens: %q", r, res.FinishReason, len(res.Tokens), res.Text)
			}
			if r.Temperature == 0 {
				if res.Text == free.Text[:min(len(free.Text), len(res.Text))] {
					t.Errorf("the constrained greedy text %q is the unconstrained one", res.Text)
				}
				t.Logf("greedy: %q\n  unconstrained: %q", res.Text, free.Text)
				break
			}
		}
	}
}

// BenchmarkConstrainedDecode measures what the constraint costs per generated token on the CPU
// backend with a SmolLM2-135M-shaped model (Q8_0, as `make bench-cpu`), with its own 49152-token
// starcoder vocabulary and with the 128256-token llama-bpe one: greedy decoding of 64 tokens
// without a filter and with a constrain.State of 40 figures and 200 forbidden phrases. Metrics:
// decode µs/token without and with the constraint, the time spent in Mask and Accept per token
// (measured inside the run, with the caches as the forward pass leaves them), and that time as a
// share of a decode step without the constraint.
//
//	go test -run '^$' -bench ConstrainedDecode -benchtime 3x ./worker/engine
func BenchmarkConstrainedDecode(b *testing.B) {
	for _, vocab := range []string{"starcoder", "llama-bpe"} {
		b.Run(vocab, func(b *testing.B) { benchConstrained(b, "../testdata/vocab/ggml-vocab-"+vocab+".gguf") })
	}
}

func benchConstrained(b *testing.B, vocab string) {
	vf, err := gguf.Open(vocab)
	if err != nil {
		b.Fatal(err)
	}
	defer vf.Close()
	path := filepath.Join(b.TempDir(), "smollm2-135m-q8_0.gguf")
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	spec := modelgen.Spec{Arch: "llama", Shape: modelgen.Shapes["smollm2-135m"], Type: quant.Q8_0, Vocab: vf, Seed: 1}
	if err := modelgen.Write(out, spec); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	e, err := Load(f, Options{Backend: "cpu", ContextLen: 512})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	rules := benchRules()
	start := time.Now()
	v := constrain.Prepare(e.Tok)
	b.Logf("Prepare: %v", time.Since(start))
	const n = 64
	prompt := "The store assistant answers: Ibuprofen 400 mg costs"
	run := func(filter TokenFilter) time.Duration {
		e.resetCache() // every run evaluates the whole prompt
		res, err := e.Generate(context.Background(), Request{Prompt: prompt, MaxTokens: n, IgnoreEOS: true, Filter: filter}, func(Delta) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Tokens) != n {
			b.Fatalf("%d tokens", len(res.Tokens))
		}
		return time.Duration(float64(time.Second) * float64(n-1) / res.DecodeTokPerSec)
	}
	var plain, constrained, inFilter time.Duration
	b.ResetTimer()
	for range b.N {
		plain += run(nil)
		tf := &timedFilter{f: constrain.NewState(v, rules)}
		constrained += run(tf)
		inFilter += tf.spent
	}
	perTok := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N*(n-1)) }
	b.ReportMetric(perTok(plain), "µs/token-plain")
	b.ReportMetric(perTok(constrained), "µs/token-constrained")
	b.ReportMetric(float64(inFilter.Microseconds())/float64(b.N*n), "µs/token-in-filter")
	b.ReportMetric(100*float64(inFilter.Microseconds())/float64(b.N*n)/perTok(plain), "%-of-step")
}

// timedFilter measures the time a filter takes.
type timedFilter struct {
	f     TokenFilter
	spent time.Duration
}

func (t *timedFilter) Mask(allowed []uint32) {
	s := time.Now()
	t.f.Mask(allowed)
	t.spent += time.Since(s)
}

func (t *timedFilter) Accept(tok int) {
	s := time.Now()
	t.f.Accept(tok)
	t.spent += time.Since(s)
}

// benchRules: 40 figures and 200 forbidden phrases, as constrain's benchmarks.
func benchRules() constrain.Rules {
	r := constrain.Rules{Figures: strings.Fields("6.95 12.49 3.99 24.90 149.00 0.99 1.29 7.50 19.99 4.25 14 3 0 120 25 2A 3B 12C 7 5D " +
		"PH-0101 PH-0102 HW-2210 GR-0042 EL-1001 8:00-19:00 9:00-18:00 10:00 20 400 500 1.5 2 75 15 30 2024-12-01 1,299.00 EUR-6 x2")}
	for _, a := range strings.Fields("free best lowest guaranteed cheapest unbeatable exclusive miracle instant risk-free") {
		for _, n := range strings.Fields("shipping price deal offer cure results quality delivery refund discount savings protection relief treatment warranty bargain sale bonus gift trial") {
			r.Forbidden = append(r.Forbidden, []string{a, n})
		}
	}
	if len(r.Figures) != 40 || len(r.Forbidden) != 200 {
		panic(fmt.Sprintf("%d figures, %d phrases", len(r.Figures), len(r.Forbidden)))
	}
	return r
}
