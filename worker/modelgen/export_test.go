package modelgen_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"aisle/worker/engine"
	"aisle/worker/gguf"
	"aisle/worker/internal/llamacpp"
	"aisle/worker/model"
	"aisle/worker/modelgen"
	"aisle/worker/quant"
	"aisle/worker/tokenizer"
)

// TestRandomModelsUnchanged pins the bytes of random models: the writer they share with
// Export must not change what gen-model writes.
func TestRandomModelsUnchanged(t *testing.T) {
	for _, tc := range []struct {
		arch, shape, vocab string
		typ                quant.Type
		seed               uint64
		sha256             string
	}{
		{"llama", "tiny", "ggml-vocab-llama-spm.gguf", quant.Q8_0, 1, "4250a287ce2e3393fec90fd09031145e7d1b62b0234589533296b2187a23784f"},
		{"qwen3", "tiny-wide-heads", "ggml-vocab-qwen2.gguf", quant.Q6_K, 1, "dbf271356348f2a59c645533d114f99603ed4cad12dc3c7df60558a302b6de75"},
	} {
		t.Run(tc.arch, func(t *testing.T) {
			vf := openGGUF(t, filepath.Join("../testdata/vocab", tc.vocab))
			h := sha256.New()
			spec := modelgen.Spec{Arch: tc.arch, Shape: modelgen.Shapes[tc.shape], Type: tc.typ, Vocab: vf, Seed: tc.seed}
			if err := modelgen.Write(h, spec); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%x", h.Sum(nil)); got != tc.sha256 {
				t.Errorf("sha256 = %s, want %s", got, tc.sha256)
			}
		})
	}
}

func openGGUF(t testing.TB, path string) *gguf.File {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// trainedVocab trains a small chat vocabulary once per test run and returns its path.
var trainedVocab = sync.OnceValues(func() (string, error) {
	var texts []string
	r := rand.New(rand.NewPCG(1, 1))
	words := []string{"apples", "cost", "€", "in", "aisle", "the", "bread", "is", "fresh", "today", "🍎", "Käse", "we", "have"}
	for range 3000 {
		var sb strings.Builder
		sb.WriteString("<|im_start|>user\n")
		for range 3 + r.IntN(10) {
			sb.WriteString(words[r.IntN(len(words))] + " ")
		}
		fmt.Fprintf(&sb, "%d.%02d<|im_end|>\n", r.IntN(100), r.IntN(100))
		texts = append(texts, sb.String())
	}
	v, err := tokenizer.TrainBPE(texts, tokenizer.BPEOptions{VocabSize: 300, Special: []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}})
	if err != nil {
		return "", err
	}
	v.Special.BOS, v.Special.EOS, v.Special.PAD = tokenizer.Int(0), tokenizer.Int(2), tokenizer.Int(0)
	w := gguf.NewWriter()
	v.SetGGUF(w)
	w.SetString("tokenizer.chat_template", "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}")
	dir, err := os.MkdirTemp("", "modelgen-export-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "vocab.gguf")
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, buf.Bytes(), 0o644)
})

func TestMain(m *testing.M) {
	code := m.Run()
	if path, err := trainedVocab(); err == nil {
		os.RemoveAll(filepath.Dir(path))
	}
	os.Exit(code)
}

func vocabFile(t testing.TB) *gguf.File {
	t.Helper()
	path, err := trainedVocab()
	if err != nil {
		t.Fatal(err)
	}
	return openGGUF(t, path)
}

// testShape is the shape of the trained test models: GQA with 2 query heads per KV head.
var testShape = struct{ dim, layers, heads, kvHeads, headDim, ffn int }{64, 2, 4, 2, 16, 128}

