package engine

import (
	"fmt"
	"runtime"
)

// gpuBackend, when set by a build that includes the WebGPU backend, tries to create a GPU runner
// for e; it returns a reason instead when the GPU cannot be used (no adapter, model too large).
var gpuBackend func(e *Engine, ctxLen int) (Runner, string, error)

// chooseBackend picks the backend: the GPU when asked for or on "auto" when one is usable, else
// the CPU. It returns the runner, the backend's name and why it was chosen.
func chooseBackend(e *Engine, opts Options, ctxLen int) (Runner, string, string, error) {
	cpu := func(reason string) (Runner, string, string, error) {
		return e.Model.NewSession(ctxLen), "cpu", fmt.Sprintf("%s; %d threads on %s/%s", reason, e.Model.Threads(), runtime.GOOS, runtime.GOARCH), nil
	}
	switch opts.Backend {
	case "cpu":
		return cpu("CPU requested")
	case "", "auto", "gpu":
	default:
		return nil, "", "", fmt.Errorf("unknown backend %q (cpu, gpu, auto)", opts.Backend)
	}
	if gpuBackend == nil {
		if opts.Backend == "gpu" {
			return nil, "", "", fmt.Errorf("the GPU backend is not part of this build")
		}
		return cpu("no GPU backend in this build")
	}
	r, why, err := gpuBackend(e, ctxLen)
	if err != nil {
		return nil, "", "", err
	}
	if r == nil {
		if opts.Backend == "gpu" {
			return nil, "", "", fmt.Errorf("GPU backend unavailable: %s", why)
		}
		return cpu("GPU unavailable: " + why)
	}
	return r, "gpu", why, nil
}
