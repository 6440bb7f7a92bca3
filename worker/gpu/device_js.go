//go:build js

package gpu

import (
	"fmt"
	"syscall/js"

	"github.com/cogentcore/webgpu/jsx"
	"github.com/cogentcore/webgpu/wgpu"
)

// requestDevice asks for a device at WebGPU's default limits: the library's browser backend
// does not pass RequiredLimits (and panics on RequiredFeatures), so the kernels are written for
// the defaults (128 MiB per storage binding, 256 MiB per buffer, 16 KiB workgroup memory).
// The library's Queue.WriteBuffer reads globalThis.wasm.instance.exports.mem: the page or worker
// that starts the Go program must set globalThis.wasm to the WebAssembly instantiation result
// (see worker/gpu/browsertest/testdata/worker.js); requestDevice checks for it.
func requestDevice(ad *wgpu.Adapter) (*wgpu.Device, error) {
	if w := js.Global().Get("wasm"); !w.Truthy() || !w.Get("instance").Truthy() {
		return nil, fmt.Errorf("globalThis.wasm is not set to the WebAssembly instantiation result (needed by Queue.WriteBuffer)")
	}
	return ad.RequestDevice(nil)
}

// destroyDevice calls GPUDevice.destroy (the library's Release is a no-op in browsers).
func destroyDevice(dev *wgpu.Device) {}

// adapterName asks navigator.gpu for the adapter's description again (the library's
// Adapter.GetInfo is empty in browsers) and whether it is a fallback (software) adapter.
func adapterName(*wgpu.Adapter) (string, bool) {
	gpu := js.Global().Get("navigator").Get("gpu")
	ad, ok := jsx.Await(gpu.Call("requestAdapter", map[string]any{"powerPreference": "high-performance"}))
	if !ok || !ad.Truthy() {
		return "browser WebGPU adapter", false
	}
	info := ad.Get("info")
	software := ad.Get("isFallbackAdapter").Truthy()
	name := "browser WebGPU adapter"
	if info.Truthy() {
		software = software || info.Get("isFallbackAdapter").Truthy()
		name = fmt.Sprintf("%s %s (%s)", info.Get("vendor").String(), info.Get("architecture").String(), info.Get("description").String())
	}
	return name, software
}

// mapRead maps b and returns a copy of its first size bytes. The library's MapAsync blocks the
// calling goroutine until the promise settles but reports success even when it rejects, so an
// all-zero reply cannot be told from a failure here; callers must not run on the JS event loop.
func (d *Device) mapRead(b *Buffer, size uint64) ([]byte, error) {
	var status wgpu.BufferMapAsyncStatus
	if err := b.b.MapAsync(wgpu.MapModeRead, 0, size, func(s wgpu.BufferMapAsyncStatus) { status = s }); err != nil {
		return nil, err
	}
	if status != wgpu.BufferMapAsyncStatusSuccess {
		return nil, fmt.Errorf("gpu: map buffer: status %v", status)
	}
	out := b.b.GetMappedRange(0, uint(size))
	return out, b.b.Unmap()
}

func endPass(p *wgpu.ComputePassEncoder) error {
	p.End()
	return nil
}

// submission identifies a queue submission (unused in browsers: mapAsync waits for the work
// that writes the buffer).
type submission = int

func (d *Device) submitCmd(cmd *wgpu.CommandBuffer) submission {
	d.queue.Submit(cmd)
	return 0
}

func (d *Device) mapReadAfter(b *Buffer, size uint64, _ submission) ([]byte, error) {
	return d.mapRead(b, size)
}

func usable(*wgpu.Adapter) error { return nil }
