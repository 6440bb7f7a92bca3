//go:build cgo || js

package gpu

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cogentcore/webgpu/wgpu"
)

// CopyBandwidth measures the device's memory bandwidth with shaders/copy.wgsl: reps copies of a
// buffer of size bytes in one command buffer, counting bytes read plus bytes written. It returns
// bytes per second.
func (d *Device) CopyBandwidth(size uint64, reps int) (float64, error) {
	a := d.NewArena()
	defer a.Destroy()
	size &^= 16*256 - 1
	src, err := a.New("copy src", size, usageStorage)
	if err != nil {
		return 0, err
	}
	dst, err := a.New("copy dst", size, usageStorage)
	if err != nil {
		return 0, err
	}
	k, err := d.copyKernel()
	if err != nil {
		return 0, err
	}
	bg, err := a.bindGroup(k, whole(src), whole(dst))
	if err != nil {
		return 0, err
	}
	stage, err := a.New("stage", 16, usageRead)
	if err != nil {
		return 0, err
	}
	vecs := size / 16
	groups := (vecs + 255) / 256
	gx, gy := uint32(min(groups, 65535)), uint32((groups+65534)/65535)
	run := func(n int) (time.Duration, error) {
		enc, err := d.dev.CreateCommandEncoder(nil)
		if err != nil {
			return 0, err
		}
		defer enc.Release()
		pass := enc.BeginComputePass(nil)
		for i := 0; i < n; i++ {
			dispatch(pass, k.cp, bg, gx, gy)
		}
		if err := endPass(pass); err != nil {
			return 0, err
		}
		start := time.Now()
		_, err = d.read(enc, dst, stage, 16)
		return time.Since(start), err
	}
	if _, err := run(1); err != nil { // warm up
		return 0, err
	}
	one, err := run(1)
	if err != nil {
		return 0, err
	}
	many, err := run(reps + 1)
	if err != nil {
		return 0, err
	}
	per := (many - one).Seconds() / float64(reps)
	if per <= 0 {
		return 0, fmt.Errorf("gpu: copy timing did not grow with the copies (%v, %v)", one, many)
	}
	return 2 * float64(size) / per, nil
}

// DispatchCost measures the per-dispatch cost of a chain of n tiny dependent dispatches in one
// compute pass (each reads and writes the same 16 bytes, so they serialise as the forward
// pass's kernels do), and the cost of one submission with a 4-byte readback (the fixed cost of
// a decode step).
func (d *Device) DispatchCost(n int) (perDispatch, roundTrip time.Duration, err error) {
	a := d.NewArena()
	defer a.Destroy()
	src, err := a.New("src", 256, usageStorage)
	if err != nil {
		return 0, 0, err
	}
	dst, err := a.New("dst", 256, usageStorage)
	if err != nil {
		return 0, 0, err
	}
	stage, err := a.New("stage", 16, usageRead)
	if err != nil {
		return 0, 0, err
	}
	k, err := d.copyKernel()
	if err != nil {
		return 0, 0, err
	}
	bg1, err := a.bindGroup(k, whole(src), whole(dst))
	if err != nil {
		return 0, 0, err
	}
	bg2, err := a.bindGroup(k, whole(dst), whole(src))
	if err != nil {
		return 0, 0, err
	}
	run := func(count int) (time.Duration, error) {
		start := time.Now()
		enc, err := d.dev.CreateCommandEncoder(nil)
		if err != nil {
			return 0, err
		}
		defer enc.Release()
		pass := enc.BeginComputePass(nil)
		for i := 0; i < count; i++ {
			dispatch(pass, k.cp, []*wgpu.BindGroup{bg1, bg2}[i%2], 1, 1)
		}
		if err := endPass(pass); err != nil {
			return 0, err
		}
		_, err = d.read(enc, dst, stage, 16)
		return time.Since(start), err
	}
	best := func(count int) (time.Duration, error) {
		var b time.Duration
		for i := 0; i < 5; i++ {
			t, err := run(count)
			if err != nil {
				return 0, err
			}
			if i == 0 || t < b {
				b = t
			}
		}
		return b, nil
	}
	if roundTrip, err = best(0); err != nil {
		return 0, 0, err
	}
	many, err := best(n)
	if err != nil {
		return 0, 0, err
	}
	return (many - roundTrip) / time.Duration(n), roundTrip, nil
}

// Dispatches is the number of kernel dispatches of one decode step (one token, greedy).
func (r *Runner) Dispatches() int {
	n := len(r.outLast) + len(r.argmax)
	for _, o := range r.layerOps {
		if o.p1 != nil {
			n++
		}
	}
	return n
}

// Profile times each kind of kernel of one decode step at the current position: the step's
// dispatches of that kind, repeated reps times in one command buffer (minus the cost of an empty
// submission), divided by reps. Kinds are the kernels' file names plus, for matmuls, the weight
// type and fusion. It leaves the KV cache as it was (the repeated dispatches rewrite the same
// position).
func (r *Runner) Profile(reps int) (map[string]time.Duration, error) {
	if r.pos >= r.ctxLen || r.pos == 0 {
		return nil, fmt.Errorf("gpu: profile needs 0 < position < context")
	}
	if err := r.setMasked(false); err != nil { // time argmax as plain decoding runs it
		return nil, err
	}
	groups := map[string][]op{}
	all := append(append(append([]op(nil), r.layerOps...), r.outLast...), r.argmax...)
	for _, o := range all {
		if o.p1 != nil {
			groups[o.p1.name] = append(groups[o.p1.name], o)
		}
	}
	_, roundTrip, err := r.d.DispatchCost(1)
	if err != nil {
		return nil, err
	}
	out := map[string]time.Duration{}
	saved := r.layerOps
	defer func() { r.layerOps = saved }()
	for name, ops := range groups {
		var rep []op
		for i := 0; i < reps; i++ {
			rep = append(rep, ops...)
		}
		r.layerOps = rep
		best := time.Duration(0)
		for try := 0; try < 3; try++ {
			start := time.Now()
			enc, err := r.encode(1)
			if err != nil {
				return nil, err
			}
			_, err = r.d.read(enc, r.res, r.stage, 4)
			enc.Release()
			if err != nil {
				return nil, err
			}
			if t := time.Since(start); try == 0 || t < best {
				best = t
			}
		}
		out[fmt.Sprintf("%s x%d", name, len(ops))] = max(best-roundTrip, 0) / time.Duration(reps)
	}
	return out, nil
}

// EncodeCost is the host's time to record one decode step: the median of reps recordings of
// its command buffer, each finished but never submitted. Pipelined decode overlaps recording
// with the GPU's work, so a step cannot take less than this; in a browser, where each WebGPU
// call crosses from WebAssembly into JavaScript, it can be most of a step.
func (r *Runner) EncodeCost(reps int) (time.Duration, error) {
	if reps <= 0 {
		return 0, errors.New("gpu: EncodeCost needs reps > 0")
	}
	step := r.step
	defer func() { r.step = step }() // the sampling seed sequence stays as it was
	times := make([]time.Duration, reps)
	for i := range times {
		start := time.Now()
		enc, err := r.encode(1, r.outLast, r.argmax)
		if err != nil {
			return 0, err
		}
		cmd, err := enc.Finish(nil)
		enc.Release()
		if err != nil {
			return 0, fmt.Errorf("gpu: finish commands: %w", err)
		}
		cmd.Release()
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times[reps/2], nil
}
