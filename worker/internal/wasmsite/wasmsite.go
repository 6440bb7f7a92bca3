//go:build !js

// Package wasmsite assembles the page of a browser test that runs Go in a dedicated Worker: the
// test package's ./wasm program compiled to test.wasm, Go's wasm_exec.js, and the package's
// testdata/index.html and testdata/worker.js, in one directory to serve.
package wasmsite

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Build compiles ./wasm (relative to the test's package directory) and returns a temporary
// directory holding the site's files.
func Build(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "test.wasm"), "./wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build test.wasm: %v\n%s", err, out)
	}
	for src, dst := range map[string]string{
		filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"): "wasm_exec.js",
		"testdata/index.html": "index.html",
		"testdata/worker.js":  "worker.js",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
