package delivery

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"sync"
	"time"
)

// etagCache remembers the strong ETag (a SHA-256 prefix of the content) of each served file,
// keyed by file system, name, size and modification time, so a file is hashed once per change.
type etagCache struct {
	mu sync.Mutex
	m  map[etagKey]string
}

type etagKey struct {
	root  string // which file system: "models" or "app"
	name  string
	size  int64
	mtime time.Time
}

func newETagCache() *etagCache { return &etagCache{m: make(map[etagKey]string)} }

// get returns the ETag of the file and leaves rs at offset 0.
func (c *etagCache) get(root, name string, st fs.FileInfo, rs io.ReadSeeker) (string, error) {
	k := etagKey{root, name, st.Size(), st.ModTime()}
	c.mu.Lock()
	tag, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return tag, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, rs); err != nil {
		return "", err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	tag = `"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
	c.mu.Lock()
	c.m[k] = tag
	c.mu.Unlock()
	return tag, nil
}
