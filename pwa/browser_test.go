package pwa_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"

	"aisle/worker/browser"
	"aisle/worker/browser/wire"
	"aisle/worker/engine"
	"aisle/worker/gguf"
)

const prompt = "Once upon a time"

// nativeGreedy runs the same request on the native engine: the browser must produce the same text.
func nativeGreedy(t testing.TB, messages []wire.Message, maxTokens int) string {
	t.Helper()
	f, err := gguf.Open(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := engine.Load(f, engine.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	res, err := e.Generate(context.Background(), browser.EngineRequest(wire.ChatRequest{Model: modelID, Messages: messages,
		MaxTokens: maxTokens, Temperature: 0}), func(engine.Delta) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return res.Text
}

// TestBrowserOfflineChat installs the app, downloads the model, and then checks offline use: a
// reload without the server, greedy chat equal to the native engine, a second tab sharing the
// worker, a service worker stopped through the DevTools protocol, no request leaving the device
// during a chat, and the openai npm client against the offline endpoint.
func TestBrowserOfflineChat(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, m := models(t, 128<<10)
	srv := newServer(t, appDir, modelsDir)
	ctx := startBrowser(t)
	const maxTokens = 48
	want := nativeGreedy(t, []wire.Message{{Role: "user", Content: prompt}}, maxTokens)
	if want == "" {
		t.Fatal("the native engine produced no text")
	}

	// Install online: shell precached, model downloaded and loaded.
	navigate(t, ctx, srv.URL()+"/")
	waitReady(t, ctx, true)
	if n := len(srv.since(0, ".bin")); n != len(m.Shards) {
		t.Errorf("downloaded %d shard requests, want %d", n, len(m.Shards))
	}

	t.Run("chat online makes no network request", func(t *testing.T) {
		watch := watchNetwork(t, ctx)
		mark := srv.mark()
		got := chatUI(t, ctx, prompt, maxTokens)
		if got.Text != want {
			t.Errorf("browser greedy text:\n%q\nnative engine:\n%q", got.Text, want)
		}
		// The promise: no chat content leaves the device. Background catalog sync may run
		// meanwhile (its own requests, on its own schedule); no request carries the chat.
		if reqs := srv.carrying(mark, prompt); len(reqs) != 0 {
			t.Errorf("requests that carried the chat's prompt to the server: %q", reqs)
		}
		if reqs := srv.since(mark, "/chat"); len(reqs) != 0 {
			t.Errorf("chat requests that reached the server: %q", reqs)
		}
		for _, r := range watch.take() {
			if !strings.HasPrefix(r, "service-worker ") && !strings.Contains(r, "/v1/stores/") {
				t.Errorf("response not from the service worker during a chat: %s", r)
			}
		}
		t.Logf("online chat: %d tokens, TTFT %.1f ms, total %.1f ms", got.Usage.CompletionTokens, got.TTFT, got.Total)
	})

	t.Run("installable", func(t *testing.T) {
		res, err := chromedp.Call(ctx, page.GetInstallabilityErrors, cdp.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.InstallabilityErrors {
			t.Errorf("installability error %s %v", e.ErrorID, e.ErrorArguments)
		}
	})

	t.Run("accessible and phone-sized", func(t *testing.T) {
		eval[bool](t, ctx, 5*time.Second, `(document.querySelector('#settings').open = true, true)`)
		defer eval[bool](t, ctx, 5*time.Second, `(document.querySelector('#settings').open = false, true)`)
		tree, err := chromedp.Call(ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		if err != nil {
			t.Fatal(err)
		}
		controls := 0
		for _, n := range tree.Nodes {
			if n.Ignored || n.Role == nil {
				continue
			}
			switch role := strings.Trim(string(n.Role.Value), `"`); role {
			case "button", "textbox", "combobox", "slider", "spinbutton", "progressbar":
				controls++
				if n.Name == nil || strings.Trim(string(n.Name.Value), `" `) == "" {
					t.Errorf("a %s has no accessible name", role)
				}
			}
		}
		if controls < 8 {
			t.Errorf("found %d named controls in the accessibility tree, want the chat and settings controls", controls)
		}
		if overflow := eval[bool](t, ctx, 5*time.Second, `document.documentElement.scrollWidth > window.innerWidth`); overflow {
			t.Error("the page scrolls sideways on a phone-sized viewport")
		}
	})

	t.Run("sync API passes through to the server", func(t *testing.T) {
		mark := srv.mark()
		eval[int](t, ctx, 10*time.Second, `fetch('/v1/stores', {method: 'POST', body: '{}'}).then((r) => r.status)`)
		if got := srv.since(mark, "/v1/stores"); len(got) != 1 {
			t.Errorf("the server saw %q, want the POST /v1/stores", got)
		}
	})

	srv.Stop()

	t.Run("reload offline", func(t *testing.T) {
		reload(t, ctx)
		waitReady(t, ctx, true)
		waitFor(t, ctx, 10*time.Second, `document.querySelector('#net').textContent === 'Offline'`)
		mt := eval[map[string]float64](t, ctx, 5*time.Second, `(() => { const m = window.aisleMetrics; return {interactive: m.interactive, loaded: m.loaded, load: m.loadMS}; })()`)
		got := chatUI(t, ctx, prompt, maxTokens)
		if got.Text != want {
			t.Errorf("offline greedy text:\n%q\nwant:\n%q", got.Text, want)
		}
		t.Logf("offline reload: interactive after %.0f ms, model loaded from cache in %.0f ms (worker), first token %.1f ms after send",
			mt["interactive"], mt["load"], got.TTFT)
	})

	t.Run("offline fallback page", func(t *testing.T) {
		tab := newTab(t, ctx)
		navigate(t, tab, srv.URL()+"/aisle-not-stored.html")
		if text := eval[string](t, tab, 5*time.Second, `document.body.innerText`); !strings.Contains(text, "You are offline") {
			t.Errorf("offline navigation shows %q", text)
		}
	})

	t.Run("second tab shares the worker", func(t *testing.T) {
		tab := newTab(t, ctx)
		navigate(t, tab, srv.URL()+"/")
		waitReady(t, tab, false)
		if owner := eval[bool](t, tab, 5*time.Second, `document.querySelector('#engine').textContent.includes('shared with another tab')`); !owner {
			t.Errorf("second tab does not report a shared engine: %s", pageState(tab))
		}
		got := chatUI(t, tab, prompt, maxTokens)
		if got.Text != want {
			t.Errorf("second tab text:\n%q\nwant:\n%q", got.Text, want)
		}
	})

	t.Run("service worker stopped", func(t *testing.T) {
		ports := eval[int](t, ctx, 5*time.Second, `window.aisleMetrics.ports`)
		if _, err := chromedp.Call(ctx, serviceworker.Enable, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, serviceworker.StopAllWorkers, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		// Fresh page state: a reload would also restart the worker, so ask through fetch.
		reply := eval[string](t, ctx, 30*time.Second, fmt.Sprintf(`fetch('/v1/chat/completions', {method: 'POST',
			headers: {'Content-Type': 'application/json'},
			body: JSON.stringify({model: %q, messages: [{role: 'user', content: %q}], max_tokens: %d, temperature: 0, aisle: {mode: 'raw'}})})
			.then((r) => r.json()).then((j) => j.choices ? j.choices[0].message.content : JSON.stringify(j))`, modelID, prompt, maxTokens))
		if reply != want {
			t.Errorf("after the restart:\n%q\nwant:\n%q", reply, want)
		}
		if after := eval[int](t, ctx, 5*time.Second, `window.aisleMetrics.ports`); after <= ports {
			t.Errorf("the restarted service worker did not ask for a fresh port (ports %d -> %d)", ports, after)
		}
	})

	t.Run("openai client", func(t *testing.T) {
		needPeer(t, "openai/index.mjs")
		srv.Start()
		tab := newTab(t, ctx)
		navigate(t, tab, srv.URL()+"/test/openai.html")
		waitFor(t, tab, 20*time.Second, `window.runOpenAI`)
		srv.Stop() // the calls go to the offline endpoint
		words := strings.Fields(want)
		stop := words[len(words)/2]
		res := eval[map[string]any](t, tab, 60*time.Second, fmt.Sprintf(`window.runOpenAI(%q, %q, %d, %q)`, modelID, prompt, maxTokens, stop))
		if res["error"] != nil {
			t.Fatalf("openai client: %v", res["error"])
		}
		if res["text"] != want || res["streamText"] != want {
			t.Errorf("openai client texts:\n%q\n%q\nwant:\n%q", res["text"], res["streamText"], want)
		}
		if res["object"] != "chat.completion" || res["finish"] == nil || res["usageTotal"] == nil || res["chunks"].(float64) < 2 {
			t.Errorf("malformed results: %v", res)
		}
		if res["helloIntent"] != "greeting" || res["helloStreamIntent"] != "greeting" || res["hello"] == "" || res["hello"] != res["helloStream"] {
			t.Errorf("the store assistant through a plain client: %q (%v), streamed %q (%v)", res["hello"], res["helloIntent"],
				res["helloStream"], res["helloStreamIntent"])
		}
		if res["badStatus"] != float64(400) {
			t.Errorf("malformed request through the client: status %v, want 400", res["badStatus"])
		}
		if res["missingStatus"] != float64(404) || res["missingCode"] != "model_not_found" {
			t.Errorf("unknown model: status %v code %v, want 404 model_not_found", res["missingStatus"], res["missingCode"])
		}
		if ms, _ := res["models"].([]any); len(ms) != 1 || ms[0] != modelID {
			t.Errorf("models.list() = %v, want [%s]", res["models"], modelID)
		}
		if wantStopped := want[:strings.Index(want, stop)]; res["stopped"] != wantStopped || res["stoppedFinish"] != "stop" {
			t.Errorf("stop %q: got %q (%v), want %q (stop)", stop, res["stopped"], res["stoppedFinish"], wantStopped)
		}
		if s, _ := res["sampled"].([]any); len(s) != 2 || s[0] != s[1] || s[0] == "" {
			t.Errorf("seeded sampling is not reproducible: %q", res["sampled"])
		}
	})

	t.Run("dead worker gives a clear error within seconds", func(t *testing.T) {
		eval[bool](t, ctx, 5*time.Second, `(ui.worker.terminate(), true)`)
		start := time.Now()
		res := eval[map[string]any](t, ctx, 30*time.Second, fmt.Sprintf(`fetch('/v1/chat/completions', {method: 'POST',
			headers: {'Content-Type': 'application/json'},
			body: JSON.stringify({model: %q, messages: [{role: 'user', content: 'hi'}], max_tokens: 4})})
			.then(async (r) => ({status: r.status, body: await r.json()}))`, modelID))
		took := time.Since(start)
		body, _ := res["body"].(map[string]any)
		e, _ := body["error"].(map[string]any)
		if res["status"] != float64(503) || e == nil || e["code"] != "engine_unavailable" || e["message"] == "" {
			t.Errorf("dead worker: %v", res)
		}
		if took > 15*time.Second {
			t.Errorf("the error took %v", took)
		}
		t.Logf("dead worker reported after %v: %v", took.Round(time.Millisecond), e["message"])

		// Through the chat form the page gets the same error and replaces its worker.
		eval[bool](t, ctx, 30*time.Second, `new Promise((resolve) => {
			document.querySelector('#prompt').value = 'hi';
			document.querySelector('#composer').requestSubmit();
			const tick = () => document.querySelector('#chat-error').hidden ? setTimeout(tick, 20) : resolve(true);
			tick();
		})`)
		waitFor(t, ctx, 30*time.Second, `window.aisleMetrics.restarts >= 1 && document.querySelector('#engine').textContent.startsWith('Ready')`)
		eval[bool](t, ctx, 5*time.Second, `(ui.messages = [], true)`) // a new conversation
		if got := chatUI(t, ctx, prompt, maxTokens); got.Text != want {
			t.Errorf("after the worker was replaced: %q, want %q", got.Text, want)
		}
	})
}

// TestBrowserOwnerTabCloses closes the tab that runs the model: a tab that shared it takes over
// (it was waiting for the engine's Web Lock), loads the model itself and keeps answering.
func TestBrowserOwnerTabCloses(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, _ := models(t, 128<<10)
	srv := newServer(t, appDir, modelsDir)
	ctx := startBrowser(t) // this first tab stays blank
	owner, closeOwner := chromedp.NewContext(ctx)
	if err := chromedp.Do(owner); err != nil {
		t.Fatal(err)
	}
	defer closeOwner()
	navigate(t, owner, srv.URL()+"/")
	waitReady(t, owner, true)
	other := newTab(t, ctx)
	navigate(t, other, srv.URL()+"/")
	waitReady(t, other, false)
	waitFor(t, other, 10*time.Second, `document.querySelector('#engine').textContent.includes('shared with another tab')`)
	closeOwner()
	waitFor(t, other, 30*time.Second, `document.querySelector('#engine').textContent.startsWith('Ready · on this device')`)
	want := nativeGreedy(t, []wire.Message{{Role: "user", Content: prompt}}, 24)
	if got := chatUI(t, other, prompt, 24); got.Text != want {
		t.Errorf("after the owner closed: %q, want %q", got.Text, want)
	}
}

// TestBrowserWorkersOverMessages: on a page that is not cross-origin isolated (no
// SharedArrayBuffer), a model split across two workers exchanges each product by messages, and
// answers the native engine's tokens.
func TestBrowserWorkersOverMessages(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, _ := models(t, 128<<10)
	srv := newServer(t, appDir, modelsDir)
	ctx := startBrowser(t)
	navigate(t, ctx, srv.URL()+"/")
	waitFor(t, ctx, 30*time.Second, `navigator.serviceWorker.controller`)
	eval[bool](t, ctx, 5*time.Second, `(localStorage.setItem('aisle.workers', '2'), localStorage.setItem('aisle.backend', 'cpu'), true)`)
	reload(t, ctx)
	waitReady(t, ctx, true)
	if eval[bool](t, ctx, 5*time.Second, `crossOriginIsolated`) {
		t.Fatal("the page is cross-origin isolated: this test is about pages that are not")
	}
	waitFor(t, ctx, 60*time.Second, `/^(Ready|Model error|The model cannot start)/.test(document.querySelector('#engine').textContent)`)
	if pill := eval[string](t, ctx, 5*time.Second, `document.querySelector('#engine').textContent`); !strings.Contains(pill, "CPU, 2 WORKERS") {
		t.Fatalf("the model is not split across 2 workers: %q", pill)
	}
	want := nativeGreedy(t, []wire.Message{{Role: "user", Content: prompt}}, 16)
	if got := chatUI(t, ctx, prompt, 16); got.Text != want {
		t.Errorf("chat across 2 workers over messages: %q, want %q", got.Text, want)
	}
}

// TestBrowserCrossOriginIsolated serves the app with COOP/COEP (the server's
// -cross-origin-isolated mode): offline, the service worker must replay those headers, or the
// page loses its isolation and cannot start its worker. Isolated, the CPU path can split the
// model by rows across workers (package rowsplit): with three asked for, offline, the answer is
// still the native engine's, token for token.
func TestBrowserCrossOriginIsolated(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, _ := models(t, 128<<10)
	srv := newServer(t, appDir, modelsDir)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
		w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
		return false
	})
	ctx := startBrowser(t)
	navigate(t, ctx, srv.URL()+"/")
	waitReady(t, ctx, true)
	want := nativeGreedy(t, []wire.Message{{Role: "user", Content: prompt}}, 16)
	if got := chatUI(t, ctx, prompt, 16); got.Text != want {
		t.Errorf("chat: %q, want %q", got.Text, want)
	}
	srv.Stop()
	eval[bool](t, ctx, 5*time.Second, `(localStorage.setItem('aisle.workers', '3'), true)`)
	reload(t, ctx)
	waitReady(t, ctx, true)
	if !eval[bool](t, ctx, 5*time.Second, `crossOriginIsolated`) {
		t.Error("the page served offline is not cross-origin isolated")
	}
	waitFor(t, ctx, 60*time.Second, `/^(Ready|Model error|The model cannot start)/.test(document.querySelector('#engine').textContent)`)
	if pill := eval[string](t, ctx, 5*time.Second, `document.querySelector('#engine').textContent`); !strings.Contains(pill, "CPU, 3 WORKERS") {
		t.Fatalf("the model is not split across 3 workers: %q", pill)
	}
	if got := chatUI(t, ctx, prompt, 16); got.Text != want {
		t.Errorf("chat with the model split across 3 workers: %q, want %q", got.Text, want)
	}
}
