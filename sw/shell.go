package sw

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"aisle/sync/published"
	"aisle/worker/browser/modelstore"
	"aisle/worker/browser/wire"
)

// PrecacheFile is one file of the app shell.
type PrecacheFile struct {
	URL      string `json:"url"`      // absolute path, e.g. "/app.js"
	Revision string `json:"revision"` // first 16 hex digits of the file's SHA-256
	Size     int64  `json:"size"`
	// Feature, when set, limits the file to browsers with a feature ("wasm-simd") or without it
	// ("!wasm-simd"): each browser precaches only the build of a program it can run.
	Feature string `json:"feature,omitempty"`
}

// FeatureWasmSIMD is the browser feature WebAssembly SIMD128 (sw.js reads it from simd.js).
const FeatureWasmSIMD = "wasm-simd"

// wanted reports whether a browser with the given features precaches f.
func (f PrecacheFile) wanted(features map[string]bool) bool {
	if name, without := strings.CutPrefix(f.Feature, "!"); without {
		return !features[name]
	}
	return f.Feature == "" || features[f.Feature]
}

// Precache lists the app shell of one build. It is served as /precache.json; its Version (a
// hash over all revisions) is compiled into sw.js, so every build that changes a file installs a
// new service worker.
type Precache struct {
	Version string         `json:"version"`
	Files   []PrecacheFile `json:"files"`
}

// PrecacheVersion is the version of a file list: the first 16 hex digits of the SHA-256 over
// "url revision\n" lines in order.
func PrecacheVersion(files []PrecacheFile) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s %s\n", f.URL, f.Revision)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// CacheStorage is the browser's CacheStorage: named caches.
type CacheStorage interface {
	Open(ctx context.Context, name string) (modelstore.Cache, error)
	Delete(ctx context.Context, name string) error
	Names(ctx context.Context) ([]string, error)
}

// Shell precaches the app shell on install, removes outdated caches on activate, and serves
// GET requests: cache-first for the precached (revisioned) files, the network for the rest, and
// the offline page for a navigation that the network cannot answer.
type Shell struct {
	Caches  CacheStorage
	Client  *http.Client // default http.DefaultClient
	Origin  string       // e.g. "http://127.0.0.1:8080", no trailing slash
	Version string       // the Precache.Version this service worker was built with
	// Direct, when set, answers r with the body stored under key in the named cache without
	// copying it through Go (the browser streams the stored body), reporting false when absent.
	// Without it, files are read into Go and written out.
	Direct func(w http.ResponseWriter, r *http.Request, cache, key, contentType string) bool
	// Features are the browser's features that decide which PrecacheFile.Feature files it
	// precaches (FeatureWasmSIMD).
	Features map[string]bool
}

// ShellCachePrefix starts the name of every app shell cache; the version follows.
const ShellCachePrefix = "aisle-shell-"

// headersKey is the entry of the shell cache that holds, per file, the response headers the
// server sent that must be replayed when the file is served from the cache (ReplayHeaders).
const headersKey = "/.aisle-precache-headers.json"

// ReplayHeaders are the response headers kept with each precached file and sent again when it is
// served offline: without them a cross-origin-isolated app (COOP/COEP) could not start its worker,
// and a page would lose its Content-Security-Policy.
var ReplayHeaders = []string{
	"Content-Security-Policy", "Cross-Origin-Embedder-Policy", "Cross-Origin-Opener-Policy",
	"Cross-Origin-Resource-Policy", "Permissions-Policy", "Referrer-Policy", "X-Frame-Options",
	"X-Content-Type-Options",
}

func (s *Shell) cacheName() string { return ShellCachePrefix + s.Version }

func (s *Shell) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return http.DefaultClient
}

