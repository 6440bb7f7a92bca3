package quant_test

import (
	"fmt"
	"sync"

	"aisle/worker/quant"
)

// A weight matrix of 4 rows × 64 columns in Q8_0 times one activation
// vector (decode), then times a batch of 3 vectors (prefill), rows split
// between two goroutines as the forward pass does.
func Example() {
	const rows, cols = 4, 64
	wf := make([]float32, rows*cols)
	for i := range wf {
		wf[i] = float32(i%5) / 8
	}
	w, err := quant.Quantize(quant.Q8_0, wf) // as stored in a GGUF file
	if err != nil {
		panic(err)
	}

	// Decode: quantize the activations once, then one dot product per row.
	x := make([]float32, cols)
	for i := range x {
		x[i] = 1
	}
	ab, _ := quant.ActivationBytes(quant.Q8_0, cols)
	a := make([]byte, ab)
	quant.QuantizeActivations(quant.Q8_0, x, a)
	out := make([]float32, rows)
	var wg sync.WaitGroup
	for _, r := range [][2]int{{0, rows / 2}, {rows / 2, rows}} {
		wg.Go(func() { quant.MatVec(quant.Q8_0, w, cols, a, out, r[0], r[1]) })
	}
	wg.Wait()
	fmt.Printf("%.3f\n", out)

	// Prefill: three activation vectors back to back; out[b*rows + r].
	const nb = 3
	batch := make([]byte, nb*ab)
	for b := 0; b < nb; b++ {
		quant.QuantizeActivations(quant.Q8_0, x, batch[b*ab:(b+1)*ab])
	}
	outs := make([]float32, nb*rows)
	quant.MatMul(quant.Q8_0, w, cols, batch, nb, outs, rows, 0, rows)
	fmt.Printf("%.3f\n", outs[rows:2*rows])
	// Output:
	// [15.774 15.900 16.022 16.148]
	// [15.774 15.900 16.022 16.148]
}
