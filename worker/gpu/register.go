//go:build cgo || js

package gpu

import (
	"fmt"

	"aisle/worker/engine"
)

func init() {
	engine.RegisterGPUBackend(engineBackend)
	engine.RegisterGPUProbe(probe)
}

// probe opens the default adapter and device, tells whether it is hardware, and closes it.
func probe() (bool, string) {
	d, err := Open(Options{})
	if err != nil {
		return false, err.Error()
	}
	defer d.Destroy()
	if d.Software {
		return false, fmt.Sprintf("%s is a software adapter, slower than the CPU path", d.Adapter)
	}
	return true, d.Adapter
}

// engineBackend creates the engine's GPU runner, or says why the CPU should be used instead: no
// adapter, a software adapter when the GPU was not requested, or a model the device cannot hold.
func engineBackend(e *engine.Engine, ctxLen int, requested bool) (engine.Runner, string, error) {
	d, err := Open(Options{})
	if err != nil {
		return nil, err.Error(), nil
	}
	if d.Software && !requested {
		d.Destroy()
		return nil, fmt.Sprintf("%s is a software adapter, slower than the CPU path", d.Adapter), nil
	}
	r, err := NewRunner(d, e.Model, ctxLen, RunnerOptions{})
	if err != nil {
		d.Destroy()
		return nil, fmt.Sprintf("the model does not fit %s: %v", d.Adapter, err), nil
	}
	r.ownDev = true
	return engineRunner{r}, fmt.Sprintf("%s, %.1f MiB of weights in GPU memory, %d MiB binding limit", d.Adapter, float64(r.WeightBytes())/(1<<20), d.MaxBinding>>20), nil
}

// engineRunner is a Runner as the engine sees it: a Runner that samples on the device.
type engineRunner struct{ *Runner }

// StartDecode is Runner.StartDecode returning the engine's interface.
func (r engineRunner) StartDecode(tokens []int, n int, masked bool) (engine.TokenStream, error) {
	d, err := r.Runner.StartDecode(tokens, n, masked)
	if err != nil {
		return nil, err
	}
	return d, nil
}

var (
	_ engine.Runner        = (*Runner)(nil)
	_ engine.DeviceSampler = engineRunner{}
)
