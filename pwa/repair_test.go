package pwa_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"aisle/sw"
	"aisle/worker/browser/wire"
)

// TestBrowserCorruptShardRefetched damages a stored shard while offline: the inference worker
// must refuse it, the app must say so, and once the server is back exactly that shard is fetched
// again and chat works.
func TestBrowserCorruptShardRefetched(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, m := models(t, 128<<10)
	if len(m.Shards) < 4 {
		t.Fatalf("want at least 4 shards, got %d", len(m.Shards))
	}
	srv := newServer(t, appDir, modelsDir)
	ctx := startBrowser(t)
	navigate(t, ctx, srv.URL()+"/")
	waitReady(t, ctx, true)

	victim := m.Shards[3].Path
	url := eval[string](t, ctx, 10*time.Second, fmt.Sprintf(`(async () => {
		const c = await caches.open('aisle-models-v1');
		const key = (await c.keys()).find((r) => r.url.endsWith(%q));
		const b = new Uint8Array(await (await c.match(key)).arrayBuffer());
		b[b.length >> 1] ^= 0xff;
		await c.put(key, new Response(b));
		return key.url;
	})()`, victim))
	if url == "" {
		t.Fatal("shard not found in Cache Storage")
	}
	srv.Stop()
	reload(t, ctx)
	waitFor(t, ctx, 30*time.Second, `document.querySelector('#download-error').textContent.includes('damaged')`)
	gone := eval[bool](t, ctx, 10*time.Second, fmt.Sprintf(`caches.open('aisle-models-v1').then((c) => c.match(%q)).then((r) => !r)`, url))
	if !gone {
		t.Error("the damaged shard is still stored")
	}
	mark := srv.mark()
	srv.Start()
	waitReady(t, ctx, true)
	if got := srv.since(mark, ".bin"); len(got) != 1 || !strings.Contains(got[0], victim) {
		t.Errorf("after the repair the server served %q, want only %s", got, victim)
	}
	want := nativeGreedy(t, []wire.Message{{Role: "user", Content: prompt}}, 16)
	if got := chatUI(t, ctx, prompt, 16); got.Text != want {
		t.Errorf("chat after the repair: %q, want %q", got.Text, want)
	}
}

// TestBrowserDownloadResumes interrupts a download (the connection stalls after some shards, then
// the page is reloaded) and checks that the reloaded page shows the progress so far and fetches
// only the shards it does not have.
func TestBrowserDownloadResumes(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, m := models(t, 64<<10)
	const before = 4
	if len(m.Shards) < before+3 {
		t.Fatalf("want at least %d shards, got %d", before+3, len(m.Shards))
	}
	srv := newServer(t, appDir, modelsDir)
	var mu sync.Mutex
	served := map[string]int{}
	stalled := 0
	firstRun := ""
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, ".bin") {
			return false
		}
		mu.Lock()
		run := r.Header.Get(sw.RunHeader)
		if firstRun == "" {
			firstRun = run
		}
		if run == firstRun && len(served) >= before {
			// The first run's network stalls from here until the client gives up (the reload).
			stalled++
			mu.Unlock()
			<-r.Context().Done()
			return true
		}
		if run == firstRun {
			served[r.URL.Path]++
		}
		mu.Unlock()
		return false
	})
	ctx := startBrowser(t)
	navigate(t, ctx, srv.URL()+"/")
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n, s := len(served), stalled
		mu.Unlock()
		if n >= before && s > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the download did not reach %d shards (%d served, %d stalled): %s", before, n, s, pageState(ctx))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Wait until the page has stored the served shards, then reload with the network back.
	waitFor(t, ctx, 20*time.Second, fmt.Sprintf(`fetch('/aisle/status').then((r) => r.json()).then((s) => s.models.length > 0 && s.models[0].shards_stored >= %d)`, before))
	mark := srv.mark()
	reload(t, ctx)
	waitReady(t, ctx, true)
	first := eval[map[string]float64](t, ctx, 5*time.Second, `(() => { const p = window.aisleMetrics.firstProgress || {}; return {done: p.done_bytes || 0, shards: p.shards_done || 0}; })()`)
	if first["shards"] < before {
		t.Errorf("after the reload the progress started at %v shards, want at least %d", first["shards"], before)
	}
	mu.Lock()
	defer mu.Unlock()
	var again []string // the shards the reloaded page fetched
	for _, r := range srv.since(mark, ".bin") {
		if !strings.Contains(r, firstRun) {
			again = append(again, r)
		}
	}
	for _, r := range again {
		for p := range served {
			if strings.Contains(r, p) {
				t.Errorf("shard %s fetched again after the reload", p)
			}
		}
	}
	if want := len(m.Shards) - len(served); len(again) != want {
		t.Errorf("fetched %d shards after the reload, want %d: %q", len(again), want, again)
	}
}

// progressText matches the download line: "123 KB of 1.0 MB (12%) · 300 KB/s · 3 s left".
var progressText = regexp.MustCompile(`of .* \(\d+%\) · .*/s · .*left`)

// TestBrowserTwoTabsDownloadOnce starts the download in two tabs at once on a slow network: they
// must not both fetch the model (the service worker serialises downloads with a Web Lock).
func TestBrowserTwoTabsDownloadOnce(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, m := models(t, 128<<10)
	srv := newServer(t, appDir, t.TempDir()) // nothing published yet
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, ".bin") {
			time.Sleep(400 * time.Millisecond) // a slow network, so the downloads overlap
		}
		return false
	})
	ctx := startBrowser(t)
	tab := newTab(t, ctx)
	for _, c := range []context.Context{ctx, tab} {
		navigate(t, c, srv.URL()+"/")
		waitFor(t, c, 30*time.Second, `navigator.serviceWorker.controller && document.querySelector('#model').options.length === 0`)
	}
	srv.SetApp(appDir, modelsDir) // the model is published: both tabs start downloading it
	for _, c := range []context.Context{ctx, tab} {
		eval[bool](t, c, 5*time.Second, `(pickModel().then(download), true)`)
	}
	// The tab that downloads shows bytes, percent, speed and time left; the other says it waits.
	var progress, waiting bool
	var texts []string
	for deadline := time.Now().Add(20 * time.Second); !(progress && waiting) && time.Now().Before(deadline); {
		for _, c := range []context.Context{ctx, tab} {
			text, _ := tryEval[string](c, 2*time.Second, `document.querySelector('#download-text').textContent`)
			progress = progress || progressText.MatchString(text)
			waiting = waiting || strings.Contains(text, "Another tab is downloading")
			texts = append(texts, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !progress || !waiting {
		t.Errorf("progress shown %v, waiting shown %v; texts seen: %q", progress, waiting, texts)
	}
	waitReady(t, ctx, false)
	waitReady(t, tab, false)
	seen := map[string]int{}
	for _, r := range srv.since(0, ".bin") {
		seen[strings.Fields(r)[1]]++
	}
	for p, n := range seen {
		if n > 1 {
			t.Errorf("%s fetched %d times: %q", p, n, srv.since(0, ".bin"))
		}
	}
	if len(seen) != len(m.Shards) {
		t.Errorf("fetched %d distinct shards, want %d", len(seen), len(m.Shards))
	}
}
