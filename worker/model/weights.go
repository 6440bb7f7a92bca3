package model

import (
	"cmp"
	"fmt"
	"slices"

	"aisle/worker/gguf"
	"aisle/worker/quant"
)

// Matrix is a row-major weight matrix kept in its stored (possibly quantized) form:
// Rows rows of Cols elements, each row RowBytes bytes of Type blocks. Data usually points into the
// memory-mapped file, so no weight is copied.
type Matrix struct {
	Name       string
	Type       quant.Type
	Rows, Cols int
	RowBytes   int
	Data       []byte
}

// Row returns the bytes of row r.
func (m *Matrix) Row(r int) []byte { return m.Data[r*m.RowBytes : (r+1)*m.RowBytes] }

// Layer holds one transformer block's weights. Shapes are (rows, cols) of y = W x.
type Layer struct {
	AttnNorm []float32 // (Dim)
	Wq       Matrix    // (QDim, Dim)
	Wk, Wv   Matrix    // (KVDim, Dim)
	Wo       Matrix    // (Dim, QDim)
	Bq       []float32 // (QDim), qwen2 only
	Bk, Bv   []float32 // (KVDim), qwen2 only
	QNorm    []float32 // (HeadDim), qwen3 only
	KNorm    []float32 // (HeadDim), qwen3 only
	FFNNorm  []float32 // (Dim)
	Wgate    Matrix    // (FFNDim, Dim)
	Wup      Matrix    // (FFNDim, Dim)
	Wdown    Matrix    // (Dim, FFNDim)
}

// Weights are all tensors of a model, bound by their GGUF names.
type Weights struct {
	Embed     Matrix    // token_embd.weight (Vocab, Dim)
	Layers    []Layer   // blk.N.*
	OutNorm   []float32 // output_norm.weight (Dim)
	Output    Matrix    // output.weight (Vocab, Dim), or Embed when tied
	RopeFreqs []float32 // rope_freqs.weight (RopeDims/2): llama3 frequency divisors, or nil
}

// binder reads tensors of f, checking names, shapes and types, and remembers the first error.
// With a split share it binds only the part's rows of split matrices, and for parts other than
// the leader nothing else. With copy set it copies what it binds out of f, in file order when
// flushed: a file read one shard at a time (gguf.OpenLazyShards) then loads each shard once.
type binder struct {
	f       *gguf.File
	share   Share
	copy    bool
	pending []pendingRead // copy mode: the reads flush does
	err     error
}

// pendingRead copies len(dst) bytes from byte off of a tensor into dst, then runs done (if not
// nil).
type pendingRead struct {
	at   uint64 // file offset, for ordering
	name string
	off  uint64
	dst  []byte
	done func()
}

// flush does the pending reads in file order.
func (b *binder) flush() {
	slices.SortFunc(b.pending, func(x, y pendingRead) int { return cmp.Compare(x.at, y.at) })
	for _, r := range b.pending {
		if b.err != nil {
			return
		}
		if err := b.f.ReadTensorRange(r.name, r.off, r.dst); err != nil {
			b.fail(err)
			return
		}
		if r.done != nil {
			r.done()
		}
	}
	b.pending = nil
}

