//go:build js && wasm

// Command sw is the Go half of the service worker (sw.wasm). The JavaScript shim (sw/shim/sw.js)
// starts one instance per request, as github.com/syumai/workers expects; each instance builds the
// handler tree, serves its one request and exits. Everything that must outlive a request lives
// in Cache Storage or in the shim's globalThis.aisle (the inference worker's port).
package main

import (
	"context"
	"net/http"
	"syscall/js"

	"github.com/syumai/workers"

	"aisle/sw"
	"aisle/worker/browser/modelstore"
	"aisle/worker/browser/webapi"
)

func main() {
	g := js.Global()
	origin := g.Get("location").Get("origin").String()
	version := ""
	if reg := g.Get("aisle"); reg.Truthy() {
		version = reg.Get("version").String()
	}
	caches := webapi.CacheStorage{}
	store := &modelstore.Store{Hash: webapi.SHA256, Cache: lazyCache{caches}}
	workers.Serve(&sw.App{
		API: &sw.API{Engine: &portEngine{}, Models: sw.StoreModels{Store: store}},
		Shell: &sw.Shell{Caches: caches, Origin: origin, Version: version, Direct: webapi.ServeCached,
			// sw.js imports simd.js, which sets it
			Features: map[string]bool{sw.FeatureWasmSIMD: g.Get("aisleWasmSIMD").Truthy()}},
		Downloader: &sw.Downloader{Store: store, Base: origin + "/models/", Free: webapi.Free,
			// Shards go to Cache Storage only: "no-store" keeps a second copy out of the HTTP cache.
			Client: &http.Client{Transport: &webapi.Transport{Cache: "no-store"}}},
		Store:         store,
		Conversations: &sw.Conversations{Storage: webapi.Records{DB: "aisle-conversations", Store: "by-store"}}, // a record per store
		Estimate:      webapi.Estimate,
		Lock:          webapi.Lock,
		ClientGone:    webapi.ClientGone,
	})
}

// lazyCache opens the models cache on first use, so requests that never touch models (the app
// shell) do not pay for it.
type lazyCache struct{ caches webapi.CacheStorage }

func (l lazyCache) open(ctx context.Context) (modelstore.Cache, error) {
	return l.caches.Open(ctx, modelstore.CacheName)
}

func (l lazyCache) Get(ctx context.Context, key string) ([]byte, error) {
	c, err := l.open(ctx)
	if err != nil {
		return nil, err
	}
	return c.Get(ctx, key)
}

func (l lazyCache) Put(ctx context.Context, key string, data []byte, ct string) error {
	c, err := l.open(ctx)
	if err != nil {
		return err
	}
	return c.Put(ctx, key, data, ct)
}

func (l lazyCache) Delete(ctx context.Context, key string) error {
	c, err := l.open(ctx)
	if err != nil {
		return err
	}
	return c.Delete(ctx, key)
}

func (l lazyCache) Keys(ctx context.Context) ([]string, error) {
	c, err := l.open(ctx)
	if err != nil {
		return nil, err
	}
	return c.Keys(ctx)
}
