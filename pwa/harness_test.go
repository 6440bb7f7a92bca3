package pwa_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"aisle/api/delivery"
	"aisle/api/delivery/publish"
	"aisle/pwa"
	"aisle/sw"
	"aisle/sync/published"
)

const (
	chromiumPath = "/usr/bin/chromium"
	modelPath    = "../worker/testdata/models/stories260K.gguf"
	modelID      = "stories260k"
	peersDir     = "../deploy/testpeers/node_modules"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// needBrowser skips (or, with CI=true, fails) when chromium is missing.
func needBrowser(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required in CI: %v (install it with make test-deps)", err)
		}
		t.Skipf("skipping browser test: %s not found (make test-deps installs it)", chromiumPath)
	}
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
}

// app builds the web app once per test binary.
func app(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "aisle-pwa-")
		if buildErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		_, buildErr = pwa.Build(ctx, pwa.Options{Out: buildDir})
	})
	if buildErr != nil {
		t.Fatalf("building the app: %v", buildErr)
	}
	return buildDir
}

// models publishes stories260K in shards of about shard bytes.
func models(t testing.TB, shard int64) (string, *published.Manifest) {
	t.Helper()
	return publishModel(t, modelPath, modelID, shard)
}

// publishModel publishes the GGUF at path as model id.
func publishModel(t testing.TB, path, id string, shard int64) (string, *published.Manifest) {
	t.Helper()
	root := t.TempDir()
	m, err := publish.Publish(root, path, publish.PublishOptions{ID: id, ShardSize: shard})
	if err != nil {
		t.Fatal(err)
	}
	return root, m
}

// server serves the app, the models and test pages on a fixed port that survives Stop/Start, and
// logs every request it receives.
type server struct {
	t       testing.TB
	handler http.Handler
	addr    string
	mu      sync.Mutex
	srv     *http.Server
	log     []string
	sent    []string                                          // per request of log: its query and body, what the client sent
	hook    func(w http.ResponseWriter, r *http.Request) bool // true: handled
}

func newServer(t testing.TB, appDir, modelsDir string) *server {
	t.Helper()
	s := &server{t: t, handler: mux(appDir, modelsDir)}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// SetHook installs a hook that sees every request first and may answer it (returning true).
func (s *server) SetHook(hook func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	s.hook = hook
	s.mu.Unlock()
}

// SetApp serves another build of the app from now on (an update deployed).
func (s *server) SetApp(appDir, modelsDir string) {
	s.mu.Lock()
	s.handler = mux(appDir, modelsDir)
	s.mu.Unlock()
}

func mux(appDir, modelsDir string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", delivery.New(delivery.Options{App: os.DirFS(appDir), Models: os.DirFS(modelsDir)}))
	mux.Handle("/test/", http.StripPrefix("/test/", http.FileServer(http.Dir("testdata"))))
	mux.Handle("/vendor/openai/", http.StripPrefix("/vendor/openai/", http.FileServer(http.Dir(filepath.Join(peersDir, "openai")))))
	mux.Handle("/vendor/wllama/", http.StripPrefix("/vendor/wllama/", http.FileServer(http.Dir(filepath.Join(peersDir, "@wllama", "wllama", "esm")))))
	mux.Handle("/test-model.gguf", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, modelPath) }))
	return mux
}

func (s *server) URL() string { return "http://" + s.addr }

func (s *server) Start() {
	s.t.Helper()
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for try := 0; try < 50; try++ { // the old socket may linger a moment after Stop
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("listen %s: %v", addr, err)
	}
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.srv = &http.Server{Handler: s}
	srv := s.srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

func (s *server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	s.log = append(s.log, strings.TrimSpace(strings.Join([]string{r.Method, r.URL.Path, r.Header.Get("Range"), r.Header.Get(sw.RunHeader)}, " ")))
	s.sent = append(s.sent, r.URL.RawQuery+"\n"+string(body))
	hook, h := s.hook, s.handler
	s.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}
	h.ServeHTTP(w, r)
}

