// Package modelgen writes GGUF models: random-weight models that look like real ones to every
// reader (the architecture metadata and tensor names of llama, qwen2 or qwen3, a real tokenizer
// vocabulary copied from a vocabulary GGUF, real shapes (SmolLM2-135M, Qwen2.5-0.5B) or tiny
// ones, and any supported tensor type), and trained models exported from safetensors (Export).
// Both go through one writer (Write): the same metadata, tensor layout (Layout) and
// quantization, with the values coming from a Source. Tests and benchmarks use random models
// instead of downloading models; llama.cpp loads both like any other GGUF.
package modelgen

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"

	"aisle/worker/gguf"
	"aisle/worker/quant"
)

// Shape is the size of a model. HeadDim 0 means Dim/Heads.
type Shape struct {
	Dim, Layers, Heads, KVHeads, HeadDim, FFNDim, ContextLen int
	RopeBase                                                 float32
	NormEps                                                  float32
	TiedOutput                                               bool
}

// Shapes are the named shapes of `slm gen-model --shape`.
var Shapes = map[string]Shape{
	// SmolLM2-135M: dim 576, 30 layers, 9 heads, 3 KV heads, FFN 1536 (vocab 49152 from its vocabulary).
	"smollm2-135m": {Dim: 576, Layers: 30, Heads: 9, KVHeads: 3, FFNDim: 1536, ContextLen: 8192, RopeBase: 100000, NormEps: 1e-5, TiedOutput: true},
	// Qwen2.5-0.5B: dim 896, 24 layers, 14 heads, 2 KV heads, FFN 4864 (vocab 151936).
	"qwen2.5-0.5b": {Dim: 896, Layers: 24, Heads: 14, KVHeads: 2, FFNDim: 4864, ContextLen: 32768, RopeBase: 1000000, NormEps: 1e-6, TiedOutput: true},
	// tiny: every row length a multiple of 256, so every tensor type applies without fallback.
	"tiny": {Dim: 256, Layers: 2, Heads: 4, KVHeads: 2, FFNDim: 512, ContextLen: 512, RopeBase: 10000, NormEps: 1e-5},
	// tiny-wide-heads: head dimension (128) larger than Dim/Heads, as in Qwen3.
	"tiny-wide-heads": {Dim: 256, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 128, FFNDim: 512, ContextLen: 512, RopeBase: 1000000, NormEps: 1e-6, TiedOutput: true},
}