// trainedWeights makes the safetensors of a small llama with random weights of the given
// dtype, as the training script writes them.
func trainedWeights(vocab int, tied bool, dtype string, seed uint64) *modelgen.Safetensors {
	s := testShape
	r := rand.New(rand.NewPCG(seed, 7))
	st := &modelgen.Safetensors{Tensors: map[string]modelgen.SafeTensor{}, Metadata: map[string]string{
		"arch": "llama", "context_length": "256", "head_count": fmt.Sprint(s.heads), "head_count_kv": fmt.Sprint(s.kvHeads),
		"rope_freq_base": "10000", "rms_norm_eps": "1e-5", "name": "test-slm"}}
	add := func(name string, shape []int, mean, std float64) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		vals := make([]float32, n)
		for i := range vals {
			vals[i] = float32(mean + std*r.NormFloat64())
		}
		if dtype == "BF16" {
			st.Tensors[name] = modelgen.BF16Tensor(shape, vals)
		} else {
			st.Tensors[name] = modelgen.F32Tensor(shape, vals)
		}
	}
	q, kv := s.heads*s.headDim, s.kvHeads*s.headDim
	add("token_embd.weight", []int{vocab, s.dim}, 0, 1)
	add("output_norm.weight", []int{s.dim}, 1, 0.1)
	if !tied {
		add("output.weight", []int{vocab, s.dim}, 0, 0.5)
	}
	for l := range s.layers {
		p := fmt.Sprintf("blk.%d.", l)
		add(p+"attn_norm.weight", []int{s.dim}, 1, 0.1)
		add(p+"attn_q.weight", []int{q, s.dim}, 0, 0.3)
		add(p+"attn_k.weight", []int{kv, s.dim}, 0, 0.3)
		add(p+"attn_v.weight", []int{kv, s.dim}, 0, 0.3)
		add(p+"attn_output.weight", []int{s.dim, q}, 0, 0.2)
		add(p+"ffn_norm.weight", []int{s.dim}, 1, 0.1)
		add(p+"ffn_gate.weight", []int{s.ffn, s.dim}, 0, 0.2)
		add(p+"ffn_up.weight", []int{s.ffn, s.dim}, 0, 0.2)
		add(p+"ffn_down.weight", []int{s.dim, s.ffn}, 0, 0.15)
	}
	return st
}

