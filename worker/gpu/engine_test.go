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

// TestEngineDeviceSamplingTurns: through the engine, greedy generation on the GPU (sampled on the
// device, token ids read back) keeps the KV cache consistent across turns, stops on stop strings,
// and matches the CPU path turn by turn.
func TestEngineDeviceSamplingTurns(t *testing.T) {
	mustDevice(t)
	turns := func(backend string) []engine.Result {
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
		var out []engine.Result
		first, err := e.Generate(context.Background(), engine.Request{Prompt: "Once upon a time", MaxTokens: 20, Stop: []string{"Lily."}},
			func(engine.Delta) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, first)
		next := append(append([]int(nil), first.PromptTokens...), first.Tokens...)
		next = append(next, e.Tok.Encode(" She", false, false)...)
		second, err := e.Generate(context.Background(), engine.Request{PromptTokens: next, MaxTokens: 30},
			func(engine.Delta) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if second.CachedTokens < len(first.PromptTokens)+len(first.Tokens)-1 {
			t.Errorf("%s: second turn reused %d tokens", backend, second.CachedTokens)
		}
		return append(out, second)
	}
	g, c := turns("gpu"), turns("cpu")
	for i := range g {
		if g[i].Text != c[i].Text || g[i].FinishReason != c[i].FinishReason {
			t.Errorf("turn %d: gpu %q (%s), cpu %q (%s)", i, g[i].Text, g[i].FinishReason, c[i].Text, c[i].FinishReason)
		}
	}
	if g[0].FinishReason != "stop" || !strings.HasSuffix(g[0].Text, "named ") {
		t.Errorf("first turn did not stop before the stop string: %q (%s)", g[0].Text, g[0].FinishReason)
	}
}
