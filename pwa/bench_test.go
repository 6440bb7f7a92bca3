package pwa_test

import (
	"cmp"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser benchmarks for the README, run with
//
//	go test -run '^$' -bench Browser -benchtime 3x ./pwa
//
// Each iteration generates benchTokens tokens greedily from benchPrompt in headless Chromium on
// the CPU path (one thread: Go-WASM has no threads). Metrics:
//
//	reload_ms      offline reload until the chat box accepts a question
//	load_ms        model from Cache Storage to ready (read, SHA-256 check, parse, engine load)
//	first_ttft_ms  send to first token of the first answer after the model was loaded
//	ttft_ms        send to first token, later answers
//	decode_tok/s   tokens after the first per second
//
// AISLE_BENCH_GGUF=path runs them on another GGUF (published in the default 16-64 MiB shards),
// e.g. one written by `slm gen-model --shape smollm2-135m --type q8_0`; AISLE_BENCH_PROMPT
// replaces the prompt (e.g. a store question's facts, to time the first token of a real one).
const benchTokens = 200

var benchPrompt = cmp.Or(os.Getenv("AISLE_BENCH_PROMPT"), "Once upon a time")

// benchModel publishes the benchmark's model and returns its folder, ID and GGUF path.
func benchModel(b *testing.B) (string, string, string) {
	if p := os.Getenv("AISLE_BENCH_GGUF"); p != "" {
		dir, _ := publishModel(b, p, "bench", 0)
		return dir, "bench", p
	}
	dir, _ := models(b, 256<<10)
	return dir, modelID, modelPath
}

func BenchmarkBrowserChat(b *testing.B) { benchChat(b, "cpu", tokensFor(benchTokens)) }

// tokensFor is n, or AISLE_BENCH_TOKENS when set (large models are slow in the browser).
func tokensFor(n int) int {
	if v, err := strconv.Atoi(os.Getenv("AISLE_BENCH_TOKENS")); err == nil && v > 0 {
		return v
	}
	return n
}

// BenchmarkBrowserChatGPU runs the same on WebGPU (SwiftShader, a software GPU, in headless
// Chromium: slow, so fewer tokens). It skips when the engine has no usable GPU backend.
func BenchmarkBrowserChatGPU(b *testing.B) { benchChat(b, "gpu", tokensFor(24)) }

func benchChat(b *testing.B, backend string, tokens int) {
	needBrowser(b)
	appDir := app(b)
	modelsDir, id, _ := benchModel(b)
	srv := newServer(b, appDir, modelsDir)
	ctx := startBrowser(b, chromedp.Flag("enable-unsafe-webgpu", true))
	navigate(b, ctx, srv.URL()+"/")
	waitFor(b, ctx, 30*time.Second, `navigator.serviceWorker.controller`)
	eval[bool](b, ctx, 5*time.Second, fmt.Sprintf(`(localStorage.setItem('aisle.backend', %q), true)`, backend))
	reload(b, ctx)
	waitFor(b, ctx, 60*time.Second, `/^(Ready|Model error|The model cannot start)/.test(document.querySelector('#engine').textContent)`)
	if pill := eval[string](b, ctx, 5*time.Second, `document.querySelector('#engine').textContent`); !strings.Contains(pill, "("+strings.ToUpper(backend)+")") {
		b.Skipf("backend %s not available in the browser: %s", backend, pill)
	}
	waitReady(b, ctx, true)
	srv.Stop()
	start := time.Now()
	reload(b, ctx)
	waitReady(b, ctx, true)
	reloadWall := time.Since(start)
	mt := eval[map[string]float64](b, ctx, 5*time.Second, `(() => { const m = window.aisleMetrics; return {interactive: m.interactive, load: m.loadMS}; })()`)
	cold := chatUI(b, ctx, benchPrompt, tokens) // the first answer after loading the model
	b.ResetTimer()
	var ttft, decode float64
	for b.Loop() {
		eval[bool](b, ctx, 5*time.Second, `(document.querySelector('#log').replaceChildren(), ui.messages = [], true)`)
		r := chatUI(b, ctx, benchPrompt, tokens)
		ttft += r.TTFT
		if n := r.Usage.CompletionTokens; n > 1 {
			decode += float64(n-1) / ((r.Total - r.TTFT) / 1000)
		}
	}
	// The worker's own view (Server-Timing of a non-streaming call): prefill and decode without
	// the service worker and the page in between; the prompt's keys and values are cached from
	// the answers above, so the prefill is that of a follow-up. A prompt that differs from its
	// first token is prefilled whole (cold_prefill).
	workerTiming := func(prompt string, tokens int) map[string]float64 {
		return eval[map[string]float64](b, ctx, 60*time.Second, fmt.Sprintf(`fetch('/v1/chat/completions', {method: 'POST',
		headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({model: %q, messages: [{role: 'user', content: %q}], max_tokens: %d, temperature: 0, aisle: {mode: 'raw'}})})
		.then(async (r) => { const j = await r.json(); const t = {};
			for (const m of r.headers.get('Server-Timing').split(',')) { const [k, d] = m.trim().split(';dur='); t[k] = Number(d); }
			t.tokens = j.usage.completion_tokens; t.prompt = j.usage.prompt_tokens; return t; })`, id, prompt, tokens))
	}
	st := workerTiming(benchPrompt, tokens)
	fresh := workerTiming("Hi. "+benchPrompt, 1)
	n := float64(b.N)
	b.ReportMetric(st["prefill"], "worker_prefill_ms")
	b.ReportMetric(fresh["prefill"], "worker_cold_prefill_ms")
	b.ReportMetric(fresh["prompt"], "prompt_tokens")
	if st["tokens"] > 1 {
		b.ReportMetric((st["tokens"]-1)/(st["decode"]/1000), "worker_decode_tok/s")
	}
	b.ReportMetric(mt["interactive"], "reload_ms")
	b.ReportMetric(float64(reloadWall.Milliseconds()), "reload_wall_ms")
	b.ReportMetric(mt["load"], "load_ms")
	b.ReportMetric(cold.TTFT, "first_ttft_ms")
	b.ReportMetric(ttft/n, "ttft_ms")
	b.ReportMetric(decode/n, "decode_tok/s")
}

func BenchmarkBrowserWllama(b *testing.B) {
	needBrowser(b)
	needPeer(b, "@wllama/wllama/esm/index.js")
	appDir := app(b)
	modelsDir, _, gguf := benchModel(b)
	srv := newServer(b, appDir, modelsDir)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/test-model.gguf" {
			return false
		}
		http.ServeFile(w, r, gguf)
		return true
	})
	ctx := startBrowser(b)
	navigate(b, ctx, srv.URL()+"/test/wllama.html")
	waitFor(b, ctx, 20*time.Second, `window.runWllama`)
	b.ResetTimer()
	var ttft, decode, load float64
	for b.Loop() {
		res := eval[map[string]any](b, ctx, 120*time.Second, fmt.Sprintf(`window.runWllama(%q, %d)`, benchPrompt, tokensFor(benchTokens)))
		if res["error"] != nil {
			b.Fatalf("wllama: %v", res["error"])
		}
		load += res["loadMS"].(float64)
		runs := res["runs"].([]any)
		last := runs[len(runs)-1].(map[string]any) // warm run
		ft, total, chunks := last["ttft"].(float64), last["total"].(float64), last["chunks"].(float64)
		ttft += ft
		if chunks > 1 {
			decode += (chunks - 1) / ((total - ft) / 1000)
		}
		b.Logf("wllama text: %q", last["text"])
	}
	n := float64(b.N)
	b.ReportMetric(load/n, "load_ms")
	b.ReportMetric(ttft/n, "ttft_ms")
	b.ReportMetric(decode/n, "decode_tok/s")
}

