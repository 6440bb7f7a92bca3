//go:build wasm && goexperiment.simd && !purego

package quant

import (
	"simd/archsimd"
	"unsafe"
)

// intdot.go's loops with WebAssembly SIMD128 (built with GOEXPERIMENT=simd, Go 1.27+): the same
// exact int32 sums and the same float operations in the same order, so every kernel built on
// them stays bit-identical to the reference. Products of two int8 are widened to int16 and then
// to int32 before they are added, so any bytes give the exact sum.

// dotQ8_0Row is the dot product of a Q8_0 weight row of nblk blocks with a Q8_0 activation
// vector, term for term as dotQ8_0Ref computes it (written out here: a call per block would
// cost as much as its arithmetic).
func dotQ8_0Row(w, a []byte, nblk int) float32 {
	var sum float32
	for b := 0; b < nblk; b++ {
		wb, ab := (*[34]byte)(w[34*b:]), (*[34]byte)(a[34*b:])
		a0, a1 := load8x16(unsafe.Pointer(&ab[2])), load8x16(unsafe.Pointer(&ab[18]))
		sum += float32(hsum(sumQ8_0(wb, a0, a1))) * (f16At(wb[:], 0) * f16At(ab[:], 0))
	}
	return sum
}

// dotQ8_0Rows2 is dotQ8_0Row of two rows against the same vector, which is loaded once: about
// twice as fast as two calls of dotQ8_0Row in V8.
func dotQ8_0Rows2(w0, w1, a []byte, nblk int) (float32, float32) {
	var sum0, sum1 float32
	for b := 0; b < nblk; b++ {
		ab, wb, wc := (*[34]byte)(a[34*b:]), (*[34]byte)(w0[34*b:]), (*[34]byte)(w1[34*b:])
		a0, a1 := load8x16(unsafe.Pointer(&ab[2])), load8x16(unsafe.Pointer(&ab[18]))
		da := f16At(ab[:], 0)
		sum0 += float32(hsum(sumQ8_0(wb, a0, a1))) * (f16At(wb[:], 0) * da)
		sum1 += float32(hsum(sumQ8_0(wc, a0, a1))) * (f16At(wc[:], 0) * da)
	}
	return sum0, sum1
}

// dotQ8_0Block is dotQ8_0Row of rows w0 and w1 with vectors a0 and a1: w0·a0, w1·a0, w0·a1,
// w1·a1, each block of the four loaded once.
func dotQ8_0Block(w0, w1, a0, a1 []byte, nblk int) (float32, float32, float32, float32) {
	var s00, s10, s01, s11 float32
	for b := 0; b < nblk; b++ {
		wb, wc := (*[34]byte)(w0[34*b:]), (*[34]byte)(w1[34*b:])
		ab, ac := (*[34]byte)(a0[34*b:]), (*[34]byte)(a1[34*b:])
		x0, x1 := load8x16(unsafe.Pointer(&ab[2])), load8x16(unsafe.Pointer(&ab[18]))
		y0, y1 := load8x16(unsafe.Pointer(&ac[2])), load8x16(unsafe.Pointer(&ac[18]))
		dw, dv, da, dc := f16At(wb[:], 0), f16At(wc[:], 0), f16At(ab[:], 0), f16At(ac[:], 0)
		s00 += float32(hsum(sumQ8_0(wb, x0, x1))) * (dw * da)
		s10 += float32(hsum(sumQ8_0(wc, x0, x1))) * (dv * da)
		s01 += float32(hsum(sumQ8_0(wb, y0, y1))) * (dw * dc)
		s11 += float32(hsum(sumQ8_0(wc, y0, y1))) * (dv * dc)
	}
	return s00, s10, s01, s11
}

// sumQ8_0 is the int32 lanes of the products of Q8_0 block w's values with the activation
// block's two halves a0 and a1.
func sumQ8_0(w *[34]byte, a0, a1 archsimd.Int8x16) archsimd.Int32x4 {
	return sum16(load8x16(unsafe.Pointer(&w[2])), a0).Add(sum16(load8x16(unsafe.Pointer(&w[18])), a1))
}

func load8x16(p unsafe.Pointer) archsimd.Int8x16 {
	return archsimd.LoadInt8x16Array((*[16]int8)(p))
}

// sum16 is the int32 lanes of Σ v[i]·a[i] over 16 int8 pairs, four lanes.
func sum16(v, a archsimd.Int8x16) archsimd.Int32x4 {
	lo, hi := v.MulWidenLo(a), v.MulWidenHi(a)
	return lo.ExtendLo4ToInt32().Add(lo.ExtendHi4ToInt32()).Add(hi.ExtendLo4ToInt32()).Add(hi.ExtendHi4ToInt32())
}

func hsum(x archsimd.Int32x4) int32 {
	return x.GetElem(0) + x.GetElem(1) + x.GetElem(2) + x.GetElem(3)
}

// dot32 is Σ v[i]·int8(a[i]) over 32 values.
func dot32(v *[32]int8, a *[32]byte) int32 {
	s := sum16(load8x16(unsafe.Pointer(v)), load8x16(unsafe.Pointer(a)))
	s = s.Add(sum16(load8x16(unsafe.Pointer(&v[16])), load8x16(unsafe.Pointer(&a[16]))))
	return hsum(s)
}

// dot16 is Σ v[i]·int8(a[i]) over 16 values.
func dot16(v *[16]int8, a *[16]byte) int32 {
	return hsum(sum16(load8x16(unsafe.Pointer(v)), load8x16(unsafe.Pointer(a))))
}
