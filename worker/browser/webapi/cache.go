//go:build js && wasm

package webapi

import (
	"context"
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

// Get returns the body stored under key, or modelstore.ErrNotFound.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	resp, err := Await(ctx, c.c.Call("match", c.url(key)))
	if err != nil {
		return nil, err
	}
	if !resp.Truthy() {
		return nil, modelstore.ErrNotFound
	}
	buf, err := Await(ctx, resp.Call("arrayBuffer"))
	if err != nil {
		return nil, err
	}
	return Bytes(buf), nil
}

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
