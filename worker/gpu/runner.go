//go:build cgo || js

package gpu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cogentcore/webgpu/wgpu"

	"aisle/worker/model"
)

// MaxBatch is the most tokens one command buffer evaluates; longer inputs are split.
const MaxBatch = 64

// Runner evaluates a model on the GPU: weights, KV cache and activations live in GPU memory, and
// every Eval records the whole forward pass into one command buffer. It implements the engine's
// Runner interface (Eval, Pos, Truncate, ContextLen) and adds Greedy, which samples on the GPU.
// Not safe for concurrent use.
type Runner struct {
	d      *Device
	ownDev bool
	c      model.Config
	arena  *Arena
	ctxLen int
	pos    int

	tok, state, res, logits *Buffer
	stage                   *Buffer   // MapRead buffer of readChunk bytes (or less) for readbacks
	stages                  []*Buffer // token readbacks of a decode's steps in flight (ring)
	decodeAhead             int       // steps an unmasked decode submits ahead of the token read
	matvecVec4s             int       // RunnerOptions.MatvecVec4s
	logitsAll               *Buffer   // (MaxBatch, Vocab) logits for Eval with all set
	logitsRows              int       // rows the logits buffer holds

	layerOps []op // embedding and every layer, for any batch size
	outLast  []op // final norm + classifier of the batch's last token
	outAll   []op // final norm + classifier of every token (built on first use)
	argmax   []op // sampling: candidates, then the final reduction (argmax.wgsl)

	weightBytes int64
	argmaxParam bufRange // the argmax kernel's parameters (temperature, masked)
	mask        *Buffer  // allowed tokens of a masked decode step, one bit each
	maskBytes   []byte   // the host copy of mask written each step
	masked      bool     // the value of the argmax parameters' masked flag
	seed        uint64   // sampling seed (SetSampling)
	step        uint32   // steps encoded: varies the sampling noise
	outMat      *gmat
	outNorm     *Buffer
	x           *Buffer
	slab        *Buffer // current uniform buffer of dispatch parameters
	slabUsed    uint64
	err         error // first error of param
	out         []float32
}

// op is one dispatch: a kernel (p1 for single-token batches, pn for longer ones; nil: no
// dispatch for such batches), its bind group (bg1 for p1 when its bindings differ) and its
// workgroup grid for a batch of n tokens.
type op struct {
	p1, pn  *pipeline
	bg, bg1 *wgpu.BindGroup
	grid    func(n int) (uint32, uint32)
}

const paramStride = 256 // WebGPU's minUniformBufferOffsetAlignment default

// DefaultDecodeAhead is how many steps an unmasked decode keeps submitted beyond the one whose
// token is being read. One is enough while recording a step is much cheaper than running it;
// with SmolLM2's 154 dispatches on an H100 the host's recording comes close to the GPU's time,
// and 3 ahead gave 944 against 889-936 tok/s (in Chromium +9-12%; Qwen2.5-0.5B the same either
// way; worker/gpu/BENCH.md). A stop (end of answer) leaves up to this many steps computed for
// nothing.
const DefaultDecodeAhead = 3

// RunnerOptions tune NewRunner.
type RunnerOptions struct {
	// MaxPartRows, when > 0, caps the rows per buffer of every weight matrix (tests use it to
	// exercise splitting on small models).
	MaxPartRows int
	// MatvecVec4s, when > 0, sizes a decode matrix-vector product's invocations per row so that
	// each takes about this many vec4s of the row, with 8 to 256 invocations per row (gpubench's
	// -vec4s, to measure the choice). 0: about 4 each, at least 32 invocations per row.
	MatvecVec4s int
}

