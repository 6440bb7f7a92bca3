package server

import (
	"bytes"
	"container/list"
	gosync "sync"
	"sync/atomic"

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
// compressing). A page is compressed fast when it is made: most distinct
// pages are served once. One served again from the cache (a nightly page
// every device of a store pulls) is compressed again, harder, by its
// second request: fewer bytes for every device after.
type cachedPage struct {
	key   string
	json  []byte
	gz    atomic.Pointer[[]byte]
	hard  atomic.Bool // gz is (being) recompressed at gzipHard
	bytes int         // what the cache counts for it
}

// gzipped returns the page's gzip encoding, nil if it has none.
func (p *cachedPage) gzipped() []byte {
	if b := p.gz.Load(); b != nil {
		return *b
	}
	return nil
}

// reused recompresses the page at gzipHard, the first time it is called.
func (p *cachedPage) reused() {
	if p.gz.Load() != nil && p.hard.CompareAndSwap(false, true) {
		b := gzipBytes(p.json, gzipHard)
		p.gz.Store(&b)
	}
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
	p := &cachedPage{key: key, json: body, bytes: len(body)}
	if len(body) >= 1024 {
		gz := gzipBytes(body, gzipFast)
		p.gz.Store(&gz)
		p.bytes += len(gz)
	}
	return p
}

// The two gzip levels of klauspost/compress for pages of JSON changes
// (~100 KB for 500): on a page of 500 product and stock changes, level 1
// writes 12.4 KB in ~0.26 ms and level 6 9.1 KB in ~0.65 ms (the standard
// library's default level: 8.5 KB in ~2.4 ms).
const (
	gzipFast = 1
	gzipHard = 6
)

var gzipWriters = map[int]*gosync.Pool{gzipFast: gzipPool(gzipFast), gzipHard: gzipPool(gzipHard)}

func gzipPool(level int) *gosync.Pool {
	return &gosync.Pool{New: func() any {
		zw, _ := gzip.NewWriterLevel(nil, level)
		return zw
	}}
}

// gzipBytes compresses b at level (gzipFast or gzipHard) into a new slice.
func gzipBytes(b []byte, level int) []byte {
	var out bytes.Buffer
	out.Grow(len(b)/8 + 64)
	pool := gzipWriters[level]
	zw := pool.Get().(*gzip.Writer)
	zw.Reset(&out)
	zw.Write(b)
	zw.Close()
	pool.Put(zw)
	return out.Bytes()
}

func (c *pageCache) put(p *cachedPage) {
	if c == nil || c.max <= 0 {
		return
	}
	n := p.bytes
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
		c.size -= old.bytes
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
