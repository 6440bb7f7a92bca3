package model_test

import (
	"math"
	"testing"

	"aisle/worker/quant"
)

// TestBatchedPrefillEqualsTokenByToken: evaluating a prompt in one batch gives the logits of
// evaluating it one token at a time, up to float rounding. The two paths add in different orders,
// as llama.cpp's own do (matrix products: tinyBLAS-style vs ggml_vec_dot order; attention: the
// same), so F32 weights agree to 1e-5 of the logit spread (measured 1.4e-6). Where activations
// are rounded before a product (to int8 for Q8_0/Q8_K, 16 bits for F16/BF16), a last-bit
// difference can round one activation the other way and move later logits much more: measured
// 1.3e-3 (F16) and 9.2e-3 (BF16) of the spread on this prompt, up to 7% for Q5_K on another
// one; those types get 0.1, which still catches a wrong cache position, mask or RoPE angle.
func TestBatchedPrefillEqualsTokenByToken(t *testing.T) {
	prompt := []int{1, 450, 17434, 3, 99, 31999, 12, 7, 8, 9, 10, 11, 400, 401, 402, 403, 404, 405}
	for _, typ := range allTypes {
		path := writeRandomModel(t, "llama", "tiny", typ, "ggml-vocab-llama-spm.gguf")
		m := openModel(t, path, 2)
		batched, err := m.NewSession(0).Eval(prompt, true)
		if err != nil {
			t.Fatal(err)
		}
		batched = append([]float32(nil), batched...)
		tol := 1e-5
		if typ != quant.F32 {
			tol = 0.1
		}
		s := m.NewSession(0)
		worst := 0.0
		for p, tok := range prompt {
			row, err := s.Eval([]int{tok}, false)
			if err != nil {
				t.Fatal(err)
			}
			spread := stddev(row)
			for i, v := range row {
				b := batched[p*m.Vocab+i]
				d := math.Abs(float64(v-b)) / spread
				worst = max(worst, d)
				if d > tol {
					t.Fatalf("%s: position %d logit %d: batched %v, token by token %v (%.1e of the spread)", typ, p, i, b, v, d)
				}
			}
		}
		t.Logf("%s: batched vs token by token: max %.2e of the spread", typ, worst)
	}
}
