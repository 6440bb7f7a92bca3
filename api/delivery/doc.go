// Package delivery publishes language models to browsers and serves them, together with the
// app's static files, over HTTP.
//
// The layout and its types (index, manifests, shards; 16-64 MiB shards by default) are the
// delivery protocol in aisle/sync/published, which the service worker uses too. Publish writes
// that layout from any GGUF; Handler serves it.
package delivery
