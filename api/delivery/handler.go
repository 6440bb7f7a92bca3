package delivery

import (
	"aisle/sync/published"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
)

// Options configures a Handler.
type Options struct {
	// Models holds the published layout (see the package comment) at its root, e.g.
	// os.DirFS("data/models"). Nil serves no models.
	Models fs.FS
	// App holds the built web app (index.html, sw.js, wasm, ...) at its root. Nil serves no app.
	App fs.FS
	// Logger receives one line per failed request; nil discards.
	Logger *slog.Logger
}

// Handler serves published models under published.ModelsPrefix and the app everywhere else.
//
// Caching contract: shard files (<id>/<revision>/<NNNN>.bin) are immutable and cached for a year;
// index.json, manifests and app files must be revalidated (no-cache) and carry a strong ETag, so an
// unchanged file costs a 304. Every file answers Range requests (206; a request for more than
// maxRanges ranges gets the whole file) and HEAD. Only GET and HEAD are allowed. Paths that try to
// leave the root, or that no file can have (see validName), get a 404 that is not logged.
type Handler struct {
	models, app fs.FS
	log         *slog.Logger
	etags       *etagCache
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler for opts.
func New(opts Options) *Handler {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{models: opts.Models, app: opts.App, log: log, etags: newETagCache()}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if rest, ok := strings.CutPrefix(p, published.ModelsPrefix); ok {
		h.serveModel(w, r, rest)
		return
	}
	h.serveApp(w, r, strings.TrimPrefix(p, "/"))
}

func (h *Handler) serveModel(w http.ResponseWriter, r *http.Request, name string) {
	if h.models == nil || !validName(name) || name == "." {
		http.NotFound(w, r)
		return
	}
	immutable := strings.HasSuffix(name, ".bin")
	if immutable {
		// <id>/<revision>/<NNNN>.bin
		parts := strings.Split(name, "/")
		if len(parts) != 3 || !published.ValidID(parts[0]) || !published.ValidShardPath(parts[1], parts[1]+"/"+parts[2]) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		if name != "index.json" && !(path.Base(name) == "manifest.json" && published.ValidID(path.Dir(name))) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
	}
	h.serveFile(w, r, "models", h.models, name)
}

func (h *Handler) serveApp(w http.ResponseWriter, r *http.Request, name string) {
	if h.app == nil {
		http.NotFound(w, r)
		return
	}
	if name == "" || strings.HasSuffix(name, "/") {
		name += "index.html"
	}
	if !validName(name) {
		http.NotFound(w, r)
		return
	}
	// App files change with each build; the service worker precaches them by revision, so the
	// browser's HTTP cache must always revalidate them (and always refetch sw.js).
	w.Header().Set("Cache-Control", "no-cache")
	if path.Base(name) == "sw.js" {
		w.Header().Set("Service-Worker-Allowed", "/")
	}
	// A precompressed sibling (name.gz, written by the build) is sent to clients that accept
	// gzip: the wasm programs shrink to about a third. One older than its file is stale (the file
	// was replaced without a rebuild) and ignored.
	if !strings.HasSuffix(name, ".gz") {
		st, err := fs.Stat(h.app, name+".gz")
		orig, oerr := fs.Stat(h.app, name)
		if err == nil && !st.IsDir() && oerr == nil && !st.ModTime().Before(orig.ModTime()) {
			w.Header().Add("Vary", "Accept-Encoding")
			if acceptsGzip(r.Header.Get("Accept-Encoding")) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Header().Set("Content-Type", published.ContentType(name))
				h.serveFile(w, r, "app", h.app, name+".gz")
				return
			}
		}
	}
	h.serveFile(w, r, "app", h.app, name)
}

// maxRanges is the most ranges one request may ask for. A Range header with more is ignored and
// the whole file is sent (200), as Apache (MaxRanges, since CVE-2011-3192) and nginx (max_ranges)
// do and RFC 9110 §14.2 allows: the ranges are satisfiable, so 416 would be wrong, and the answer is
// then no larger than a plain GET. Without a cap, thousands of one-byte ranges in one header turn a
// small request into a multipart answer many times its size (each part carries its own headers).
// ServeContent itself already ignores ranges that add up to more than the file (overlaps).
// Browsers and download managers ask for one range at a time.
const maxRanges = 16

// rangeCount returns how many ranges a Range header lists.
func rangeCount(h string) int {
	n := 0
	for part := range strings.SplitSeq(h, ",") {
		if strings.TrimSpace(part) != "" {
			n++
		}
	}
	return n
}

// validName reports whether name is a path a served file can have: fs.ValidPath (no "..", no
// leading or trailing slash), valid UTF-8, and no control characters (a NUL makes the OS refuse
// to open it at all).
func validName(name string) bool {
	return fs.ValidPath(name) && utf8.ValidString(name) && !strings.ContainsFunc(name, unicode.IsControl)
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (not with q=0).
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.TrimSpace(coding) != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, root string, fsys fs.FS, name string) {
	f, err := fsys.Open(name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		h.fail(w, r, fs.ErrNotExist)
		return
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok { // e.g. a filesystem without seeking: hold the file in memory
		b, err := io.ReadAll(f)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		rs = bytes.NewReader(b)
	}
	if ct := published.ContentType(name); ct != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", ct)
	}
	if tag, err := h.etags.get(root, name, st, rs); err == nil {
		w.Header().Set("ETag", tag)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if rangeCount(r.Header.Get("Range")) > maxRanges {
		r = r.Clone(r.Context())
		r.Header.Del("Range")
	}
	// ServeContent handles Range, If-Range, If-None-Match, If-Modified-Since and HEAD.
	http.ServeContent(w, r, name, modTime(st), rs)
}

// fail answers a file that cannot be served: 404 if it does not exist (including a path through
// a file, or a name too long for the file system), else 500, logged.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENAMETOOLONG) {
		http.NotFound(w, r)
		return
	}
	h.log.Error("delivery: serve file", "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

func modTime(st fs.FileInfo) time.Time {
	if t := st.ModTime(); !t.IsZero() && t.Unix() > 0 {
		return t
	}
	return time.Time{}
}
