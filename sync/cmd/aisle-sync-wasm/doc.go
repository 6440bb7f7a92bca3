//go:build !(js && wasm)

// Command aisle-sync-wasm is the catalog replica as a WebAssembly module;
// it only does something when built with GOOS=js GOARCH=wasm (main_js.go).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "aisle-sync-wasm: build with GOOS=js GOARCH=wasm")
	os.Exit(2)
}
