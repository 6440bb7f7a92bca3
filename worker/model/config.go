// Package model holds the transformer architectures the engine runs (llama, qwen2, qwen3): their
// hyper-parameters read from GGUF metadata, their weights bound by tensor name, and the CPU
// forward pass with its KV cache.
package model

import (
	"errors"
	"fmt"

	"aisle/worker/gguf"
)

// ErrUnsupported is wrapped by errors about models this engine cannot run.
var ErrUnsupported = errors.New("unsupported model")

// RopeStyle says which elements RoPE rotates together.
type RopeStyle int

const (
	// RopeNormal rotates adjacent pairs (x[2i], x[2i+1]): llama in GGUF (weights permuted at conversion).
	RopeNormal RopeStyle = iota
	// RopeNeox rotates (x[i], x[i+n/2]): qwen2, qwen3.
	RopeNeox
)

// Config is the blueprint of a model: everything the forward pass needs besides the weights.
type Config struct {
	Arch       string  // general.architecture: llama, qwen2, qwen3
	Name       string  // general.name, for display
	Dim        int     // embedding_length: width of the residual stream
	Layers     int     // block_count
	Heads      int     // attention.head_count
	KVHeads    int     // attention.head_count_kv (grouped-query attention when < Heads)
	HeadDim    int     // attention.key_length, default Dim/Heads
	FFNDim     int     // feed_forward_length: hidden width of the SwiGLU MLP
	Vocab      int     // rows of token_embd
	ContextLen int     // context_length: the longest sequence trained on
	NormEps    float32 // attention.layer_norm_rms_epsilon

	RopeBase   float32   // rope.freq_base
	RopeDims   int       // rope.dimension_count: leading elements of each head that rotate
	RopeScale  float32   // 1/rope.scaling.factor for linear scaling, else 1
	RopeStyle  RopeStyle // pairing of rotated elements
	QKVBias    bool      // qwen2: biases on the q, k, v projections
	QKNorm     bool      // qwen3: RMSNorm of each q and k head before RoPE
	TiedOutput bool      // output matrix is token_embd (no output.weight)
}

// QDim is the width of all query heads together; KVDim that of all key (or value) heads.
func (c Config) QDim() int  { return c.Heads * c.HeadDim }
func (c Config) KVDim() int { return c.KVHeads * c.HeadDim }

// archTraits are the per-architecture differences that metadata does not state.
var archTraits = map[string]struct {
	rope    RopeStyle
	qkvBias bool
	qkNorm  bool
}{
	"llama": {rope: RopeNormal},
	"qwen2": {rope: RopeNeox, qkvBias: true},
	"qwen3": {rope: RopeNeox, qkNorm: true},
}

// ConfigFromGGUF reads and validates the hyper-parameters of f.
func ConfigFromGGUF(f *gguf.File) (Config, error) {
	md := f.Metadata
	var c Config
	arch, ok := md.String("general.architecture")
	if !ok {
		return c, fmt.Errorf("%w: general.architecture is missing", ErrUnsupported)
	}
	traits, ok := archTraits[arch]
	if !ok {
		return c, fmt.Errorf("%w: architecture %q (supported: llama, qwen2, qwen3)", ErrUnsupported, arch)
	}
	c.Arch = arch
	c.Name, _ = md.String("general.name")
	c.RopeStyle, c.QKVBias, c.QKNorm = traits.rope, traits.qkvBias, traits.qkNorm

	var missing []string
	u := func(key string, dst *int, def int) {
		v, ok := md.Uint32(arch + "." + key)
		switch {
		case ok:
			*dst = int(v)
		case def >= 0:
			*dst = def
		default:
			missing = append(missing, arch+"."+key)
		}
	}
	u("embedding_length", &c.Dim, -1)
	u("block_count", &c.Layers, -1)
	u("attention.head_count", &c.Heads, -1)
	u("feed_forward_length", &c.FFNDim, -1)
	u("context_length", &c.ContextLen, 2048)
	u("attention.head_count_kv", &c.KVHeads, c.Heads)
	if len(missing) > 0 {
		return c, fmt.Errorf("%w: metadata %v missing", ErrUnsupported, missing)
	}
	if c.Heads <= 0 || c.Dim <= 0 {
		return c, fmt.Errorf("%w: %d heads, dim %d", ErrUnsupported, c.Heads, c.Dim)
	}
	u("attention.key_length", &c.HeadDim, c.Dim/c.Heads)
	var valueLen int
	u("attention.value_length", &valueLen, c.HeadDim)
	u("rope.dimension_count", &c.RopeDims, c.HeadDim)

	c.NormEps = 1e-5
	if v, ok := md.Float32(arch + ".attention.layer_norm_rms_epsilon"); ok {
		c.NormEps = v
	}
	c.RopeBase = 10000
	if v, ok := md.Float32(arch + ".rope.freq_base"); ok {
		c.RopeBase = v
	}
	c.RopeScale = 1
	if typ, ok := md.String(arch + ".rope.scaling.type"); ok && typ != "none" {
		factor, _ := md.Float32(arch + ".rope.scaling.factor")
		switch {
		case typ == "linear" && factor > 0:
			c.RopeScale = 1 / factor
		case typ == "linear":
		default:
			// llama3-style scaling is carried by the rope_freqs.weight tensor, read with the weights.
			if _, has := f.Tensor("rope_freqs.weight"); !has {
				return c, fmt.Errorf("%w: rope scaling %q", ErrUnsupported, typ)
			}
		}
	}

	emb, ok := f.Tensor("token_embd.weight")
	if !ok || len(emb.Shape) != 2 {
		return c, fmt.Errorf("%w: token_embd.weight missing or not a matrix", ErrUnsupported)
	}
	c.Vocab = int(emb.Shape[1])
	_, hasOutput := f.Tensor("output.weight")
	c.TiedOutput = !hasOutput

	switch {
	case c.Layers <= 0 || c.Layers > 1024:
		return c, fmt.Errorf("%w: %d layers", ErrUnsupported, c.Layers)
	case c.KVHeads <= 0 || c.Heads%c.KVHeads != 0:
		return c, fmt.Errorf("%w: %d heads is not a multiple of %d KV heads", ErrUnsupported, c.Heads, c.KVHeads)
	case c.HeadDim <= 0 || c.HeadDim%2 != 0 || c.HeadDim > 1024:
		return c, fmt.Errorf("%w: head dimension %d", ErrUnsupported, c.HeadDim)
	case valueLen != c.HeadDim:
		return c, fmt.Errorf("%w: value length %d differs from key length %d", ErrUnsupported, valueLen, c.HeadDim)
	case c.RopeDims <= 0 || c.RopeDims > c.HeadDim || c.RopeDims%2 != 0:
		return c, fmt.Errorf("%w: rope dimension %d for head dimension %d", ErrUnsupported, c.RopeDims, c.HeadDim)
	case c.FFNDim <= 0:
		return c, fmt.Errorf("%w: feed-forward length %d", ErrUnsupported, c.FFNDim)
	case c.ContextLen <= 0:
		return c, fmt.Errorf("%w: context length %d", ErrUnsupported, c.ContextLen)
	case c.Vocab <= 0 || int(emb.Shape[0]) != c.Dim:
		return c, fmt.Errorf("%w: token_embd.weight shape %v for dim %d", ErrUnsupported, emb.Shape, c.Dim)
	}
	return c, nil
}
