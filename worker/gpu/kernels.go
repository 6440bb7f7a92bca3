//go:build cgo || js

package gpu

import (
	"bytes"
	"embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/cogentcore/webgpu/wgpu"

	"aisle/worker/quant"
)

//go:embed shaders/*.wgsl
var shaderFS embed.FS

func shaderText(name string) string {
	b, err := shaderFS.ReadFile("shaders/" + name)
	if err != nil {
		panic("gpu: missing embedded shader " + name) // a build error, caught by every test
	}
	return string(b)
}

// bindKind is how a kernel binds one buffer.
type bindKind int

const (
	bindUniform bindKind = iota
	bindRead
	bindReadWrite
)

// slot is one binding of a kernel: its number and kind.
type slot struct {
	n    uint32
	kind bindKind
}

// pipeline is a compiled kernel with its explicit bind-group layout (the library's browser
// backend has no GetBindGroupLayout, so layouts are always spelled out).
type pipeline struct {
	name   string
	slots  []slot
	layout *wgpu.BindGroupLayout
	pl     *wgpu.PipelineLayout
	cp     *wgpu.ComputePipeline
}

func (p *pipeline) release() {
	p.cp.Release()
	p.pl.Release()
}

// decoderFile names the weight decoder of each supported type.
var decoderFile = map[quant.Type]string{
	quant.F32: "decode_f32.wgsl", quant.F16: "decode_f16.wgsl", quant.BF16: "decode_bf16.wgsl",
	quant.Q8_0: "decode_q8_0.wgsl", quant.Q4_0: "decode_q4_0.wgsl", quant.Q5_0: "decode_q5_0.wgsl",
	quant.Q4_K: "decode_q4_k.wgsl", quant.Q5_K: "decode_q5_k.wgsl", quant.Q6_K: "decode_q6_k.wgsl",
}

// unitOf is the number of values one decoder unit holds (decode_*.wgsl's UNIT).
func unitOf(t quant.Type) int {
	switch t {
	case quant.F32, quant.F16, quant.BF16:
		return 4
	}
	return 32
}

// decoder returns the weight decoder of t for the binding named buf.
func decoder(t quant.Type, buf string) (string, error) {
	f, ok := decoderFile[t]
	if !ok {
		return "", fmt.Errorf("gpu: no kernel reads tensor type %s", t)
	}
	return strings.ReplaceAll(shaderText(f), "WBUF", buf), nil
}

// kernel returns the pipeline called name, compiling src with the given bindings the first time.
func (d *Device) kernel(name string, slots []slot, src func() (string, error)) (*pipeline, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p, ok := d.pipelines[name]; ok {
		return p, nil
	}
	code, err := src()
	if err != nil {
		return nil, err
	}
	code = shaderText("common.wgsl") + "\n" + code
	// wgpu-native does not reject kernels over the workgroup-memory limit (browsers do, and then
	// silently run nothing): check here, so native tests catch what a browser would refuse
	if n, err := workgroupBytes(code); err != nil {
		return nil, fmt.Errorf("gpu: %s: %w", name, err)
	} else if n > int(d.Limits.MaxComputeWorkgroupStorageSize) {
		return nil, fmt.Errorf("gpu: %s needs %d bytes of workgroup memory, the device allows %d", name, n, d.Limits.MaxComputeWorkgroupStorageSize)
	}
	mod, err := d.dev.CreateShaderModule(&wgpu.ShaderModuleDescriptor{
		Label:          name,
		WGSLDescriptor: &wgpu.ShaderModuleWGSLDescriptor{Code: code},
	})
	if err != nil {
		return nil, fmt.Errorf("gpu: compile %s: %w", name, err)
	}
	defer mod.Release()
	entries := make([]wgpu.BindGroupLayoutEntry, len(slots))
	for i, s := range slots {
		bt := wgpu.BufferBindingTypeUniform
		switch s.kind {
		case bindRead:
			bt = wgpu.BufferBindingTypeReadOnlyStorage
		case bindReadWrite:
			bt = wgpu.BufferBindingTypeStorage
		}
		entries[i] = wgpu.BindGroupLayoutEntry{Binding: s.n, Visibility: wgpu.ShaderStageCompute,
			Buffer: wgpu.BufferBindingLayout{Type: bt}}
	}
	// Kernels with the same bindings share one layout object, so that one bind group serves
	// every variant of a kernel (for example the decode and prefill forms of a matmul).
	key := fmt.Sprint(slots)
	bgl, ok := d.layouts[key]
	if !ok {
		bgl, err = d.dev.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: name, Entries: entries})
		if err != nil {
			return nil, fmt.Errorf("gpu: bind group layout of %s: %w", name, err)
		}
		d.layouts[key] = bgl
	}
	pl, err := d.dev.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{Label: name, BindGroupLayouts: []*wgpu.BindGroupLayout{bgl}})
	if err != nil {
		return nil, fmt.Errorf("gpu: pipeline layout of %s: %w", name, err)
	}
	cp, err := d.dev.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{
		Layout:  pl,
		Compute: wgpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: "main"},
	})
	if err != nil {
		pl.Release()
		return nil, fmt.Errorf("gpu: pipeline %s: %w", name, err)
	}
	p := &pipeline{name: name, slots: slots, layout: bgl, pl: pl, cp: cp}
	d.pipelines[name] = p
	return p, nil
}

