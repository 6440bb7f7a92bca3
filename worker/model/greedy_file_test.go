package model_test

import (
	"encoding/json"
	"os"
	"testing"

	"aisle/worker/model/modeltest"
	"aisle/worker/sample"
)

// nearTie is the margin below which two kernels that add in different orders may pick
// different tokens: the native engine follows ggml's order with fused multiply-adds, the
// browser's has no FMA and adds in its own order, which moves logits by up to about 1e-4 of
// their spread on these models (F16 activations); a real error moves them by 1e-1 or more.
const nearTie = 1e-3

// TestGreedyCasesFile: with AISLE_GREEDY_CASES, every case's greedy choices here equal the
// file's: fed the native engine's tokens, the engine picks the native engine's next token at
// every position, except where the native choice was a near tie (then either is right). pwa's
// TestEngineKernelsUnderWasm writes the cases (modeltest.GreedyCase: random models of every
// architecture and tensor type) and runs this package's tests compiled for js/wasm, as the
// browser's inference worker is, with AISLE_GREEDY_CASES naming the file.
func TestGreedyCasesFile(t *testing.T) {
	file := os.Getenv("AISLE_GREEDY_CASES")
	if file == "" {
		t.Skip("AISLE_GREEDY_CASES not set (pwa's TestEngineKernelsUnderWasm sets it)")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cases []modeltest.GreedyCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	compared, total := 0, 0
	for _, c := range cases {
		// the native tokens fed as one batch: position len(Prompt)-1+i gives token i's logits
		m := openModel(t, c.Model, 1)
		seq := append(append([]int(nil), c.Prompt...), c.Tokens[:len(c.Tokens)-1]...)
		logits, err := m.NewSession(0).Eval(seq, true)
		if err != nil {
			t.Fatal(err)
		}
		total += len(c.Tokens)
		for i, want := range c.Tokens {
			p := len(c.Prompt) - 1 + i
			got := sample.Greedy(logits[p*m.Vocab : (p+1)*m.Vocab])
			switch {
			case c.Margins[i] < nearTie:
			case got != want:
				t.Errorf("%s: greedy token %d is %d, the native engine's %d (its margin %.2g of the logits' spread)", c.Model, i, got, want, c.Margins[i])
			default:
				compared++
			}
		}
	}
	t.Logf("%d cases, %d of %d greedy choices compared (the others near ties)", len(cases), compared, total)
	if compared < total*9/10 {
		t.Errorf("only %d of %d greedy choices were not near ties: the cases test too little", compared, total)
	}
}
