// Package published is the delivery protocol between the server and the devices: what the server
// publishes for browsers to download, checked the same way on both sides.
//
// A published model is a manifest plus the GGUF file cut into shards:
//
//	/models/index.json                      the published models (Index), revalidated on every use
//	/models/<id>/manifest.json              the model's Manifest, revalidated on every use
//	/models/<id>/<revision>/<NNNN>.bin      shard NNNN, immutable: its URL changes with the revision
//
// The server (aisle/api/delivery) writes and serves this layout; the service worker downloads the
// shards, checks each against the manifest's SHA-256 and stores it (aisle/worker/browser/modelstore);
// the inference worker joins them back into one GGUF. ContentType labels every delivered file,
// app files included, the same way on the server and in the service worker's caches.
package published

import (
	"errors"
	"fmt"
	"mime"
	"path"
	"regexp"
	"strings"
)

// ManifestFormat is the version of the manifest and index layout.
//
// History:
//   - 1 (2026-11-24): first version.
const ManifestFormat = 1

// Index lists the published models. It is served as <root>/index.json.
type Index struct {
	Format int          `json:"format"`
	Models []IndexEntry `json:"models"` // sorted by ID
}

// IndexEntry is one published model in the Index.
type IndexEntry struct {
	ID           string `json:"id"`
	Revision     string `json:"revision"`
	Name         string `json:"name,omitempty"`
	Architecture string `json:"architecture"`
	Size         int64  `json:"size"`     // bytes of the whole GGUF file
	Manifest     string `json:"manifest"` // URL of the manifest, relative to index.json
}

// Manifest describes one published model. It is served as <root>/<id>/manifest.json.
type Manifest struct {
	Format       int     `json:"format"`   // ManifestFormat
	ID           string  `json:"id"`       // stable model name, see ValidID
	Revision     string  `json:"revision"` // first 16 hex digits of SHA256: changes with the file
	Name         string  `json:"name,omitempty"`
	Architecture string  `json:"architecture"` // general.architecture, e.g. "llama"
	Size         int64   `json:"size"`         // bytes of the whole GGUF file = sum of shard sizes
	SHA256       string  `json:"sha256"`       // hex SHA-256 of the whole GGUF file
	Summary      Summary `json:"summary"`
	// Shards in file order; Shards[i].Offset == sum of the sizes before it.
	Shards []Shard `json:"shards"`
}

// Summary is what a client shows about a model before downloading it, read from the GGUF header.
// Counts that the file does not state are zero.
type Summary struct {
	Parameters    uint64 `json:"parameters"` // elements over all tensors
	Tensors       int    `json:"tensors"`
	Layers        uint32 `json:"layers,omitempty"`
	Embedding     uint32 `json:"embedding,omitempty"`
	Heads         uint32 `json:"heads,omitempty"`
	KVHeads       uint32 `json:"kv_heads,omitempty"`
	ContextLength uint32 `json:"context_length,omitempty"`
	VocabSize     int    `json:"vocab_size,omitempty"`
	// Types counts the tensors by GGML type name, e.g. {"Q8_0": 84, "F32": 41}.
	Types        map[string]int `json:"types"`
	ChatTemplate bool           `json:"chat_template"` // tokenizer.chat_template is present
}

// Shard is one contiguous piece of the GGUF file.
type Shard struct {
	Path   string `json:"path"`   // URL relative to the manifest: "<revision>/<NNNN>.bin"
	Offset int64  `json:"offset"` // first byte of the shard in the GGUF file
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex SHA-256 of the shard's bytes
}

var (
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	hexPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
	revPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// ValidID reports whether id can name a model: 1-64 characters of lower-case letters, digits,
// '.', '_' and '-', starting with a letter or digit. IDs appear in URLs and cache keys.
func ValidID(id string) bool { return idPattern.MatchString(id) && !strings.Contains(id, "..") }

// ErrInvalidManifest wraps every error of Manifest.Validate.
var ErrInvalidManifest = errors.New("invalid model manifest")

// Validate checks the manifest's invariants: known format, valid ID and revision, shards that
// tile the file exactly with well-formed paths and hashes. A client must not download from a
// manifest that fails it.
func (m *Manifest) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidManifest, fmt.Sprintf(format, args...))
	}
	switch {
	case m.Format != ManifestFormat:
		return bad("format %d, want %d", m.Format, ManifestFormat)
	case !ValidID(m.ID):
		return bad("id %q", m.ID)
	case !revPattern.MatchString(m.Revision):
		return bad("revision %q", m.Revision)
	case !hexPattern.MatchString(m.SHA256):
		return bad("sha256 %q", m.SHA256)
	case m.Revision != m.SHA256[:16]:
		return bad("revision %q does not match sha256", m.Revision)
	case m.Size <= 0:
		return bad("size %d", m.Size)
	case len(m.Shards) == 0:
		return bad("no shards")
	case len(m.Shards) > 100000:
		return bad("%d shards", len(m.Shards))
	}
	var off int64
	seen := make(map[string]bool, len(m.Shards))
	for i, s := range m.Shards {
		switch {
		case s.Offset != off:
			return bad("shard %d starts at %d, want %d", i, s.Offset, off)
		case s.Size <= 0 || s.Size > m.Size-off:
			return bad("shard %d size %d", i, s.Size)
		case !hexPattern.MatchString(s.SHA256):
			return bad("shard %d sha256 %q", i, s.SHA256)
		case !ValidShardPath(m.Revision, s.Path):
			return bad("shard %d path %q", i, s.Path)
		case seen[s.Path]:
			return bad("shard %d path %q repeats", i, s.Path)
		}
		seen[s.Path] = true
		off += s.Size
	}
	if off != m.Size {
		return bad("shards cover %d bytes of %d", off, m.Size)
	}
	return nil
}

// ShardPath is the manifest-relative path of shard i of a revision.
func ShardPath(revision string, i int) string { return fmt.Sprintf("%s/%04d.bin", revision, i) }

// ValidShardPath reports whether rev is a well-formed revision and p a shard path of it (ShardPath's
// form).
func ValidShardPath(rev, p string) bool {
	if !revPattern.MatchString(rev) {
		return false
	}
	name, ok := strings.CutPrefix(p, rev+"/")
	if !ok || len(name) < 8 || !strings.HasSuffix(name, ".bin") {
		return false
	}
	for _, c := range strings.TrimSuffix(name, ".bin") {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ModelsPrefix is the URL path under which published models are served.
const ModelsPrefix = "/models/"

// ContentType is the Content-Type of a delivered file, by its name's extension.
func ContentType(name string) string {
	switch path.Ext(name) {
	case ".wasm":
		return "application/wasm"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".webmanifest":
		return "application/manifest+json"
	case ".json":
		return "application/json"
	case ".bin":
		return "application/octet-stream"
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return mime.TypeByExtension(path.Ext(name))
}
