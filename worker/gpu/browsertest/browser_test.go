//go:build !js

// Package browsertest runs the GPU backend in headless Chromium: the Go engine compiled to
// WebAssembly in a dedicated Worker, on the browser's WebGPU adapter (SwiftShader when there is
// no GPU), must produce the same greedy tokens, from a model loaded as shards, as the native CPU
// path.
//
// By default it runs stories260K on /usr/bin/chromium. The environment makes it the benchmark of
// a real GPU in a real browser (worker/gpu/BENCH.md has the recipe for the GPU machine):
//
//	AISLE_CHROMIUM        the browser to run (e.g. a chrome-headless-shell unpacked anywhere)
//	AISLE_CHROMIUM_FLAGS  more flags, space-separated (on NVIDIA: --enable-features=Vulkan
//	                      --use-angle=vulkan --disable-vulkan-surface)
//	AISLE_GPU_MODEL       the GGUF file (e.g. a SmolLM2-135M-shaped model from slm gen-model)
//	AISLE_GPU_TOKENS      greedy tokens to generate (default 256)
//	AISLE_GPU_PROMPT      prompt tokens of the prefill measurement (default 128)
//	AISLE_GPU_CPU=0       skip the in-browser CPU path (slow on large models)
//	AISLE_GPU_JSON        write the result there as JSON (BrowserResult)
//	AISLE_WASM_SITE       a prebuilt site (package wasmsite), for a machine without go
//	AISLE_CHROMIUM_LOG    write the browser's own output (and its log) to this file
//	AISLE_WLLAMA_DIR      also run the peer, @wllama/wllama's esm folder (e.g.
//	                      deploy/testpeers/node_modules/@wllama/wllama/esm; 3.8.1 and 3.13.0
//	                      work), on WebGPU in the same browser on the same file; its speeds, its
//	                      greedy tokens checked against the native CPU path, or its failure with
//	                      llama.cpp's last log lines, go in the JSON's "wllama"
//	AISLE_WLLAMA_TIMEOUT  seconds the peer may take in all (default 240); past them the JSON
//	                      keeps what it had, with an error
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/chromedp"

	"aisle/worker/gguf"
	"aisle/worker/internal/wasmsite"
	"aisle/worker/model/modeltest"
	"aisle/worker/tokenizer"
)

const (
	stories = "../../testdata/models/stories260K.gguf"
	nShards = 3
)

// env returns $name, or def when it is unset or empty.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// envInt returns $name as a positive integer, or def.
func envInt(t *testing.T, name string, def int) int {
	v := env(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("$%s=%q: want a positive integer", name, v)
	}
	return n
}

var chromiumPath = env("AISLE_CHROMIUM", "/usr/bin/chromium")

// needChromium skips without Chromium, or fails when CI=true (the test command installs it).
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required in CI: %v", err)
		}
		t.Skipf("skipping: %s not found (Debian package chromium)", chromiumPath)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
}

// cpuGreedy is the reference: n greedy tokens after prompt on the native CPU path, never one of
// the banned tokens.
func cpuGreedy(t *testing.T, path string, prompt []int, n int, ban ...int) []int {
	t.Helper()
	c, err := modeltest.Greedy(path, prompt, n, ban...)
	if err != nil {
		t.Fatal(err)
	}
	return c.Tokens
}

// BrowserResult is what the Worker reports, and the benchmark's JSON ($AISLE_GPU_JSON).
type BrowserResult struct {
	Error          string  `json:"error,omitempty"`
	Model          string  `json:"model"`
	Adapter        string  `json:"adapter"`
	Software       bool    `json:"software"`
	MaxBinding     float64 `json:"maxBinding"`     // the engine's device
	AdapterBinding float64 `json:"adapterBinding"` // what the adapter offers
	AdapterBuffer  float64 `json:"adapterBuffer"`
	GPU            []int   `json:"gpu"`
	CPU            []int   `json:"cpu"`
	GPUTokPerS     float64 `json:"gpuTokPerS"`  // greedy decode, pipelined (Runner.Decode)
	DecodeAhead    int     `json:"decodeAhead"` // steps in flight in that decode (gpu.DefaultDecodeAhead)
	// The same decode with 1, 2, the default and 5 steps in flight (Runner.SetDecodeAhead), keyed
	// by that number: each gave the same tokens (on a software adapter only 8 are decoded).
	GPUTokPerSAhead map[string]float64 `json:"gpuTokPerSAhead"`
	CPUTokPerS      float64            `json:"cpuTokPerS"` // the CPU path in the same Worker (0: skipped)
	PrefillTokens   int                `json:"prefillTokens"`
	PrefillTokPerS  float64            `json:"prefillTokPerS"`
	Dispatches      int                `json:"dispatches"` // per decode token
	DispatchUS      float64            `json:"dispatchUS"` // one dependent dispatch (Device.DispatchCost)
	RoundTripUS     float64            `json:"roundTripUS"`
	EncodeUS        float64            `json:"encodeUS"` // recording one decode step (Runner.EncodeCost)
	WeightBytes     float64            `json:"weightBytes"`
	NativeEqual     bool               `json:"nativeEqual"`      // the WebGPU tokens equal the native CPU path's
	Wllama          *WllamaResult      `json:"wllama,omitempty"` // the peer, with $AISLE_WLLAMA_DIR
}

