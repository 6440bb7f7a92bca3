package modelgen

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"aisle/worker/gguf"
	"aisle/worker/quant"
)

// ExportOptions configure Export.
type ExportOptions struct {
	Type         quant.Type // weight matrices (the zero value is F32; TypeFor falls back per matrix)
	Name         string     // general.name (default: the weights' "name" metadata)
	Vocab        *gguf.File // the tokenizer.* metadata (a vocabulary GGUF), chat template included
	ChatTemplate string     // overrides the vocabulary's tokenizer.chat_template when not empty
}

// Export writes trained weights as a GGUF model to w.
//
// The tensors of st carry GGUF names and PyTorch row-major shapes: token_embd.weight
// [vocab, dim], output_norm.weight [dim], output.weight [vocab, dim] (absent: tied to the
// embeddings), and per layer N blk.N.attn_norm.weight [dim], attn_q.weight [heads*headDim, dim],
// attn_k.weight and attn_v.weight [kvHeads*headDim, dim], attn_output.weight
// [dim, heads*headDim], ffn_norm.weight [dim], ffn_gate.weight and ffn_up.weight [ffn, dim],
// ffn_down.weight [dim, ffn] (see Layout; qwen2 and qwen3 add their biases and q/k norms).
// Values are written as given (no RoPE permutation: llama's q/k rows must already pair
// adjacent elements, as llama.cpp rotates them). st.Metadata holds strings: arch,
// context_length, head_count, head_count_kv, rope_freq_base, rms_norm_eps and optionally name.
// Every tensor of the layout must be present with its shape, no other tensor may be, and the
// embedding must have one row per token of the vocabulary.
func Export(w io.Writer, st *Safetensors, opts ExportOptions) error {
	spec, err := ExportSpec(st, opts)
	if err != nil {
		return err
	}
	return Write(w, spec)
}