// matVariant selects a matmul kernel: the weight type, tokens per workgroup and fusions
// (see shaders/matmul.wgsl).
type matVariant struct {
	Type                 quant.Type
	NB                   int // tokens per workgroup (matmul.wgsl); 0: one token (matvec.wgsl)
	RPW                  int // row groups per workgroup (matvec.wgsl)
	Lanes                int // invocations per row (matvec.wgsl): 32, 64, 128 or 256
	Norm, Bias, Acc, GLU bool
}

const (
	matWG   = 128 // invocations per matmul workgroup
	matRows = 4   // rows per matmul workgroup (matWG / 32 lanes)
	nbBatch = 8   // tokens per matmul workgroup when the batch has more than one token
)

var matTemplate = template.Must(template.New("matmul").Parse(shaderText("matmul.wgsl")))

func (v matVariant) name() string {
	if v.NB == 0 {
		return fmt.Sprintf("matvec/%s/lanes%d/rpw%d/norm=%t/bias=%t/acc=%t/glu=%t", v.Type, v.Lanes, v.RPW, v.Norm, v.Bias, v.Acc, v.GLU)
	}
	return fmt.Sprintf("matmul/%s/nb%d/norm=%t/bias=%t/acc=%t/glu=%t", v.Type, v.NB, v.Norm, v.Bias, v.Acc, v.GLU)
}

var matvecTemplate = template.Must(template.New("matvec").Parse(shaderText("matvec.wgsl")))

const mvWG = 256 // invocations per matvec workgroup

func (v matVariant) slots() []slot {
	s := []slot{{0, bindUniform}, {1, bindUniform}, {2, bindRead}, {3, bindRead}, {4, bindReadWrite}}
	if v.Norm {
		s = append(s, slot{5, bindRead})
	}
	if v.Bias {
		s = append(s, slot{6, bindRead})
	}
	if v.GLU {
		s = append(s, slot{7, bindRead})
	}
	return s
}

func (d *Device) matmulKernel(v matVariant) (*pipeline, error) {
	return d.kernel(v.name(), v.slots(), func() (string, error) {
		dec, err := decoder(v.Type, "w")
		if err != nil {
			return "", err
		}
		if v.GLU {
			dec2, err := decoder(v.Type, "w2")
			if err != nil {
				return "", err
			}
			dec += "\n" + dec2
		}
		var b bytes.Buffer
		if v.NB == 0 {
			red := mvWG * v.RPW
			if v.GLU {
				red *= 2
			}
			err = matvecTemplate.Execute(&b, struct {
				matVariant
				RedSize int
			}{v, red})
			return dec + "\n" + b.String(), err
		}
		red := matWG * v.NB
		if v.GLU {
			red *= 2
		}
		toks := make([]int, v.NB)
		for i := range toks {
			toks[i] = i
		}
		err = matTemplate.Execute(&b, struct {
			matVariant
			RedSize int
			Toks    []int
		}{v, red, toks})
		return dec + "\n" + b.String(), err
	})
}

func (d *Device) embedKernel(t quant.Type) (*pipeline, error) {
	slots := []slot{{0, bindUniform}, {1, bindUniform}, {2, bindRead}, {3, bindRead}, {4, bindReadWrite}}
	return d.kernel("embed/"+t.String(), slots, func() (string, error) {
		dec, err := decoder(t, "w")
		return dec + "\n" + shaderText("embed.wgsl"), err
	})
}

func (d *Device) plainKernel(file string, slots []slot) (*pipeline, error) {
	return d.kernel(file, slots, func() (string, error) { return shaderText(file), nil })
}

func (d *Device) ropeKernel() (*pipeline, error) {
	return d.plainKernel("rope.wgsl", []slot{{0, bindUniform}, {1, bindUniform}, {2, bindReadWrite}, {3, bindReadWrite},
		{4, bindReadWrite}, {5, bindRead}, {6, bindRead}, {7, bindRead}})
}

