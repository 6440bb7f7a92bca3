package model

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"aisle/worker/gguf"
	"aisle/worker/modelgen"
	"aisle/worker/quant"
)

// TestForwardGoEqualsAssembly: a whole forward pass with the assembly kernels gives the bits of
// the same pass with the pure Go references (what non-amd64 targets and CPUs without AVX2 run),
// for a batched prompt and for decoding, with standard (llama, head size 64), neox (qwen3, head
// size 128) and tiny heads (stories260K, head size 8: the dot products' scalar tails).
func TestForwardGoEqualsAssembly(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2+FMA: the assembly kernels are not used on this CPU")
	}
	dir := t.TempDir()
	gen := func(arch, shape, vocab string) string {
		vf, err := gguf.Open(filepath.Join("../testdata/vocab", vocab))
		if err != nil {
			t.Fatal(err)
		}
		defer vf.Close()
		path := filepath.Join(dir, arch+".gguf")
		out, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		spec := modelgen.Spec{Arch: arch, Shape: modelgen.Shapes[shape], Type: quant.Q8_0, Vocab: vf, Seed: 7}
		if err := modelgen.Write(out, spec); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	paths := map[string]string{
		"llama":       gen("llama", "tiny", "ggml-vocab-llama-spm.gguf"),
		"qwen3":       gen("qwen3", "tiny-wide-heads", "ggml-vocab-qwen2.gguf"),
		"stories260K": "../testdata/models/stories260K.gguf",
	}
	prompt := []int{1, 45, 300, 17, 99, 250, 3, 12, 7, 8, 9, 10, 11, 40, 41, 42, 43, 44, 45, 46}
	for name, path := range paths {
		f, err := gguf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Load(f, 2)
		if err != nil {
			t.Fatal(err)
		}
		run := func(asm bool) []float32 {
			useAVX2 = asm
			defer func() { useAVX2 = true }()
			s := m.NewSession(0)
			out, err := s.Eval(prompt, true)
			if err != nil {
				t.Fatal(err)
			}
			out = append([]float32(nil), out...)
			for i := 0; i < 4; i++ {
				l, err := s.Eval([]int{100 + i}, false)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, l...)
			}
			return out
		}
		fast, ref := run(true), run(false)
		for i := range fast {
			if math.Float32bits(fast[i]) != math.Float32bits(ref[i]) {
				t.Errorf("%s: logit %d: assembly %v, Go %v", name, i, fast[i], ref[i])
				break
			}
		}
		m.Close()
		f.Close()
	}
}
