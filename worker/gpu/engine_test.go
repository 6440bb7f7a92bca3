//go:build cgo && !js

package gpu

import (
	"context"
	"strings"
	"testing"

	"aisle/worker/engine"
	"aisle/worker/gguf"
)

func generate(t *testing.T, backend string) (*engine.Engine, engine.Result) {
	t.Helper()
	f, err := gguf.Open(stories)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	e, err := engine.Load(f, engine.Options{Backend: backend, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	res, err := e.Generate(context.Background(), engine.Request{Prompt: "Once upon a time", MaxTokens: 64, IgnoreEOS: true},
		func(engine.Delta) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return e, res
}

// TestEngineBackends: importing this package gives the engine a GPU backend. "gpu" runs on any
// adapter (here possibly a software one) and generates the same text as "cpu"; "auto" does not
// pick a software adapter, and says why.
func TestEngineBackends(t *testing.T) {
	d := mustDevice(t)
	eg, gpuRes := generate(t, "gpu")
	if eg.Backend != "gpu" {
		t.Fatalf("backend gpu: engine chose %q (%s)", eg.Backend, eg.BackendReason)
	}
	t.Logf("gpu: %s", eg.BackendReason)
	ec, cpuRes := generate(t, "cpu")
	if ec.Backend != "cpu" {
		t.Fatalf("backend cpu: engine chose %q", ec.Backend)
	}
	if gpuRes.Text != cpuRes.Text || len(gpuRes.Tokens) != 64 {
		t.Fatalf("GPU and CPU texts differ:\n gpu %q\n cpu %q", gpuRes.Text, cpuRes.Text)
	}
	ea, _ := generate(t, "auto")
	t.Logf("auto: %s: %s", ea.Backend, ea.BackendReason)
	if d.Software && (ea.Backend != "cpu" || !strings.Contains(ea.BackendReason, "software adapter")) {
		t.Fatalf("auto with the software adapter %s chose %s (%s)", d.Adapter, ea.Backend, ea.BackendReason)
	}
	if !d.Software && ea.Backend != "gpu" {
		t.Fatalf("auto with the hardware adapter %s chose %s (%s)", d.Adapter, ea.Backend, ea.BackendReason)
	}
}

// TestEngineWithoutAdapter: with no Vulkan driver visible, "auto" falls back to the CPU (same
// output as "cpu", checked above) and says why; "gpu" fails with the reason.
func TestEngineWithoutAdapter(t *testing.T) {
	mustDevice(t) // the real driver works; hide it from here on
	t.Setenv("VK_ICD_FILENAMES", "/nonexistent/icd.json")
	t.Setenv("VK_DRIVER_FILES", "/nonexistent/icd.json")
	ea, res := generate(t, "auto")
	t.Logf("auto: %s: %s", ea.Backend, ea.BackendReason)
	if ea.Backend != "cpu" || !strings.Contains(ea.BackendReason, "no WebGPU adapter") || len(res.Tokens) != 64 {
		t.Fatalf("auto without an adapter chose %s (%s)", ea.Backend, ea.BackendReason)
	}
	f, err := gguf.Open(stories)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := engine.Load(f, engine.Options{Backend: "gpu"})
	if err == nil {
		e.Close()
		t.Fatalf("backend gpu without an adapter: no error")
	}
	t.Logf("gpu: %v", err)
}
