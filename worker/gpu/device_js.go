//go:build js

package gpu

import (
	"fmt"
	"reflect"
	"syscall/js"
	"unsafe"

	"github.com/cogentcore/webgpu/jsx"
	"github.com/cogentcore/webgpu/wgpu"
)

// requestDevice asks for a device with the adapter's storage limits (storageLimits), as natively,
// and otherwise WebGPU's defaults, which the kernels are written for (16 KiB workgroup memory,
// 256 invocations). The library's browser backend does not pass RequiredLimits, so the request
// is made here on the GPU objects themselves; a refusal retries at the defaults (128 MiB per
// storage binding, 256 MiB per buffer: larger matrices are split).
func requestDevice(ad *wgpu.Adapter) (*wgpu.Device, error) {
	if err := checkHandles(); err != nil {
		return nil, err
	}
	binding, buffer := storageLimits(ad.GetLimits().Limits)
	dev, ok := jsx.Await(jsObject(ad).Call("requestDevice", map[string]any{
		"label":          "aisle",
		"requiredLimits": map[string]any{"maxStorageBufferBindingSize": binding, "maxBufferSize": buffer},
	}))
	if !ok || !dev.Truthy() {
		return ad.RequestDevice(nil)
	}
	d := new(wgpu.Device)
	*(*js.Value)(unsafe.Pointer(d)) = dev
	return d, nil
}

// writeBuffer copies data into b at offset. The library's Queue.WriteBuffer is not used: it takes
// a view of the wasm memory's ArrayBuffer (jsx.BytesToJS) and then allocates (the js.Value that
// holds the view) before using it; when that allocation grows the memory, the ArrayBuffer is
// detached and Chromium throws "Cannot perform Construct on a detached ArrayBuffer" (a 135M-class
// model after about 800 tokens). js.CopyBytesToJS takes its view and copies inside one runtime
// call, where nothing allocates; the GPU then reads that JS-owned copy. No code here keeps a JS
// view of Go memory, so nothing needs globalThis.wasm either.
func (d *Device) writeBuffer(b *wgpu.Buffer, offset uint64, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil { // a JS exception (a lost device, an out-of-range write)
			err = fmt.Errorf("%v", r)
		}
	}()
	staging := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(staging, data)
	jsObject(d.queue).Call("writeBuffer", jsObject(b), offset, staging)
	return nil
}

// dispatch records pipeline p with bind group bg (group 0) and a grid of gx x gy workgroups. It
// calls the GPU objects directly: the library's SetBindGroup builds a new JS array of dynamic
// offsets on every call, and each of its calls converts its arguments through []any; a decode
// step records about 150 dispatches, and in a browser recording them is on the token's critical
// path.
func dispatch(pass *wgpu.ComputePassEncoder, p *wgpu.ComputePipeline, bg *wgpu.BindGroup, gx, gy uint32) {
	v := jsObject(pass)
	v.Call("setPipeline", jsObject(p))
	v.Call("setBindGroup", 0, jsObject(bg))
	v.Call("dispatchWorkgroups", gx, gy)
}

// jsHandle lists the library's handle types that jsObject reads.
type jsHandle interface {
	wgpu.Adapter | wgpu.Device | wgpu.Buffer | wgpu.Queue | wgpu.ComputePassEncoder |
		wgpu.ComputePipeline | wgpu.BindGroup
}

// jsObject is the GPU object that a library handle wraps: cogentcore/webgpu's browser types hold
// it as their only field and export no accessor. checkHandles verifies that layout before a
// device is used, so a library update that changes it fails with a clear error, not here.
func jsObject[T jsHandle](h *T) js.Value { return *(*js.Value)(unsafe.Pointer(h)) }

func checkHandles() error {
	want := reflect.TypeFor[js.Value]()
	for _, t := range []reflect.Type{
		reflect.TypeFor[wgpu.Adapter](), reflect.TypeFor[wgpu.Device](), reflect.TypeFor[wgpu.Buffer](),
		reflect.TypeFor[wgpu.Queue](), reflect.TypeFor[wgpu.ComputePassEncoder](),
		reflect.TypeFor[wgpu.ComputePipeline](), reflect.TypeFor[wgpu.BindGroup](),
	} {
		if t.NumField() != 1 || t.Field(0).Type != want {
			return fmt.Errorf("gpu: %v no longer wraps one js.Value (github.com/cogentcore/webgpu changed); update device_js.go", t)
		}
	}
	return nil
}

// destroyDevice calls GPUDevice.destroy (the library's Release is a no-op in browsers).
func destroyDevice(dev *wgpu.Device) {}

// adapterName reads the adapter's description and whether it is a fallback (software) adapter
// from the GPUAdapter itself (the library's Adapter.GetInfo is empty in browsers).
func adapterName(ad *wgpu.Adapter) (string, bool) {
	v := jsObject(ad)
	software := v.Get("isFallbackAdapter").Truthy()
	name := "browser WebGPU adapter"
	if info := v.Get("info"); info.Truthy() {
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
