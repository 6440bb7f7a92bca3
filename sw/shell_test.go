package sw

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"aisle/api/delivery"
	"aisle/worker/browser/modelstore"
)

// memCaches is an in-memory CacheStorage.
type memCaches struct {
	mu sync.Mutex
	m  map[string]*modelstore.Memory
}

func (c *memCaches) Open(_ context.Context, name string) (modelstore.Cache, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*modelstore.Memory{}
	}
	if c.m[name] == nil {
		c.m[name] = &modelstore.Memory{}
	}
	return c.m[name], nil
}

func (c *memCaches) Delete(_ context.Context, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, name)
	return nil
}

func (c *memCaches) Names(context.Context) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for n := range c.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// appFS returns an app build with a valid precache.json.
func appFS(t *testing.T, files map[string]string) (fstest.MapFS, string) {
	t.Helper()
	fsys := fstest.MapFS{}
	var list []PrecacheFile
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
		sum := sha256.Sum256([]byte(body))
		list = append(list, PrecacheFile{URL: "/" + name, Revision: hex.EncodeToString(sum[:])[:16], Size: int64(len(body))})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].URL < list[j].URL })
	pc := Precache{Version: PrecacheVersion(list), Files: list}
	b, _ := json.Marshal(pc)
	fsys["precache.json"] = &fstest.MapFile{Data: b}
	return fsys, pc.Version
}

func get(t *testing.T, h http.Handler, path, accept string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestShellInstallServeOffline(t *testing.T) {
	fsys, version := appFS(t, map[string]string{"index.html": "<h1>app</h1>", "offline.html": "<h1>offline</h1>", "app.js": "go()"})
	app := delivery.New(delivery.Options{App: fsys})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp") // as a cross-origin-isolated server
		w.Header().Set("Set-Cookie", "not=kept")
		app.ServeHTTP(w, r)
	}))
	caches := &memCaches{}
	caches.Open(context.Background(), ShellCachePrefix+"old")
	caches.Open(context.Background(), "aisle-models-v0")
	caches.Open(context.Background(), modelstore.CacheName)
	caches.Open(context.Background(), "someone-else")
	shell := &Shell{Caches: caches, Origin: srv.URL, Version: version}
	if err := shell.Install(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := shell.Activate(context.Background()); err != nil {
		t.Fatal(err)
	}
	names, _ := caches.Names(context.Background())
	want := []string{modelstore.CacheName, ShellCachePrefix + version, "someone-else"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("caches after activate %v, want %v", names, want)
	}
	srv.Close() // offline from here on
	if rec := get(t, shell, "/", "text/html"); rec.Code != 200 || rec.Body.String() != "<h1>app</h1>" || rec.Header().Get("X-Aisle-Source") != "precache" {
		t.Errorf("offline /: %d %q", rec.Code, rec.Body)
	}
	if rec := get(t, shell, "/app.js?v=2", ""); rec.Code != 200 || rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" ||
		rec.Header().Get("Cross-Origin-Embedder-Policy") != "require-corp" || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("offline app.js: %d %q", rec.Code, rec.Header())
	}
	if rec := get(t, shell, "/elsewhere.html", "text/html"); rec.Code != 503 || rec.Body.String() != "<h1>offline</h1>" {
		t.Errorf("offline navigation fallback: %d %q", rec.Code, rec.Body)
	}
	if rec := get(t, shell, "/data.json", "application/json"); rec.Code != 503 || strings.Contains(rec.Body.String(), "<h1>") {
		t.Errorf("offline non-navigation: %d %q", rec.Code, rec.Body)
	}
}

func TestShellPassThroughOnline(t *testing.T) {
	fsys, version := appFS(t, map[string]string{"index.html": "x", "offline.html": "y"})
	fsys["extra.txt"] = &fstest.MapFile{Data: []byte("not precached")}
	srv := httptest.NewServer(delivery.New(delivery.Options{App: fsys}))
	defer srv.Close()
	shell := &Shell{Caches: &memCaches{}, Origin: srv.URL, Version: version}
	rec := get(t, shell, "/extra.txt", "")
	if body, _ := io.ReadAll(rec.Body); rec.Code != 200 || string(body) != "not precached" {
		t.Errorf("pass-through: %d %q", rec.Code, body)
	}
}

func TestShellInstallRejectsMismatch(t *testing.T) {
	fsys, version := appFS(t, map[string]string{"index.html": "x"})
	fsys["index.html"] = &fstest.MapFile{Data: []byte("changed after the build")}
	srv := httptest.NewServer(delivery.New(delivery.Options{App: fsys}))
	defer srv.Close()
	if err := (&Shell{Caches: &memCaches{}, Origin: srv.URL, Version: version}).Install(context.Background()); err == nil ||
		!strings.Contains(err.Error(), "updated during the install") {
		t.Errorf("Install = %v, want a revision mismatch", err)
	}
	if err := (&Shell{Caches: &memCaches{}, Origin: srv.URL, Version: "0000000000000000"}).Install(context.Background()); err == nil {
		t.Errorf("Install with another version succeeded")
	}
}