// ShapeNames lists the named shapes, sorted.
func ShapeNames() []string {
	var names []string
	for n := range Shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Spec says what model to write.
type Spec struct {
	Arch  string     // llama, qwen2 or qwen3
	Name  string     // general.name (default: arch-shape-type)
	Shape Shape      // sizes
	Type  quant.Type // type of the weight matrices (norms stay F32, as in llama.cpp)
	Vocab *gguf.File // a GGUF holding tokenizer.* metadata (a vocabulary file or a real model)
	Seed  uint64
	// ChatTemplate overrides tokenizer.chat_template when not empty.
	ChatTemplate string
	// Weights gives the tensor values (see Layout for the names and sizes); nil means random
	// values drawn from Seed.
	Weights Source
}

var archs = map[string]bool{"llama": true, "qwen2": true, "qwen3": true}

// fileTypes maps a weight type to general.file_type (llama.cpp's ftype numbering).
var fileTypes = map[quant.Type]uint32{quant.F32: 0, quant.F16: 1, quant.Q4_0: 2, quant.Q8_0: 7,
	quant.Q4_K: 15, quant.Q5_K: 17, quant.Q6_K: 18, quant.BF16: 32}

// TypeFor is the type a matrix of rows of `cols` elements gets when `want` is asked for: want if
// cols is a multiple of its block size, else a type with 32-element blocks as llama.cpp's
// quantizer falls back (Q4_K -> Q5_0, Q6_K -> Q8_0; Q5_K -> Q8_0 here, since llama.cpp's Q5_1 is
// not supported). SmolLM2-135M (576) and Qwen2.5-0.5B (896) rows need this.
func TypeFor(want quant.Type, cols int) quant.Type {
	if cols%want.BlockSize() == 0 {
		return want
	}
	if want == quant.Q4_K {
		return quant.Q5_0
	}
	return quant.Q8_0
}

// Write writes the model of spec as GGUF to w: the architecture and tokenizer metadata, then
// the tensors of Layout with values from spec.Weights (random ones when nil), matrices in
// spec.Type (TypeFor falls back where rows do not fit its blocks), vectors in F32.
func Write(w io.Writer, spec Spec) error {
	if !archs[spec.Arch] {
		return fmt.Errorf("modelgen: unsupported architecture %q (llama, qwen2, qwen3)", spec.Arch)
	}
	if _, ok := fileTypes[spec.Type]; !ok {
		return fmt.Errorf("modelgen: unsupported tensor type %s", spec.Type)
	}
	if spec.Vocab == nil {
		return fmt.Errorf("modelgen: a vocabulary is required")
	}
	tokens, ok := spec.Vocab.Metadata.Strings("tokenizer.ggml.tokens")
	if !ok || len(tokens) == 0 {
		return fmt.Errorf("modelgen: the vocabulary file has no tokenizer.ggml.tokens")
	}
	s := spec.Shape
	if s.HeadDim == 0 {
		s.HeadDim = s.Dim / s.Heads
	}
	if s.Dim <= 0 || s.Layers <= 0 || s.Heads <= 0 || s.KVHeads <= 0 || s.Heads%s.KVHeads != 0 || s.FFNDim <= 0 {
		return fmt.Errorf("modelgen: invalid shape %+v", s)
	}
	vocab := len(tokens)
	name := spec.Name
	if name == "" {
		name = fmt.Sprintf("random-%s-%s", spec.Arch, strings.ToLower(spec.Type.String()))
	}

	g := gguf.NewWriter()
	a := spec.Arch + "."
	g.SetString("general.architecture", spec.Arch)
	g.SetString("general.name", name)
	g.SetUint32("general.file_type", fileTypes[spec.Type])
	g.SetUint32(a+"context_length", uint32(s.ContextLen))
	g.SetUint32(a+"embedding_length", uint32(s.Dim))
	g.SetUint32(a+"block_count", uint32(s.Layers))
	g.SetUint32(a+"feed_forward_length", uint32(s.FFNDim))
	g.SetUint32(a+"attention.head_count", uint32(s.Heads))
	g.SetUint32(a+"attention.head_count_kv", uint32(s.KVHeads))
	g.SetUint32(a+"attention.key_length", uint32(s.HeadDim))
	g.SetUint32(a+"attention.value_length", uint32(s.HeadDim))
	g.SetUint32(a+"rope.dimension_count", uint32(s.HeadDim))
	g.SetFloat32(a+"rope.freq_base", s.RopeBase)
	g.SetFloat32(a+"attention.layer_norm_rms_epsilon", s.NormEps)
	g.SetUint32(a+"vocab_size", uint32(vocab))
	g.CopyMetadata(spec.Vocab.Metadata, func(k string) bool { return strings.HasPrefix(k, "tokenizer.") })
	if spec.ChatTemplate != "" {
		g.SetString("tokenizer.chat_template", spec.ChatTemplate)
	}

	src := spec.Weights
	if src == nil {
		src = newRandom(spec.Seed)
	}
	for _, ts := range Layout(spec.Arch, s, vocab) {
		fill, err := src.Tensor(ts)
		if err != nil {
			return fmt.Errorf("modelgen: %w", err)
		}
		if ts.Matrix {
			err = addMatrix(g, ts, TypeFor(spec.Type, ts.Cols), fill)
		} else {
			err = addVector(g, ts, fill)
		}
		if err != nil {
			return err
		}
	}
	_, err := g.WriteTo(w)
	return err
}

// TensorSpec is one tensor of a model's layout: its GGUF name, its size (row-major: Rows rows
// of Cols values; a vector has Rows 1) and how a random model initialises it.
type TensorSpec struct {
	Name       string
	Rows, Cols int
	// Matrix tensors are stored in the model's weight type (TypeFor); vectors (norms, biases)
	// stay F32, as in llama.cpp.
	Matrix bool
	// Random initialisation: matrices normal(0, Std); vectors uniform in [Mean-Spread, Mean+Spread].
	Std, Mean, Spread float64
}

// Layout lists the tensors of a model of arch (llama, qwen2 or qwen3) with shape s (HeadDim
// set) and vocab tokens, in the order they are written.
func Layout(arch string, s Shape, vocab int) []TensorSpec {
	qdim, kvdim := s.Heads*s.HeadDim, s.KVHeads*s.HeadDim
	var out []TensorSpec
	matrix := func(name string, rows, cols int, std float64) {
		out = append(out, TensorSpec{Name: name, Rows: rows, Cols: cols, Matrix: true, Std: std})
	}
	vector := func(name string, n int, mean, spread float64) {
		out = append(out, TensorSpec{Name: name, Rows: 1, Cols: n, Mean: mean, Spread: spread})
	}
	// Embeddings with unit variance make logits peaked (their spread grows like sqrt(Dim)), so
	// greedy decoding is decided by clear margins rather than near-ties.
	matrix("token_embd.weight", vocab, s.Dim, 1)
	vector("output_norm.weight", s.Dim, 1, 0.2)
	if !s.TiedOutput {
		matrix("output.weight", vocab, s.Dim, 1)
	}
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		vector(p+"attn_norm.weight", s.Dim, 1, 0.2)
		matrix(p+"attn_q.weight", qdim, s.Dim, 1/math.Sqrt(float64(s.Dim)))
		matrix(p+"attn_k.weight", kvdim, s.Dim, 1/math.Sqrt(float64(s.Dim)))
		matrix(p+"attn_v.weight", kvdim, s.Dim, 1/math.Sqrt(float64(s.Dim)))
		if arch == "qwen2" {
			vector(p+"attn_q.bias", qdim, 0, 0.5)
			vector(p+"attn_k.bias", kvdim, 0, 0.5)
			vector(p+"attn_v.bias", kvdim, 0, 0.5)
		}
		if arch == "qwen3" {
			vector(p+"attn_q_norm.weight", s.HeadDim, 1, 0.2)
			vector(p+"attn_k_norm.weight", s.HeadDim, 1, 0.2)
		}
		matrix(p+"attn_output.weight", s.Dim, qdim, 1/math.Sqrt(float64(qdim)))
		vector(p+"ffn_norm.weight", s.Dim, 1, 0.2)
		matrix(p+"ffn_gate.weight", s.FFNDim, s.Dim, 1/math.Sqrt(float64(s.Dim)))
		matrix(p+"ffn_up.weight", s.FFNDim, s.Dim, 1/math.Sqrt(float64(s.Dim)))
		matrix(p+"ffn_down.weight", s.Dim, s.FFNDim, 1/math.Sqrt(float64(s.FFNDim)))
	}
	return out
}

