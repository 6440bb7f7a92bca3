package pwa_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"aisle/worker/browser/rowsplit"
	"aisle/worker/chat"
	"aisle/worker/gguf"
	"aisle/worker/modelgen"
	"aisle/worker/quant"
	"aisle/worker/tokenizer"
)

// The side-by-side browser benchmark (issue 13's contract): the app's engine and @wllama/wllama
// in one headless Chromium on the same GGUF files, alternated, printing one JSON line per model,
// backend and thread count:
//
//	{"model", "backend", "threads", "ours": {"prefill_tok_s", "decode_tok_s"}, "wllama": {"prefill_tok_s", "decode_tok_s"}}
//
// each the median of its repetitions. `make bench-browser` runs it:
//
//	go test -count=1 -run '^TestBrowserCompare$' -timeout 2h ./pwa -args -compare -compare.out FILE
//
// The app's engine runs in its inference worker on the CPU path (backend "cpu"), driven through
// the service worker's /v1/chat/completions (mode raw, greedy); its prefill and decode times are
// the worker's own (Server-Timing). The line's thread count is wllama's threads (its
// multi-threaded build) and the cores the app's engine may use: it splits a large enough model
// across that many workers (Go's WebAssembly has no threads: each worker is a Go instance
// holding its rows of every matrix; rowsplit.AutoParts), a small one runs in one; both pages
// are served cross-origin isolated (COOP and COEP). wllama's are llama.cpp's timings of a raw
// completion of the same prompt (the user's message rendered with the model's chat template, as
// the app's engine renders it; evaluated anew, EOS ignored). The app's engine keeps the template's
// start cached between requests (its prompt cache): its prefill rate counts the tokens it
// evaluated. Decode rates are (tokens - 1) / decode time for
// both: the first token comes out of the prefill. Progress goes to stderr.
var (
	compareRun      = flag.Bool("compare", false, "run TestBrowserCompare, the side-by-side browser benchmark")
	compareModels   = flag.String("compare.models", "", "comma-separated GGUF files (default: stories260K, the bundled model and SmolLM2-135M-shaped Q8_0 and Q4_K, generated into -compare.dir)")
	compareDir      = flag.String("compare.dir", "../.build/bench", "folder of the generated SmolLM2-135M-shaped models")
	compareThreads  = flag.String("compare.threads", "", "comma-separated thread counts (default 1 and the machine's cores)")
	compareReps     = flag.Int("compare.reps", 3, "repetitions per engine, alternated (medians)")
	comparePrompt   = flag.Int("compare.prompt", 32, "prompt tokens (about: whole words)")
	compareTokens   = flag.Int("compare.tokens", 32, "generated tokens")
	compareOut      = flag.String("compare.out", "", "file for the JSON lines (default stderr, with the progress)")
	compareMessages = flag.Bool("compare.messages", false, "serve the app's page without cross-origin isolation: its workers exchange messages, not shared memory")
)

// tokSpeeds and compareLine are the contract's line, exactly.
type tokSpeeds struct {
	PrefillTokS float64 `json:"prefill_tok_s"`
	DecodeTokS  float64 `json:"decode_tok_s"`
}

type compareLine struct {
	Model   string    `json:"model"`
	Backend string    `json:"backend"`
	Threads int       `json:"threads"`
	Ours    tokSpeeds `json:"ours"`
	Wllama  tokSpeeds `json:"wllama"`
}

type compareConfig struct {
	models               []string
	threads              []int
	reps, prompt, tokens int
}

func TestBrowserCompare(t *testing.T) {
	if !*compareRun {
		t.Skip("the side-by-side browser benchmark runs with -args -compare (make bench-browser)")
	}
	needBrowser(t)
	needPeer(t, "@wllama/wllama/esm/index.js")
	cfg := compareConfig{reps: *compareReps, prompt: *comparePrompt, tokens: *compareTokens}
	if *compareModels != "" {
		cfg.models = strings.Split(*compareModels, ",")
	} else {
		cfg.models = []string{modelPath, bundledModel}
		for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_K} {
			p := filepath.Join(*compareDir, "smollm2-135m-"+typ.String()+".gguf")
			ensureShapedModel(t, p, typ)
			cfg.models = append(cfg.models, p)
		}
	}
	ts := *compareThreads
	if ts == "" {
		ts = fmt.Sprintf("1,%d", runtime.NumCPU())
	}
	for _, s := range strings.Split(ts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			t.Fatalf("bad thread count %q", s)
		}
		if !slices.Contains(cfg.threads, n) {
			cfg.threads = append(cfg.threads, n)
		}
	}
	var out io.Writer = os.Stderr
	if *compareOut != "" {
		f, err := os.Create(*compareOut)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		out = f
	}
	browserCompare(t, cfg, out)
}

