package model_test

import (
	"math"
	"testing"

	"aisle/worker/quant"
)

// TestBatchedPrefillEqualsTokenByToken: evaluating a prompt in one batch gives the logits of
// evaluating it one token at a time (the batched matrix products compute the same sums, in
// another order). Float weights must agree to 1e-4 of the logit spread. Types whose activations
// are rounded to int8 (Q8_0, Q8_K) can see one activation round the other way after a last-bit
// difference; such a flip was observed to move a later position's logits by up to 7% of their
// spread (Q5_K, one prompt of several), so those types get 0.1 of the spread.
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
		tol := 1e-4
		if quant.VecDotType(typ) == quant.Q8_0 || quant.VecDotType(typ) == quant.Q8_K {
			tol = 0.1
		}
		s := m.NewSession(0)
		for p, tok := range prompt {
			row, err := s.Eval([]int{tok}, false)
			if err != nil {
				t.Fatal(err)
			}
			spread := stddev(row)
			for i, v := range row {
				b := batched[p*m.Vocab+i]
				if d := math.Abs(float64(v-b)) / spread; d > tol {
					t.Fatalf("%s: position %d logit %d: batched %v, token by token %v (%.1e of the spread)", typ, p, i, b, v, d)
				}
			}
		}
	}
}
