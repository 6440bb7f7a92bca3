//go:build cgo || js

package gpu

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cogentcore/webgpu/wgpu"
)

// ErrNoAdapter is wrapped by Open's error when the platform offers no WebGPU adapter (no Vulkan
// driver natively, or navigator.gpu missing or without an adapter in a browser).
var ErrNoAdapter = errors.New("gpu: no WebGPU adapter")

// Options configure Open.
type Options struct {
	// MaxBinding, when not zero, caps the bytes of one storage-buffer binding below the device's
	// limit; tests use it to force the splitting of large tensors that phones need.
	MaxBinding uint64
	// ForceFallback asks for the platform's fallback (software) adapter.
	ForceFallback bool
}

// Device is an opened WebGPU device with its queue and compiled kernels. It owns every buffer
// created through it until Destroy.
type Device struct {
	instance *wgpu.Instance
	adapter  *wgpu.Adapter
	dev      *wgpu.Device
	queue    *wgpu.Queue

	// Limits are the device's limits: WebGPU's defaults with the storage sizes of storageLimits.
	Limits wgpu.Limits
	// Adapter describes the adapter: name and backend where the platform tells them.
	Adapter string
	// MaxBinding is the largest storage-buffer binding this package uses, in bytes.
	MaxBinding uint64
	// Software is true for a CPU-emulated adapter (Mesa lavapipe, SwiftShader): correct, but
	// slower than the engine's own CPU path, so "auto" does not choose it.
	Software bool

	mu        sync.Mutex
	pipelines map[string]*pipeline
	layouts   map[string]*wgpu.BindGroupLayout
	closed    bool
}

// Open requests an adapter and a device. It fails, wrapping ErrNoAdapter, when there is none.
func Open(opts Options) (*Device, error) {
	inst := wgpu.CreateInstance(nil)
	if inst == nil {
		return nil, fmt.Errorf("%w: WebGPU is not available", ErrNoAdapter)
	}
	ad, err := inst.RequestAdapter(&wgpu.RequestAdapterOptions{
		PowerPreference:      wgpu.PowerPreferenceHighPerformance,
		ForceFallbackAdapter: opts.ForceFallback,
	})
	if err != nil || ad == nil {
		inst.Release()
		return nil, fmt.Errorf("%w: %v", ErrNoAdapter, err)
	}
	if err := usable(ad); err != nil {
		ad.Release()
		inst.Release()
		return nil, fmt.Errorf("%w: %v", ErrNoAdapter, err)
	}
	dev, err := requestDevice(ad)
	if err != nil {
		ad.Release()
		inst.Release()
		return nil, fmt.Errorf("gpu: request device: %w", err)
	}
	d := &Device{instance: inst, adapter: ad, dev: dev, queue: dev.GetQueue(), pipelines: map[string]*pipeline{}, layouts: map[string]*wgpu.BindGroupLayout{}}
	d.Limits = dev.GetLimits().Limits
	d.Adapter, d.Software = adapterName(ad)
	d.MaxBinding = min(d.Limits.MaxStorageBufferBindingSize, d.Limits.MaxBufferSize)
	if opts.MaxBinding != 0 && opts.MaxBinding < d.MaxBinding {
		d.MaxBinding = opts.MaxBinding
	}
	d.MaxBinding &^= 255
	if d.MaxBinding < 1<<16 {
		d.Destroy()
		return nil, fmt.Errorf("gpu: storage-buffer binding limit %d bytes is too small", d.MaxBinding)
	}
	return d, nil
}

// Destroy releases the device and its kernels. Buffers must be destroyed by their owners first.
func (d *Device) Destroy() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.closed = true
	for _, p := range d.pipelines {
		p.release()
	}
	d.pipelines = nil
	for _, l := range d.layouts {
		l.Release()
	}
	d.layouts = nil
	d.queue.Release()
	destroyDevice(d.dev)
	d.adapter.Release()
	d.instance.Release()
}

// Buffer is a GPU buffer with its size in bytes.
type Buffer struct {
	b    *wgpu.Buffer
	Size uint64
}

// Arena owns a set of buffers and the bind groups that refer to them, and frees them together.
type Arena struct {
	d      *Device
	bufs   []*Buffer
	groups []*wgpu.BindGroup
	// weightBytes counts the bytes of weight matrices uploaded through the arena.
	weightBytes int64
}