// ChunkRows is the number of rows Write asks a Source for at a time.
const ChunkRows = 256

// Source gives the values of a model's tensors. Write calls Tensor once per tensor of the
// layout, in layout order, and then calls the returned fill for rows [r0, r1) with r0 a
// multiple of ChunkRows and r1 = min(r0+ChunkRows, Rows), possibly concurrently, writing the
// rows' values (row-major, (r1-r0)*Cols of them) into dst.
type Source interface {
	Tensor(ts TensorSpec) (fill func(r0, r1 int, dst []float32), err error)
}

// addMatrix adds a matrix in type t, filled and quantized in parallel chunks of rows.
func addMatrix(g *gguf.Writer, ts TensorSpec, t quant.Type, fill func(r0, r1 int, dst []float32)) error {
	rows, cols := ts.Rows, ts.Cols
	rb, err := t.RowBytes(cols)
	if err != nil {
		return fmt.Errorf("modelgen: %s: %w", ts.Name, err)
	}
	data := make([]byte, rows*rb)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for r0 := 0; r0 < rows; r0 += ChunkRows {
		r1 := min(r0+ChunkRows, rows)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			vals := make([]float32, (r1-r0)*cols)
			fill(r0, r1, vals)
			q, err := quant.Quantize(t, vals)
			if err != nil {
				once.Do(func() { firstErr = fmt.Errorf("modelgen: %s: %w", ts.Name, err) })
				return
			}
			copy(data[r0*rb:], q)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return g.AddTensor(ts.Name, t, []uint64{uint64(cols), uint64(rows)}, data)
}

// addVector adds an F32 vector.
func addVector(g *gguf.Writer, ts TensorSpec, fill func(r0, r1 int, dst []float32)) error {
	vals := make([]float32, ts.Cols)
	fill(0, 1, vals)
	data, err := quant.Quantize(quant.F32, vals)
	if err != nil {
		return err
	}
	return g.AddTensor(ts.Name, quant.F32, []uint64{uint64(ts.Cols)}, data)
}

// random is the Source of random models: every tensor gets its own seed, drawn in layout
// order; a matrix's chunk of rows starting at r0 draws from (seed, r0), so the values do not
// depend on the number of CPUs.
type random struct{ seeds *seeds }

func newRandom(seed uint64) random { return random{newRNG(seed)} }

func (r random) Tensor(ts TensorSpec) (func(r0, r1 int, dst []float32), error) {
	seed := r.seeds.next()
	if ts.Matrix {
		return func(r0, _ int, dst []float32) {
			rng := rand.New(rand.NewPCG(seed, uint64(r0)))
			for i := range dst {
				dst[i] = float32(rng.NormFloat64() * ts.Std)
			}
		}, nil
	}
	return func(_, _ int, dst []float32) {
		rng := rand.New(rand.NewPCG(seed, 1))
		for i := range dst {
			dst[i] = float32(ts.Mean + ts.Spread*(2*rng.Float64()-1))
		}
	}, nil
}

// seeds hands out one sub-seed per tensor, in a fixed order.
type seeds struct{ r *rand.Rand }

func newRNG(seed uint64) *seeds { return &seeds{rand.New(rand.NewPCG(seed, 0x5eed))} }
func (s *seeds) next() uint64   { return s.r.Uint64() }