// WllamaResult is the peer's speed on the same file in the same browser: medians of its runs
// (llama.cpp's own timings; the prompt evaluated anew in each).
type WllamaResult struct {
	Version        string           `json:"version,omitempty"` // from package.json beside the esm folder
	Error          string           `json:"error,omitempty"`
	LogTail        []string         `json:"logTail,omitempty"` // llama.cpp's last log lines, on failure
	WebGPU         bool             `json:"webgpu"`            // the browser offers WebGPU
	OnGPU          bool             `json:"onGPU"`             // llama.cpp put the model's weights in GPU memory
	PromptTokens   int              `json:"promptTokens"`
	PrefillTokPerS float64          `json:"prefillTokPerS"`
	DecodeTokPerS  float64          `json:"decodeTokPerS"`
	Runs           []map[string]any `json:"runs"`
	Log            []string         `json:"log"` // llama.cpp's lines about the GPU
	// What the page's own WebGPU adapter offers (features, vendor, architecture).
	Adapter map[string]any `json:"adapter,omitempty"`
	// Tokens whose text is not valid UTF-8 by itself, given a logit bias of -inf in all of wllama's
	// runs and never chosen by the reference: wllama's strict JSON dump of a reply throws on invalid
	// UTF-8, which a random-weight model soon generates.
	Banned int `json:"banned"`
	// Its greedy tokens after checkPrompt (untimed), and how many of them, from the first, equal
	// the native CPU path's after the same prompt tokens.
	CheckPrompt []int `json:"checkPrompt,omitempty"`
	Tokens      []int `json:"tokens,omitempty"`
	EqualPrefix int   `json:"equalPrefix"`
	TokensEqual bool  `json:"tokensEqual"`
}

// checkPrompt is the text of wllama's token check: one token in the GPT-2 and Qwen vocabularies.
const checkPrompt = "the"

// invalidUTF8 lists the tokens of the model whose text is not valid UTF-8 by itself (a part of a
// multi-byte character); text made of the others always is.
func invalidUTF8(tok *tokenizer.Tokenizer) []int {
	var ids []int
	for id := range tok.VocabSize() {
		if !utf8.ValidString(tok.Piece(id)) {
			ids = append(ids, id)
		}
	}
	return ids
}

// wllamaVersion reads the version from package.json beside (or above) the esm folder dir.
func wllamaVersion(dir string) string {
	for _, p := range []string{filepath.Join(dir, "package.json"), filepath.Join(dir, "..", "package.json")} {
		var pkg struct {
			Version string `json:"version"`
		}
		if b, err := os.ReadFile(p); err == nil && json.Unmarshal(b, &pkg) == nil && pkg.Version != "" {
			return pkg.Version
		}
	}
	return ""
}