// NewRunner uploads m's weights to d and allocates a KV cache of ctxLen positions (<= 0 or more
// than the model's context: the model's). The Runner refers to d; Close does not destroy d.
func NewRunner(d *Device, m *model.Model, ctxLen int, opts RunnerOptions) (*Runner, error) {
	c := m.Config
	if ctxLen <= 0 || ctxLen > c.ContextLen {
		ctxLen = c.ContextLen
	}
	if err := checkConfig(c); err != nil {
		return nil, err
	}
	r := &Runner{d: d, c: c, arena: d.NewArena(), ctxLen: ctxLen, decodeAhead: DefaultDecodeAhead, matvecVec4s: opts.MatvecVec4s}
	if err := r.build(m.W, opts); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// checkConfig reports shapes the kernels do not handle.
func checkConfig(c model.Config) error {
	switch {
	case c.HeadDim > 256:
		return fmt.Errorf("gpu: head dimension %d > 256", c.HeadDim)
	case c.Dim%4 != 0 || c.FFNDim%4 != 0 || c.HeadDim%4 != 0:
		return fmt.Errorf("gpu: dimensions %d, %d, %d are not multiples of 4", c.Dim, c.FFNDim, c.HeadDim)
	}
	return nil
}

const slabSlots = 64

// param stores one dispatch's parameters (int, bool or float32 fields, 4 bytes each) in a
// uniform buffer and returns where. Errors are kept in r.err.
func (r *Runner) param(fields ...any) bufRange {
	if r.slab == nil || r.slabUsed == slabSlots*paramStride {
		var err error
		if r.slab, err = r.arena.New("params", slabSlots*paramStride, usageUniform); err != nil && r.err == nil {
			r.err = err
		}
		r.slabUsed = 0
	}
	br := bufRange{b: r.slab, off: r.slabUsed, size: paramStride}
	r.slabUsed += paramStride
	slot := make([]byte, 64)
	for i, f := range fields {
		switch v := f.(type) {
		case int:
			binary.LittleEndian.PutUint32(slot[4*i:], uint32(v))
		case bool:
			if v {
				binary.LittleEndian.PutUint32(slot[4*i:], 1)
			}
		case float32:
			binary.LittleEndian.PutUint32(slot[4*i:], math.Float32bits(v))
		default:
			panic(fmt.Sprintf("gpu: param of type %T", f))
		}
	}
	if r.err == nil {
		r.err = r.d.Write(br.b, br.off, slot)
	}
	return br
}

func whole(b *Buffer) bufRange { return bufRange{b: b} }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// matmulOps appends the dispatches of y (n, yStride)[row0+...] (+)= W x for every part of w.
func (r *Runner) matmulOps(ops []op, v matVariant, w, w2 *gmat, x, y *Buffer, yStride, row0 int, norm, bias *Buffer, lastOnly bool) ([]op, error) {
	// batches: matmul.wgsl, 8 tokens per workgroup
	vn := v
	vn.NB = nbBatch
	pn, err := r.d.matmulKernel(vn)
	if err != nil {
		return nil, err
	}
	for i, part := range w.parts {
		// single tokens: matvec.wgsl, with more rows per workgroup for large parts
		v1 := v
		v1.NB, v1.RPW, v1.Lanes = 0, 1, 32
		per := 4 // about 4 vec4s per invocation, two per iteration
		if r.matvecVec4s > 0 {
			v1.Lanes, per = 8, r.matvecVec4s
		}
		for v1.Lanes < mvWG && v1.Lanes*per < w.cols/4 {
			v1.Lanes *= 2
		}
		if part.rows >= 16384 && !v.GLU {
			v1.RPW = 8
		}
		p1, err := r.d.matmulKernel(v1)
		if err != nil {
			return nil, err
		}
		off := r.param(part.rows, w.cols, w.rowBytes, row0+part.row0, yStride, lastOnly, r.c.NormEps)
		binds := []bufRange{off, whole(r.state), whole(part.buf), whole(x), whole(y)}
		if v.Norm {
			binds = append(binds, whole(norm))
		}
		if v.Bias {
			binds = append(binds, whole(bias))
		}
		if v.GLU {
			binds = append(binds, whole(w2.parts[i].buf))
		}
		bg, err := r.arena.bindGroup(pn, binds...)
		if err != nil {
			return nil, err
		}
		rows, rowsPerWG := part.rows, mvWG/v1.Lanes*v1.RPW
		ops = append(ops, op{p1: p1, pn: pn, bg: bg, grid: func(n int) (uint32, uint32) {
			if n == 1 {
				return uint32(ceilDiv(rows, rowsPerWG)), 1
			}
			if lastOnly {
				return uint32(ceilDiv(rows, matRows)), 1
			}
			return uint32(ceilDiv(rows, matRows)), uint32(ceilDiv(n, nbBatch))
		}})
	}
	return ops, nil
}

func (r *Runner) build(w *model.Weights, opts RunnerOptions) (err error) {
	c, a := r.c, r.arena
	qdim, kvdim := c.QDim(), c.KVDim()
	qStride := qdim + 2*kvdim
	newBuf := func(label string, floats int) *Buffer {
		if err != nil {
			return nil
		}
		var b *Buffer
		b, err = a.New(label, uint64(4*floats), usageStorage)
		return b
	}
	r.x = newBuf("x", MaxBatch*c.Dim)
	qkv := newBuf("qkv", MaxBatch*qStride)
	att := newBuf("att", MaxBatch*qdim)
	hid := newBuf("ffn", MaxBatch*c.FFNDim)
	r.tok = newBuf("tokens", MaxBatch)
	r.res = newBuf("result", 4)
	r.logitsRows = 1
	r.logits = newBuf("logits", c.Vocab)
	if err != nil {
		return err
	}
	if r.state, err = a.New("state", 16, usageUniform); err != nil {
		return err
	}
	if r.stage, err = a.New("staging", uint64(min(readChunk, 4*MaxBatch*c.Vocab)), usageRead); err != nil {
		return err
	}
	cs, err := a.Storage("rope cos/sin", f32Bytes(ropeTable(c, r.ctxLen, w.RopeFreqs)))
	if err != nil {
		return err
	}
	dummy, err := a.New("unused", 16, usageStorage)
	if err != nil {
		return err
	}

	// token embeddings
	emb, err := a.uploadMatrix("token_embd", opts.MaxPartRows, &w.Embed)
	if err != nil {
		return err
	}
	ek, err := r.d.embedKernel(emb.typ)
	if err != nil {
		return err
	}
	for _, part := range emb.parts {
		off := r.param(part.rows, emb.cols, emb.rowBytes, part.row0)
		bg, err := r.arena.bindGroup(ek, off, whole(r.state), whole(part.buf), whole(r.tok), whole(r.x))
		if err != nil {
			return err
		}
		groups := uint32(ceilDiv(c.Dim/4, 64))
		r.layerOps = append(r.layerOps, op{p1: ek, pn: ek, bg: bg, grid: func(n int) (uint32, uint32) { return groups, uint32(n) }})
	}

	rk, err := r.d.ropeKernel()
	if err != nil {
		return err
	}
	ak, err := r.d.attentionKernel(false)
	if err != nil {
		return err
	}
	ak1, err := r.d.attentionKernel(true)
	if err != nil {
		return err
	}
	for l := range w.Layers {
		L := &w.Layers[l]
		p := fmt.Sprintf("blk.%d.", l)
		an, err := a.Storage(p+"attn_norm", f32Bytes(L.AttnNorm))
		if err != nil {
			return err
		}
		fn, err := a.Storage(p+"ffn_norm", f32Bytes(L.FFNNorm))
		if err != nil {
			return err
		}
		var bias *Buffer
		if L.Bq != nil {
			if bias, err = a.Storage(p+"qkv_bias", f32Bytes(L.Bq, L.Bk, L.Bv)); err != nil {
				return err
			}
		}
		// QKV projection with the attention RMSNorm fused: one matrix when the three share a type
		qkvV := matVariant{Norm: true, Bias: bias != nil}
		if L.Wq.Type == L.Wk.Type && L.Wq.Type == L.Wv.Type {
			m, err := a.uploadMatrix(p+"attn_qkv", opts.MaxPartRows, &L.Wq, &L.Wk, &L.Wv)
			if err != nil {
				return err
			}
			qkvV.Type = m.typ
			if r.layerOps, err = r.matmulOps(r.layerOps, qkvV, m, nil, r.x, qkv, qStride, 0, an, bias, false); err != nil {
				return err
			}
		} else {
			for i, wm := range []*model.Matrix{&L.Wq, &L.Wk, &L.Wv} {
				m, err := a.uploadMatrix(p+wm.Name, opts.MaxPartRows, wm)
				if err != nil {
					return err
				}
				qkvV.Type = m.typ
				row0 := []int{0, qdim, qdim + kvdim}[i]
				if r.layerOps, err = r.matmulOps(r.layerOps, qkvV, m, nil, r.x, qkv, qStride, row0, an, bias, false); err != nil {
					return err
				}
			}
		}
		// QK-norm, RoPE, KV-cache write
		kc := newBuf(p+"k_cache", r.ctxLen*kvdim)
		vc := newBuf(p+"v_cache", r.ctxLen*kvdim)
		if err != nil {
			return err
		}
		qn, kn, nw := dummy, dummy, dummy
		if L.QNorm != nil {
			if qn, err = a.Storage(p+"q_norm", f32Bytes(L.QNorm)); err != nil {
				return err
			}
			if kn, err = a.Storage(p+"k_norm", f32Bytes(L.KNorm)); err != nil {
				return err
			}
			if nw, err = a.Storage(p+"qk_norm", f32Bytes(L.QNorm, L.KNorm)); err != nil {
				return err
			}
		}
		// batches of several tokens: QK-norm, RoPE and the KV-cache write, then attention
		off := r.param(c.Heads, c.KVHeads, c.HeadDim, c.RopeDims, c.RopeStyle == model.RopeNeox, L.QNorm != nil, c.NormEps, qStride)
		bg, err := a.bindGroup(rk, off, whole(r.state), whole(qkv), whole(kc), whole(vc), whole(cs), whole(qn), whole(kn))
		if err != nil {
			return err
		}
		heads := uint32(c.Heads + 2*c.KVHeads)
		r.layerOps = append(r.layerOps, op{pn: rk, bg: bg, grid: func(n int) (uint32, uint32) { return heads, uint32(n) }})
		off = r.param(c.Heads, c.KVHeads, c.HeadDim, qStride, float32(1/math.Sqrt(float64(c.HeadDim))),
			c.RopeDims, c.RopeStyle == model.RopeNeox, L.QNorm != nil, c.NormEps)
		if bg, err = a.bindGroup(ak, off, whole(r.state), whole(qkv), whole(kc), whole(vc), whole(att)); err != nil {
			return err
		}
		// single tokens: all of it in one kernel
		bg1, err := a.bindGroup(ak1, off, whole(r.state), whole(qkv), whole(kc), whole(vc), whole(att), whole(cs), whole(nw))
		if err != nil {
			return err
		}
		qh := uint32(c.Heads)
		r.layerOps = append(r.layerOps, op{p1: ak1, pn: ak, bg: bg, bg1: bg1, grid: func(n int) (uint32, uint32) { return qh, uint32(n) }})
		// output projection + residual
		wo, err := a.uploadMatrix(p+"attn_output", opts.MaxPartRows, &L.Wo)
		if err != nil {
			return err
		}
		if r.layerOps, err = r.matmulOps(r.layerOps, matVariant{Type: wo.typ, Acc: true}, wo, nil, att, r.x, c.Dim, 0, nil, nil, false); err != nil {
			return err
		}
		// FFN: RMSNorm + gate/up + SwiGLU in one kernel, then down + residual
		if L.Wgate.Type != L.Wup.Type {
			return fmt.Errorf("gpu: %s: ffn_gate (%s) and ffn_up (%s) differ in type", p, L.Wgate.Type, L.Wup.Type)
		}
		per := r.d.maxPartRows(L.Wgate.RowBytes)
		if opts.MaxPartRows > 0 {
			per = min(per, opts.MaxPartRows)
		}
		gate, err := a.uploadMatrix(p+"ffn_gate", per, &L.Wgate)
		if err != nil {
			return err
		}
		up, err := a.uploadMatrix(p+"ffn_up", per, &L.Wup)
		if err != nil {
			return err
		}
		if r.layerOps, err = r.matmulOps(r.layerOps, matVariant{Type: gate.typ, Norm: true, GLU: true}, gate, up, r.x, hid, c.FFNDim, 0, fn, nil, false); err != nil {
			return err
		}
		down, err := a.uploadMatrix(p+"ffn_down", opts.MaxPartRows, &L.Wdown)
		if err != nil {
			return err
		}
		if r.layerOps, err = r.matmulOps(r.layerOps, matVariant{Type: down.typ, Acc: true}, down, nil, hid, r.x, c.Dim, 0, nil, nil, false); err != nil {
			return err
		}
	}

	// final RMSNorm + classifier
	if r.outNorm, err = a.Storage("output_norm", f32Bytes(w.OutNorm)); err != nil {
		return err
	}
	if c.TiedOutput {
		r.outMat = emb
	} else if r.outMat, err = a.uploadMatrix("output", opts.MaxPartRows, &w.Output); err != nil {
		return err
	}
	if r.outLast, err = r.matmulOps(nil, matVariant{Type: r.outMat.typ, Norm: true}, r.outMat, nil, r.x, r.logits, c.Vocab, 0, r.outNorm, nil, true); err != nil {
		return err
	}
	// greedy sampling
	r.maskBytes = make([]byte, 4*((c.Vocab+31)/32))
	if r.mask, err = a.New("mask", uint64(len(r.maskBytes)), usageStorage); err != nil {
		return err
	}
	if r.argmax, r.argmaxParam, err = r.argmaxOps(c.Vocab, r.logits, r.res, r.mask); err != nil {
		return err
	}

	r.weightBytes = a.weightBytes
	return r.err
}

// argmaxPerInvocation is about how many logits each invocation of argmax.wgsl's candidates
// pass scans: enough workgroups that a large vocabulary is spread over the GPU (one workgroup
// took 131 us for 151,936 logits on an H100), few enough that the final pass has one candidate
// per invocation.
const argmaxPerInvocation = 8

// argmaxOps returns the two dispatches that sample token ids from the n logits into res[0] and
// the token buffer (argmax.wgsl), and their parameters (ArgmaxParams: n, temperature 0, not
// masked, the candidates).
func (r *Runner) argmaxOps(n int, logits, res, mask *Buffer) ([]op, bufRange, error) {
	groups := min(ceilDiv(n, 256*argmaxPerInvocation), 256)
	cand, err := r.d.argmaxKernel(false)
	if err != nil {
		return nil, bufRange{}, err
	}
	final, err := r.d.argmaxKernel(true)
	if err != nil {
		return nil, bufRange{}, err
	}
	parts, err := r.arena.New("argmax candidates", uint64(8*groups), usageStorage)
	if err != nil {
		return nil, bufRange{}, err
	}
	param := r.param(n, float32(0), false, groups)
	bgCand, err := r.arena.bindGroup(cand, param, whole(logits), whole(parts), whole(r.state), whole(mask))
	if err != nil {
		return nil, bufRange{}, err
	}
	bgFinal, err := r.arena.bindGroup(final, param, whole(parts), whole(res), whole(r.tok))
	if err != nil {
		return nil, bufRange{}, err
	}
	return []op{
		{p1: cand, pn: cand, bg: bgCand, grid: func(int) (uint32, uint32) { return uint32(groups), 1 }},
		{p1: final, pn: final, bg: bgFinal, grid: func(int) (uint32, uint32) { return 1, 1 }},
	}, param, r.err
}

// SetSampling sets how Greedy and Decode choose tokens on the GPU: temperature 0 (the default)
// takes the most likely token; temperature > 0 samples from softmax(logits / temperature) (no
// top-k, top-p or min-p: use Eval and the CPU sampler for those), with noise derived from seed
// and a step counter, so a run is reproducible from its seed.
func (r *Runner) SetSampling(temperature float32, seed uint64) error {
	if temperature < 0 || temperature != temperature {
		return fmt.Errorf("gpu: temperature %v", temperature)
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(r.c.Vocab))
	binary.LittleEndian.PutUint32(b[4:], math.Float32bits(temperature))
	r.seed, r.step = seed, 0
	return r.d.Write(r.argmaxParam.b, r.argmaxParam.off, b[:])
}

// SetDecodeAhead sets how many steps an unmasked decode submits beyond the one whose token is
// being read (DefaultDecodeAhead; at least 1). It applies to the next StartDecode.
func (r *Runner) SetDecodeAhead(n int) { r.decodeAhead = max(n, 1) }

// Pos is the number of positions in the KV cache.
func (r *Runner) Pos() int { return r.pos }

// ContextLen is the most positions the KV cache holds.
func (r *Runner) ContextLen() int { return r.ctxLen }

// Truncate forgets every position from n on.
func (r *Runner) Truncate(n int) {
	if n >= 0 && n < r.pos {
		r.pos = n
	}
}

// Close frees the Runner's GPU memory (and the device, when the Runner opened it).
func (r *Runner) Close() {
	if r.arena != nil {
		r.arena.Destroy()
		r.arena = nil
	}
	if r.ownDev {
		r.d.Destroy()
		r.ownDev = false
	}
}

// WeightBytes is the size of the weight matrices the Runner holds in GPU memory.
func (r *Runner) WeightBytes() int64 { return r.weightBytes }

// Device is the device the Runner runs on.
func (r *Runner) Device() *Device { return r.d }

func (r *Runner) check(tokens []int) error {
	if r.arena == nil {
		return errors.New("gpu: runner is closed")
	}
	if len(tokens) == 0 {
		return errors.New("gpu: no tokens to evaluate")
	}
	if r.pos+len(tokens) > r.ctxLen {
		return fmt.Errorf("%w: %d positions used + %d new > context length %d", model.ErrContextFull, r.pos, len(tokens), r.ctxLen)
	}
	for _, t := range tokens {
		if t < 0 || t >= r.c.Vocab {
			return fmt.Errorf("gpu: token id %d out of range [0, %d)", t, r.c.Vocab)
		}
	}
	return nil
}

// encode records the forward pass of a batch of n tokens (already written to the token buffer,
// or left there by the last argmax) followed by the extra dispatches.
func (r *Runner) encode(n int, extra ...[]op) (*wgpu.CommandEncoder, error) {
	var st [16]byte
	binary.LittleEndian.PutUint32(st[0:], uint32(r.pos))
	binary.LittleEndian.PutUint32(st[4:], uint32(n))
	r.step++
	binary.LittleEndian.PutUint32(st[8:], uint32(r.seed)^uint32(r.seed>>32)^(r.step*0x9e3779b9))
	if err := r.d.Write(r.state, 0, st[:]); err != nil {
		return nil, err
	}
	enc, err := r.d.dev.CreateCommandEncoder(nil)
	if err != nil {
		return nil, fmt.Errorf("gpu: command encoder: %w", err)
	}
	pass := enc.BeginComputePass(nil)
	dispatch := func(o op) {
		p, bg := o.p1, o.bg
		if o.bg1 != nil {
			bg = o.bg1
		}
		if n > 1 {
			p, bg = o.pn, o.bg
		}
		if p == nil {
			return
		}
		gx, gy := o.grid(n)
		dispatch(pass, p.cp, bg, gx, gy)
	}
	for _, o := range r.layerOps {
		dispatch(o)
	}
	for _, ops := range extra {
		for _, o := range ops {
			dispatch(o)
		}
	}
	err = endPass(pass)
	if err != nil {
		enc.Release()
		return nil, fmt.Errorf("gpu: compute pass: %w", err)
	}
	return enc, nil
}

func (r *Runner) submit(enc *wgpu.CommandEncoder) error {
	defer enc.Release()
	cmd, err := enc.Finish(nil)
	if err != nil {
		return fmt.Errorf("gpu: finish commands: %w", err)
	}
	r.d.queue.Submit(cmd)
	cmd.Release()
	return nil
}

func (r *Runner) writeTokens(tokens []int) error {
	b := make([]byte, 4*len(tokens))
	for i, t := range tokens {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(t))
	}
	return r.d.Write(r.tok, 0, b)
}

