//go:build js && wasm

package webapi

import (
	"context"
	"fmt"
	"io"
	"syscall/js"

	"aisle/worker/browser/modelstore"
)

// CacheStorage is the browser's caches object (sw.CacheStorage).
type CacheStorage struct{}

// Open opens (creating) the named cache.
func (CacheStorage) Open(ctx context.Context, name string) (modelstore.Cache, error) {
	c, err := Await(ctx, global.Get("caches").Call("open", name))
	if err != nil {
		return nil, err
	}
	return &Cache{c: c, origin: global.Get("location").Get("origin").String()}, nil
}

// Delete deletes the named cache.
func (CacheStorage) Delete(ctx context.Context, name string) error {
	_, err := Await(ctx, global.Get("caches").Call("delete", name))
	return err
}

// Names lists the caches.
func (CacheStorage) Names(ctx context.Context) ([]string, error) {
	v, err := Await(ctx, global.Get("caches").Call("keys"))
	if err != nil {
		return nil, err
	}
	out := make([]string, v.Length())
	for i := range out {
		out[i] = v.Index(i).String()
	}
	return out, nil
}

// Cache is one Cache Storage cache seen as a modelstore.Cache: keys are URL paths of this origin.
type Cache struct {
	c      js.Value
	origin string
}

var _ modelstore.Cache = (*Cache)(nil)

func (c *Cache) url(key string) string { return c.origin + key }

// body returns the ArrayBuffer stored under key, or modelstore.ErrNotFound.
func (c *Cache) body(ctx context.Context, key string) (js.Value, error) {
	resp, err := Await(ctx, c.c.Call("match", c.url(key)))
	if err != nil {
		return js.Undefined(), err
	}
	if !resp.Truthy() {
		return js.Undefined(), modelstore.ErrNotFound
	}
	return Await(ctx, resp.Call("arrayBuffer"))
}

// Get returns the body stored under key, or modelstore.ErrNotFound.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	buf, err := c.body(ctx, key)
	if err != nil {
		return nil, err
	}
	return Bytes(buf), nil
}

var _ modelstore.BlobCache = (*Cache)(nil)

// GetBlob returns the body stored under key as a modelstore.Blob that stays in JavaScript memory
// (only what is read from it is copied into Go's), or modelstore.ErrNotFound.
func (c *Cache) GetBlob(ctx context.Context, key string) (modelstore.Blob, error) {
	buf, err := c.body(ctx, key)
	if err != nil {
		return nil, err
	}
	return jsBlob{global.Get("Uint8Array").New(buf)}, nil
}

// jsBlob is a modelstore.Blob over a Uint8Array.
type jsBlob struct{ u8 js.Value }

func (b jsBlob) Size() int64 { return int64(b.u8.Get("byteLength").Int()) }

// ReadAt implements io.ReaderAt.
func (b jsBlob) ReadAt(p []byte, off int64) (int, error) {
	size := b.Size()
	if off < 0 || off > size {
		return 0, fmt.Errorf("webapi: read at %d of a %d-byte blob", off, size)
	}
	n := js.CopyBytesToGo(p, b.u8.Call("subarray", off, min(off+int64(len(p)), size)))
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// SHA256 hashes the blob with SubtleCrypto where it lies.
func (b jsBlob) SHA256(ctx context.Context) ([32]byte, error) { return digest(ctx, b.u8) }

// Put stores data under key as a 200 response with the given Content-Type.
func (c *Cache) Put(ctx context.Context, key string, data []byte, contentType string) error {
	init := js.ValueOf(map[string]any{"status": 200, "headers": map[string]any{
		"Content-Type": contentType, "Content-Length": len(data)}})
	resp := global.Get("Response").New(Uint8Array(data), init)
	_, err := Await(ctx, c.c.Call("put", c.url(key), resp))
	return err
}

// Delete removes key.
func (c *Cache) Delete(ctx context.Context, key string) error {
	_, err := Await(ctx, c.c.Call("delete", c.url(key)))
	return err
}

// Keys lists the stored URL paths.
func (c *Cache) Keys(ctx context.Context) ([]string, error) {
	v, err := Await(ctx, c.c.Call("keys"))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, v.Length())
	for i := 0; i < v.Length(); i++ {
		u := global.Get("URL").New(v.Index(i).Get("url"))
		out = append(out, u.Get("pathname").String())
	}
	return out, nil
}
