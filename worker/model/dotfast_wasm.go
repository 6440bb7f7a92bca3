//go:build wasm && goexperiment.simd

package model

import (
	"simd/archsimd"
	"unsafe"
)

// dotFast is Σ a[i]*b[i] with eight partial sums, in two SIMD128 vectors of four (built with
// GOEXPERIMENT=simd, Go 1.27+): the same float operations in the same order as dotFastScalar, so
// the same value bit for bit.
func dotFast(a, b []float32) float32 {
	var lo, hi archsimd.Float32x4 // partial sums 0-3 and 4-7
	b = b[:len(a)]
	n := len(a) &^ 7
	// one bounds check above; the loads below address a and b through pointers, since Go's
	// WebAssembly pays for every bounds check and slice expression in the loop
	pa, pb := unsafe.Pointer(unsafe.SliceData(a)), unsafe.Pointer(unsafe.SliceData(b))
	for i := 0; i < n; i += 8 {
		x, y := unsafe.Add(pa, 4*i), unsafe.Add(pb, 4*i)
		lo = lo.Add(load4(x).Mul(load4(y)))
		hi = hi.Add(load4(unsafe.Add(x, 16)).Mul(load4(unsafe.Add(y, 16))))
	}
	s0 := lo.GetElem(0)
	for i := n; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + hi.GetElem(0)) + (lo.GetElem(1) + hi.GetElem(1))) + ((lo.GetElem(2) + hi.GetElem(2)) + (lo.GetElem(3) + hi.GetElem(3)))
}

func load4(p unsafe.Pointer) archsimd.Float32x4 { return archsimd.LoadFloat32x4Array((*[4]float32)(p)) }
