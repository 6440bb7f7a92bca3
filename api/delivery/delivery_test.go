package delivery

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestPlanShards(t *testing.T) {
	tests := []struct {
		name   string
		size   int64
		cuts   []int64
		target int64
		want   []int64
	}{
		{"small file is one shard", 100, nil, 1000, []int64{0, 100}},
		{"exactly target", 1000, nil, 1000, []int64{0, 1000}},
		{"no cuts: fixed size, last holds the rest", 5000, nil, 1000, []int64{0, 1000, 2000, 3000, 5000}},
		{"prefers tensor boundary near target", 3000, []int64{0, 900, 1700, 2600}, 1000, []int64{0, 900, 1700, 3000}},
		{"up to twice the target stays whole", 1600, []int64{700, 1500}, 1000, []int64{0, 1600}},
		{"empty", 0, nil, 1000, []int64{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanShards(tt.size, tt.cuts, tt.target)
			if !equal(got, tt.want) {
				t.Errorf("PlanShards(%d, %v, %d) = %v, want %v", tt.size, tt.cuts, tt.target, got, tt.want)
			}
		})
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzPlanShards(f *testing.F) {
	f.Add(int64(5000), int64(1000), int64(900), int64(2100))
	f.Add(int64(1), int64(4096), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, size, target, c1, c2 int64) {
		if size < 0 || size > 1<<40 || target < 1 || size/target > 100000 {
			t.Skip()
		}
		b := PlanShards(size, []int64{c1, c2}, target)
		if b[0] != 0 || b[len(b)-1] != size {
			t.Fatalf("bounds %v do not span [0, %d]", b, size)
		}
		for i := 1; i < len(b); i++ {
			if b[i] <= b[i-1] {
				t.Fatalf("bounds %v not increasing", b)
			}
			if b[i]-b[i-1] > 2*target {
				t.Fatalf("shard %d of %v larger than 2*target %d", i-1, b, 2*target)
			}
		}
	})
}

func testFS() fstest.MapFS {
	rev := strings.Repeat("ab", 8)
	return fstest.MapFS{
		"index.json":                 {Data: []byte(`{"format":1,"models":[]}`)},
		"tiny/manifest.json":         {Data: []byte(`{"format":1}`)},
		"tiny/" + rev + "/0000.bin":  {Data: []byte("0123456789abcdef")},
		"tiny/" + rev + "/notes.txt": {Data: []byte("x")},
	}
}

func TestHandler(t *testing.T) {
	rev := strings.Repeat("ab", 8)
	h := New(Options{Models: testFS(), App: fstest.MapFS{
		"index.html": {Data: []byte("<!doctype html>")},
		"sw.js":      {Data: []byte("//sw")},
		"sw.wasm":    {Data: []byte("\x00asm")},
	}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	tests := []struct {
		name, method, path string
		header             map[string]string
		wantStatus         int
		wantBody           string
		wantHeader         map[string]string
	}{
		{name: "shard", path: "/models/tiny/" + rev + "/0000.bin", wantStatus: 200, wantBody: "0123456789abcdef",
			wantHeader: map[string]string{"Cache-Control": "public, max-age=31536000, immutable", "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}},
		{name: "shard range", path: "/models/tiny/" + rev + "/0000.bin", header: map[string]string{"Range": "bytes=10-"},
			wantStatus: 206, wantBody: "abcdef", wantHeader: map[string]string{"Content-Range": "bytes 10-15/16"}},
		{name: "manifest revalidates", path: "/models/tiny/manifest.json", wantStatus: 200, wantBody: `{"format":1}`,
			wantHeader: map[string]string{"Cache-Control": "no-cache", "Content-Type": "application/json"}},
		{name: "index", path: "/models/index.json", wantStatus: 200},
		{name: "other files under a revision are hidden", path: "/models/tiny/" + rev + "/notes.txt", wantStatus: 404},
		{name: "traversal", path: "/models/../go.mod", wantStatus: 404},
		{name: "missing shard", path: "/models/tiny/" + rev + "/0001.bin", wantStatus: 404},
		{name: "app root", path: "/", wantStatus: 200, wantBody: "<!doctype html>", wantHeader: map[string]string{"Content-Type": "text/html; charset=utf-8"}},
		{name: "wasm type", path: "/sw.wasm", wantStatus: 200, wantHeader: map[string]string{"Content-Type": "application/wasm"}},
		{name: "sw scope", path: "/sw.js", wantStatus: 200, wantHeader: map[string]string{"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"}},
		{name: "post refused", method: "POST", path: "/sw.js", wantStatus: 405},
		{name: "head", method: "HEAD", path: "/models/tiny/" + rev + "/0000.bin", wantStatus: 200, wantHeader: map[string]string{"Content-Length": "16"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.method
			if m == "" {
				m = "GET"
			}
			req, _ := http.NewRequest(m, srv.URL+tt.path, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body %q, want %q", body, tt.wantBody)
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestHandlerETag(t *testing.T) {
	h := New(Options{Models: testFS()})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/models/tiny/manifest.json", nil))
	tag := rec.Header().Get("ETag")
	if tag == "" {
		t.Fatal("no ETag")
	}
	req := httptest.NewRequest("GET", "/models/tiny/manifest.json", nil)
	req.Header.Set("If-None-Match", tag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("conditional GET: status %d, want 304", rec.Code)
	}
}

func TestHandlerGzip(t *testing.T) {
	now := time.Now()
	h := New(Options{App: fstest.MapFS{
		"app.wasm":    {Data: []byte("plain"), ModTime: now},
		"app.wasm.gz": {Data: []byte("gzipped"), ModTime: now},
		"other.js":    {Data: []byte("js"), ModTime: now},
		"stale.js":    {Data: []byte("new"), ModTime: now},
		"stale.js.gz": {Data: []byte("old"), ModTime: now.Add(-time.Hour)},
	}})
	tests := []struct {
		path, accept, wantBody, wantEncoding string
	}{
		{"/app.wasm", "gzip, deflate, br", "gzipped", "gzip"},
		{"/app.wasm", "br", "plain", ""},
		{"/app.wasm", "gzip;q=0, br", "plain", ""},
		{"/app.wasm", "", "plain", ""},
		{"/other.js", "gzip", "js", ""},
		{"/stale.js", "gzip", "new", ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", tt.path, nil)
		req.Header.Set("Accept-Encoding", tt.accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Body.String() != tt.wantBody || rec.Header().Get("Content-Encoding") != tt.wantEncoding {
			t.Errorf("%s with %q: body %q encoding %q", tt.path, tt.accept, rec.Body, rec.Header().Get("Content-Encoding"))
		}
		if tt.path == "/app.wasm" && (rec.Header().Get("Content-Type") != "application/wasm" || rec.Header().Get("Vary") != "Accept-Encoding") {
			t.Errorf("%s with %q: headers %v", tt.path, tt.accept, rec.Header())
		}
	}
}
