//go:build cgo && !js

package gpu

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"aisle/worker/gguf"
	"aisle/worker/modelgen"
	"aisle/worker/quant"
	"aisle/worker/sample"
)

// allTypes are the tensor types the kernels read (the kernel tests cover each).
var allTypes = []quant.Type{quant.F32, quant.F16, quant.BF16, quant.Q8_0, quant.Q4_0, quant.Q5_0, quant.Q4_K, quant.Q5_K, quant.Q6_K}

// modelTypes are the weight types modelgen writes whole models in (Q5_0 appears in them only as
// the fallback for Q4_K rows that are not a multiple of 256, as in the Qwen2.5-0.5B shape).
var modelTypes = []quant.Type{quant.F32, quant.F16, quant.BF16, quant.Q8_0, quant.Q4_0, quant.Q4_K, quant.Q5_K, quant.Q6_K}

// writeRandomModel writes a tiny random model and returns its path.
func writeRandomModel(t testing.TB, arch, shape string, typ quant.Type, vocabFile string) string {
	t.Helper()
	vf, err := gguf.Open(filepath.Join("../testdata/vocab", vocabFile))
	if err != nil {
		t.Fatal(err)
	}
	defer vf.Close()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("%s-%s-%s.gguf", arch, shape, typ))
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	spec := modelgen.Spec{Arch: arch, Shape: modelgen.Shapes[shape], Type: typ, Vocab: vf, Seed: 7}
	if err := modelgen.Write(out, spec); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// dequantizedCopy writes a copy of the model at path with every tensor converted to F32: the
// function the GPU computes (float32 activations times dequantized weights), evaluated by the CPU
// path with no activation rounding.
func dequantizedCopy(t testing.TB, path string) string {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := gguf.NewWriter()
	w.CopyMetadata(f.Metadata, func(string) bool { return true })
	for _, ti := range f.Tensors {
		data, err := f.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]float32, ti.Elements())
		if err := quant.Dequantize(ti.Type, data, vals); err != nil {
			t.Fatal(err)
		}
		if err := w.AddTensor(ti.Name, quant.F32, ti.Shape, f32Bytes(vals)); err != nil {
			t.Fatal(err)
		}
	}
	out := path + ".f32.gguf"
	fo, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(fo); err != nil {
		t.Fatal(err)
	}
	if err := fo.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// exactTolerance bounds the GPU's difference from the CPU path on the dequantized (F32) copy of a
// model, relative to the logit spread: both compute the same function, so only float32 summation
// order differs (observed ~1e-6).
const exactTolerance = 1e-4

// GPUTolerance is the largest difference allowed between a GPU logit and the CPU path's on the
// same model, relative to the spread (standard deviation) of that position's logits, for each
// weight type.
//
// The paths differ by design: for F16, BF16 and quantized weights the CPU rounds each activation
// vector to the weight's dot-product type as llama.cpp does (F16, BF16, or Q8_0 / Q8_K: 8-bit
// activations, relative errors up to 1/254 of a block's largest value), while the GPU multiplies
// float32 activations, which is more precise. Observed on the tiny random models (2 layers): F32
// ~2e-6, F16 ~2e-3, BF16 ~2e-2, Q8_0/Q4_0 ~7e-2, K-quants ~1e-1. The kernels themselves are held
// to exactTolerance against the CPU path on the dequantized model, which catches any real error.
var GPUTolerance = map[quant.Type]float64{
	quant.F32: exactTolerance, quant.F16: 1e-2, quant.BF16: 5e-2,
	quant.Q8_0: 0.2, quant.Q4_0: 0.2, quant.Q5_0: 0.2, quant.Q4_K: 0.25, quant.Q5_K: 0.25, quant.Q6_K: 0.25,
}

func TestRandomModelsMatchCPU(t *testing.T) {
	d := mustDevice(t)
	// Every architecture with the 32000-token vocabulary: the logits do not depend on the
	// tokenizer, and Mesa's lavapipe (Debian 12) crashes the process now and then on the
	// 151936-token Qwen vocabulary's 40-150 MB matrices (the H100 benchmark runs that size).
	cases := []struct{ arch, shape, vocab string }{
		{"llama", "tiny", "ggml-vocab-llama-spm.gguf"},
		{"qwen2", "tiny", "ggml-vocab-llama-spm.gguf"},
		{"qwen3", "tiny-wide-heads", "ggml-vocab-llama-spm.gguf"},
	}
	prompt := []int{1, 450, 17, 3002, 99, 5, 1234, 77, 8, 4000, 12, 31, 2, 600, 9, 18, 250}
	type run struct {
		arch, shape, vocab string
		typ                quant.Type
		vec4s              int // RunnerOptions.MatvecVec4s
	}
	var runs []run
	for _, c := range cases {
		for _, typ := range modelTypes {
			runs = append(runs, run{c.arch, c.shape, c.vocab, typ, 0})
		}
	}
	// the other sizes of matrix-vector invocations (gpubench -vec4s), on one architecture
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_K} {
		for _, v := range []int{8, 16} {
			runs = append(runs, run{cases[1].arch, cases[1].shape, cases[1].vocab, typ, v})
		}
	}
	for _, c := range runs {
		typ := c.typ
		name := fmt.Sprintf("%s/%s", c.arch, typ)
		if c.vec4s > 0 {
			name += fmt.Sprintf("/vec4s%d", c.vec4s)
		}
		t.Run(name, func(t *testing.T) {
			path := writeRandomModel(t, c.arch, c.shape, typ, c.vocab)
			m := loadModel(t, path)
			want, err := m.NewSession(0).Eval(prompt, true)
			if err != nil {
				t.Fatal(err)
			}
			exact, err := loadModel(t, dequantizedCopy(t, path)).NewSession(0).Eval(prompt, true)
			if err != nil {
				t.Fatal(err)
			}
			// parts of at most 12000 rows: the embedding (and classifier) is split in 3
			r, err := NewRunner(d, m, 64, RunnerOptions{MaxPartRows: 12000, MatvecVec4s: c.vec4s})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			// the prompt in two calls: a batch of 11 tokens, then 6 more, one at a time
			var got []float32
			for i := 0; i < len(prompt); {
				n := 11
				if i > 0 {
					n = 1
				}
				out, err := r.Eval(prompt[i:i+n], true)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, out...)
				i += n
			}
			worstExact := maxRelDiff(t, got, exact, m.Vocab)
			worst := maxRelDiff(t, got, want, m.Vocab)
			t.Logf("max |GPU - CPU| = %.2e of the logit spread; on the dequantized copy %.2e", worst, worstExact)
			if worstExact > exactTolerance {
				t.Errorf("logits differ from the CPU path on the dequantized model by %.2e of their spread (tolerance %.0e)", worstExact, exactTolerance)
			}
			tol := GPUTolerance[typ]
			if worst > tol {
				t.Errorf("logits differ by %.2e of their spread (tolerance %.0e)", worst, tol)
			}
		})
	}
}

