// Package shim holds the service worker's JavaScript half (sw.js) and the patch that lets
// github.com/syumai/workers run on the Go toolchain's wasm_exec.js.
package shim

import (
	_ "embed"
	"errors"
	"strings"
)

// SWJS is sw.js with the placeholder __AISLE_VERSION__ for the precache version.
//
//go:embed sw.js
var SWJS string

// ServiceWorker returns sw.js for the given precache version.
func ServiceWorker(version string) string {
	return strings.ReplaceAll(SWJS, "__AISLE_VERSION__", version)
}

// PatchWasmExec turns the Go toolchain's wasm_exec.js into the variant syumai/workers needs:
// Go.run takes a second argument, the runtime context, which Go code sees as globalThis.context
// (it carries the binding through which each instance registers its request handler). The rest
// of globalThis is passed through unchanged.
func PatchWasmExec(src string) (string, error) {
	steps := []struct{ old, new string }{
		{"async run(instance) {", "async run(instance, context) {\n\t\t\tconst globalProxy = new Proxy(globalThis, {\n\t\t\t\tget(target, prop) { return prop === 'context' ? context : Reflect.get(target, prop, target); },\n\t\t\t});"},
		{"\t\t\t\tfalse,\n\t\t\t\tglobalThis,\n", "\t\t\t\tfalse,\n\t\t\t\tglobalProxy,\n"},
		{"[globalThis, 5],", "[globalProxy, 5],"},
	}
	for _, s := range steps {
		if strings.Count(src, s.old) != 1 {
			return "", errors.New("shim: wasm_exec.js of this Go version has an unexpected shape; cannot patch it for syumai/workers")
		}
		src = strings.Replace(src, s.old, s.new, 1)
	}
	return src, nil
}
