//go:build js && wasm

package webapi

import (
	"net/http"
	"syscall/js"
)

// rawBodyWriter is implemented by the response writer of github.com/syumai/workers: the given
// ReadableStream becomes the response body as is.
type rawBodyWriter interface {
	WriteRawJSBody(body js.Value)
}

// ServeCached answers r with the response stored under key in the named Cache Storage cache,
// streaming the stored body straight to the page (sw.Shell.Direct). It reports false when the
// entry is absent or w cannot take a raw body.
func ServeCached(w http.ResponseWriter, r *http.Request, cache, key, contentType string) bool {
	raw, ok := w.(rawBodyWriter)
	if !ok {
		return false
	}
	c, err := Await(r.Context(), global.Get("caches").Call("open", cache))
	if err != nil {
		return false
	}
	resp, err := Await(r.Context(), c.Call("match", global.Get("location").Get("origin").String()+key))
	if err != nil || !resp.Truthy() {
		return false
	}
	w.Header().Set("Content-Type", contentType)
	if n := resp.Get("headers").Call("get", "Content-Length"); n.Truthy() {
		w.Header().Set("Content-Length", n.String())
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead && resp.Get("body").Truthy() {
		raw.WriteRawJSBody(resp.Get("body"))
	}
	return true
}
