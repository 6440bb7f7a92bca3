//go:build !js

// Package browsertest runs the GPU backend in headless Chromium: the Go engine compiled to
// WebAssembly in a dedicated Worker, on the browser's WebGPU adapter (SwiftShader when there is
// no GPU), must produce the same greedy tokens for stories260K, loaded from shards, as the
// native CPU path.
package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"aisle/worker/gguf"
	"aisle/worker/internal/wasmsite"
	"aisle/worker/model"
	"aisle/worker/sample"
)

const (
	chromiumPath = "/usr/bin/chromium"
	stories      = "../../testdata/models/stories260K.gguf"
	tokens       = 256
	nShards      = 3
)

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

// cpuGreedy is the reference: n greedy tokens from BOS on the native CPU path.
func cpuGreedy(t *testing.T, n int) []int {
	t.Helper()
	f, err := gguf.Open(stories)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := model.Load(f, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.NewSession(0)
	logits, err := s.Eval([]int{1}, false)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for len(out) < n {
		next := sample.Greedy(logits)
		out = append(out, next)
		if logits, err = s.Eval([]int{next}, false); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

type browserResult struct {
	Error       string  `json:"error"`
	Adapter     string  `json:"adapter"`
	Software    bool    `json:"software"`
	MaxBinding  float64 `json:"maxBinding"`
	GPU         []int   `json:"gpu"`
	CPU         []int   `json:"cpu"`
	GPUTokPerS  float64 `json:"gpuTokPerS"`
	CPUTokPerS  float64 `json:"cpuTokPerS"`
	Dispatches  int     `json:"dispatches"`
	WeightBytes float64 `json:"weightBytes"`
}

func TestBrowserGreedyMatchesCPU(t *testing.T) {
	needChromium(t)
	want := cpuGreedy(t, tokens)
	site := wasmsite.Build(t)

	model, err := os.ReadFile(stories)
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
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	ctx, cancelC := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelC()

	url := fmt.Sprintf("%s/index.html?shards=%d&n=%d", srv.URL, nShards, tokens)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	wait := `new Promise((resolve) => {
		const tick = () => window.result ? resolve(window.result) : setTimeout(tick, 50);
		tick();
	})`
	res, err := chromedp.Run(ctx, chromedp.Evaluate[browserResult](wait, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("waiting for the worker: %v", err)
	}
	if res.Error != "" {
		t.Fatalf("in the browser: %s", res.Error)
	}
	t.Logf("adapter %q (software %v, binding limit %.0f MiB); stories260K greedy: WebGPU %.1f tok/s (%d dispatches per token), CPU-WASM %.1f tok/s",
		res.Adapter, res.Software, res.MaxBinding/(1<<20), res.GPUTokPerS, res.Dispatches, res.CPUTokPerS)
	for name, got := range map[string][]int{"WebGPU": res.GPU, "CPU-WASM": res.CPU} {
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
