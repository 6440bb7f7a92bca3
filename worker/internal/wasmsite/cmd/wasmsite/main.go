// Command wasmsite assembles the page of a browser test (package wasmsite) ahead of time, for a
// machine without the go command:
//
//	go run ./worker/internal/wasmsite/cmd/wasmsite -o DIR ./worker/gpu/browsertest
//
// then, there, AISLE_WASM_SITE=DIR with the test binary from `go test -c`.
package main

import (
	"flag"
	"fmt"
	"os"

	"aisle/worker/internal/wasmsite"
)

func main() {
	out := flag.String("o", "", "output directory")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: wasmsite -o DIR PACKAGE_DIR")
		os.Exit(2)
	}
	if err := wasmsite.Assemble(flag.Arg(0), *out); err != nil {
		fmt.Fprintln(os.Stderr, "wasmsite:", err)
		os.Exit(1)
	}
}
