package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestVecMatchesReference holds the assembly dot and axpy to the Go reference on every length
// from 0 to 300 (covering each unrolled step and tail).
func TestVecMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 300; n++ {
		a, b := make([]float32, n), make([]float32, n+3)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		got, want := dot(a, b), dotGo(a, b[:n])
		var mag float64
		for i := range a {
			mag += math.Abs(float64(a[i] * b[i]))
		}
		if math.Abs(float64(got-want)) > 1e-5*(mag+1) {
			t.Fatalf("n=%d: dot %v, reference %v", n, got, want)
		}
		y1, y2 := append([]float32(nil), a...), append([]float32(nil), a...)
		axpy(y1, 0.37, b)
		axpyGo(y2, 0.37, b)
		for i := range y1 {
			if math.Abs(float64(y1[i]-y2[i])) > 1e-6*(math.Abs(float64(y2[i]))+1) {
				t.Fatalf("n=%d: axpy[%d] %v, reference %v", n, i, y1[i], y2[i])
			}
		}
	}
}

func FuzzDot(f *testing.F) {
	f.Add(uint64(1), uint16(37))
	f.Fuzz(func(t *testing.T, seed uint64, n uint16) {
		rng := rand.New(rand.NewPCG(seed, 0))
		a, b := make([]float32, n%2048), make([]float32, n%2048)
		var mag float64
		for i := range a {
			a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			mag += math.Abs(float64(a[i] * b[i]))
		}
		if got, want := dot(a, b), dotGo(a, b); math.Abs(float64(got-want)) > 1e-5*(mag+1) {
			t.Fatalf("dot %v, reference %v", got, want)
		}
	})
}
