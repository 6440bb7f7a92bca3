//go:build !amd64 && !(wasm && goexperiment.simd)

package model

import "math"

// e^x with the math package where there is neither amd64 assembly nor WebAssembly SIMD
// (exp_wasm.go).

func expSub(y, x []float32, m float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] = float32(math.Exp(float64(x[i] - m)))
	}
}

func swiglu(gate, up []float32) {
	up = up[:len(gate)]
	for i, g := range gate {
		gate[i] = g / (1 + float32(math.Exp(float64(-g)))) * up[i]
	}
}
