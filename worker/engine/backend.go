package engine

import (
	"fmt"
	"runtime"
)

// gpuBackend, when registered, tries to create a GPU runner for e; it returns a nil Runner and a
// reason instead when the GPU cannot or should not be used (no adapter, model too large, or a
// software adapter that is slower than the CPU while the GPU was not explicitly requested).
var gpuBackend func(e *Engine, ctxLen int, requested bool) (Runner, string, error)

// RegisterGPUBackend installs the GPU backend. Package aisle/worker/gpu calls it from its init,
// so a program gets the GPU backend by importing that package for its side effect
// (import _ "aisle/worker/gpu"); without it the engine runs on the CPU only. requested is true
// when Options.Backend is "gpu" (use any adapter, software ones included) and false on "auto".
// Call it before Load, from init.
func RegisterGPUBackend(f func(e *Engine, ctxLen int, requested bool) (Runner, string, error)) {
	gpuBackend = f
}

// gpuProbe, when registered, reports whether "auto" would pick the GPU: a hardware adapter
// exists (it does not check that a given model fits).
var gpuProbe func() (bool, string)

// RegisterGPUProbe installs the check behind GPUUsable (package aisle/worker/gpu, from init).
func RegisterGPUProbe(f func() (usable bool, why string)) { gpuProbe = f }

// GPUUsable reports whether Options.Backend "auto" would run on a GPU (a hardware adapter is
// there), and why not: for a caller that chooses how to load a model before loading it (a model
// split across workers runs on the CPU only).
func GPUUsable() (bool, string) {
	if gpuProbe == nil {
		return false, "no GPU backend in this build"
	}
	return gpuProbe()
}

// chooseBackend picks the backend: the GPU when asked for or on "auto" when one is usable, else
// the CPU. It returns the runner, the backend's name and why it was chosen.
func chooseBackend(e *Engine, opts Options, ctxLen int) (Runner, string, string, error) {
	cpu := func(reason string) (Runner, string, string, error) {
		return e.Model.NewSession(ctxLen), "cpu", fmt.Sprintf("%s; %d threads on %s/%s", reason, e.Model.Threads(), runtime.GOOS, runtime.GOARCH), nil
	}
	if s := e.Model.Share(); s.Split() {
		if opts.Backend == "gpu" {
			return nil, "", "", fmt.Errorf("a model split across workers runs on the CPU only")
		}
		return cpu(fmt.Sprintf("split by rows across %d workers", s.Parts))
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
	r, why, err := gpuBackend(e, ctxLen, opts.Backend == "gpu")
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