var attnTemplate = template.Must(template.New("attention").Parse(shaderText("attention.wgsl")))

// attentionKernel is attention.wgsl; fused (for single-token batches) also does rope.wgsl's work.
func (d *Device) attentionKernel(fused bool) (*pipeline, error) {
	slots := []slot{{0, bindUniform}, {1, bindUniform}, {2, bindRead}, {3, bindRead}, {4, bindRead}, {5, bindReadWrite}}
	if fused {
		slots = []slot{{0, bindUniform}, {1, bindUniform}, {2, bindRead}, {3, bindReadWrite}, {4, bindReadWrite},
			{5, bindReadWrite}, {6, bindRead}, {7, bindRead}}
	}
	return d.kernel(fmt.Sprintf("attention/fused=%t", fused), slots, func() (string, error) {
		var b bytes.Buffer
		err := attnTemplate.Execute(&b, struct{ Fused bool }{fused})
		return b.String(), err
	})
}

var argmaxTemplate = template.Must(template.New("argmax").Parse(shaderText("argmax.wgsl")))

// argmaxKernel is argmax.wgsl: its candidates pass, or with final the pass that reduces them.
func (d *Device) argmaxKernel(final bool) (*pipeline, error) {
	slots := []slot{{0, bindUniform}, {1, bindRead}, {2, bindReadWrite}, {3, bindUniform}, {4, bindRead}}
	if final {
		slots = []slot{{0, bindUniform}, {1, bindRead}, {2, bindReadWrite}, {3, bindReadWrite}}
	}
	return d.kernel(fmt.Sprintf("argmax/final=%t", final), slots, func() (string, error) {
		var b bytes.Buffer
		err := argmaxTemplate.Execute(&b, struct{ Final bool }{final})
		return b.String(), err
	})
}

func (d *Device) copyKernel() (*pipeline, error) {
	return d.plainKernel("copy.wgsl", []slot{{0, bindRead}, {1, bindReadWrite}})
}

// bufRange is a buffer bound at an offset (size 0: to the end).
type bufRange struct {
	b    *Buffer
	off  uint64
	size uint64
}

// bindGroup binds bufs, in the order of p's slots; the arena owns the group.
func (a *Arena) bindGroup(p *pipeline, bufs ...bufRange) (*wgpu.BindGroup, error) {
	d := a.d
	if len(bufs) != len(p.slots) {
		return nil, fmt.Errorf("gpu: %s takes %d bindings, got %d", p.name, len(p.slots), len(bufs))
	}
	entries := make([]wgpu.BindGroupEntry, len(bufs))
	for i, b := range bufs {
		size := b.size
		if size == 0 {
			size = b.b.Size - b.off
		}
		entries[i] = wgpu.BindGroupEntry{Binding: p.slots[i].n, Buffer: b.b.b, Offset: b.off, Size: size}
	}
	bg, err := d.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Label: p.name, Layout: p.layout, Entries: entries})
	if err != nil {
		return nil, fmt.Errorf("gpu: bind group of %s: %w", p.name, err)
	}
	a.groups = append(a.groups, bg)
	return bg, nil
}

var (
	wgVarRE = regexp.MustCompile(`var<workgroup>\s+\w+\s*:\s*(?:array<\s*(f32|u32|i32|vec4<f32>|vec4<u32>)\s*,\s*(\w+)\s*>|(f32|u32|i32))\s*;`)
	constRE = regexp.MustCompile(`const\s+(\w+)\s*:\s*u32\s*=\s*(\d+)u\s*;`)
)

// workgroupBytes adds up the workgroup-memory declarations of a kernel's source (arrays of
// scalars or vec4s sized by a literal or a u32 constant of the source, and scalars).
func workgroupBytes(code string) (int, error) {
	consts := map[string]int{}
	for _, m := range constRE.FindAllStringSubmatch(code, -1) {
		consts[m[1]], _ = strconv.Atoi(m[2])
	}
	size := map[string]int{"f32": 4, "u32": 4, "i32": 4, "vec4<f32>": 16, "vec4<u32>": 16}
	total := 0
	decls := wgVarRE.FindAllStringSubmatch(code, -1)
	if strings.Count(code, "var<workgroup>") != len(decls) {
		return 0, fmt.Errorf("a var<workgroup> declaration this check cannot size")
	}
	for _, m := range decls {
		if m[3] != "" {
			total += size[m[3]]
			continue
		}
		n, err := strconv.Atoi(m[2])
		if err != nil {
			var ok bool
			if n, ok = consts[m[2]]; !ok {
				return 0, fmt.Errorf("workgroup array length %q is not a literal or u32 constant", m[2])
			}
		}
		total += n * size[m[1]]
	}
	return total, nil
}