func TestAppRoutes(t *testing.T) {
	m, models := fixture(t, "tiny", 3000, 1000, 11)
	fsys, version := appFS(t, map[string]string{"index.html": "x", "offline.html": "y"})
	for k, v := range models {
		fsys["models/"+k] = v
	}
	srv := httptest.NewServer(delivery.New(delivery.Options{App: fsys, Models: models}))
	defer srv.Close()
	store := newStore()
	app := &App{
		API:        &API{Engine: &fakeEngine{}, Models: StoreModels{store}},
		Shell:      &Shell{Caches: &memCaches{}, Origin: srv.URL, Version: version},
		Downloader: &Downloader{Store: store, Base: srv.URL + "/models/", Backoff: 1},
		Store:      store,
		Estimate:   func(context.Context) (int64, int64, error) { return 5, 100, nil },
	}
	install := httptest.NewRequest("POST", "https://"+InternalHost+"/install", nil)
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, install)
	if rec.Code != 200 {
		t.Fatalf("install: %d %s", rec.Code, rec.Body)
	}
	rec = get(t, app, "/aisle/download?model=tiny", "")
	events := readSSE(t, rec.Body.String())
	var last Progress
	json.Unmarshal([]byte(events[len(events)-1]), &last)
	if last.State != "ready" || last.Revision != m.Revision {
		t.Fatalf("download events %q", events)
	}
	rec = get(t, app, "/aisle/status", "")
	var st Status
	json.Unmarshal(rec.Body.Bytes(), &st)
	if len(st.Models) != 1 || !st.Models[0].Ready || st.Models[0].StoredBytes != 3000 || st.Quota != 100 || st.Version != version {
		t.Errorf("status %s", rec.Body)
	}
	rec = post(t, app, `{"model":"tiny","messages":[{"role":"user","content":"works offline"}]}`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "works offline") {
		t.Errorf("chat: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("POST", "/aisle/clear?model=tiny", nil))
	if rec.Code != 200 {
		t.Fatalf("clear: %d", rec.Code)
	}
	if rec := post(t, app, `{"model":"tiny","messages":[{"role":"user","content":"x"}]}`); rec.Code != 404 {
		t.Errorf("chat after clear: %d, want 404", rec.Code)
	}
	if rec := get(t, app, "/aisle/download?model=../x", ""); rec.Code != 400 {
		t.Errorf("bad model id: %d", rec.Code)
	}
}

func TestAppCancelsWhenClientGone(t *testing.T) {
	f := &fakeEngine{wait: make(chan struct{})}
	gone := make(chan struct{})
	app := &App{API: newAPI(f), ClientGone: func(ctx context.Context, id string) bool {
		select {
		case <-gone:
			return id == "page-1"
		default:
			return false
		}
	}}
	req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(`{"model":"tiny","stream":true,"messages":[{"role":"user","content":"a b"}]}`))
	req.Header.Set(ClientHeader, "page-1")
	done := make(chan struct{})
	go func() { app.ServeHTTP(httptest.NewRecorder(), req); close(done) }()
	<-f.wait
	close(gone)
	<-done // the engine saw its context cancelled; without the watch this never returns
}

// TestShellInstallPrecachesTheBuildTheBrowserRuns: a file with a Feature is precached only by
// browsers with that feature ("wasm-simd") or without it ("!wasm-simd"); the rest by all.
func TestShellInstallPrecachesTheBuildTheBrowserRuns(t *testing.T) {
	fsys, _ := appFS(t, map[string]string{"index.html": "x", "engine.wasm": "simd build", "engine-nosimd.wasm": "scalar build"})
	var pc Precache
	json.Unmarshal(fsys["precache.json"].Data, &pc)
	for i, f := range pc.Files {
		switch f.URL {
		case "/engine.wasm":
			pc.Files[i].Feature = FeatureWasmSIMD
		case "/engine-nosimd.wasm":
			pc.Files[i].Feature = "!" + FeatureWasmSIMD
		}
	}
	pc.Version = PrecacheVersion(pc.Files)
	fsys["precache.json"].Data, _ = json.Marshal(pc)
	srv := httptest.NewServer(delivery.New(delivery.Options{App: fsys}))
	defer srv.Close()
	for _, simd := range []bool{true, false} {
		caches := &memCaches{}
		shell := &Shell{Caches: caches, Origin: srv.URL, Version: pc.Version, Features: map[string]bool{FeatureWasmSIMD: simd}}
		if err := shell.Install(context.Background()); err != nil {
			t.Fatal(err)
		}
		c, _ := caches.Open(context.Background(), ShellCachePrefix+pc.Version)
		keys, _ := c.Keys(context.Background())
		var got []string
		for _, k := range keys {
			if !strings.HasPrefix(k, "/.") {
				got = append(got, k)
			}
		}
		sort.Strings(got)
		want := "/engine-nosimd.wasm,/index.html,/precache.json"
		if simd {
			want = "/engine.wasm,/index.html,/precache.json"
		}
		if strings.Join(got, ",") != want {
			t.Errorf("wasm SIMD %v: precached %v, want %s", simd, got, want)
		}
	}
}