// BenchmarkBrowserAsk times the customer's path with the bundled model on the demo store (the
// app as `make run` serves it): the app opened, the model loaded and the start every
// conversation shares evaluated ahead of the first question (warm_ms); then each iteration is a
// new conversation's first question, typed into the page. Metrics (medians):
//
//	ask_ttft_ms   send to the first word of the answer
//	ask_total_ms  send to the end of the answer
//	prompt_tokens the question's prompt, of which cached_tokens were evaluated ahead
func BenchmarkBrowserAsk(b *testing.B) {
	needBrowser(b)
	_, ctx := openDemoStore(b, bundledModel, bundledModelID)
	warm := eval[float64](b, ctx, 5*time.Second, `window.aisleMetrics.warmMS`)
	questions := []string{"how much is the baguette?", "is the organic whole milk in stock", "where are the eggs?",
		"what time do you open on sunday?", "do you sell bicycles?", "hello!"}
	var ttft, total []float64
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		eval[bool](b, ctx, 5*time.Second, `(document.querySelector('#log').replaceChildren(), ui.messages = [], true)`)
		r := askUI(b, ctx, questions[i%len(questions)])
		ttft, total = append(ttft, r.TTFT), append(total, r.Total)
	}
	b.ReportMetric(warm, "warm_ms")
	b.ReportMetric(median(ttft), "ask_ttft_ms")
	b.ReportMetric(median(total), "ask_total_ms")
}