// ExportSpec is the Spec that Export writes: the shape read from the tensors' shapes and the
// metadata, with st as its Weights. It checks the tensor names and shapes against the layout.
func ExportSpec(st *Safetensors, opts ExportOptions) (Spec, error) {
	md := st.Metadata
	arch := md["arch"]
	if !archs[arch] {
		return Spec{}, fmt.Errorf("export: metadata arch %q is not llama, qwen2 or qwen3", arch)
	}
	if opts.Vocab == nil {
		return Spec{}, fmt.Errorf("export: a vocabulary is required")
	}
	tokens, _ := opts.Vocab.Metadata.Strings("tokenizer.ggml.tokens")
	var s Shape
	ints := []struct {
		key string
		dst *int
	}{{"context_length", &s.ContextLen}, {"head_count", &s.Heads}, {"head_count_kv", &s.KVHeads}}
	for _, f := range ints {
		v, err := strconv.Atoi(md[f.key])
		if err != nil || v <= 0 {
			return Spec{}, fmt.Errorf("export: metadata %s = %q is not a positive integer", f.key, md[f.key])
		}
		*f.dst = v
	}
	floats := []struct {
		key string
		dst *float32
	}{{"rope_freq_base", &s.RopeBase}, {"rms_norm_eps", &s.NormEps}}
	for _, f := range floats {
		v, err := strconv.ParseFloat(md[f.key], 32)
		if err != nil || v <= 0 {
			return Spec{}, fmt.Errorf("export: metadata %s = %q is not a positive number", f.key, md[f.key])
		}
		*f.dst = float32(v)
	}

	// Sizes from the shapes of the embedding, the first layer and the layer count.
	dims := func(name string, n int) ([]int, error) {
		t, ok := st.Tensors[name]
		if !ok {
			return nil, fmt.Errorf("export: tensor %s is missing", name)
		}
		if len(t.Shape) != n {
			return nil, fmt.Errorf("export: tensor %s has shape %v, want %d dimensions", name, t.Shape, n)
		}
		return t.Shape, nil
	}
	embd, err := dims("token_embd.weight", 2)
	if err != nil {
		return Spec{}, err
	}
	vocab := embd[0]
	s.Dim = embd[1]
	if vocab != len(tokens) {
		return Spec{}, fmt.Errorf("export: token_embd.weight has %d rows, the vocabulary %d tokens", vocab, len(tokens))
	}
	q, err := dims("blk.0.attn_q.weight", 2)
	if err != nil {
		return Spec{}, err
	}
	if q[0]%s.Heads != 0 {
		return Spec{}, fmt.Errorf("export: blk.0.attn_q.weight has %d rows, not a multiple of head_count %d", q[0], s.Heads)
	}
	s.HeadDim = q[0] / s.Heads
	gate, err := dims("blk.0.ffn_gate.weight", 2)
	if err != nil {
		return Spec{}, err
	}
	s.FFNDim = gate[0]
	for {
		if _, ok := st.Tensors[fmt.Sprintf("blk.%d.attn_norm.weight", s.Layers)]; !ok {
			break
		}
		s.Layers++
	}
	if s.Layers == 0 {
		return Spec{}, fmt.Errorf("export: tensor blk.0.attn_norm.weight is missing")
	}
	_, hasOutput := st.Tensors["output.weight"]
	s.TiedOutput = !hasOutput
	if s.Heads%s.KVHeads != 0 {
		return Spec{}, fmt.Errorf("export: head_count %d is not a multiple of head_count_kv %d", s.Heads, s.KVHeads)
	}

	// The tensors must be exactly the layout's.
	layout := Layout(arch, s, vocab)
	want := map[string]bool{}
	for _, ts := range layout {
		want[ts.Name] = true
		t, ok := st.Tensors[ts.Name]
		if !ok {
			return Spec{}, fmt.Errorf("export: tensor %s is missing", ts.Name)
		}
		if shape := ts.torchShape(); !slices.Equal(t.Shape, shape) {
			return Spec{}, fmt.Errorf("export: tensor %s has shape %v, want %v", ts.Name, t.Shape, shape)
		}
		if !floatDTypes[t.DType] {
			return Spec{}, fmt.Errorf("export: tensor %s: dtype %s is not supported (F32, BF16, F16)", ts.Name, t.DType)
		}
	}
	var extra []string
	for name := range st.Tensors {
		if !want[name] {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return Spec{}, fmt.Errorf("export: unexpected tensors for %s with %d layers: %s", arch, s.Layers, strings.Join(extra, ", "))
	}

	name := opts.Name
	if name == "" {
		name = md["name"]
	}
	if name == "" {
		name = arch
	}
	return Spec{Arch: arch, Name: name, Shape: s, Type: opts.Type, Vocab: opts.Vocab, ChatTemplate: opts.ChatTemplate,
		Weights: safetensorsSource{st}}, nil
}

// torchShape is the PyTorch shape of a layout tensor: [rows, cols], or [n] for a vector.
func (ts TensorSpec) torchShape() []int {
	if ts.Matrix {
		return []int{ts.Rows, ts.Cols}
	}
	return []int{ts.Cols}
}

// safetensorsSource is the Source of a safetensors file's tensors, converted to float32 one
// tensor at a time.
type safetensorsSource struct{ st *Safetensors }

func (s safetensorsSource) Tensor(ts TensorSpec) (func(r0, r1 int, dst []float32), error) {
	t, ok := s.st.Tensors[ts.Name]
	if !ok {
		return nil, fmt.Errorf("tensor %s is missing", ts.Name)
	}
	if shape := ts.torchShape(); !slices.Equal(t.Shape, shape) {
		return nil, fmt.Errorf("tensor %s has shape %v, want %v", ts.Name, t.Shape, shape)
	}
	vals, err := t.Float32s()
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %w", ts.Name, err)
	}
	return func(r0, r1 int, dst []float32) { copy(dst, vals[r0*ts.Cols:r1*ts.Cols]) }, nil
}
