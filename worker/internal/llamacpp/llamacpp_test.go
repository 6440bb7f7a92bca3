package llamacpp_test

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"aisle/worker/internal/llamacpp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from llama.cpp")

const (
	stories = "../../testdata/models/stories260K.gguf"
	vocabs  = "../../testdata/vocab"
	// storiesPrefix is the text worker/testdata/README.md quotes for greedy decoding from BOS.
	storiesPrefix = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. " +
		"One day, she saw a big, red ball. She wanted to play with it, but it was too high."
	goldenGreedy = "testdata/stories260K-greedy256.json"
)

// sharedStories is one peer on stories260K (default options) shared by the tests of this file.
var sharedStories = sync.OnceValues(func() (*llamacpp.Peer, error) {
	return llamacpp.Start(context.Background(), stories, llamacpp.Options{})
})

func storiesPeer(t *testing.T) *llamacpp.Peer {
	t.Helper()
	llamacpp.Require(t)
	p, err := sharedStories()
	if err != nil {
		t.Fatalf("start peer: %v", err)
	}
	return p
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if p, err := sharedStories(); err == nil && p != nil {
		p.Close()
	}
	os.Exit(code)
}

// greedyGolden is the file format of goldenGreedy: what llama.cpp generates greedily from BOS.
type greedyGolden struct {
	Note   string `json:"note"`
	Prompt []int  `json:"prompt"`
	Tokens []int  `json:"tokens"`
	Text   string `json:"text"`
}

func TestInfoReportsComparableContext(t *testing.T) {
	p := storiesPeer(t)
	info := p.Info()
	t.Logf("llama.cpp %s via node-llama-cpp %s; %s", info.LlamaCppRelease, info.NodeLlamaCppVersion, info.SystemInfo)
	checks := []struct {
		name      string
		got, want any
	}{
		{"arch", info.Arch, "llama"},
		{"vocab", info.VocabSize, 512},
		{"bos", info.BOS, 1},
		{"eos", info.EOS, 2},
		{"addBOS", info.AddBOS, true},
		{"context", info.ContextSize, 512},
		{"batch", info.BatchSize, 512},
		{"threads", info.Threads, 1},
		{"flash attention", info.FlashAttention, false},
		{"K cache", info.KVCacheKeyType, "F32"},
		{"V cache", info.KVCacheValueType, "F32"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestStories260KGreedyFromBOS(t *testing.T) {
	p := storiesPeer(t)
	prompt, err := p.Tokenize("", true, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(prompt, []int{1}) {
		t.Fatalf("Tokenize(\"\", addBOS) = %v, want [1]", prompt)
	}
	got, err := p.Greedy(prompt, 256)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 256 {
		t.Fatalf("got %d tokens, want 256", len(got))
	}
	text, err := p.Detokenize(got)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, storiesPrefix) {
		t.Errorf("greedy text = %q\nwant prefix %q", text, storiesPrefix)
	}
	if *update {
		writeJSON(t, goldenGreedy, greedyGolden{
			Note:   "llama.cpp (node-llama-cpp, CPU, F32 KV cache, no flash attention): 256 greedy tokens of stories260K.gguf from BOS; regenerate with go test ./worker/internal/llamacpp -update",
			Prompt: prompt, Tokens: got, Text: text,
		})
	}
	var want greedyGolden
	readJSON(t, goldenGreedy, &want)
	if !slices.Equal(got, want.Tokens) {
		t.Errorf("greedy ids differ from %s at index %d\n got %v\nwant %v", goldenGreedy, firstDiff(got, want.Tokens), got, want.Tokens)
	}
	if text != want.Text {
		t.Errorf("text = %q, want %q", text, want.Text)
	}
}

func TestGreedyUntilEOG(t *testing.T) {
	p := storiesPeer(t)
	// stories260K emits no end-of-generation token within 300 tokens from BOS (checked here),
	// so GreedyUntilEOG must return the same 300 tokens as Greedy.
	long, err := p.Greedy([]int{1}, 300)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.Index(long, p.Info().EOS); i >= 0 {
		t.Fatalf("EOS at index %d: the premise of this test no longer holds", i)
	}
	short, err := p.GreedyUntilEOG([]int{1}, 300)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(short, long) {
		t.Errorf("GreedyUntilEOG gave %d tokens, differing from Greedy at %d", len(short), firstDiff(short, long))
	}
}

func TestThreadsDoNotChangeLogits(t *testing.T) {
	p1 := storiesPeer(t)
	p2 := llamacpp.StartT(t, stories, llamacpp.Options{Threads: 2})
	if got := p2.Info().Threads; got != 2 {
		t.Fatalf("threads %d, want 2", got)
	}
	seq, err := p1.Tokenize("Once upon a time, there was a dog named Max. He liked to run.", true, false)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p1.Logits(seq)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p2.Logits(seq)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Fatalf("position %d: logits with 1 and 2 threads differ", i)
		}
	}
}

func TestLogitsAgreeWithGreedy(t *testing.T) {
	p := storiesPeer(t)
	gen, err := p.Greedy([]int{1}, 40)
	if err != nil {
		t.Fatal(err)
	}
	seq := append([]int{1}, gen[:39]...)
	logits, err := p.Logits(seq)
	if err != nil {
		t.Fatal(err)
	}
	if len(logits) != len(seq) {
		t.Fatalf("got %d rows, want %d", len(logits), len(seq))
	}
	for i, row := range logits {
		if len(row) != 512 {
			t.Fatalf("row %d has %d logits, want 512", i, len(row))
		}
		best := 0
		for j, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("row %d: logit %d is %v", i, j, v)
			}
			if v > row[best] {
				best = j
			}
		}
		if best != gen[i] {
			t.Errorf("position %d: argmax %d, greedy generated %d", i, best, gen[i])
		}
	}
	again, err := p.Logits(seq)
	if err != nil {
		t.Fatal(err)
	}
	for i := range logits {
		if !slices.Equal(logits[i], again[i]) {
			t.Fatalf("logits at position %d differ between two identical runs", i)
		}
	}
}