// TestBrowserCompareFormat runs the benchmark briefly on stories260K and checks its lines: the
// contract's fields, exactly, with speeds above zero.
func TestBrowserCompareFormat(t *testing.T) {
	needBrowser(t)
	needPeer(t, "@wllama/wllama/esm/index.js")
	var buf bytes.Buffer
	browserCompare(t, compareConfig{models: []string{modelPath}, threads: []int{1, 2}, reps: 1, prompt: 8, tokens: 8}, &buf)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines (threads 1 and 2), got %d: %q", len(lines), buf.String())
	}
	for i, l := range lines {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &keys); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if got := slices.Sorted(maps.Keys(keys)); !slices.Equal(got, []string{"backend", "model", "ours", "threads", "wllama"}) {
			t.Errorf("line %q: keys %v", l, got)
		}
		for _, engine := range []string{"ours", "wllama"} {
			var sub map[string]json.RawMessage
			if err := json.Unmarshal(keys[engine], &sub); err != nil {
				t.Fatalf("line %q, %s: %v", l, engine, err)
			}
			if got := slices.Sorted(maps.Keys(sub)); !slices.Equal(got, []string{"decode_tok_s", "prefill_tok_s"}) {
				t.Errorf("line %q, %s: keys %v", l, engine, got)
			}
		}
		var c compareLine
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if c.Model != "stories260K" || c.Backend != "cpu" || c.Threads != i+1 {
			t.Errorf("line %q: model, backend or threads wrong", l)
		}
		for _, v := range []float64{c.Ours.PrefillTokS, c.Ours.DecodeTokS, c.Wllama.PrefillTokS, c.Wllama.DecodeTokS} {
			if !(v > 0) || math.IsInf(v, 0) {
				t.Errorf("line %q: a speed is not above zero", l)
			}
		}
	}
}

