//go:build wasm && goexperiment.simd

package model

import "simd/archsimd"

// dotFast is Σ a[i]*b[i] with eight partial sums, in two SIMD128 vectors of four (built with
// GOEXPERIMENT=simd, Go 1.27+): the same float operations in the same order as dotFastScalar, so
// the same value bit for bit.
func dotFast(a, b []float32) float32 {
	var lo, hi archsimd.Float32x4 // partial sums 0-3 and 4-7
	b = b[:len(a)]
	n := len(a) &^ 7
	for i := 0; i < n; i += 8 {
		lo = lo.Add(archsimd.LoadFloat32x4Array((*[4]float32)(a[i:])).Mul(archsimd.LoadFloat32x4Array((*[4]float32)(b[i:]))))
		hi = hi.Add(archsimd.LoadFloat32x4Array((*[4]float32)(a[i+4:])).Mul(archsimd.LoadFloat32x4Array((*[4]float32)(b[i+4:]))))
	}
	s0 := lo.GetElem(0)
	for i := n; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + hi.GetElem(0)) + (lo.GetElem(1) + hi.GetElem(1))) + ((lo.GetElem(2) + hi.GetElem(2)) + (lo.GetElem(3) + hi.GetElem(3)))
}