// ensureAll prepares the classifier over every token of a batch (for Eval with all set).
func (r *Runner) ensureAll() error {
	if r.outAll != nil {
		return nil
	}
	c := r.c
	logits, err := r.arena.New("logits of a batch", uint64(4*MaxBatch*c.Vocab), usageStorage)
	if err != nil {
		return err
	}
	ops, err := r.matmulOps(nil, matVariant{Type: r.outMat.typ, Norm: true}, r.outMat, nil, r.x, logits, c.Vocab, 0, r.outNorm, nil, false)
	if err == nil {
		err = r.err
	}
	if err != nil {
		return err
	}
	r.outAll, r.logitsAll = ops, logits
	return nil
}

// Eval appends tokens at positions Pos().. and returns the logits of the last token (Vocab
// floats), or with all set those of every token ((len(tokens), Vocab) row-major). The returned
// slice is reused by the next call.
func (r *Runner) Eval(tokens []int, all bool) ([]float32, error) {
	if err := r.check(tokens); err != nil {
		return nil, err
	}
	if all {
		if err := r.ensureAll(); err != nil {
			return nil, err
		}
	}
	v := r.c.Vocab
	need := v
	if all {
		need = len(tokens) * v
	}
	if cap(r.out) < need {
		r.out = make([]float32, need)
	}
	r.out = r.out[:need]
	for start := 0; start < len(tokens); start += MaxBatch {
		batch := tokens[start:min(start+MaxBatch, len(tokens))]
		n := len(batch)
		last := start+n == len(tokens)
		if err := r.writeTokens(batch); err != nil {
			return nil, err
		}
		var (
			enc *wgpu.CommandEncoder
			err error
			raw []byte
		)
		switch {
		case all:
			if enc, err = r.encode(n, r.outAll); err == nil {
				raw, err = r.d.read(enc, r.logitsAll, r.stage, uint64(4*n*v))
				enc.Release()
			}
		case last:
			if enc, err = r.encode(n, r.outLast); err == nil {
				raw, err = r.d.read(enc, r.logits, r.stage, uint64(4*v))
				enc.Release()
			}
		default:
			if enc, err = r.encode(n); err == nil {
				err = r.submit(enc)
			}
		}
		if err != nil {
			return nil, err
		}
		r.pos += n
		if raw != nil {
			dst := r.out
			if all {
				dst = r.out[start*v : (start+n)*v]
			}
			for i := range dst {
				dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		}
	}
	return r.out, nil
}

// Greedy appends tokens like Eval and returns the most likely next token, chosen on the GPU:
// only its id is read back.
func (r *Runner) Greedy(tokens []int) (int, error) {
	if err := r.check(tokens); err != nil {
		return 0, err
	}
	if err := r.setMasked(false); err != nil {
		return 0, err
	}
	for start := 0; start < len(tokens); start += MaxBatch {
		batch := tokens[start:min(start+MaxBatch, len(tokens))]
		n := len(batch)
		if err := r.writeTokens(batch); err != nil {
			return 0, err
		}
		if start+n < len(tokens) {
			enc, err := r.encode(n)
			if err == nil {
				err = r.submit(enc)
			}
			if err != nil {
				return 0, err
			}
			r.pos += n
			continue
		}
		enc, err := r.encode(n, r.outLast, r.argmax)
		if err != nil {
			return 0, err
		}
		raw, err := r.d.read(enc, r.res, r.stage, 4)
		enc.Release()
		if err != nil {
			return 0, err
		}
		r.pos += n
		return int(binary.LittleEndian.Uint32(raw)), nil
	}
	panic("unreachable")
}

// Decode appends tokens, then generates up to n tokens, sampling on the GPU (greedily unless
// SetSampling says otherwise), and calls emit with each in order; emit returns false to stop. It
// is StartDecode without a mask: the steps after step k are submitted before step k's token is
// read back (each takes its input token from GPU memory), so the GPU does not wait for the host
// between tokens. On return Pos() counts the prompt and every emitted token but the last (as after Greedy
// calls: the last token is not yet evaluated).
func (r *Runner) Decode(tokens []int, n int, emit func(token int) bool) error {
	if err := r.check(tokens); err != nil {
		return err
	}
	if n <= 0 {
		return nil
	}
	d, err := r.StartDecode(tokens, n, false)
	if err != nil {
		return err
	}
	defer d.Stop()
	for range n {
		tok, err := d.Next(nil)
		if err != nil {
			return err
		}
		if !emit(tok) {
			return nil
		}
	}
	return nil
}

// Decoding is a generation in progress on the GPU (StartDecode): each Next returns one token,
// chosen on the GPU, of which only the id is read back.
type Decoding struct {
	r       *Runner
	n       int          // tokens to generate at most
	k       int          // tokens returned so far
	base    int          // r.pos once the prompt is evaluated
	masked  bool         // Next takes masks
	ahead   int          // unmasked: steps kept submitted beyond token k's
	steps   []submission // unmasked: steps[i%len] is the submission whose copy holds token i
	queued  int          // unmasked: steps submitted, each sampling one token
	stopped bool
}

// StartDecode appends tokens and prepares to generate up to n tokens, one per Next call, chosen
// on the GPU as SetSampling says.
//
// Without masked, the steps after token k's (forward pass, sampling, copy of the token; up to
// SetDecodeAhead of them) are submitted before token k is read back, each taking its input token
// from GPU memory, so the GPU never waits for the host. With masked, each Next takes the mask of
// the tokens allowed next, which may depend on the token before: Next uploads it and submits
// step k's sampling, then submits step k+1's forward pass (whose input token, written by the
// sampling, stays in GPU memory) before reading token k back, so the GPU runs that forward pass
// while the host waits for the token and computes the next mask. A mask that allows no token is
// an error.
//
// Stop ends the generation; Pos() then counts the prompt and every token returned but the last.
// Nothing else may use the Runner until Stop.
func (r *Runner) StartDecode(tokens []int, n int, masked bool) (*Decoding, error) {
	if err := r.check(tokens); err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, fmt.Errorf("gpu: a decode of %d tokens", n)
	}
	if r.pos+len(tokens)+n-1 > r.ctxLen {
		return nil, fmt.Errorf("%w: %d positions used + %d + %d > context length %d", model.ErrContextFull, r.pos, len(tokens), n-1, r.ctxLen)
	}
	d := &Decoding{r: r, n: n, masked: masked, base: r.pos + len(tokens), ahead: 1}
	if !masked {
		d.ahead = min(r.decodeAhead, n-1)
	}
	// one staging buffer for each step in flight and the one being read
	for len(r.stages) < d.ahead+1 {
		b, err := r.arena.New("decode staging", 16, usageRead)
		if err != nil {
			return nil, err
		}
		r.stages = append(r.stages, b)
	}
	if err := r.setMasked(masked); err != nil {
		return nil, err
	}
	// the prompt: all batches but the last as in Eval
	for len(tokens) > MaxBatch {
		if err := r.writeTokens(tokens[:MaxBatch]); err != nil {
			return nil, err
		}
		enc, err := r.encode(MaxBatch)
		if err == nil {
			err = r.submit(enc)
		}
		if err != nil {
			return nil, err
		}
		r.pos += MaxBatch
		tokens = tokens[MaxBatch:]
	}
	if err := r.writeTokens(tokens); err != nil {
		return nil, err
	}
	if masked {
		// the last batch's forward pass; its sampling waits for the first mask
		_, err := r.queue(len(tokens), false, nil)
		return d, err
	}
	d.steps = make([]submission, d.ahead+1)
	idx, err := r.queue(len(tokens), true, r.stages[0])
	if err != nil {
		return nil, err
	}
	d.steps[0], d.queued = idx, 1
	return d, nil
}