// TestKVCacheF16Greedy checks llama.cpp's default KV type on the same model, and shows how
// close its logits stay to the F32 reference.
func TestKVCacheF16Greedy(t *testing.T) {
	p32 := storiesPeer(t)
	p16 := llamacpp.StartT(t, stories, llamacpp.Options{KVCache: llamacpp.KVF16})
	if got := p16.Info().KVCacheKeyType; got != "F16" {
		t.Fatalf("K cache %s, want F16", got)
	}
	a, err := p32.Greedy([]int{1}, 128)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p16.Greedy([]int{1}, 128)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Errorf("F16 KV greedy differs from F32 at index %d", firstDiff(a, b))
	}
	seq := append([]int{1}, a[:63]...)
	la, err := p32.Logits(seq)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := p16.Logits(seq)
	if err != nil {
		t.Fatal(err)
	}
	var maxDiff float64
	for i := range la {
		for j := range la[i] {
			maxDiff = max(maxDiff, math.Abs(float64(la[i][j]-lb[i][j])))
		}
	}
	t.Logf("max |logit(F32 KV) - logit(F16 KV)| over 64 positions: %.3g", maxDiff)
	if maxDiff == 0 || maxDiff > 0.5 {
		t.Errorf("max logit difference %g: want a small non-zero rounding effect", maxDiff)
	}
}

func TestTokenizeMatchesVocabVectors(t *testing.T) {
	llamacpp.Require(t)
	inps, err := filepath.Glob(filepath.Join(vocabs, "*.gguf.inp"))
	if err != nil || len(inps) == 0 {
		t.Fatalf("no test vectors under %s (%v)", vocabs, err)
	}
	for _, inp := range inps {
		model := strings.TrimSuffix(inp, ".inp")
		t.Run(filepath.Base(model), func(t *testing.T) {
			t.Parallel()
			cases, err := llamacpp.ReadVocabCases(inp, model+".out")
			if err != nil {
				t.Fatal(err)
			}
			p := llamacpp.StartT(t, model, llamacpp.Options{VocabOnly: true})
			for i, c := range cases {
				got, err := p.Tokenize(c.Text, false, false)
				if err != nil {
					t.Fatalf("case %d %q: %v", i, c.Text, err)
				}
				if !slices.Equal(got, c.IDs) {
					t.Errorf("case %d %q:\n got %v\nwant %v", i, c.Text, got, c.IDs)
				}
			}
		})
	}
}