// ensureShapedModel writes a SmolLM2-135M-shaped random model of type typ to path once, as
// bench-cpu does (worker/internal/cmd/cpubench: the same vocabulary and seed).
func ensureShapedModel(t testing.TB, path string, typ quant.Type) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	}
	vf, err := gguf.Open("../worker/testdata/vocab/ggml-vocab-starcoder.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer vf.Close()
	var buf bytes.Buffer
	spec := modelgen.Spec{Arch: "llama", Shape: modelgen.Shapes["smollm2-135m"], Type: typ, Vocab: vf, Seed: 1}
	if err := modelgen.Write(&buf, spec); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// promptWords is the text prompts are cut from: rep i starts at word i, so no two prompts share
// a prefix the app's prompt cache could reuse.
var promptWords = strings.Fields(`the store opens early on weekdays and the bakery counter sells fresh bread
	every morning while the staff stock the shelves with milk eggs cheese apples pears bananas rice pasta
	coffee tea juice and flour before customers arrive to ask where things are and how much they cost
	at the end of the day the shelves are counted again and the orders for tomorrow are sent out`)

// promptOf is about n tokens of text (whole words) in the model's own tokenizer, starting at word
// start.
func promptOf(t testing.TB, tok *tokenizer.Tokenizer, start, n int) string {
	t.Helper()
	var words []string
	for i := 0; ; i++ {
		next := append(words, promptWords[(start+i)%len(promptWords)])
		if len(tok.Encode(strings.Join(next, " "), false, false)) > n && len(words) > 0 {
			return strings.Join(words, " ")
		}
		words = next
	}
}

// browserCompare runs the benchmark: per model a server and a browser, the app in one tab and the
// peer in another; per thread count the peer loaded anew, then reps alternated runs of each
// (after one warm-up run each); one line per thread count to out.
func browserCompare(t *testing.T, cfg compareConfig, out io.Writer) {
	appDir := app(t)
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "bench-browser: "+format+"\n", a...) }
	for _, path := range cfg.models {
		name := strings.TrimSuffix(filepath.Base(path), ".gguf")
		t.Run(name, func(t *testing.T) {
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			modelSize := int64(f.Size())
			tok, err := tokenizer.FromGGUF(f.Metadata)
			if err != nil {
				t.Fatal(err)
			}
			// The app's engine renders the user's message with the model's chat template
			// (worker/engine.Load); the peer gets the same text as its raw prompt.
			tmplText, _ := f.Metadata.String("tokenizer.chat_template")
			f.Close()
			tmpl := chat.Select(tmplText)
			if tok.BOS() >= 0 {
				tmpl.BOS = tok.Token(tok.BOS())
			}
			if tok.EOS() >= 0 {
				tmpl.EOS = tok.Token(tok.EOS())
			}
			modelsDir, _ := publishModel(t, path, "bench", 0)
			srv := newServer(t, appDir, modelsDir)
			srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path == "/test-model.gguf" {
					http.ServeFile(w, r, path)
					return true
				}
				// both pages cross-origin isolated, for wllama's threads and the app's workers
				// (with -compare.messages the app's page is not: its workers exchange messages)
				if !*compareMessages || strings.HasPrefix(r.URL.Path, "/test/") || strings.HasPrefix(r.URL.Path, "/vendor/wllama/") {
					w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
					w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
				}
				return false
			})
			// The app, on the CPU path, with the model loaded.
			ctx := startBrowser(t)
			navigate(t, ctx, srv.URL()+"/")
			waitFor(t, ctx, 30*time.Second, `navigator.serviceWorker.controller`)
			eval[bool](t, ctx, 5*time.Second, `(localStorage.setItem('aisle.backend', 'cpu'), true)`)
			// The peer, in a second tab of the same browser.
			peer := newTab(t, ctx)
			navigate(t, peer, srv.URL()+"/test/wllama.html")
			waitFor(t, peer, 20*time.Second, `window.wllamaReady`)
			logf("%s: app tab %s, peer tab %s", name, eval[string](t, ctx, 5*time.Second, `document.visibilityState`),
				eval[string](t, peer, 5*time.Second, `document.visibilityState`))
			nCtx := 4 * (cfg.prompt + cfg.tokens + 64)
			for _, threads := range cfg.threads {
				// The app, on the CPU path across as many workers as it would use on a page
				// with `threads` cores (rowsplit.AutoParts), with the model loaded.
				workers := rowsplit.AutoParts(modelSize, threads, true)
				eval[bool](t, ctx, 5*time.Second, fmt.Sprintf(`(localStorage.setItem('aisle.workers', '%d'), true)`, workers))
				reload(t, ctx)
				waitFor(t, ctx, 120*time.Second, `/^(Ready|Model error|The model cannot start)/.test(document.querySelector('#engine').textContent)`)
				wantPill := "(CPU)"
				if workers > 1 {
					wantPill = fmt.Sprintf("(CPU, %d WORKERS)", workers)
				}
				if pill := eval[string](t, ctx, 5*time.Second, `document.querySelector('#engine').textContent`); !strings.Contains(pill, wantPill) {
					t.Fatalf("the app's engine is not on the CPU path across %d workers: %s", workers, pill)
				}
				waitReady(t, ctx, true)
				ld := eval[map[string]any](t, peer, 300*time.Second, fmt.Sprintf(`window.wllamaLoad(%d, %d)`, threads, nCtx))
				if ld["error"] != nil {
					t.Fatalf("wllama load: %v", ld["error"])
				}
				if got := ld["threads"].(float64); int(got) != threads || (threads > 1) != ld["multithread"].(bool) {
					t.Fatalf("wllama runs %v threads (multi-threaded %v, cross-origin isolated %v), want %d", got, ld["multithread"], ld["isolated"], threads)
				}
				logf("%s: wllama loaded in %.0f ms, %d thread(s), multi-threaded %v", name, ld["loadMS"], threads, ld["multithread"])
				var ours, theirs []tokSpeeds
				for rep := -1; rep < cfg.reps; rep++ { // rep -1: warm-up, not counted
					prompt := promptOf(t, tok, rep+1, cfg.prompt)
					rendered, err := tmpl.Render([]chat.Message{{Role: "user", Content: prompt}}, true)
					if err != nil {
						t.Fatal(err)
					}
					o, on, oc, ot := oursRun(t, ctx, prompt, cfg.tokens)
					w, wn, wt := wllamaRun(t, peer, rendered, cfg.tokens)
					logf("%s threads %d rep %d: ours prompt %d (+%d cached) prefill %.0f tok/s, %d tokens decode %.1f tok/s; wllama prompt %d prefill %.0f tok/s, %d tokens decode %.1f tok/s",
						name, threads, rep, on, oc, o.PrefillTokS, ot, o.DecodeTokS, wn, w.PrefillTokS, wt, w.DecodeTokS)
					if rep >= 0 {
						ours, theirs = append(ours, o), append(theirs, w)
					}
				}
				line := compareLine{Model: name, Backend: "cpu", Threads: threads, Ours: medianSpeeds(ours), Wllama: medianSpeeds(theirs)}
				b, err := json.Marshal(line)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(out, "%s\n", b)
			}
		})
	}
}

