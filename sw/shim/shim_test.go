package shim

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestPatchWasmExec(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatalf("the Go toolchain's wasm_exec.js: %v", err)
	}
	got, err := PatchWasmExec(string(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"async run(instance, context)", "globalProxy,\n", "[globalProxy, 5]"} {
		if !strings.Contains(got, want) {
			t.Errorf("patched file lacks %q", want)
		}
	}
	if _, err := PatchWasmExec("function nothing() {}"); err == nil {
		t.Error("patching an unknown file succeeded")
	}
}

func TestServiceWorkerVersion(t *testing.T) {
	js := ServiceWorker("0123456789abcdef")
	if !strings.Contains(js, "const VERSION = '0123456789abcdef';") || strings.Contains(js, "__AISLE_VERSION__") {
		t.Error("version not substituted")
	}
}