// export writes st through a safetensors file (as the CLI reads it) and Export, and returns
// the model's path.
func export(t *testing.T, st *modelgen.Safetensors, typ quant.Type) string {
	t.Helper()
	var sbuf bytes.Buffer
	if err := modelgen.WriteSafetensors(&sbuf, st); err != nil {
		t.Fatal(err)
	}
	back, err := modelgen.ParseSafetensors(sbuf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := modelgen.Export(&buf, back, modelgen.ExportOptions{Type: typ, Vocab: vocabFile(t)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.gguf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSafetensorsRoundTrip(t *testing.T) {
	st := trainedWeights(300, true, "BF16", 1)
	st.Tensors["f16"] = modelgen.SafeTensor{DType: "F16", Shape: []int{2}, Data: []byte{0x00, 0x3c, 0x00, 0xc0}} // 1, -2
	var buf bytes.Buffer
	if err := modelgen.WriteSafetensors(&buf, st); err != nil {
		t.Fatal(err)
	}
	back, err := modelgen.ParseSafetensors(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Tensors) != len(st.Tensors) || back.Metadata["head_count"] != "4" {
		t.Fatalf("read back %d tensors, metadata %v", len(back.Tensors), back.Metadata)
	}
	for name, want := range st.Tensors {
		got := back.Tensors[name]
		if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("%s read back as %s %v", name, got.DType, got.Shape)
		}
	}
	if v, err := back.Tensors["f16"].Float32s(); err != nil || !slices.Equal(v, []float32{1, -2}) {
		t.Errorf("F16 values %v, %v", v, err)
	}
}

func TestParseSafetensorsRejectsBadFiles(t *testing.T) {
	var good bytes.Buffer
	st := &modelgen.Safetensors{Tensors: map[string]modelgen.SafeTensor{"a": modelgen.F32Tensor([]int{2, 2}, []float32{1, 2, 3, 4})}}
	if err := modelgen.WriteSafetensors(&good, st); err != nil {
		t.Fatal(err)
	}
	withHeader := func(h string) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(b, h...), make([]byte, 16)...)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"truncated data", good.Bytes()[:good.Len()-1], "outside"},
		{"truncated header", good.Bytes()[:20], "does not fit"},
		{"bad json", withHeader(`{"a": `), "header"},
		{"bad entry", withHeader(`{"a": {"dtype": 5}}`), "tensor a"},
		{"unknown dtype", withHeader(`{"a": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}}`), "unknown dtype"},
		{"size mismatch", withHeader(`{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}`), "8 bytes for 3"},
		{"negative shape", withHeader(`{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}`), "bad shape"},
		{"reversed offsets", withHeader(`{"a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}`), "outside"},
		{"bad metadata", withHeader(`{"__metadata__": {"x": 1}}`), "__metadata__"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := modelgen.ParseSafetensors(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestExportRejectsBadWeights(t *testing.T) {
	vf := vocabFile(t)
	vocab := 300
	for _, tc := range []struct {
		name string
		edit func(st *modelgen.Safetensors)
		want string
	}{
		{"missing tensor", func(st *modelgen.Safetensors) { delete(st.Tensors, "blk.1.ffn_up.weight") }, "blk.1.ffn_up.weight is missing"},
		{"shape", func(st *modelgen.Safetensors) {
			st.Tensors["blk.0.attn_k.weight"] = modelgen.F32Tensor([]int{16, 64}, make([]float32, 16*64))
		}, "blk.0.attn_k.weight has shape [16 64], want [32 64]"},
		{"transposed", func(st *modelgen.Safetensors) {
			st.Tensors["blk.0.ffn_down.weight"] = modelgen.F32Tensor([]int{128, 64}, make([]float32, 128*64))
		}, "blk.0.ffn_down.weight has shape [128 64], want [64 128]"},
		{"vocab size", func(st *modelgen.Safetensors) {
			st.Tensors["token_embd.weight"] = modelgen.F32Tensor([]int{384, 64}, make([]float32, 384*64))
		}, "384 rows, the vocabulary 300 tokens"},
		{"extra tensor", func(st *modelgen.Safetensors) {
			st.Tensors["blk.0.attn_q.bias"] = modelgen.F32Tensor([]int{64}, make([]float32, 64))
		}, "unexpected tensors for llama with 2 layers: blk.0.attn_q.bias"},
		{"dtype", func(st *modelgen.Safetensors) {
			st.Tensors["output_norm.weight"] = modelgen.SafeTensor{DType: "I32", Shape: []int{64}, Data: make([]byte, 256)}
		}, "output_norm.weight: dtype I32 is not supported"},
		{"metadata", func(st *modelgen.Safetensors) { st.Metadata["head_count"] = "four" }, `head_count = "four"`},
		{"arch", func(st *modelgen.Safetensors) { st.Metadata["arch"] = "gpt2" }, `arch "gpt2"`},
		{"heads", func(st *modelgen.Safetensors) { st.Metadata["head_count"] = "3" }, "not a multiple of head_count 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := trainedWeights(vocab, true, "F32", 1)
			tc.edit(st)
			err := modelgen.Export(new(bytes.Buffer), st, modelgen.ExportOptions{Type: quant.Q8_0, Vocab: vf})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestExportKeepsWeights: an F32 export holds exactly the given values (BF16 ones widened), a
// Q8_0 export quantizes the matrices only, and the metadata describes the model.
func TestExportKeepsWeights(t *testing.T) {
	for _, tc := range []struct {
		dtype string
		typ   quant.Type
		tied  bool
	}{{"F32", quant.F32, true}, {"BF16", quant.F32, false}, {"BF16", quant.Q8_0, true}} {
		t.Run(fmt.Sprintf("%s-%s-tied=%v", tc.dtype, tc.typ, tc.tied), func(t *testing.T) {
			st := trainedWeights(300, tc.tied, tc.dtype, 2)
			f := openGGUF(t, export(t, st, tc.typ))
			if len(f.Tensors) != len(st.Tensors) {
				t.Errorf("%d tensors, want %d", len(f.Tensors), len(st.Tensors))
			}
			md := f.Metadata
			name, _ := md.String("general.name")
			heads, _ := md.Uint32("llama.attention.head_count_kv")
			ctx, _ := md.Uint32("llama.context_length")
			tmpl, _ := md.String("tokenizer.chat_template")
			if name != "test-slm" || heads != 2 || ctx != 256 || !strings.Contains(tmpl, "<|im_start|>") {
				t.Errorf("metadata: name %q kv heads %d context %d template %q", name, heads, ctx, tmpl)
			}
			for _, ti := range f.Tensors {
				want, err := st.Tensors[ti.Name].Float32s()
				if err != nil {
					t.Fatal(err)
				}
				isVector := len(ti.Shape) == 1
				if wantType := map[bool]quant.Type{true: quant.F32, false: tc.typ}[isVector]; ti.Type != wantType {
					t.Errorf("%s has type %s, want %s", ti.Name, ti.Type, wantType)
				}
				if ti.Type != quant.F32 {
					continue
				}
				data, _ := f.TensorData(ti.Name)
				got := make([]float32, ti.Elements())
				if err := quant.Dequantize(ti.Type, data, got); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: values differ from the weights", ti.Name)
				}
			}
		})
	}
}

// TestExportedModelRuns: our engine and llama.cpp load an exported model and decode the same
// greedy tokens; the F32 model's logits equal a direct computation of the llama forward pass
// from the safetensors weights (interleaved-pair RoPE, GQA, SwiGLU, RMSNorm).
func TestExportedModelRuns(t *testing.T) {
	llamacpp.Require(t)
	prompts := []string{"<|im_start|>user\napples cost", "<|im_start|>user\nwe have 12.50 € 🍎<|im_end|>\n", "Käse"}
	for _, typ := range []quant.Type{quant.F32, quant.Q8_0} {
		t.Run(typ.String(), func(t *testing.T) {
			st := trainedWeights(300, typ == quant.Q8_0, "F32", 3)
			path := export(t, st, typ)
			f := openGGUF(t, path)
			e, err := engine.Load(f, engine.Options{Backend: "cpu", Threads: 2, ContextLen: 256})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			peer := llamacpp.StartT(t, path, llamacpp.Options{ContextSize: 256})
			for _, p := range prompts {
				ids := e.Tok.Encode(p, true, true)
				if want, err := peer.Tokenize(p, peer.Info().AddBOS, true); err != nil || !slices.Equal(ids, want) {
					t.Fatalf("tokens of %q: ours %v, llama.cpp %v (%v)", p, ids, want, err)
				}
				want, err := peer.Greedy(ids, 24)
				if err != nil {
					t.Fatal(err)
				}
				res, err := e.Generate(context.Background(), engine.Request{PromptTokens: ids, MaxTokens: 24, IgnoreEOS: true},
					func(engine.Delta) error { return nil })
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(res.Tokens, want) {
					t.Errorf("greedy after %q: ours %v, llama.cpp %v", p, res.Tokens, want)
				}
				if typ != quant.F32 {
					continue
				}
				m, err := model.Load(f, 1)
				if err != nil {
					t.Fatal(err)
				}
				got, err := m.NewSession(0).Eval(ids, true)
				m.Close()
				if err != nil {
					t.Fatal(err)
				}
				ref := referenceLogits(t, st, ids)
				worst := 0.0
				for i := range ref {
					worst = max(worst, math.Abs(float64(got[i])-ref[i]))
				}
				if worst > 1e-4 {
					t.Errorf("logits of %q differ from the direct computation by %.2e", p, worst)
				}
				t.Logf("%q: %d greedy tokens agree; logits within %.1e of the direct computation", p, len(want), worst)
			}
		})
	}
}

// referenceLogits computes the logits at every position of ids for the llama of testShape
// held by st, in float64, as the training script's forward pass defines them. Rows of W are
// outputs: y = W x with W [out, in].
func referenceLogits(t *testing.T, st *modelgen.Safetensors, ids []int) []float64 {
	s := testShape
	w := func(name string) []float64 {
		v, err := st.Tensors[name].Float32s()
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	matvec := func(W, x []float64) []float64 { // W [len(W)/len(x), len(x)]
		out := make([]float64, len(W)/len(x))
		for r := range out {
			for c, xc := range x {
				out[r] += W[r*len(x)+c] * xc
			}
		}
		return out
	}
	rmsNorm := func(x, g []float64) []float64 {
		ss := 0.0
		for _, v := range x {
			ss += v * v
		}
		scale := 1 / math.Sqrt(ss/float64(len(x))+1e-5)
		out := make([]float64, len(x))
		for i := range x {
			out[i] = x[i] * scale * g[i]
		}
		return out
	}
	rope := func(x []float64, pos int) { // rotates the pairs (2i, 2i+1) of every head
		for h := 0; h < len(x)/s.headDim; h++ {
			for i := 0; i < s.headDim/2; i++ {
				theta := float64(pos) * math.Pow(10000, -2*float64(i)/float64(s.headDim))
				a, b := &x[h*s.headDim+2*i], &x[h*s.headDim+2*i+1]
				*a, *b = *a*math.Cos(theta)-*b*math.Sin(theta), *a*math.Sin(theta)+*b*math.Cos(theta)
			}
		}
	}
	embd := w("token_embd.weight")
	out := embd
	if _, ok := st.Tensors["output.weight"]; ok {
		out = w("output.weight")
	}
	xs := make([][]float64, len(ids)) // the residual stream at every position
	for p, id := range ids {
		xs[p] = slices.Clone(embd[id*s.dim : (id+1)*s.dim])
	}
	for l := range s.layers {
		pre := fmt.Sprintf("blk.%d.", l)
		wq, wk, wv, wo := w(pre+"attn_q.weight"), w(pre+"attn_k.weight"), w(pre+"attn_v.weight"), w(pre+"attn_output.weight")
		keys, vals := make([][]float64, len(ids)), make([][]float64, len(ids))
		qs := make([][]float64, len(ids))
		for p := range ids {
			h := rmsNorm(xs[p], w(pre+"attn_norm.weight"))
			qs[p], keys[p], vals[p] = matvec(wq, h), matvec(wk, h), matvec(wv, h)
			rope(qs[p], p)
			rope(keys[p], p)
		}
		for p := range ids {
			att := make([]float64, s.heads*s.headDim)
			for h := range s.heads {
				kvh := h / (s.heads / s.kvHeads)
				q := qs[p][h*s.headDim : (h+1)*s.headDim]
				scores := make([]float64, p+1)
				top := math.Inf(-1)
				for j := 0; j <= p; j++ {
					k := keys[j][kvh*s.headDim : (kvh+1)*s.headDim]
					for i := range q {
						scores[j] += q[i] * k[i]
					}
					scores[j] /= math.Sqrt(float64(s.headDim))
					top = max(top, scores[j])
				}
				sum := 0.0
				for j := range scores {
					scores[j] = math.Exp(scores[j] - top)
					sum += scores[j]
				}
				for j := range scores {
					v := vals[j][kvh*s.headDim : (kvh+1)*s.headDim]
					for i := range v {
						att[h*s.headDim+i] += scores[j] / sum * v[i]
					}
				}
			}
			for i, v := range matvec(wo, att) {
				xs[p][i] += v
			}
		}
		for p := range ids {
			h := rmsNorm(xs[p], w(pre+"ffn_norm.weight"))
			gate, up := matvec(w(pre+"ffn_gate.weight"), h), matvec(w(pre+"ffn_up.weight"), h)
			for i := range gate {
				gate[i] = gate[i] / (1 + math.Exp(-gate[i])) * up[i]
			}
			for i, v := range matvec(w(pre+"ffn_down.weight"), gate) {
				xs[p][i] += v
			}
		}
	}
	var logits []float64
	for p := range ids {
		logits = append(logits, matvec(out, rmsNorm(xs[p], w("output_norm.weight")))...)
	}
	return logits
}