// runWllama runs the peer in a new tab of the same browser: a prompt of about promptTokens
// tokens (" the" repeated: one token in the GPT-2 and Qwen vocabularies), then tokens tokens, 3
// times; then tokens greedy tokens after checkPrompt, compared with the native CPU path's. A
// failure of the peer is returned in the result (Error, LogTail), not fatal.
func runWllama(t *testing.T, ctx context.Context, base, dir, modelPath string, promptTokens, tokens int) *WllamaResult {
	t.Helper()
	res := &WllamaResult{Version: wllamaVersion(dir)}
	f, err := gguf.Open(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromGGUF(f.Metadata)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	ban := invalidUTF8(tok)
	res.Banned = len(ban)
	deadline := time.Duration(envInt(t, "AISLE_WLLAMA_TIMEOUT", 240)) * time.Second
	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	tab, cancelT := context.WithTimeout(tab, deadline+30*time.Second)
	defer cancelT()
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/wllama.html")); err != nil {
		res.Error = fmt.Sprintf("wllama page: %v", err)
		return res
	}
	if _, err := chromedp.Run(tab, chromedp.Poll[chromedp.Void]("window.wllamaReady")); err != nil {
		res.Error = fmt.Sprintf("wllama page: %v", err)
		return res
	}
	type wllamaOut struct {
		Error             string           `json:"error"`
		WebGPU            bool             `json:"webgpu"`
		Runs              []map[string]any `json:"runs"`
		Log               []string         `json:"log"`
		Tail              []string         `json:"tail"`
		Adapter           map[string]any   `json:"adapter"`
		Tokens            []int            `json:"tokens"`
		CheckPromptTokens int              `json:"checkPromptTokens"`
	}
	prompt := "the" + strings.Repeat(" the", promptTokens-1)
	banJSON, _ := json.Marshal(ban)
	call := fmt.Sprintf("window.runWllama(%q, %d, 3, %q, %s, %d)", prompt, tokens, checkPrompt, banJSON, deadline.Milliseconds())
	out, err := chromedp.Run(tab, chromedp.Evaluate[wllamaOut](call, chromedp.EvalAwaitPromise))
	if err != nil {
		res.Error = fmt.Sprintf("wllama: %v", err)
		return res
	}
	res.WebGPU, res.Runs, res.Log, res.Adapter = out.WebGPU, out.Runs, out.Log, out.Adapter
	if out.Error != "" {
		res.Error, res.LogTail = out.Error, out.Tail
	}
	for _, l := range out.Log {
		// llama.cpp's "load_tensors: <device> model buffer size = ..." names where the weights went
		if dev, ok := strings.CutPrefix(strings.TrimSpace(l), "load_tensors:"); ok && strings.Contains(dev, "model buffer size") &&
			!strings.HasPrefix(strings.TrimSpace(dev), "CPU") {
			res.OnGPU = true
		}
	}
	var prefill, decode []float64
	for _, r := range out.Runs {
		n, _ := r["prompt_n"].(float64)
		res.PromptTokens = int(n)
		p, _ := r["prompt_per_second"].(float64)
		d, _ := r["predicted_per_second"].(float64)
		prefill, decode = append(prefill, p), append(decode, d)
	}
	res.PrefillTokPerS, res.DecodeTokPerS = median(prefill), median(decode)
	t.Logf("wllama %s (weights on the GPU: %v; adapter %v): prefill %d tokens %.0f tok/s, decode %.1f tok/s (%d runs; %d tokens banned)",
		res.Version, res.OnGPU, res.Adapter, res.PromptTokens, res.PrefillTokPerS, res.DecodeTokPerS, len(res.Runs), res.Banned)
	if res.Error != "" {
		return res
	}

	// the token check: llama-server tokenizes the prompt with its special tokens (BOS where the
	// vocabulary asks for it), as tokenizer.Encode(text, true, false)
	res.Tokens = out.Tokens
	res.CheckPrompt = tok.Encode(checkPrompt, true, false)
	if out.CheckPromptTokens != len(res.CheckPrompt) {
		res.Error = fmt.Sprintf("token check: wllama's prompt %q is %d tokens, ours %v", checkPrompt, out.CheckPromptTokens, res.CheckPrompt)
		return res
	}
	want := cpuGreedy(t, modelPath, res.CheckPrompt, tokens, ban...)
	for res.EqualPrefix < min(len(want), len(res.Tokens)) && want[res.EqualPrefix] == res.Tokens[res.EqualPrefix] {
		res.EqualPrefix++
	}
	res.TokensEqual = res.EqualPrefix == len(want) && len(res.Tokens) == len(want)
	t.Logf("wllama's greedy tokens after %v: %d of %d equal the native CPU path's from the first", res.CheckPrompt, res.EqualPrefix, len(want))
	return res
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// writeResult writes res to $AISLE_GPU_JSON, when set.
func writeResult(t *testing.T, res BrowserResult) {
	t.Helper()
	if out := os.Getenv("AISLE_GPU_JSON"); out != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Error(err)
		}
	}
}

