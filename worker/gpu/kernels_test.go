//go:build cgo && !js

package gpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"aisle/worker/model"
	"aisle/worker/quant"
)

// harness runs single kernels on buffers of its own, for differential tests against plain Go.
type harness struct {
	t     *testing.T
	d     *Device
	r     *Runner // only its arena, params and state are used
	state *Buffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	d := mustDevice(t)
	r := &Runner{d: d, arena: d.NewArena(), c: model.Config{NormEps: 1e-5}}
	t.Cleanup(r.arena.Destroy)
	st, err := r.arena.New("state", 16, usageUniform)
	if err != nil {
		t.Fatal(err)
	}
	r.state = st
	return &harness{t: t, d: d, r: r, state: st}
}

func (h *harness) floats(label string, v []float32) *Buffer {
	h.t.Helper()
	b, err := h.r.arena.Storage(label, f32Bytes(v))
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// run executes ops for a batch of n tokens at position pos and returns the floats of out.
func (h *harness) run(ops []op, n, pos int, out *Buffer, floats int) []float32 {
	h.t.Helper()
	if h.r.err != nil {
		h.t.Fatal(h.r.err)
	}
	h.r.pos = pos
	saved := h.r.layerOps
	h.r.layerOps = ops
	enc, err := h.r.encode(n)
	h.r.layerOps = saved
	if err != nil {
		h.t.Fatal(err)
	}
	defer enc.Release()
	stage, err := h.r.arena.New("stage", uint64(min(4*floats, readChunk)), usageRead)
	if err != nil {
		h.t.Fatal(err)
	}
	raw, err := h.d.read(enc, out, stage, uint64(4*floats))
	if err != nil {
		h.t.Fatal(err)
	}
	res := make([]float32, floats)
	for i := range res {
		res[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return res
}

func randFloats(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

// randMatrix returns a random (rows, cols) matrix of type t and its dequantized values.
func randMatrix(t *testing.T, rng *rand.Rand, typ quant.Type, rows, cols int) (*model.Matrix, []float32) {
	t.Helper()
	vals := randFloats(rng, rows*cols, 1)
	data, err := quant.Quantize(typ, vals)
	if err != nil {
		t.Fatal(err)
	}
	if err := quant.Dequantize(typ, data, vals); err != nil {
		t.Fatal(err)
	}
	rb, _ := typ.RowBytes(cols)
	return &model.Matrix{Name: "w", Type: typ, Rows: rows, Cols: cols, RowBytes: rb, Data: data}, vals
}

// TestMatmulKernel holds every form of matmul.wgsl to a float64 reference computed from the
// dequantized weights: every tensor type, single tokens and batches (not multiples of the 8
// tokens per workgroup), row counts that are not multiples of the 4 rows per workgroup, weights
// split into parts, and each fusion (RMSNorm, bias, residual add, SwiGLU).
func TestMatmulKernel(t *testing.T) {
	h := newHarness(t)
	rng := rand.New(rand.NewPCG(1, 2))
	variants := []matVariant{{}, {Norm: true}, {Bias: true, Norm: true}, {Acc: true}, {GLU: true, Norm: true}}
	for _, typ := range allTypes {
		for vi, v := range variants {
			v.Type = typ
			// a shape per case: cols a multiple of the block size, rows and tokens odd
			cols := []int{256, 2048, 768, 4096, 512}[vi]
			if typ.BlockSize() == 1 {
				cols = []int{172, 1028, 260, 64, 2052}[vi]
			}
			rows := []int{37, 70, 5, 131, 66}[vi]
			if typ == quant.Q4_K || typ == quant.F16 {
				// large parts: matvec.wgsl with 4 or 8 row groups per workgroup
				rows = []int{4100, 16390, 5, 131, 4097}[vi]
				if rows > 10000 {
					cols = 256 // keep the reference quick
				}
			}
			n := []int{1, 13, 8, 3, 9}[vi]
			for _, n := range []int{1, n, 11} {
				partRows := []int{0, 16, 0, 9, 0}[vi]
				t.Run(fmt.Sprintf("%s/%+v/%dx%d/n=%d", typ, struct{ Norm, Bias, Acc, GLU bool }{v.Norm, v.Bias, v.Acc, v.GLU}, rows, cols, n), func(t *testing.T) {
					checkMatmul(t, h, rng, v, rows, cols, n, partRows)
				})
			}
		}
	}
}

// checkMatmul runs one matmul variant on random weights and activations and compares it with a
// float64 reference computed from the dequantized weights.
func checkMatmul(t *testing.T, h *harness, rng *rand.Rand, v matVariant, rows, cols, n, partRows int) {
	t.Helper()
	h.t = t
	typ := v.Type
	w, wv := randMatrix(t, rng, typ, rows, cols)
	x := randFloats(rng, n*cols, 1)
	g := randFloats(rng, cols, 0.5)
	bias := randFloats(rng, rows, 1)
	y0 := randFloats(rng, n*rows, 1)
	gm, err := h.r.arena.uploadMatrix("w", partRows, w)
	if err != nil {
		t.Fatal(err)
	}
	var w2v []float32
	var gm2 *gmat
	if v.GLU {
		var w2 *model.Matrix
		w2, w2v = randMatrix(t, rng, typ, rows, cols)
		if gm2, err = h.r.arena.uploadMatrix("w2", partRows, w2); err != nil {
			t.Fatal(err)
		}
	}
	xb, yb := h.floats("x", x), h.floats("y", y0)
	gb, bb := h.floats("g", g), h.floats("bias", bias)
	ops, err := h.r.matmulOps(nil, v, gm, gm2, xb, yb, rows, 0, gb, bb, false)
	if err != nil {
		t.Fatal(err)
	}
	got := h.run(ops, n, 0, yb, n*rows)
	worst := 0.0
	for tk := 0; tk < n; tk++ {
		xs := make([]float64, cols)
		var ss float64
		for c := range xs {
			xs[c] = float64(x[tk*cols+c])
			ss += xs[c] * xs[c]
		}
		if v.Norm {
			sc := 1 / math.Sqrt(ss/float64(cols)+1e-5)
			for c := range xs {
				xs[c] *= sc * float64(g[c])
			}
		}
		for r := 0; r < rows; r++ {
			var a, a2, mag float64
			for c := 0; c < cols; c++ {
				a += float64(wv[r*cols+c]) * xs[c]
				mag += math.Abs(float64(wv[r*cols+c]) * xs[c])
				if v.GLU {
					a2 += float64(w2v[r*cols+c]) * xs[c]
				}
			}
			if v.Bias {
				a += float64(bias[r])
			}
			if v.GLU {
				a = a / (1 + math.Exp(-a)) * a2
			}
			if v.Acc {
				a += float64(y0[tk*rows+r])
			}
			d := math.Abs(float64(got[tk*rows+r])-a) / (mag + 1)
			if math.IsNaN(d) || d > 1e-5 {
				t.Fatalf("token %d row %d: got %g, want %g", tk, r, got[tk*rows+r], a)
			}
			worst = max(worst, d)
		}
	}
}

// FuzzMatmul holds matmul.wgsl and matvec.wgsl to the reference on shapes, types, fusions and
// splits chosen by the fuzzer (run with -fuzz=FuzzMatmul; the seeds run as a normal test).
func FuzzMatmul(f *testing.F) {
	f.Add(uint8(0), uint16(37), uint8(43), uint8(1), uint8(0), uint8(0), uint64(1))
	f.Add(uint8(3), uint16(70), uint8(8), uint8(13), uint8(1), uint8(16), uint64(2))
	f.Add(uint8(5), uint16(9), uint8(2), uint8(9), uint8(15), uint8(4), uint64(3))
	f.Add(uint8(7), uint16(300), uint8(3), uint8(1), uint8(9), uint8(0), uint64(4))
	f.Fuzz(func(t *testing.T, typeIdx uint8, rows16 uint16, colUnits, n8, flags, partRows8 uint8, seed uint64) {
		typ := allTypes[int(typeIdx)%len(allTypes)]
		// columns: a positive multiple of the block size (of 4 for float types), up to 64 blocks
		unit := typ.BlockSize()
		if unit == 1 {
			unit = 4
		}
		cols := unit * (1 + int(colUnits)%64)
		rows := 1 + int(rows16)%2048
		n := 1 + int(n8)%MaxBatch
		v := matVariant{Type: typ, Norm: flags&1 != 0, Bias: flags&2 != 0, Acc: flags&4 != 0, GLU: flags&8 != 0}
		if v.Acc && v.GLU {
			v.Acc = false // the forward pass never adds SwiGLU's output to a residual
		}
		partRows := int(partRows8) % 64
		h := newHarness(t)
		checkMatmul(t, h, rand.New(rand.NewPCG(seed, 7)), v, rows, cols, n, partRows)
	})
}

// TestBrowserLimitsEnforced: the native device is requested with the browsers' default compute
// limits, so a kernel that would fail to compile in a browser fails here too.
func TestBrowserLimitsEnforced(t *testing.T) {
	d := mustDevice(t)
	t.Logf("device limit: %d bytes of workgroup memory", d.Limits.MaxComputeWorkgroupStorageSize)
	_, err := d.kernel("too-much-workgroup-memory", []slot{{0, bindReadWrite}}, func() (string, error) {
		return `@group(0) @binding(0) var<storage, read_write> o: array<f32>;
var<workgroup> big: array<f32, 4200>; // 16800 bytes > 16384
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) l: u32) {
  big[l] = f32(l);
  workgroupBarrier();
  o[l] = big[4199u - l];
}`, nil
	})
	if err == nil {
		t.Fatal("a kernel with 16800 bytes of workgroup memory compiled; browsers allow 16384")
	}
	t.Logf("rejected as expected: %.200s", err)
}

// TestArgmaxSampling: with temperature 0 argmax.wgsl returns the first largest logit; with
// temperature T its Gumbel-max samples follow softmax(logits / T) (2000 draws, each frequency
// within 4.5 standard deviations), and greedy decoding is unaffected by the seed. With a mask,
// only allowed tokens are drawn, greedily the largest of them, sampled as softmax over them; a
// mask that allows nothing gives 0xffffffff.
func TestArgmaxSampling(t *testing.T) {
	h := newHarness(t)
	logits := []float32{0, 1, 2, 0.5, -1, 2, 1.5}
	lb := h.floats("logits", logits)
	res, err := h.r.arena.New("res", 16, usageStorage)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := h.r.arena.New("tok", 16, usageStorage)
	if err != nil {
		t.Fatal(err)
	}
	mask, err := h.r.arena.New("mask", 16, usageStorage)
	if err != nil {
		t.Fatal(err)
	}
	h.r.tok = tok
	ops, param, err := h.r.argmaxOps(len(logits), lb, res, mask)
	if err != nil {
		t.Fatal(err)
	}
	draw := func(temp float32, allowed uint32, n int) []int {
		var mb [4]byte
		binary.LittleEndian.PutUint32(mb[:], allowed)
		if err := h.d.Write(mask, 0, mb[:]); err != nil {
			t.Fatal(err)
		}
		var pb [12]byte // ArgmaxParams' n, temp, masked
		binary.LittleEndian.PutUint32(pb[0:], uint32(len(logits)))
		binary.LittleEndian.PutUint32(pb[4:], math.Float32bits(temp))
		if allowed != 1<<len(logits)-1 {
			pb[8] = 1
		}
		if err := h.d.Write(param.b, param.off, pb[:]); err != nil {
			t.Fatal(err)
		}
		counts := make([]int, len(logits)+1) // the last: no token
		for i := 0; i < n; i++ {
			got := math.Float32bits(h.run(ops, 1, 0, res, 1)[0])
			counts[min(int(got), len(logits))]++
		}
		return counts
	}
	const all = 1<<7 - 1
	if c := draw(0, all, 20); c[2] != 20 {
		t.Fatalf("greedy draws %v, want all 20 at index 2 (the first of the two largest)", c)
	}
	if c := draw(0, 1<<0|1<<3|1<<6, 5); c[6] != 5 {
		t.Fatalf("greedy draws among 0, 3, 6: %v, want all at 6", c)
	}
	if c := draw(0, 0, 3); c[len(logits)] != 3 {
		t.Fatalf("greedy draws with nothing allowed: %v, want no token", c)
	}
	const n = 2000
	temp := float32(0.8)
	for _, allowed := range []uint32{all, 1<<1 | 1<<2 | 1<<4 | 1<<6} {
		counts := draw(temp, allowed, n)
		var z float64
		for i, l := range logits {
			if allowed>>i&1 == 1 {
				z += math.Exp(float64(l / temp))
			}
		}
		for i, l := range logits {
			p := 0.0
			if allowed>>i&1 == 1 {
				p = math.Exp(float64(l/temp)) / z
			}
			sd := math.Sqrt(p * (1 - p) / n)
			if f := float64(counts[i]) / n; math.Abs(f-p) > 4.5*sd {
				t.Errorf("mask %07b, logit %d: sampled %.3f of the time, softmax gives %.3f (sd %.3f)", allowed, i, f, p, sd)
			}
		}
		t.Logf("mask %07b: counts %v", allowed, counts)
	}
}

// TestArgmaxManyCandidates: over a vocabulary that spreads the candidates pass over many
// workgroups (151,936, Qwen2's), greedy sampling returns the first of two equal largest logits
// whichever workgroups they fall in, and the later one when a mask clears the first.
func TestArgmaxManyCandidates(t *testing.T) {
	h := newHarness(t)
	const n = 151936
	rng := rand.New(rand.NewPCG(5, 6))
	logits := make([]float32, n)
	for i := range logits {
		logits[i] = rng.Float32()
	}
	lo, hi := 70001+3*256, 140001 // in different workgroups
	logits[lo], logits[hi] = 2, 2
	lb := h.floats("logits", logits)
	res, err := h.r.arena.New("res", 16, usageStorage)
	if err != nil {
		t.Fatal(err)
	}
	if h.r.tok, err = h.r.arena.New("tok", 16, usageStorage); err != nil {
		t.Fatal(err)
	}
	words := make([]byte, 4*((n+31)/32))
	for i := range words {
		words[i] = 0xff
	}
	mask, err := h.r.arena.Storage("mask", words)
	if err != nil {
		t.Fatal(err)
	}
	ops, param, err := h.r.argmaxOps(n, lb, res, mask)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 {
		t.Fatalf("%d dispatches, want 2", len(ops))
	}
	if gx, _ := ops[0].grid(1); gx < 32 {
		t.Fatalf("candidates pass in %d workgroups: the test needs many", gx)
	}
	if got := math.Float32bits(h.run(ops, 1, 0, res, 1)[0]); got != uint32(lo) {
		t.Fatalf("greedy token %d, want %d (the lower index of the two largest)", got, lo)
	}
	words[lo/8] &^= 1 << (lo % 8)
	if err := h.d.Write(mask, 0, words); err != nil {
		t.Fatal(err)
	}
	if err := h.d.Write(param.b, param.off+8, []byte{1, 0, 0, 0}); err != nil { // masked
		t.Fatal(err)
	}
	if got := math.Float32bits(h.run(ops, 1, 0, res, 1)[0]); got != uint32(hi) {
		t.Fatalf("greedy token with %d masked %d, want %d", lo, got, hi)
	}
}
