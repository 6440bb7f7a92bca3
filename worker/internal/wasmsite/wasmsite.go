//go:build !js

// Package wasmsite assembles the page of a browser test that runs Go in a dedicated Worker: the
// test package's ./wasm program compiled to test.wasm, Go's wasm_exec.js, and the package's
// testdata/index.html and testdata/worker.js, in one directory to serve.
package wasmsite

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// SiteEnv names a prebuilt site directory (Assemble's output) that Build returns as it is: the
// way to run a browser test on a machine without the go command (the GPU machine), with the
// test binary from `go test -c` and the site from `go run ./worker/internal/wasmsite/cmd/wasmsite`.
const SiteEnv = "AISLE_WASM_SITE"

// Build compiles ./wasm (relative to the test's package directory) and returns a temporary
// directory holding the site's files, or the prebuilt site named by $AISLE_WASM_SITE.
func Build(tb testing.TB) string {
	tb.Helper()
	if dir := os.Getenv(SiteEnv); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "test.wasm")); err != nil {
			tb.Fatalf("$%s: %v", SiteEnv, err)
		}
		return dir
	}
	dir := tb.TempDir()
	if err := Assemble(".", dir); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// Assemble builds the site of the browser test in package directory pkg into out: pkg/wasm
// compiled to test.wasm, Go's wasm_exec.js, pkg/testdata/index.html and pkg/testdata/worker.js.
func Assemble(pkg, out string) error {
	out, err := filepath.Abs(out) // the go command runs in pkg
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-o", filepath.Join(out, "test.wasm"), "./wasm")
	cmd.Dir = pkg
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build test.wasm: %v\n%s", err, b)
	}
	for src, dst := range map[string]string{
		filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"): "wasm_exec.js",
		filepath.Join(pkg, "testdata", "index.html"):                   "index.html",
		filepath.Join(pkg, "testdata", "worker.js"):                    "worker.js",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, dst), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