func TestBrowserGreedyMatchesCPU(t *testing.T) {
	needChromium(t)
	modelPath := env("AISLE_GPU_MODEL", stories)
	tokens := envInt(t, "AISLE_GPU_TOKENS", 256)
	promptTokens := envInt(t, "AISLE_GPU_PROMPT", 128)
	withCPU := env("AISLE_GPU_CPU", "1") != "0"
	start := time.Now()
	want := cpuGreedy(t, modelPath, []int{1}, tokens)
	t.Logf("native CPU reference: %d tokens in %.1fs", tokens, time.Since(start).Seconds())
	site := wasmsite.Build(t)

	model, err := os.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(site)))
	mux.HandleFunc("/shard/", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/shard/"))
		if err != nil || i < 0 || i >= nShards {
			http.NotFound(w, r)
			return
		}
		size := (len(model) + nShards - 1) / nShards
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(model[i*size : min((i+1)*size, len(model))])
	})
	wllamaDir := env("AISLE_WLLAMA_DIR", "")
	if wllamaDir != "" {
		mux.Handle("/wllama/", http.StripPrefix("/wllama/", http.FileServer(http.Dir(wllamaDir))))
		mux.HandleFunc("/wllama.html", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, "testdata/wllama.html") })
		mux.HandleFunc("/model.gguf", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, modelPath) })
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts,
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("enable-unsafe-webgpu", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	if logFile := env("AISLE_CHROMIUM_LOG", ""); logFile != "" {
		f, err := os.Create(logFile)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		opts = append(opts, chromedp.CombinedOutput(f), chromedp.Flag("enable-logging", "stderr"), chromedp.Flag("v", "0"))
	}
	for _, f := range strings.Fields(os.Getenv("AISLE_CHROMIUM_FLAGS")) {
		name, value, hasValue := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if hasValue {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(name, true))
		}
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	ctx, cancelC := context.WithTimeout(ctx, 8*time.Minute)
	defer cancelC()

	url := fmt.Sprintf("%s/index.html?shards=%d&n=%d&p=%d&cpu=%d", srv.URL, nShards, tokens, promptTokens, map[bool]int{true: 1}[withCPU])
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	wait := `new Promise((resolve) => {
		const tick = () => window.result ? resolve(window.result) : setTimeout(tick, 50);
		tick();
	})`
	res, err := chromedp.Run(ctx, chromedp.Evaluate[BrowserResult](wait, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("waiting for the worker: %v", err)
	}
	res.Model = modelPath
	res.NativeEqual = slices.Equal(res.GPU, want)
	writeResult(t, res)
	if res.Error != "" {
		t.Fatalf("in the browser: %s", res.Error)
	}
	t.Logf("adapter %q (software %v, binding limit %.0f MiB); %s greedy: WebGPU %.1f tok/s %d steps ahead (by steps ahead: %v; %d dispatches per token, %.1f us each, %.0f us to record a step), prefill %d tokens %.0f tok/s, CPU-WASM %.1f tok/s",
		res.Adapter, res.Software, res.MaxBinding/(1<<20), modelPath, res.GPUTokPerS, res.DecodeAhead, res.GPUTokPerSAhead, res.Dispatches, res.DispatchUS, res.EncodeUS, res.PrefillTokens, res.PrefillTokPerS, res.CPUTokPerS)
	if wllamaDir != "" {
		res.Wllama = runWllama(t, ctx, srv.URL, wllamaDir, modelPath, promptTokens, tokens)
		writeResult(t, res)
		if w := res.Wllama; w.Error != "" {
			t.Errorf("wllama %s: %s\nllama.cpp's last log lines:\n%s", w.Version, w.Error, strings.Join(w.LogTail, "\n"))
		}
	}
	// the device asks for the adapter's storage sizes (up to 2 GiB), not WebGPU's 128 MiB default
	if want := float64(uint64(min(res.AdapterBinding, res.AdapterBuffer, 2<<30-256)) &^ 255); res.MaxBinding != want {
		t.Errorf("binding limit %.0f bytes, want the adapter's %.0f", res.MaxBinding, want)
	}
	got := map[string][]int{"WebGPU": res.GPU}
	if withCPU {
		got["CPU-WASM"] = res.CPU
	}
	for name, got := range got {
		if len(got) != len(want) {
			t.Fatalf("%s: %d tokens, want %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: token %d = %d, native CPU %d\n got %v\nwant %v", name, i, got[i], want[i], got[:i+1], want[:i+1])
			}
		}
	}
}
