//go:build !amd64

package model

import (
	"math"
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

// TestExpSubAndSwiglu holds expSub and swiglu (WebAssembly SIMD where built with it) to the exact
// functions: within 4 ulp of e^x for x in [-87, 88] (the SIMD polynomial's range), every length's
// tail included.
func TestExpSubAndSwiglu(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n <= 37; n++ {
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(r.Float64()*175 - 87)
		}
		x = append(x, -87, 0, 88, -1e-8, 1e-8)[:n]
		expSub(y, x, 0)
		for i := range x {
			want := math.Exp(float64(x[i]))
			if d := math.Abs(float64(y[i])-want) / want; d > 4*0x1p-24 {
				t.Fatalf("n=%d: e^%v = %v, want %v (relative error %.3g)", n, x[i], y[i], want, d)
			}
		}
		gate, up := make([]float32, n), make([]float32, n)
		for i := range gate {
			gate[i], up[i] = float32(r.NormFloat64()*8), float32(r.NormFloat64())
		}
		g0 := append([]float32(nil), gate...)
		swiglu(gate, up)
		for i := range gate {
			g := float64(g0[i])
			want := g / (1 + math.Exp(-g)) * float64(up[i])
			if d := math.Abs(float64(gate[i]) - want); d > 1e-6*math.Abs(want)+1e-30 {
				t.Fatalf("n=%d: swiglu(%v, %v) = %v, want %v", n, g0[i], up[i], gate[i], want)
			}
		}
	}
	// far outside: clamped, no NaN
	y := make([]float32, 4)
	expSub(y, []float32{-1e4, 1e4, -200, 100}, 0)
	if y[0] > 1e-37 || y[2] > 1e-37 || !(y[1] > 1e38) || !(y[3] > 1e38) {
		t.Fatalf("e^x far outside the range: %v", y)
	}
}