// Next returns the next token, chosen among those allowed (a mask as for a TokenFilter: bit i of
// allowed[i/32] allows token i) when the decode is masked; allowed is ignored otherwise.
func (d *Decoding) Next(allowed []uint32) (int, error) {
	r, k := d.r, d.k
	if d.stopped || k >= d.n {
		return 0, fmt.Errorf("gpu: Next after %d of %d tokens", k, d.n)
	}
	var idx submission
	stage := r.stages[k%len(r.stages)]
	if d.masked {
		if err := r.writeMask(allowed); err != nil {
			return 0, err
		}
		var err error
		if idx, err = r.queueSample(stage); err != nil {
			return 0, err
		}
		if k+1 < d.n {
			if _, err := r.queue(1, false, nil); err != nil {
				return 0, err
			}
		}
	} else {
		// keep d.ahead steps in flight beyond this one; a step's staging buffer was last used
		// by a token already read
		for d.queued < d.n && d.queued <= k+d.ahead {
			i := d.queued
			s, err := r.queue(1, true, r.stages[i%len(r.stages)])
			if err != nil {
				return 0, err
			}
			d.steps[i%len(d.steps)] = s
			d.queued++
		}
		idx = d.steps[k%len(d.steps)]
	}
	raw, err := r.d.mapReadAfter(stage, 4, idx)
	if err != nil {
		return 0, err
	}
	tok := int(binary.LittleEndian.Uint32(raw))
	if tok < 0 || tok >= r.c.Vocab {
		return 0, fmt.Errorf("gpu: sampling returned token %d: the mask allows no token", tok)
	}
	d.k++
	return tok, nil
}

