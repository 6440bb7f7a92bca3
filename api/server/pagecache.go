package server

import (
	"bytes"
	"container/list"
	gosync "sync"

	"github.com/klauspost/compress/gzip"
)

// pageCache keeps encoded pages of the changes endpoint. Pages are
// immutable for their parameters (see wire.Page), and every device of a
// store pulls the same nightly pages, so most pulls are served from here
// without touching the database. Bounded by total bytes, least recently
// used first out.
type pageCache struct {
	mu    gosync.Mutex // guards everything below
	max   int
	size  int
	ll    *list.List // of *cachedPage, most recent at the front
	index map[string]*list.Element
}

// cachedPage is a page's JSON and its gzip encoding (nil when not worth
// compressing).
type cachedPage struct {
	key      string
	json, gz []byte
}

func newPageCache(maxBytes int) *pageCache {
	return &pageCache{max: maxBytes, ll: list.New(), index: map[string]*list.Element{}}
}

func (c *pageCache) get(key string) (*cachedPage, bool) {
	if c == nil || c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.index[key]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*cachedPage), true
}

// encodePage builds a cachedPage, compressing bodies of 1 KiB or more.
func encodePage(key string, body []byte) *cachedPage {
	p := &cachedPage{key: key, json: body}
	if len(body) >= 1024 {
		p.gz = gzipBytes(body)
	}
	return p
}

// pageGzipLevel trades size for time on a page of JSON changes (~100 KB
// for 500): level 5 of klauspost/compress writes ~10% more than the
// standard library's default level in about a fifth of its time; the
// device's download is still ~1/12 of the JSON.
const pageGzipLevel = 5

var gzipWriters = gosync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, pageGzipLevel)
	return zw
}}

// gzipBytes compresses b into a new slice.
func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b)/8 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&out)
	zw.Write(b)
	zw.Close()
	gzipWriters.Put(zw)
	return out.Bytes()
}

func (c *pageCache) put(p *cachedPage) {
	if c == nil || c.max <= 0 {
		return
	}
	n := len(p.json) + len(p.gz)
	if n > c.max/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.index[p.key]; ok {
		return
	}
	c.index[p.key] = c.ll.PushFront(p)
	c.size += n
	for c.size > c.max {
		el := c.ll.Back()
		old := el.Value.(*cachedPage)
		c.ll.Remove(el)
		delete(c.index, old.key)
		c.size -= len(old.json) + len(old.gz)
	}
}

func (c *pageCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	c.index = map[string]*list.Element{}
	c.size = 0
}
