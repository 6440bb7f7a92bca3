//go:build js && wasm

// Command aisle-sync-wasm is the catalog replica as a WebAssembly module:
// load it with wasm_exec.js and use globalThis.aisleSync (see
// aisle/sync/jsapi). The service worker may instead import aisle/sync/jsapi
// into its own module.
package main

import "aisle/sync/jsapi"

func main() {
	jsapi.Register()
	select {}
}
