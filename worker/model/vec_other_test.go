//go:build !amd64

package model

import (
	"math/rand/v2"
	"testing"
)

// TestDotFastIsScalar: dotFast (with WebAssembly SIMD where built with it) gives dotFastScalar's
// value bit for bit, for every length up to a few vectors and an odd tail.
func TestDotFastIsScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= 71; n++ {
		a, b := make([]float32, n), make([]float32, n+3)
		for i := range a {
			a[i] = float32(r.NormFloat64())
		}
		for i := range b {
			b[i] = float32(r.NormFloat64()) * 1e3
		}
		if got, want := dotFast(a, b), dotFastScalar(a, b); got != want {
			t.Fatalf("n=%d: dotFast %v, scalar %v", n, got, want)
		}
	}
}