func mean(v []float64) float64 {
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	return sum / float64(max(len(v), 1))
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// longHours are a store's opening hours by department, as a supermarket with counters, a pharmacy
// corner and click and collect may publish them: the conversation start that quotes them is 300
// tokens or more.
const longHours = "Store: Monday to Friday 7:30-21:00, Saturday 8:00-20:00, Sunday 9:00-14:00. " +
	"Bakery counter: from 7:00 on weekdays, fresh bread until closing. " +
	"Butcher and fish counters: Tuesday to Saturday 9:00-19:00, closed on Sunday and Monday. " +
	"Pharmacy corner: Monday to Friday 9:00-18:30, Saturday 9:00-13:00. " +
	"Click and collect: orders ready from 10:00, collection until 20:00 at the customer service desk. " +
	"Customer service desk: Monday to Saturday 9:00-19:00. " +
	"Late opening on Thursdays in December until 22:00. " +
	"Public holidays: 9:00-13:00; closed on 25 December, 26 December and 1 January. " +
	"The car park opens 30 minutes before the store and closes 30 minutes after it."

// BenchmarkBrowserColdStart times a customer's first question right after a cold start (the page
// reloaded: a new inference worker loads the model from Cache Storage), asked the moment the model
// is loaded (a suggestion tapped at once), with the store's conversation start restored from the
// snapshot an earlier start kept in IndexedDB, and without it (the snapshot deleted before each
// reload: the start is evaluated). The bundled model (or AISLE_BENCH_GGUF, a model with a chat
// template) on the demo store as seeded (demo-start) and with its hours by department (long-start,
// longHours). Metrics (medians):
//
//	first_ttft_ms        send to the first words of the answer, in the page
//	worker_ttft_ms       the worker's time to the model's first token (timings: queued + load + warm + prompt)
//	start_ms             of which putting the store's start in the cache (restored or evaluated; also
//	                     the wait for a warm the load began)
//	question_prefill_ms  of which evaluating the question's own turn
//	cached_tokens        prompt tokens not evaluated for the question: the start
//	question_tokens      prompt tokens evaluated for the question: its own turn
//	restored             the share of cold starts whose start was restored from the snapshot
func BenchmarkBrowserColdStart(b *testing.B) {
	needBrowser(b)
	gguf, id := bundledModel, bundledModelID
	if p := os.Getenv("AISLE_BENCH_GGUF"); p != "" {
		gguf, id = p, "bench"
	}
	for _, start := range []struct{ name, hours string }{{"demo-start", ""}, {"long-start", longHours}} {
		b.Run(start.name, func(b *testing.B) {
			_, ctx := openDemoStoreWithHours(b, gguf, id, start.hours)
			for _, snapshot := range []bool{true, false} {
				name := map[bool]string{true: "snapshot", false: "no-snapshot"}[snapshot]
				b.Run(name, func(b *testing.B) {
					var ttft, worker, warm, prompt, startTokens, questionTokens, restored []float64
					for b.Loop() {
						if snapshot {
							waitSnapshotKept(b, ctx)
						} else {
							eval[bool](b, ctx, 30*time.Second, `new Promise((ok) => { const r = indexedDB.deleteDatabase('aisle-prompt-cache'); r.onsuccess = r.onerror = () => ok(true); })`)
						}
						reload(b, ctx)
						waitFor(b, ctx, 120*time.Second, `ui.loaded && document.body.dataset.state === 'ready' && document.querySelectorAll('#suggestions button').length > 0`)
						r := askUI(b, ctx, eval[string](b, ctx, 5*time.Second, `document.querySelector('#suggestions button').textContent`))
						ttft = append(ttft, r.TTFT)
						worker = append(worker, r.WorkerTTFT())
						warm = append(warm, r.Timings.QueuedMS+r.Timings.WarmMS)
						prompt = append(prompt, r.Timings.PromptMS)
						startTokens = append(startTokens, float64(r.Timings.CacheN))
						questionTokens = append(questionTokens, float64(r.Timings.PromptN))
						restored = append(restored, map[bool]float64{true: 1}[eval[bool](b, ctx, 5*time.Second, `!!window.aisleMetrics.warmRestored`)])
					}
					b.ReportMetric(median(ttft), "first_ttft_ms")
					b.ReportMetric(median(worker), "worker_ttft_ms")
					b.ReportMetric(median(warm), "start_ms")
					b.ReportMetric(median(prompt), "question_prefill_ms")
					b.ReportMetric(median(startTokens), "cached_tokens")
					b.ReportMetric(median(questionTokens), "question_tokens")
					b.ReportMetric(mean(restored), "restored")
				})
			}
		})
	}
}