func TestTokenizeSpecialAndBOS(t *testing.T) {
	llamacpp.Require(t)
	p := llamacpp.StartT(t, filepath.Join(vocabs, "ggml-vocab-qwen2.gguf"), llamacpp.Options{VocabOnly: true})
	info := p.Info()
	if info.ContextSize != 0 {
		t.Errorf("vocab-only context size %d, want 0", info.ContextSize)
	}
	plain, err := p.Tokenize("<|im_end|>", false, false)
	if err != nil {
		t.Fatal(err)
	}
	special, err := p.Tokenize("<|im_end|>", false, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(special) != 1 || len(plain) < 2 {
		t.Errorf("parseSpecial: plain %v, special %v: want several tokens vs one", plain, special)
	}
	if _, err := p.Greedy([]int{1}, 1); err == nil {
		t.Error("Greedy on a vocabulary-only peer succeeded")
	}

	spm := llamacpp.StartT(t, filepath.Join(vocabs, "ggml-vocab-llama-spm.gguf"), llamacpp.Options{VocabOnly: true})
	ids, err := spm.Tokenize("Hello", true, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 15043}; !slices.Equal(ids, want) {
		t.Errorf("Tokenize(Hello, addBOS) = %v, want %v", ids, want)
	}
	// llama.cpp strips the SentencePiece space prefix from the first token only: after BOS
	// (a control token that renders as nothing) the space of "▁Hello" stays.
	for _, c := range []struct {
		ids  []int
		want string
	}{{[]int{15043}, "Hello"}, {[]int{1, 15043}, " Hello"}, {[]int{1, 15043, 2}, " Hello"}} {
		text, err := spm.Detokenize(c.ids)
		if err != nil {
			t.Fatal(err)
		}
		if text != c.want {
			t.Errorf("Detokenize(%v) = %q, want %q", c.ids, text, c.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	p := storiesPeer(t)
	tests := []struct {
		name string
		run  func() error
	}{
		{"token outside vocab", func() error { _, err := p.Greedy([]int{1, 512}, 1); return err }},
		{"negative token", func() error { _, err := p.Logits([]int{-1}); return err }},
		{"empty prompt", func() error { _, err := p.Greedy(nil, 4); return err }},
		{"zero tokens", func() error { _, err := p.Greedy([]int{1}, 0); return err }},
		{"context overflow", func() error { _, err := p.Greedy([]int{1}, 513); return err }},
		{"logits overflow", func() error { _, err := p.Logits(make([]int, 513)); return err }},
		{"invalid UTF-8", func() error { _, err := p.Tokenize("a\xffb", false, false); return err }},
		{"detokenize outside vocab", func() error { _, err := p.Detokenize([]int{9999}); return err }},
		{"bench zero", func() error { _, _, err := p.Bench(0, 1); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); err == nil {
				t.Error("no error")
			} else {
				t.Log(err)
			}
		})
	}
	// The peer keeps serving after refused requests.
	if _, err := p.Greedy([]int{1}, 2); err != nil {
		t.Errorf("after bad input: %v", err)
	}
}

func TestStartFailures(t *testing.T) {
	llamacpp.Require(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	full, err := os.ReadFile(stories)
	if err != nil {
		t.Fatal(err)
	}
	garbage := write("garbage.gguf", []byte("not a model at all, just text"))
	absurd := write("absurd.gguf", []byte("GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x00\x01\x00\x00\x00\x00\x00\x00\x00"))
	truncated := write("truncated.gguf", full[:2000])
	tests := []struct {
		name  string
		model string
		opts  llamacpp.Options
	}{
		{"missing file", filepath.Join(dir, "nope.gguf"), llamacpp.Options{}},
		{"directory", dir, llamacpp.Options{}},
		{"not GGUF", garbage, llamacpp.Options{}},
		{"absurd tensor count", absurd, llamacpp.Options{}},
		{"truncated", truncated, llamacpp.Options{}},
		{"short header", write("short.gguf", []byte("GGUF")), llamacpp.Options{}},
		{"bad KV type", stories, llamacpp.Options{KVCache: "Q4_0"}},
		{"negative threads", stories, llamacpp.Options{Threads: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := llamacpp.Start(t.Context(), tt.model, tt.opts)
			if err == nil {
				p.Close()
				t.Fatal("Start succeeded")
			}
			t.Log(err)
		})
	}
}

func TestBench(t *testing.T) {
	p := storiesPeer(t)
	pre, dec, err := p.Bench(32, 16)
	if err != nil {
		t.Fatal(err)
	}
	if !(pre > 0) || !(dec > 0) {
		t.Errorf("Bench = %v, %v tok/s: want positive rates", pre, dec)
	}
	t.Logf("stories260K, %d thread(s): prefill %.0f tok/s, decode %.0f tok/s", p.Info().Threads, pre, dec)
}

// BenchmarkStories260K reports llama.cpp's speed on the bundled model, for comparison with the
// engine's own benchmarks: go test ./worker/internal/llamacpp -run '^$' -bench .
func BenchmarkStories260K(b *testing.B) {
	llamacpp.Require(b)
	p, err := sharedStories()
	if err != nil {
		b.Fatal(err)
	}
	var pre, dec float64
	for b.Loop() {
		if pre, dec, err = p.Bench(128, 128); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(pre, "prefill_tok/s")
	b.ReportMetric(dec, "decode_tok/s")
}

func firstDiff(a, b []int) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate with -update)", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestConcurrentRequests(t *testing.T) {
	p := storiesPeer(t)
	texts := []string{"Once upon a time", "Lily and Ben", "The sun was hot.", "\"Hello!\" said Tom."}
	want := make([][]int, len(texts))
	for i, s := range texts {
		ids, err := p.Tokenize(s, true, false)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = ids
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for r := range 20 {
				i := (g + r) % len(texts)
				got, err := p.Tokenize(texts[i], true, false)
				if err != nil {
					t.Error(err)
					return
				}
				if !slices.Equal(got, want[i]) {
					t.Errorf("goroutine %d: Tokenize(%q) = %v, want %v", g, texts[i], got, want[i])
				}
			}
		})
	}
	wg.Wait()
}

func TestPeerCrash(t *testing.T) {
	llamacpp.Require(t)
	p, err := llamacpp.Start(t.Context(), stories, llamacpp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Greedy([]int{1}, 4); err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first call finds the process gone, the second the peer broken
		if _, err := p.Greedy([]int{1}, 4); err == nil || !strings.Contains(err.Error(), "llamacpp: greedy") {
			t.Errorf("after a crash: err = %v, want a greedy error", err)
		}
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close after a crash: %v", err)
	}
	if _, err := p.Tokenize("x", false, false); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("after Close: err = %v, want peer closed", err)
	}
}
