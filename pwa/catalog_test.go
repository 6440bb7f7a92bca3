package pwa_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	apiserver "aisle/api/server"
	"aisle/api/store/sqlstore"
	"aisle/sync/catalog"
)

// newStoreServer serves the app and models (as newServer does) behind the real sync API of
// aisle-server, with the demo store seeded: what a store's server is in production. It returns
// the API server too and an admin token for it.
func newStoreServer(t testing.TB, appDir, modelsDir string) (*server, *apiserver.Server, string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "aisle.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := apiserver.Seed(ctx, st, time.Now()); err != nil {
		t.Fatal(err)
	}
	admin, _ := apiserver.NewToken()
	if err := apiserver.EnsureAdminToken(ctx, st, "test", admin); err != nil {
		t.Fatal(err)
	}
	api, err := apiserver.New(st, apiserver.Config{Rate: -1, NightlyInterval: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Fallback: mux(appDir, modelsDir)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Shutdown(context.Background()) })
	s := &server{t: t, handler: api.Handler()}
	s.Start()
	t.Cleanup(s.Stop)
	return s, api, admin
}

// adminDo calls the admin API with token and fails the test unless it answers want.
func adminDo(t testing.TB, base, token, method, path string, body any, want int) []byte {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %s %s, want %d", method, path, resp.Status, out, want)
	}
	return out
}

// TestBrowserCatalogGrounding installs the app from a store server, waits until the inference
// worker has synced the store's catalog into IndexedDB, stops the server, and checks that an
// offline chat about a product is grounded on the local catalog: its prompt is longer than the
// same question about an unknown product by the facts' system message.
func TestBrowserCatalogGrounding(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, _ := models(t, 128<<10)
	srv, api, admin := newStoreServer(t, appDir, modelsDir)
	ctx := startBrowser(t)

	navigate(t, ctx, srv.URL()+"/?store=demo")
	waitReady(t, ctx, true)
	waitFor(t, ctx, 60*time.Second, `document.body.dataset.catalog === 'synced' && window.aisleCatalog.version > 0 && window.aisleCatalog.changes > 0`)
	if n := len(srv.since(0, "/v1/stores/demo/")); n == 0 {
		t.Error("no sync request reached the server")
	}

	t.Run("a published change arrives by push", func(t *testing.T) {
		before := eval[float64](t, ctx, 5*time.Second, `window.aisleCatalog.version`)
		for deadline := time.Now().Add(20 * time.Second); api.Hub().Subscribers("demo") == 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the inference worker holds no push stream")
			}
		}
		var rec catalog.ProductRecord
		if err := json.Unmarshal(adminDo(t, srv.URL(), admin, "GET", "/v1/admin/products/BAGUETTE", nil, 200), &rec); err != nil {
			t.Fatal(err)
		}
		rec.Price = 135
		adminDo(t, srv.URL(), admin, "PUT", "/v1/admin/products/BAGUETTE", rec, 200)
		adminDo(t, srv.URL(), admin, "POST", "/v1/admin/stores/demo/publish", nil, 201)
		waitFor(t, ctx, 20*time.Second, fmt.Sprintf(`document.body.dataset.catalog === 'synced' && window.aisleCatalog.version > %v`, before))
	})

	srv.Stop()
	waitFor(t, ctx, 30*time.Second, `document.body.dataset.catalog === 'offline'`)

	unknown := promptTokens(t, ctx, "Where is the zzyzx?")
	known := promptTokens(t, ctx, "Where is the baguette?")
	// The facts line alone ("- Baguette tradition: 1.25 EUR, 60 in stock, aisle 1A" under its
	// header) is well over 40 tokens with any vocabulary; the two questions differ by a few.
	if known < unknown+40 {
		t.Errorf("prompt tokens: %d for a catalog product, %d for an unknown one: the offline chat was not grounded", known, unknown)
	}
	t.Logf("offline prompt tokens: grounded %d, ungrounded %d", known, unknown)
	// The replica kept its checkpoint through the outage.
	if v := eval[float64](t, ctx, 5*time.Second, `window.aisleCatalog.version`); v <= 0 {
		t.Errorf("catalog version %v after going offline", v)
	}
}

// promptTokens asks the on-device OpenAI API (through the service worker) a one-message chat and
// returns the prompt tokens it reports.
func promptTokens(t testing.TB, ctx context.Context, question string) int {
	t.Helper()
	js := fmt.Sprintf(`fetch('/v1/chat/completions', {method: 'POST', headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({model: ui.model, messages: [{role: 'user', content: %q}], max_tokens: 2, temperature: 0})})
		.then((r) => r.json()).then((j) => { if (!j.usage) throw new Error(JSON.stringify(j)); return j.usage.prompt_tokens; })`, question)
	return int(eval[float64](t, ctx, 60*time.Second, js))
}