// Install fetches every file of the shell (that this browser can use: PrecacheFile.Feature), checks it against its revision and stores it in a
// new cache named after the version. A file that does not match (the server was updated during
// the install) fails the install; the browser tries again on the next visit.
func (s *Shell) Install(ctx context.Context) error {
	b, _, err := s.get(ctx, "/precache.json")
	if err != nil {
		return err
	}
	var pc Precache
	if err := json.Unmarshal(b, &pc); err != nil {
		return fmt.Errorf("precache.json: %w", err)
	}
	if pc.Version != s.Version || PrecacheVersion(pc.Files) != pc.Version {
		return fmt.Errorf("precache.json is version %s, this service worker needs %s: the app was updated during the install", pc.Version, s.Version)
	}
	c, err := s.Caches.Open(ctx, s.cacheName())
	if err != nil {
		return err
	}
	have, err := c.Keys(ctx)
	if err != nil {
		return err
	}
	stored := map[string]bool{}
	for _, k := range have {
		stored[k] = true
	}
	replay := map[string]map[string]string{}
	if b, err := c.Get(ctx, headersKey); err == nil {
		json.Unmarshal(b, &replay) // an earlier, interrupted install of this version
	}
	for _, f := range pc.Files {
		if !f.wanted(s.Features) || stored[f.URL] && replay[f.URL] != nil {
			continue
		}
		data, hdr, err := s.get(ctx, f.URL)
		if err != nil {
			return err
		}
		keep := map[string]string{}
		for _, h := range ReplayHeaders {
			if v := hdr.Get(h); v != "" {
				keep[h] = v
			}
		}
		replay[f.URL] = keep
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:])[:16]; got != f.Revision {
			return fmt.Errorf("%s has revision %s, want %s: the app was updated during the install", f.URL, got, f.Revision)
		}
		if err := c.Put(ctx, f.URL, data, published.ContentType(f.URL)); err != nil {
			return err
		}
	}
	hb, _ := json.Marshal(replay)
	if err := c.Put(ctx, headersKey, hb, "application/json"); err != nil {
		return err
	}
	return c.Put(ctx, "/precache.json", b, "application/json")
}

// replay sets the kept response headers of the precached file p (see ReplayHeaders).
func (s *Shell) replay(ctx context.Context, w http.ResponseWriter, p string) {
	c, err := s.Caches.Open(ctx, s.cacheName())
	if err != nil {
		return
	}
	b, err := c.Get(ctx, headersKey)
	if err != nil {
		return
	}
	var all map[string]map[string]string
	if json.Unmarshal(b, &all) != nil {
		return
	}
	for k, v := range all[p] {
		w.Header().Set(k, v)
	}
}

// Activate deletes the shell caches of other versions and model caches of older layouts.
func (s *Shell) Activate(ctx context.Context) error {
	names, err := s.Caches.Names(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		old := strings.HasPrefix(n, ShellCachePrefix) && n != s.cacheName() ||
			strings.HasPrefix(n, "aisle-models-") && n != modelstore.CacheName
		if old {
			if err := s.Caches.Delete(ctx, n); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Shell) get(ctx context.Context, p string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Origin+p, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return nil, nil, wire.Errorf(wire.CodeNetwork, "fetch %s: %v", p, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, wire.Errorf(wire.CodeNetwork, "fetch %s: HTTP %d", p, resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	return b, resp.Header, err
}

// ServeHTTP answers a GET or HEAD for the shell.
func (s *Shell) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := r.URL.Path
	if p == "/" || strings.HasSuffix(p, "/") {
		p += "index.html"
	}
	if s.Direct != nil {
		s.replay(ctx, w, p)
		w.Header().Set("X-Aisle-Source", "precache")
		if s.Direct(w, r, s.cacheName(), p, published.ContentType(p)) {
			return
		}
		for h := range w.Header() {
			w.Header().Del(h)
		}
	} else if c, err := s.Caches.Open(ctx, s.cacheName()); err == nil {
		if b, err := c.Get(ctx, p); err == nil {
			s.replay(ctx, w, p)
			w.Header().Set("Content-Type", published.ContentType(p))
			w.Header().Set("X-Aisle-Source", "precache")
			w.WriteHeader(http.StatusOK)
			if r.Method != http.MethodHead {
				w.Write(b)
			}
			return
		}
	}
	if err := s.passThrough(w, r); err != nil {
		if navigation(r) {
			s.offline(w, r)
			return
		}
		http.Error(w, "offline: "+err.Error(), http.StatusServiceUnavailable)
	}
}

// navigation reports whether r loads a page (as far as the service worker can tell).
func navigation(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") ||
		path.Ext(r.URL.Path) == ".html"
}

func (s *Shell) offline(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.Caches.Open(ctx, s.cacheName())
	var b []byte
	if err == nil {
		b, err = c.Get(ctx, "/offline.html")
	}
	if err != nil {
		http.Error(w, "You are offline and this page is not stored on the device.", http.StatusServiceUnavailable)
		return
	}
	s.replay(ctx, w, "/offline.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Aisle-Source", "offline")
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write(b)
}

// passThrough forwards a GET/HEAD to the network. It returns an error only when nothing was
// written (the network failed).
func (s *Shell) passThrough(w http.ResponseWriter, r *http.Request) error {
	u := *r.URL
	if u.Host == "" {
		o := s.Origin
		u.Scheme, u.Host, _ = strings.Cut(o, "://")
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), nil)
	if err != nil {
		return err
	}
	for _, h := range []string{"Accept", "Range", "If-None-Match", "If-Modified-Since", "If-Range"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		return nil // headers are out: nothing better to do than end the body
	}
	return nil
}
