package delivery

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns what was written since the last take.
func (b *lockedBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}

// diskHandler serves an app and models from real folders (os.DirFS, whose
// errors differ from fstest.MapFS's) and logs WARN and above to the buffer.
func diskHandler(t testing.TB) (*Handler, *lockedBuffer) {
	t.Helper()
	dir := t.TempDir()
	rev := strings.Repeat("ab", 8)
	for name, data := range map[string]string{
		"app/index.html":                   "<!doctype html>",
		"app/sw.js":                        "//sw",
		"app/sub/page.html":                "page",
		"models/index.json":                `{"format":1,"models":[]}`,
		"models/tiny/manifest.json":        `{"format":1}`,
		"models/tiny/" + rev + "/0000.bin": "0123456789abcdef",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return New(Options{App: os.DirFS(filepath.Join(dir, "app")), Models: os.DirFS(filepath.Join(dir, "models")), Logger: log}), logs
}

// get serves GET path (already decoded, as in URL.Path) and returns the status.
func get(h http.Handler, path string) int {
	r := httptest.NewRequest("GET", "/", nil)
	r.URL.Path = path
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Code
}

// invalidPaths are app and model paths no file can have; seeds of FuzzAppPath too.
var invalidPaths = []string{
	"/index.html\x00.png",
	"/\x00",
	"/sub/\x00",
	"/a\x01b.js",
	"/index.html\n",
	"/\x1f",
	"/\x7f",
	"/\xff.js",
	"/sub/\xc3(",
	"/index.html/x",                // a file used as a folder (ENOTDIR on disk)
	"/" + strings.Repeat("a", 300), // a name too long for the file system
	"/models/index.json\x00",
	"/models/tiny/manifest.json\x00",
	"/models/tiny/" + strings.Repeat("ab", 8) + "/0000.bin\x00",
}

// TestInvalidPathsAreQuiet404s: a path no file can have is a 404, and
// logs nothing at WARN or above (app paths are not rate-limited, so a
// logged failure would let anyone fill the log).
func TestInvalidPathsAreQuiet404s(t *testing.T) {
	h, logs := diskHandler(t)
	for _, p := range invalidPaths {
		if code := get(h, p); code != http.StatusNotFound {
			t.Errorf("GET %q: status %d, want 404", p, code)
		}
	}
	if s := logs.take(); s != "" {
		t.Errorf("logged:\n%s", s)
	}
	for _, p := range []string{"/", "/sub/page.html", "/models/index.json"} {
		if code := get(h, p); code != http.StatusOK {
			t.Errorf("GET %q: status %d, want 200", p, code)
		}
	}
}

// FuzzAppPath: any path answers below 500, logs nothing at WARN or above,
// and never panics.
func FuzzAppPath(f *testing.F) {
	for _, p := range invalidPaths {
		f.Add(p)
	}
	f.Add("/")
	f.Add("/sw.js")
	f.Add("/../etc/passwd")
	f.Add("/sub/")
	f.Add("//index.html")
	h, logs := diskHandler(f)
	f.Fuzz(func(t *testing.T, path string) {
		code := get(h, path)
		if s := logs.take(); s != "" {
			t.Fatalf("GET %q logged:\n%s", path, s)
		}
		if code >= 500 {
			t.Fatalf("GET %q: status %d", path, code)
		}
	})
}

// TestManyRangesGetTheWholeFile: a Range header of more than maxRanges
// ranges is ignored (200, the file once), so many tiny ranges cannot turn a
// small request into a much larger multipart answer.
func TestManyRangesGetTheWholeFile(t *testing.T) {
	h, _ := diskHandler(t)
	shard := "/models/tiny/" + strings.Repeat("ab", 8) + "/0000.bin"
	do := func(n int) *httptest.ResponseRecorder {
		var rs []string
		for i := range n {
			rs = append(rs, fmt.Sprintf("%d-%d", i%16, i%16))
		}
		r := httptest.NewRequest("GET", shard, nil)
		r.Header.Set("Range", "bytes="+strings.Join(rs, ","))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	if rec := do(2); rec.Code != http.StatusPartialContent || !strings.HasPrefix(rec.Header().Get("Content-Type"), "multipart/byteranges") {
		t.Errorf("2 ranges: status %d, type %q; want a 206 multipart answer", rec.Code, rec.Header().Get("Content-Type"))
	}
	rec := do(maxRanges + 1)
	if rec.Code != http.StatusOK || rec.Body.String() != "0123456789abcdef" {
		t.Errorf("%d ranges: status %d, %d bytes; want 200 and the whole file", maxRanges+1, rec.Code, rec.Body.Len())
	}
}