// oursRun asks the app's engine through the service worker (mode raw, greedy) and returns its
// speeds, the prompt tokens evaluated and cached, and the tokens generated.
func oursRun(t testing.TB, ctx context.Context, prompt string, tokens int) (tokSpeeds, int, int, int) {
	t.Helper()
	r := eval[map[string]float64](t, ctx, 300*time.Second, fmt.Sprintf(`fetch('/v1/chat/completions', {method: 'POST',
		headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({model: 'bench', messages: [{role: 'user', content: %q}], max_tokens: %d, temperature: 0, aisle: {mode: 'raw'}})})
		.then(async (r) => { const j = await r.json(); if (!r.ok) throw new Error(JSON.stringify(j)); const t = {};
			for (const m of r.headers.get('Server-Timing').split(',')) { const [k, d] = m.trim().split(';dur='); t[k] = Number(d); }
			t.tokens = j.usage.completion_tokens; t.prompt = j.usage.prompt_tokens; t.cached = j.usage.prompt_tokens_details.cached_tokens; return t; })`, prompt, tokens))
	evaluated := r["prompt"] - r["cached"]
	if evaluated < 1 || r["prefill"] <= 0 || r["tokens"] < 2 || r["decode"] <= 0 {
		t.Fatalf("the app's engine: nothing to time (%v)", r)
	}
	return tokSpeeds{PrefillTokS: evaluated / (r["prefill"] / 1000), DecodeTokS: (r["tokens"] - 1) / (r["decode"] / 1000)},
		int(evaluated), int(r["cached"]), int(r["tokens"])
}

// wllamaRun runs the peer and returns its speeds from llama.cpp's timings, the prompt tokens and
// the tokens generated.
func wllamaRun(t testing.TB, tab context.Context, prompt string, tokens int) (tokSpeeds, int, int) {
	t.Helper()
	type timings struct {
		PromptN     float64 `json:"prompt_n"`
		PromptMS    float64 `json:"prompt_ms"`
		PredictedN  float64 `json:"predicted_n"`
		PredictedMS float64 `json:"predicted_ms"`
	}
	r := eval[struct {
		Error   string   `json:"error"`
		Timings *timings `json:"timings"`
	}](t, tab, 300*time.Second, fmt.Sprintf(`window.wllamaRun(%q, %d)`, prompt, tokens))
	if r.Error != "" {
		t.Fatalf("wllama: %s", r.Error)
	}
	tm := r.Timings
	if tm == nil || tm.PromptN < 1 || tm.PromptMS <= 0 || tm.PredictedN < 2 || tm.PredictedMS <= 0 {
		t.Fatalf("wllama: nothing to time (%+v)", tm)
	}
	return tokSpeeds{PrefillTokS: tm.PromptN / (tm.PromptMS / 1000), DecodeTokS: (tm.PredictedN - 1) / (tm.PredictedMS / 1000)},
		int(tm.PromptN), int(tm.PredictedN)
}

func medianSpeeds(s []tokSpeeds) tokSpeeds {
	p, d := make([]float64, len(s)), make([]float64, len(s))
	for i, x := range s {
		p[i], d[i] = x.PrefillTokS, x.DecodeTokS
	}
	return tokSpeeds{PrefillTokS: round(median(p), 1), DecodeTokS: round(median(d), 1)}
}

func round(v float64, digits int) float64 {
	f := math.Pow(10, float64(digits))
	return math.Round(v*f) / f
}