func (b *binder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// info checks the named tensor's shape and returns it with its bytes [off, off+n) (n < 0: all).
func (b *binder) info(name string, off, n int64, shape ...int) (gguf.TensorInfo, []byte, bool) {
	t, ok := b.f.Tensor(name)
	if !ok {
		b.fail(fmt.Errorf("%w: tensor %s is missing", ErrUnsupported, name))
		return t, nil, false
	}
	want := make([]uint64, len(shape))
	for i, s := range shape {
		want[i] = uint64(s)
	}
	same := len(t.Shape) == len(want)
	for i := 0; same && i < len(want); i++ {
		same = t.Shape[i] == want[i]
	}
	if !same {
		b.fail(fmt.Errorf("%w: tensor %s has shape %v, want %v", ErrUnsupported, name, t.Shape, want))
		return t, nil, false
	}
	if n < 0 {
		off, n = 0, int64(t.Size)
	}
	if off+n > int64(t.Size) {
		b.fail(fmt.Errorf("%w: tensor %s: bytes [%d, +%d) of %d", ErrUnsupported, name, off, n, t.Size))
		return t, nil, false
	}
	if b.copy { // read by flush, in file order
		data := make([]byte, n)
		b.pending = append(b.pending, pendingRead{at: b.f.DataStart + t.Offset + uint64(off), name: name, off: uint64(off), dst: data})
		return t, data, true
	}
	data, err := b.f.TensorRange(name, uint64(off), uint64(n))
	if err != nil {
		b.fail(err)
		return t, nil, false
	}
	return t, data, true
}

// matrix binds a (rows, cols) weight matrix (ggml shape [cols, rows]); of a split one (see
// Share) only the share's rows, from row 0 for the leader (whose Data may hold more: the
// embeddings tied to the output).
func (b *binder) matrix(name string, rows, cols int, split bool) Matrix {
	t, ok := b.f.Tensor(name)
	if !ok {
		b.fail(fmt.Errorf("%w: tensor %s is missing", ErrUnsupported, name))
		return Matrix{}
	}
	off, n := int64(0), int64(-1)
	if b.share.Split() {
		if !split && b.share.Part > 0 {
			return Matrix{}
		}
		if rb, err := t.Type.RowBytes(cols); err == nil && split {
			lo, hi := b.share.Bounds(rows)
			off, n = int64(lo*rb), int64((hi-lo)*rb)
		}
	}
	t, data, ok := b.info(name, off, n, cols, rows)
	if !ok {
		return Matrix{}
	}
	if _, err := quant.ActivationBytes(t.Type, cols); err != nil { // no dot product for this type
		b.fail(fmt.Errorf("%w: tensor %s has type %s, which this engine cannot compute with", ErrUnsupported, name, gguf.TypeName(t.Type)))
		return Matrix{}
	}
	rb, err := t.Type.RowBytes(cols)
	if err != nil {
		b.fail(fmt.Errorf("%w: tensor %s: %v", ErrUnsupported, name, err))
		return Matrix{}
	}
	return Matrix{Name: name, Type: t.Type, Rows: rows, Cols: cols, RowBytes: rb, Data: data}
}

// vector binds a 1-D tensor of n elements as float32 (converted if stored as F16/BF16).
func (b *binder) vector(name string, n int) []float32 {
	if b.share.Part > 0 {
		return nil
	}
	t, data, ok := b.info(name, 0, -1, n)
	if !ok {
		return nil
	}
	out := make([]float32, n)
	convert := func() {
		if err := quant.Dequantize(t.Type, data, out); err != nil {
			b.fail(fmt.Errorf("%w: tensor %s: %v", ErrUnsupported, name, err))
		}
	}
	if b.copy {
		b.pending[len(b.pending)-1].done = convert // data arrives at flush
	} else {
		convert()
	}
	return out
}

// BindWeights binds every tensor the architecture c needs.
func BindWeights(f *gguf.File, c Config) (*Weights, error) { return bindWeights(f, c, Share{}, false) }

// bindWeights binds what share holds of the tensors c needs (see binder).
func bindWeights(f *gguf.File, c Config, share Share, copyData bool) (*Weights, error) {
	b := &binder{f: f, share: share, copy: copyData}
	w := &Weights{}
	w.Embed = b.matrix("token_embd.weight", c.Vocab, c.Dim, false)
	w.OutNorm = b.vector("output_norm.weight", c.Dim)
	switch {
	case c.TiedOutput && share.Part > 0:
		w.Output = b.matrix("token_embd.weight", c.Vocab, c.Dim, true)
	case c.TiedOutput:
		w.Output = w.Embed
	default:
		w.Output = b.matrix("output.weight", c.Vocab, c.Dim, true)
	}
	if _, ok := f.Tensor("rope_freqs.weight"); ok && share.Part == 0 {
		w.RopeFreqs = b.vector("rope_freqs.weight", c.RopeDims/2)
	}
	w.Layers = make([]Layer, c.Layers)
	for i := range w.Layers {
		l := &w.Layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		l.AttnNorm = b.vector(p+"attn_norm.weight", c.Dim)
		l.Wq = b.matrix(p+"attn_q.weight", c.QDim(), c.Dim, true)
		l.Wk = b.matrix(p+"attn_k.weight", c.KVDim(), c.Dim, true)
		l.Wv = b.matrix(p+"attn_v.weight", c.KVDim(), c.Dim, true)
		l.Wo = b.matrix(p+"attn_output.weight", c.Dim, c.QDim(), true)
		if c.QKVBias {
			l.Bq = b.vector(p+"attn_q.bias", c.QDim())
			l.Bk = b.vector(p+"attn_k.bias", c.KVDim())
			l.Bv = b.vector(p+"attn_v.bias", c.KVDim())
		}
		if c.QKNorm {
			l.QNorm = b.vector(p+"attn_q_norm.weight", c.HeadDim)
			l.KNorm = b.vector(p+"attn_k_norm.weight", c.HeadDim)
		}
		l.FFNNorm = b.vector(p+"ffn_norm.weight", c.Dim)
		l.Wgate = b.matrix(p+"ffn_gate.weight", c.FFNDim, c.Dim, true)
		l.Wup = b.matrix(p+"ffn_up.weight", c.FFNDim, c.Dim, true)
		l.Wdown = b.matrix(p+"ffn_down.weight", c.Dim, c.FFNDim, true)
		if b.err != nil {
			break
		}
	}
	if b.err == nil {
		b.flush()
	}
	if b.err != nil {
		return nil, b.err
	}
	return w, nil
}
