//go:build cgo && !js

package gpu

import (
	"fmt"

	"github.com/cogentcore/webgpu/wgpu"
)

func init() { wgpu.SetLogLevel(wgpu.LogLevelOff) }

// requestDevice asks for WebGPU's default limits, raising only the storage-buffer binding and
// buffer sizes to the adapter's (so large tensors need fewer splits). Asking for all of the
// adapter's limits fails intermittently on some drivers.
func requestDevice(ad *wgpu.Adapter) (*wgpu.Device, error) {
	req := wgpu.DefaultLimits()
	req.MaxStorageBufferBindingSize, req.MaxBufferSize = storageLimits(ad.GetLimits().Limits)
	// the compute limits browsers grant by default, stated so that a kernel that would not run
	// in a browser fails here too
	req.MaxComputeWorkgroupStorageSize = 16384
	req.MaxComputeInvocationsPerWorkgroup = 256
	req.MaxComputeWorkgroupSizeX = 256
	req.MaxStorageBuffersPerShaderStage = 8
	req.MaxComputeWorkgroupsPerDimension = 65535
	dev, err := ad.RequestDevice(&wgpu.DeviceDescriptor{
		Label:          "aisle",
		RequiredLimits: &wgpu.RequiredLimits{Limits: req},
	})
	if err != nil {
		// retry at the defaults
		dev, err = ad.RequestDevice(nil)
	}
	return dev, err
}

func destroyDevice(dev *wgpu.Device) { dev.Release() }

// writeBuffer copies data into b at offset.
func (d *Device) writeBuffer(b *wgpu.Buffer, offset uint64, data []byte) error {
	return d.queue.WriteBuffer(b, offset, data)
}

func adapterName(ad *wgpu.Adapter) (string, bool) {
	info := ad.GetInfo()
	name := info.Name // wgpu's device id on some drivers; the description names the device
	if info.DriverDescription != "" {
		name = info.DriverDescription
	}
	return fmt.Sprintf("%s (%s, %s)", name, info.BackendType, info.AdapterType), info.AdapterType == wgpu.AdapterTypeCPU
}

// mapRead maps b, waits for the GPU, and returns a copy of its first size bytes.
func (d *Device) mapRead(b *Buffer, size uint64) ([]byte, error) {
	var status wgpu.BufferMapAsyncStatus = 0xffffffff
	if err := b.b.MapAsync(wgpu.MapModeRead, 0, size, func(s wgpu.BufferMapAsyncStatus) { status = s }); err != nil {
		return nil, err
	}
	for status == 0xffffffff {
		d.dev.Poll(true, nil)
	}
	if status != wgpu.BufferMapAsyncStatusSuccess {
		return nil, fmt.Errorf("gpu: map buffer: status %v", status)
	}
	out := make([]byte, size)
	copy(out, b.b.GetMappedRange(0, uint(size)))
	return out, b.b.Unmap()
}

// dispatch records pipeline p with bind group bg (group 0) and a grid of gx x gy workgroups.
func dispatch(pass *wgpu.ComputePassEncoder, p *wgpu.ComputePipeline, bg *wgpu.BindGroup, gx, gy uint32) {
	pass.SetPipeline(p)
	pass.SetBindGroup(0, bg, nil)
	pass.DispatchWorkgroups(gx, gy, 1)
}

func endPass(p *wgpu.ComputePassEncoder) error {
	err := p.End()
	p.Release() // before Finish, as wgpu-native requires
	return err
}

// submission identifies a queue submission (natively, wgpu's submission index).
type submission = wgpu.SubmissionIndex

func (d *Device) submitCmd(cmd *wgpu.CommandBuffer) submission { return d.queue.Submit(cmd) }

// mapReadAfter is mapRead for a buffer written by submission idx: it waits for that submission
// only, so later submissions keep the GPU busy meanwhile.
func (d *Device) mapReadAfter(b *Buffer, size uint64, idx submission) ([]byte, error) {
	var status wgpu.BufferMapAsyncStatus = 0xffffffff
	if err := b.b.MapAsync(wgpu.MapModeRead, 0, size, func(s wgpu.BufferMapAsyncStatus) { status = s }); err != nil {
		return nil, err
	}
	for status == 0xffffffff {
		d.dev.Poll(true, &wgpu.WrappedSubmissionIndex{Queue: d.queue, SubmissionIndex: idx})
	}
	if status != wgpu.BufferMapAsyncStatusSuccess {
		return nil, fmt.Errorf("gpu: map buffer: status %v", status)
	}
	out := make([]byte, size)
	copy(out, b.b.GetMappedRange(0, uint(size)))
	return out, b.b.Unmap()
}

// usable rejects adapters of wgpu's OpenGL backend, which it offers (often a software
// rasterizer) when no Vulkan, Metal or D3D12 driver is installed: the kernels are not tested
// there. (Restricting the instance's backends instead crashes this library version.)
func usable(ad *wgpu.Adapter) error {
	switch info := ad.GetInfo(); info.BackendType {
	case wgpu.BackendTypeOpenGL, wgpu.BackendTypeOpenGLES:
		return fmt.Errorf("only an OpenGL adapter (%s), which this backend does not use", info.DriverDescription)
	}
	return nil
}
