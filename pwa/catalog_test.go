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
	"strings"
	"testing"
	"time"

	apiserver "aisle/api/server"
	"aisle/api/store/sqlstore"
	"aisle/sync/catalog"
	"aisle/sync/client"
	"aisle/sync/replica"
	"aisle/sync/wire"
	"aisle/worker/assistant"
)

// newStoreServer serves the app and models (as newServer does) behind the real sync API of
// aisle-server, with the demo store seeded: what a store's server is in production. It returns
// the API server too and an admin token for it.
func newStoreServer(t testing.TB, appDir, modelsDir string) (*server, *apiserver.Server, string) {
	return newStoreServerSeeded(t, appDir, modelsDir, true)
}

// newStoreServerSeeded is newStoreServer with the demo store seeded or not (an empty chain).
func newStoreServerSeeded(t testing.TB, appDir, modelsDir string, seed bool) (*server, *apiserver.Server, string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "aisle.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if seed {
		if err := apiserver.Seed(ctx, st, time.Now()); err != nil {
			t.Fatal(err)
		}
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

// nativeAnswers asks the store assistant natively, on the catalog the store server serves (synced
// into a memory replica): with a model that cannot phrase (stories260K has no chat template) the
// app's answers must be these, word for word.
func nativeAnswers(t testing.TB, base string, questions ...string) []assistant.Answer {
	t.Helper()
	ctx := context.Background()
	mem := replica.NewMem()
	r := &replica.Replica{Store: "demo", Audience: wire.AudiencePublic, Storage: mem}
	if _, err := r.Sync(ctx, &client.Client{BaseURL: base}); err != nil {
		t.Fatal(err)
	}
	contents, err := mem.Contents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conv := assistant.NewStore(contents, time.Now()).NewConversation()
	var out []assistant.Answer
	for _, q := range questions {
		out = append(out, conv.Ask(q))
	}
	return out
}

// TestBrowserAssistant installs the app from a store server and asks the store assistant as a
// customer does: quick answers from the synced catalog before the model is downloaded, the same
// answers as the native assistant, a published price change heard by push and answered, and a
// conversation offline.
func TestBrowserAssistant(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, _ := models(t, 128<<10)
	srv, api, admin := newStoreServer(t, appDir, modelsDir)
	// hold the model's shards back: the catalog alone must answer first
	release := make(chan struct{})
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, ".bin") {
			select {
			case <-release:
			case <-r.Context().Done():
				return true
			}
		}
		return false
	})
	ctx := startBrowser(t)

	navigate(t, ctx, srv.URL()+"/?store=demo")
	waitFor(t, ctx, 60*time.Second, `document.body.dataset.catalog === 'synced' && window.aisleCatalog.version > 0 && document.body.dataset.state === 'ready'`)
	if n := len(srv.since(0, "/v1/stores/demo/")); n == 0 {
		t.Error("no sync request reached the server")
	}

	t.Run("quick answers before the model is downloaded", func(t *testing.T) {
		if eval[bool](t, ctx, 5*time.Second, `ui.ready`) {
			t.Fatal("the model is ready although its shards are held back")
		}
		if eval[bool](t, ctx, 5*time.Second, `document.querySelector('#welcome-note').hidden`) {
			t.Error("the page does not say that the assistant's model is on its way")
		}
		want := nativeAnswers(t, srv.URL(), "Where is the baguette?")[0]
		got := askUI(t, ctx, "Where is the baguette?")
		if got.Text != want.Text || got.Answer == nil || got.Answer.Intent != "location" || len(got.Answer.Facts) == 0 ||
			got.Answer.Facts[0].SKU != "BAGUETTE" || !strings.Contains(got.Text, "1A") {
			t.Errorf("answer %q (%+v), want %q", got.Text, got.Answer, want.Text)
		}
	})

	close(release)
	srv.SetHook(nil)
	waitReady(t, ctx, true)

	t.Run("the native assistant's answers", func(t *testing.T) {
		eval[bool](t, ctx, 5*time.Second, `(document.querySelector('#log').replaceChildren(), ui.messages = [], true)`)
		questions := []string{"do you have brie de meaux?", "how much is it?", "and where is it", "do you sell bicycles?", "thanks!"}
		want := nativeAnswers(t, srv.URL(), questions...)
		for i, q := range questions {
			got := askUI(t, ctx, q)
			if got.Text != want[i].Text || got.Answer == nil || got.Answer.Intent != want[i].Intent {
				t.Errorf("%q: %q (%+v), want %q (%s)", q, got.Text, got.Answer, want[i].Text, want[i].Intent)
			}
		}
	})

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
		eval[bool](t, ctx, 5*time.Second, `(ui.messages = [], true)`)
		if got := askUI(t, ctx, "how much is the baguette?"); !strings.Contains(got.Text, "1.35") {
			t.Errorf("after the price change: %q", got.Text)
		}
	})

	srv.Stop()
	waitFor(t, ctx, 30*time.Second, `document.body.dataset.catalog === 'offline'`)

	t.Run("offline", func(t *testing.T) {
		eval[bool](t, ctx, 5*time.Second, `(ui.messages = [], true)`)
		got := askUI(t, ctx, "is the organic whole milk in stock")
		if got.Answer == nil || got.Answer.Intent != "availability" {
			t.Errorf("offline: %q (%+v)", got.Text, got.Answer)
		}
		if got := askUI(t, ctx, "where is it?"); got.Answer == nil || got.Answer.Intent != "location" || len(got.Answer.Facts) == 0 {
			t.Errorf("offline follow-up: %q (%+v)", got.Text, got.Answer)
		}
		// The replica kept its checkpoint through the outage.
		if v := eval[float64](t, ctx, 5*time.Second, `window.aisleCatalog.version`); v <= 0 {
			t.Errorf("catalog version %v after going offline", v)
		}
	})
}