// maxRelDiff is the largest |got - want| over rows of vocab logits, relative to each row's spread.
func maxRelDiff(t *testing.T, got, want []float32, vocab int) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d logits, want %d", len(got), len(want))
	}
	worst := 0.0
	for p := 0; p < len(want)/vocab; p++ {
		row := want[p*vocab : (p+1)*vocab]
		spread := stddev(row)
		for i, w := range row {
			d := math.Abs(float64(got[p*vocab+i]-w)) / spread
			if math.IsNaN(d) {
				t.Fatalf("position %d logit %d is NaN", p, i)
			}
			worst = max(worst, d)
		}
	}
	return worst
}

func stddev(x []float32) float64 {
	var s, s2 float64
	for _, v := range x {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	n := float64(len(x))
	return math.Sqrt(max(s2/n-(s/n)*(s/n), 1e-12))
}

// TestRandomModelLongDecode: 150 greedy tokens of an F32 model with 64-element heads (so that
// attention's value sums take their four-positions-per-iteration path) equal the CPU path's.
func TestRandomModelLongDecode(t *testing.T) {
	d := mustDevice(t)
	for _, arch := range []string{"llama", "qwen3"} {
		shape := map[string]string{"llama": "tiny", "qwen3": "tiny-wide-heads"}[arch]
		m := loadModel(t, writeRandomModel(t, arch, shape, quant.F32, "ggml-vocab-llama-spm.gguf"))
		prompt := []int{1, 450, 17, 3002, 99}
		want := cpuGreedy(t, m, prompt, 150)
		r, err := NewRunner(d, m, 256, RunnerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		err = r.Decode(prompt, 150, func(tok int) bool { got = append(got, tok); return true })
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: token %d = %d, CPU %d", arch, i, got[i], want[i])
			}
		}
	}
}

// TestLongContext: past 2048 positions attention takes its positions in several blocks (online
// softmax across blocks). A tiny F32 model with a 2300-position context evaluates 2200 prompt
// tokens (in batches of 64) and decodes 20 more; logits and tokens equal the CPU path's.
func TestLongContext(t *testing.T) {
	if testing.Short() {
		t.Skip("long context skipped in -short mode")
	}
	vf, err := gguf.Open("../testdata/vocab/ggml-vocab-llama-spm.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer vf.Close()
	shape := modelgen.Shapes["tiny"]
	shape.ContextLen = 2300
	path := filepath.Join(t.TempDir(), "long.gguf")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := modelgen.Write(out, modelgen.Spec{Arch: "llama", Shape: shape, Type: quant.F32, Vocab: vf, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	m := loadModel(t, path)
	prompt := make([]int, 2200)
	for i := range prompt {
		prompt[i] = (i*7919 + 13) % m.Vocab
	}
	s := m.NewSession(0)
	want, err := s.Eval(prompt, false)
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, m)
	got, err := r.Eval(prompt, false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := maxRelDiff(t, got, want, m.Vocab); diff > exactTolerance {
		t.Fatalf("logits after 2200 tokens differ by %.2e of their spread (tolerance %.0e)", diff, exactTolerance)
	}
	wantToks := []int{sample.Greedy(want)}
	for len(wantToks) < 20 {
		l, err := s.Eval(wantToks[len(wantToks)-1:], false)
		if err != nil {
			t.Fatal(err)
		}
		wantToks = append(wantToks, sample.Greedy(l))
	}
	var gotToks []int
	if err := r.Decode([]int{wantToks[0]}, 19, func(tok int) bool { gotToks = append(gotToks, tok); return true }); err != nil {
		t.Fatal(err)
	}
	for i, tok := range gotToks {
		if tok != wantToks[i+1] {
			t.Fatalf("token %d after the prompt = %d, CPU %d", i+1, tok, wantToks[i+1])
		}
	}
}
