package model_test

import (
	"math"
	"testing"

	"aisle/worker/quant"
)

// TestBatchedPrefillEqualsTokenByToken: evaluating a prompt in one batch gives the logits of
// evaluating it one token at a time (the batched matrix products compute the same sums).
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
		s := m.NewSession(0)
		for p, tok := range prompt {
			row, err := s.Eval([]int{tok}, false)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range row {
				b := batched[p*m.Vocab+i]
				if d := math.Abs(float64(v - b)); d > 1e-3*math.Max(1, math.Abs(float64(v))) {
					t.Fatalf("%s: position %d logit %d: batched %v, token by token %v", typ, p, i, b, v)
				}
			}
		}
	}
	_ = quant.F32
}