// NewArena returns an empty arena of d.
func (d *Device) NewArena() *Arena { return &Arena{d: d} }

const (
	usageStorage = wgpu.BufferUsageStorage | wgpu.BufferUsageCopyDst | wgpu.BufferUsageCopySrc
	usageUniform = wgpu.BufferUsageUniform | wgpu.BufferUsageCopyDst
	usageRead    = wgpu.BufferUsageMapRead | wgpu.BufferUsageCopyDst
)

// New creates a buffer of at least size bytes (rounded up to a multiple of 4, at least 16).
func (a *Arena) New(label string, size uint64, usage wgpu.BufferUsage) (*Buffer, error) {
	size = max((size+3)&^3, 16)
	if size > a.d.Limits.MaxBufferSize {
		return nil, fmt.Errorf("gpu: buffer %s of %d bytes exceeds the device's buffer limit %d", label, size, a.d.Limits.MaxBufferSize)
	}
	b, err := a.d.dev.CreateBuffer(&wgpu.BufferDescriptor{Label: label, Size: size, Usage: usage})
	if err != nil {
		return nil, fmt.Errorf("gpu: create buffer %s (%d bytes): %w", label, size, err)
	}
	buf := &Buffer{b: b, Size: size}
	a.bufs = append(a.bufs, buf)
	return buf, nil
}

// Storage creates a storage buffer holding data (padded with zeros to a multiple of 4 bytes).
func (a *Arena) Storage(label string, data []byte) (*Buffer, error) {
	b, err := a.New(label, uint64(len(data)), usageStorage)
	if err != nil {
		return nil, err
	}
	return b, a.d.Write(b, 0, data)
}

// Write copies data into b at offset (a multiple of 4); data is padded to a multiple of 4 bytes.
func (d *Device) Write(b *Buffer, offset uint64, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	if r := len(data) % 4; r != 0 {
		padded := make([]byte, len(data)+4-r)
		copy(padded, data)
		data = padded
	}
	const chunk = 16 << 20 // keeps the browser's staging copies small
	for len(data) > 0 {
		n := min(len(data), chunk)
		if err := d.writeBuffer(b.b, offset, data[:n]); err != nil {
			return fmt.Errorf("gpu: write buffer: %w", err)
		}
		offset += uint64(n)
		data = data[n:]
	}
	return nil
}

// Destroy frees every bind group and buffer of the arena.
func (a *Arena) Destroy() {
	for _, g := range a.groups {
		g.Release()
	}
	a.groups = nil
	for _, b := range a.bufs {
		b.b.Destroy()
		b.b.Release()
	}
	a.bufs = nil
}

// readChunk is the most bytes one readback maps, so staging memory stays small.
const readChunk = 4 << 20

// read submits enc after adding copies of the first size bytes of src (a storage buffer) into
// staging (a MapRead buffer), and returns those bytes, waiting for the GPU. Sizes above the
// staging buffer are read in several rounds.
func (d *Device) read(enc *wgpu.CommandEncoder, src, staging *Buffer, size uint64) ([]byte, error) {
	size = (size + 3) &^ 3
	out := make([]byte, 0, size)
	for off := uint64(0); off < size; {
		n := min(size-off, staging.Size)
		if enc == nil {
			var err error
			if enc, err = d.dev.CreateCommandEncoder(nil); err != nil {
				return nil, fmt.Errorf("gpu: command encoder: %w", err)
			}
			defer enc.Release()
		}
		if err := enc.CopyBufferToBuffer(src.b, off, staging.b, 0, n); err != nil {
			return nil, fmt.Errorf("gpu: copy for readback: %w", err)
		}
		cmd, err := enc.Finish(nil)
		if err != nil {
			return nil, fmt.Errorf("gpu: finish commands: %w", err)
		}
		d.queue.Submit(cmd)
		cmd.Release()
		enc = nil
		b, err := d.mapRead(staging, n)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
		off += n
	}
	return out, nil
}

// storageLimits are the storage-binding and buffer sizes the engine asks a device for: what the
// adapter offers, up to 2 GiB (larger models split their matrices into several buffers anyway).
func storageLimits(adapter wgpu.Limits) (binding, buffer uint64) {
	return min(adapter.MaxStorageBufferBindingSize, 2<<30-256), min(adapter.MaxBufferSize, 2<<30)
}
