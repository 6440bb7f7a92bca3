package pwa_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"aisle/sync/wire"
)

// TestBrowserDeviceIDSurvivesReload: the app's catalog sync (in the inference worker) sends its
// anonymous installation ID as X-Aisle-Device on its sync requests: a well-formed ID, the same
// on every request and after a reload (a new worker reads it back from IndexedDB).
func TestBrowserDeviceIDSurvivesReload(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, _ := models(t, 128<<10)
	srv, _, _ := newStoreServerSeeded(t, appDir, modelsDir, true)
	var mu sync.Mutex
	var ids []string // the header of each sync request, in order
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/v1/stores/demo/") &&
			(strings.HasSuffix(r.URL.Path, "/checkpoint") || strings.HasSuffix(r.URL.Path, "/changes") || strings.HasSuffix(r.URL.Path, "/events")) {
			mu.Lock()
			ids = append(ids, r.URL.Path+" "+r.Header.Get(wire.HeaderDevice))
			mu.Unlock()
		}
		return false
	})
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(ids) }
	ctx := startBrowser(t)
	navigate(t, ctx, srv.URL()+"/?store=demo")
	eval[bool](t, ctx, 5*time.Second, `(localStorage.setItem('aisle.quick', '1'), true)`)
	reload(t, ctx)
	waitFor(t, ctx, 60*time.Second, `document.body.dataset.catalog === 'synced'`)
	before := count()
	if before == 0 {
		t.Fatal("no sync request reached the server")
	}
	reload(t, ctx)
	waitFor(t, ctx, 60*time.Second, `document.body.dataset.catalog === 'synced'`)
	for deadline := time.Now().Add(20 * time.Second); count() == before; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no sync request after the reload")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var id string
	for i, l := range ids {
		path, dev, _ := strings.Cut(l, " ")
		if !wire.ValidDeviceID(dev) {
			t.Errorf("%s carried X-Aisle-Device %q", path, dev)
			continue
		}
		if id == "" {
			id = dev
		}
		if dev != id {
			t.Errorf("request %d (%s, after the reload: %v) carried %q, the first %q", i, path, i >= before, dev, id)
		}
	}
	t.Logf("%d sync requests (%d after the reload), one device ID", len(ids), len(ids)-before)
}
