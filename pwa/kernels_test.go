package pwa_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"aisle/pwa"
	"aisle/worker/gguf"
	"aisle/worker/model/modeltest"
	"aisle/worker/modelgen"
	"aisle/worker/quant"
)

// TestEngineKernelsUnderWasm runs the engine's kernel tests (worker/quant, worker/model: the
// differential tests against the references, the fuzzers' seeds) compiled for js/wasm as the
// inference worker is, with WebAssembly SIMD (engine.wasm) and without (engine-nosimd.wasm), in
// Node.js. The SIMD kernels must give the portable kernels' values bit for bit, and random models
// of every architecture and tensor type the native engine's greedy tokens (nativeGreedyCases; in
// the SIMD build, which browsers run: without SIMD the kernels are the references themselves).
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
	cases := nativeGreedyCases(t)
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
			if build.name == "simd" {
				// the browsers' build; without SIMD the kernels are the references themselves
				env = append(env, "AISLE_GREEDY_CASES="+cases)
			}
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

// nativeGreedyCases writes random models of every architecture and tensor type the engine runs
// and their greedy continuations on the native engine to a file for worker/model's
// TestGreedyCasesFile, and returns its path.
func nativeGreedyCases(t *testing.T) string {
	dir := t.TempDir()
	var cases []modeltest.GreedyCase
	for _, c := range []struct{ arch, shape string }{
		{"llama", "tiny"}, {"qwen2", "tiny"}, {"qwen3", "tiny-wide-heads"},
	} {
		// the 32,000 tokens of llama's vocabulary for all three (the forward pass does not read the
		// tokenizer; qwen2's 151,936 would make each output matrix five times larger)
		vf, err := gguf.Open("../worker/testdata/vocab/ggml-vocab-llama-spm.gguf")
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range []quant.Type{quant.F32, quant.F16, quant.BF16, quant.Q8_0, quant.Q4_0, quant.Q4_K, quant.Q5_K, quant.Q6_K} {
			path := filepath.Join(dir, fmt.Sprintf("%s-%s.gguf", c.arch, typ))
			var buf bytes.Buffer
			if err := modelgen.Write(&buf, modelgen.Spec{Arch: c.arch, Shape: modelgen.Shapes[c.shape], Type: typ, Vocab: vf, Seed: 7}); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			gc, err := modeltest.Greedy(path, []int{1, 300, 301, 302, 50, 51, 900, 7}, 32)
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, gc)
		}
		vf.Close()
	}
	b, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cases.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
