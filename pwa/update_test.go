package pwa_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"aisle/sw"
	"aisle/sw/shim"
)

// nextVersion copies the build in dir and changes app.css, as a new release would: new
// revisions, a new precache version and so a new sw.js.
func nextVersion(t *testing.T, dir string) (string, string) {
	t.Helper()
	out := t.TempDir()
	if err := os.CopyFS(out, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	css := filepath.Join(out, "app.css")
	b, err := os.ReadFile(css)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, "/* v2 */\n"...)
	if err := os.WriteFile(css, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var pc sw.Precache
	raw, err := os.ReadFile(filepath.Join(out, "precache.json"))
	if err != nil || json.Unmarshal(raw, &pc) != nil {
		t.Fatalf("precache.json: %v", err)
	}
	for i, f := range pc.Files {
		if f.URL == "/app.css" {
			sum := sha256.Sum256(b)
			pc.Files[i].Revision, pc.Files[i].Size = hex.EncodeToString(sum[:])[:16], int64(len(b))
		}
	}
	pc.Version = sw.PrecacheVersion(pc.Files)
	raw, _ = json.Marshal(pc)
	if err := os.WriteFile(filepath.Join(out, "precache.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "sw.js"), []byte(shim.ServiceWorker(pc.Version)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app.css", "precache.json", "sw.js"} { // compressed copies of v1
		os.Remove(filepath.Join(out, name+".gz"))
	}
	return out, pc.Version
}

// TestBrowserUpdateWaitsForChat deploys a new version while the app runs: the new service worker
// waits, the page offers the update, an update asked for during an answer happens only after the
// answer is complete, and the new version then serves the app and removes the old cache.
func TestBrowserUpdateWaitsForChat(t *testing.T) {
	needBrowser(t)
	v1Dir := app(t)
	modelsDir, _ := models(t, 128<<10)
	srv := newServer(t, v1Dir, modelsDir)
	ctx := startBrowser(t)
	navigate(t, ctx, srv.URL()+"/")
	waitReady(t, ctx, true)
	v1 := eval[string](t, ctx, 10*time.Second, `fetch('/aisle/status').then((r) => r.json()).then((s) => s.version)`)

	v2Dir, v2 := nextVersion(t, v1Dir)
	srv.SetApp(v2Dir, modelsDir)
	eval[bool](t, ctx, 30*time.Second, `navigator.serviceWorker.getRegistration().then((r) => r.update()).then(() => true)`)
	waitFor(t, ctx, 30*time.Second, `!document.querySelector('#update').hidden`)
	if still := eval[string](t, ctx, 10*time.Second, `fetch('/aisle/status').then((r) => r.json()).then((s) => s.version)`); still != v1 {
		t.Fatalf("the new version took over before the user agreed: %s", still)
	}

	// Ask for the update in the middle of an answer.
	deferred := eval[bool](t, ctx, 10*time.Second, `(() => {
		const orig = applyUpdate;
		applyUpdate = (reg) => {
			const c = window.aisleMetrics.lastChat;
			sessionStorage.setItem('aisle-test-update', JSON.stringify({answered: !!c, text: c ? c.text : ''}));
			orig(reg);
		};
		document.querySelector('#temperature').value = '0';
		document.querySelector('#max-tokens').value = '200';
		ui.mode = 'raw';
		document.querySelector('#prompt').value = 'Once upon a time';
		document.querySelector('#composer').requestSubmit();
		document.querySelector('#update-now').click();
		return document.querySelector('#update-now').textContent.includes('after this answer');
	})()`)
	if !deferred {
		t.Error("the page did not defer the update during the answer")
	}
	pollUntil(t, ctx, 60*time.Second, `sessionStorage.getItem('aisle-test-update') && document.readyState === 'complete' && window.aisleMetrics && !window.aisleMetrics.lastChat`)
	waitReady(t, ctx, true)
	var rec struct {
		Answered bool   `json:"answered"`
		Text     string `json:"text"`
	}
	if err := json.Unmarshal([]byte(eval[string](t, ctx, 5*time.Second, `sessionStorage.getItem('aisle-test-update')`)), &rec); err != nil {
		t.Fatal(err)
	}
	if !rec.Answered || rec.Text == "" {
		t.Errorf("the update ran before the answer was complete: %+v", rec)
	}
	if got := eval[string](t, ctx, 10*time.Second, `fetch('/aisle/status').then((r) => r.json()).then((s) => s.version)`); got != v2 {
		t.Errorf("after the update the version is %s, want %s", got, v2)
	}
	if css := eval[bool](t, ctx, 10*time.Second, `fetch('/app.css').then((r) => r.text()).then((t) => t.includes('/* v2 */'))`); !css {
		t.Error("the new app.css is not served")
	}
	names := eval[[]string](t, ctx, 10*time.Second, `caches.keys()`)
	for _, n := range names {
		if n == sw.ShellCachePrefix+v1 {
			t.Errorf("the old shell cache %s was not deleted: %v", n, names)
		}
	}
}
