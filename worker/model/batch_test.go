package model_test

import (
	"math"
	"testing"

	"aisle/worker/quant"
)

// TestBatchedPrefillEqualsTokenByToken: evaluating a prompt in one batch gives the logits of
// evaluating it one token at a time. The two paths add in different orders, as llama.cpp's do
// (matrix products: quant.MatMul vs MatVec; attention: tinyBLAS vs ggml_vec_dot_f32), so they agree
// to float rounding: measured at most 1.9e-6 of the logit spread for every type (F16, BF16 and
// Q4_0 exactly). F32 must agree to 1e-5 (five times that). Types whose activations are rounded
// to 16 bits (F16, BF16) get 1e-4 and to int8 (Q8_0, Q8_K) 0.1: there a last-bit difference can
// round one activation the other way, which was observed (before the forward pass followed
// ggml's order) to move a later position's logits by up to 7% of their spread.
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
		switch quant.VecDotType(typ) {
		case quant.F16, quant.BF16:
			tol = 1e-4
		case quant.Q8_0, quant.Q8_K:
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