// Stop ends the decode: the steps submitted for tokens after the last one returned are
// forgotten (their positions will be written again).
func (d *Decoding) Stop() {
	if d.stopped {
		return
	}
	d.stopped = true
	d.r.pos = d.base + max(d.k-1, 0)
}

// queue submits the forward pass of a batch of n tokens (in the token buffer, or left there by
// the last sampling) and its classifier, followed, with sample, by the sampling and a copy of the
// token into stage. The position advances by n.
func (r *Runner) queue(n int, sample bool, stage *Buffer) (submission, error) {
	extra := [][]op{r.outLast}
	if sample {
		extra = append(extra, r.argmax)
	}
	enc, err := r.encode(n, extra...)
	if err != nil {
		return 0, err
	}
	r.pos += n
	return r.finish(enc, stage)
}

// queueSample submits the sampling of the logits of the last forward pass and a copy of the
// token into stage.
func (r *Runner) queueSample(stage *Buffer) (submission, error) {
	enc, err := r.d.dev.CreateCommandEncoder(nil)
	if err != nil {
		return 0, fmt.Errorf("gpu: command encoder: %w", err)
	}
	pass := enc.BeginComputePass(nil)
	for _, o := range r.argmax {
		gx, gy := o.grid(1)
		dispatch(pass, o.p1.cp, o.bg, gx, gy)
	}
	if err := endPass(pass); err != nil {
		enc.Release()
		return 0, fmt.Errorf("gpu: compute pass: %w", err)
	}
	return r.finish(enc, stage)
}

