package pwa_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"aisle/pwa"
)

// TestEngineKernelsUnderWasm runs the engine's kernel tests (worker/quant, worker/model: the
// differential tests against the references, the fuzzers' seeds) compiled for js/wasm as the
// inference worker is, with WebAssembly SIMD (engine.wasm) and without (engine-nosimd.wasm), in
// Node.js. The SIMD kernels must give the portable kernels' values bit for bit.
func TestEngineKernelsUnderWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("wasm kernel tests skipped in -short mode")
	}
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node is required in CI: %v (install it with make test-deps)", err)
		}
		t.Skip("node not found")
	}
	for _, build := range []struct {
		name     string
		env      []string
		simdFile bool // whether worker/quant compiles intdot_wasm.go
	}{{"simd", pwa.SIMDBuild, true}, {"nosimd", nil, false}} {
		t.Run(build.name, func(t *testing.T) {
			env := append(append(os.Environ(), "GOOS=js", "GOARCH=wasm"), build.env...)
			files, err := goCommand(env, "list", "-f", "{{.GoFiles}}", "./worker/quant").Output()
			if err != nil {
				t.Fatalf("go list (%s): %v", strings.Join(build.env, " "), err)
			}
			if got := strings.Contains(string(files), "intdot_wasm.go"); got != build.simdFile {
				t.Fatalf("%s: worker/quant compiles intdot_wasm.go: %v, want %v (files %s)", strings.Join(build.env, " "), got, build.simdFile, files)
			}
			goroot, err := goCommand(env, "env", "GOROOT").Output()
			if err != nil {
				t.Fatalf("go env GOROOT (%s): %v", strings.Join(build.env, " "), err)
			}
			exec := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "go_js_wasm_exec")
			cmd := goCommand(env, "test", "-count=1", "-exec", exec, "./worker/quant", "./worker/model")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go test for js/wasm (%s): %v\n%s", strings.Join(build.env, " "), err, out)
			}
			t.Logf("%s", out)
		})
	}
}

func goCommand(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = ".."
	cmd.Env = env
	return cmd
}