// carrying returns the requests after mark whose query or body holds text (what a client sent).
func (s *server) carrying(mark int, text string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for i, sent := range s.sent[mark:] {
		if strings.Contains(sent, text) {
			out = append(out, s.log[mark+i])
		}
	}
	return out
}

// mark returns the number of requests so far; since(mark) the requests after it.
func (s *server) mark() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.log) }

func (s *server) since(mark int, substr string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.log[mark:] {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

// startBrowser starts chromium with a fresh profile and returns the context of its first tab.
func startBrowser(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
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
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(412, 915), // a phone-sized viewport
	)
	opts = append(opts, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancelB()
		cancelA()
		t.Fatalf("starting chromium: %v", err)
	}
	t.Cleanup(func() { cancelB(); cancelA() })
	return ctx
}

// newTab opens a tab in the same browser. Its first action runs without a deadline: chromedp
// ties a tab's lifetime to the context of its first Run.
func newTab(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	if err := chromedp.Do(tab); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	t.Cleanup(cancel)
	return tab
}

// eval runs JavaScript (awaiting a promise) in the tab and decodes its result, within timeout.
func eval[T any](t testing.TB, ctx context.Context, timeout time.Duration, js string) T {
	t.Helper()
	v, err := tryEval[T](ctx, timeout, js)
	if err != nil {
		t.Fatalf("eval %.120q: %v", js, err)
	}
	return v
}

func tryEval[T any](ctx context.Context, timeout time.Duration, js string) (T, error) {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return chromedp.Run(tctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

func navigate(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
}

func reload(t testing.TB, ctx context.Context) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Reload()); err != nil {
		t.Fatalf("reload: %v", err)
	}
}

// waitFor polls a JavaScript condition until it is truthy; on timeout it fails with the page's
// visible state.
func waitFor(t testing.TB, ctx context.Context, timeout time.Duration, cond string) {
	t.Helper()
	js := fmt.Sprintf(`new Promise((resolve) => {
		const t0 = Date.now();
		const tick = () => {
			let ok = false;
			try { ok = !!(%s); } catch (e) {}
			if (ok || Date.now() - t0 > %d) resolve(ok); else setTimeout(tick, 25);
		};
		tick();
	})`, cond, timeout.Milliseconds())
	ok, err := tryEval[bool](ctx, timeout+5*time.Second, js)
	if err != nil || !ok {
		t.Fatalf("waiting for %s: %v; page: %s", cond, err, pageState(ctx))
	}
}

// pollUntil is waitFor across navigations: it retries short checks, ignoring a page that is
// being replaced.
func pollUntil(t testing.TB, ctx context.Context, timeout time.Duration, cond string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if ok, err := tryEval[bool](ctx, 2*time.Second, "!!("+cond+")"); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: timed out; page: %s", cond, pageState(ctx))
}

// pageState summarises the page for failure messages.
func pageState(ctx context.Context) string {
	s, err := tryEval[string](ctx, 3*time.Second, `JSON.stringify({state: document.body && document.body.dataset.state,
		engine: document.querySelector('#engine') && document.querySelector('#engine').textContent,
		download: document.querySelector('#download-text') && document.querySelector('#download-text').textContent,
		downloadError: document.querySelector('#download-error') && document.querySelector('#download-error').textContent,
		chatError: document.querySelector('#chat-error') && document.querySelector('#chat-error').textContent,
		metrics: window.aisleMetrics})`)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// waitReady waits until the app can chat with its model (quick answers come earlier); owner
// also waits for the model to be loaded.
func waitReady(t testing.TB, ctx context.Context, owner bool) {
	t.Helper()
	cond := `document.body.dataset.state === 'ready' && ui.ready`
	if owner {
		cond += ` && window.aisleMetrics.loaded > 0`
	}
	waitFor(t, ctx, 60*time.Second, cond)
}

// chatResult is what the page records about its last answer.
type chatResult struct {
	TTFT  float64 `json:"ttft"`
	Total float64 `json:"total"`
	Text  string  `json:"text"`
	// Answer is the store assistant's structured answer (the first chunk's "aisle" object).
	Answer *struct {
		Intent string `json:"intent"`
		Facts  []struct {
			Type  string   `json:"type"`
			SKU   string   `json:"sku"`
			Price *float64 `json:"price"`
			Aisle string   `json:"aisle"`
		} `json:"facts"`
	} `json:"answer"`
	Usage struct {
		PromptTokens        int `json:"prompt_tokens"`
		CompletionTokens    int `json:"completion_tokens"`
		PromptTokensDetails struct {
			CachedTokens int `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	} `json:"usage"`
	// Timings is the worker's account (the API's "timings" object).
	Timings struct {
		CacheN   int     `json:"cache_n"`
		PromptN  int     `json:"prompt_n"`
		PromptMS float64 `json:"prompt_ms"`
		QueuedMS float64 `json:"queued_ms"`
		LoadMS   float64 `json:"load_ms"`
		WarmMS   float64 `json:"warm_ms"`
	} `json:"timings"`
}

// WorkerTTFT is the worker's time to the model's first token: waiting, loading, warming the
// store's start and evaluating the prompt.
func (r chatResult) WorkerTTFT() float64 {
	return r.Timings.QueuedMS + r.Timings.LoadMS + r.Timings.WarmMS + r.Timings.PromptMS
}

// chatUI asks through the chat form, greedily, and returns the answer.
func chatUI(t testing.TB, ctx context.Context, prompt string, maxTokens int) chatResult {
	t.Helper()
	return chatUIMode(t, ctx, "raw", prompt, maxTokens)
}

// askUI asks the store assistant through the page as a customer does (the page's own mode).
func askUI(t testing.TB, ctx context.Context, question string) chatResult {
	t.Helper()
	return chatUIMode(t, ctx, "", question, 256)
}

// chatUIMode types prompt into the page and waits for the whole answer; mode "raw" has the
// model continue the chat alone (engine tests), "" lets the page choose (the store assistant).
func chatUIMode(t testing.TB, ctx context.Context, mode, prompt string, maxTokens int) chatResult {
	t.Helper()
	js := fmt.Sprintf(`new Promise((resolve, reject) => {
		const $ = (s) => document.querySelector(s);
		ui.mode = %q;
		const before = window.aisleMetrics.lastChat;
		$('#temperature').value = '0';
		$('#max-tokens').value = '%d';
		$('#prompt').value = %q;
		$('#composer').requestSubmit();
		const t0 = Date.now();
		const tick = () => {
			const c = window.aisleMetrics.lastChat;
			if (c !== before && document.body.dataset.state === 'ready') return resolve(JSON.stringify(c));
			if (!$('#chat-error').hidden) return reject(new Error($('#chat-error').textContent));
			if (Date.now() - t0 > 60000) return reject(new Error('no answer within 60 s'));
			setTimeout(tick, 10);
		};
		tick();
	})`, mode, maxTokens, prompt)
	s := eval[string](t, ctx, 70*time.Second, js)
	var r chatResult
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// watchNetwork records every response the tab receives and whether the service worker served it.
type netWatch struct {
	mu   sync.Mutex
	seen []string
}

func watchNetwork(t testing.TB, ctx context.Context) *netWatch {
	t.Helper()
	w := &netWatch{}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*network.EventResponseReceived); ok {
			w.mu.Lock()
			src := "network"
			if ev.Response.FromServiceWorker {
				src = "service-worker"
			}
			w.seen = append(w.seen, src+" "+ev.Response.URL)
			w.mu.Unlock()
		}
	})
	return w
}

func (w *netWatch) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.seen
	w.seen = nil
	return s
}

var _ = cdp.Empty{}

// nodeAvailable reports whether a path under the npm test peers exists (failing in CI if not).
func needPeer(t testing.TB, rel string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(peersDir, rel)); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("test peer %s is required in CI: %v", rel, err)
		}
		t.Skipf("test peer %s missing (make test-deps installs it)", rel)
	}
}

var _ = exec.Command