// finish adds a copy of the sampled token into stage (when not nil) to enc and submits it.
func (r *Runner) finish(enc *wgpu.CommandEncoder, stage *Buffer) (submission, error) {
	defer enc.Release()
	if stage != nil {
		if err := enc.CopyBufferToBuffer(r.res.b, 0, stage.b, 0, 4); err != nil {
			return 0, fmt.Errorf("gpu: copy token: %w", err)
		}
	}
	cmd, err := enc.Finish(nil)
	if err != nil {
		return 0, fmt.Errorf("gpu: finish commands: %w", err)
	}
	idx := r.d.submitCmd(cmd)
	cmd.Release()
	return idx, nil
}

// setMasked sets whether sampling honours the mask buffer.
func (r *Runner) setMasked(on bool) error {
	if on == r.masked {
		return nil
	}
	var b [4]byte
	if on {
		b[0] = 1
	}
	if err := r.d.Write(r.argmaxParam.b, r.argmaxParam.off+8, b[:]); err != nil {
		return err
	}
	r.masked = on
	return nil
}

// writeMask uploads the allowed tokens of the next sampling (nil: all); bits past allowed are
// zero. The bytes go through r.maskBytes, written in place each step, so no allocation happens
// between the copy and the upload (in the browser the upload reads Go memory through a view that
// an allocation growing the heap would detach).
func (r *Runner) writeMask(allowed []uint32) error {
	b := r.maskBytes
	for i := 0; 4*i < len(b); i++ {
		w := ^uint32(0)
		if allowed != nil {
			w = 0
			if i < len(allowed) {
				w = allowed[i]
			}
		}
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	return r.d.Write(r.mask, 0, b)
}
