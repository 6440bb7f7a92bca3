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

// The kernels check their slices' lengths once and then address blocks through pointers:
// Go's WebAssembly pays for every bounds check and slice expression, which cost about 40% of the
// Q8_0 row's time. ptr, at and f16p are their only memory accesses besides the SIMD loads.

// ptr is the address of b's first byte, after checking that b holds at least n bytes.
func ptr(b []byte, n int) unsafe.Pointer {
	if len(b) < n {
		panic("quant: a row or vector shorter than its blocks")
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

// at is p advanced by off bytes.
func at(p unsafe.Pointer, off int) unsafe.Pointer { return unsafe.Add(p, off) }

// f16p is the IEEE half at p as float32 (F16ToF32).
func f16p(p unsafe.Pointer) float32 { return f16Table[*(*uint16)(p)] }

// dotQ8_0Row is the dot product of a Q8_0 weight row of nblk blocks with a Q8_0 activation
// vector, term for term as dotQ8_0Ref computes it (written out here: a call per block would
// cost as much as its arithmetic).
func dotQ8_0Row(w, a []byte, nblk int) float32 {
	pw, pa := ptr(w, 34*nblk), ptr(a, 34*nblk)
	var sum float32
	for o := 0; o < 34*nblk; o += 34 {
		wb, ab := at(pw, o), at(pa, o)
		sum += float32(hsum(sumQ8_0(wb, load8x16(at(ab, 2)), load8x16(at(ab, 18))))) * (f16p(wb) * f16p(ab))
	}
	return sum
}

// dotQ8_0Rows2 is dotQ8_0Row of two rows against the same vector, which is loaded once: about
// twice as fast as two calls of dotQ8_0Row in V8.
func dotQ8_0Rows2(w0, w1, a []byte, nblk int) (float32, float32) {
	pw, pv, pa := ptr(w0, 34*nblk), ptr(w1, 34*nblk), ptr(a, 34*nblk)
	var sum0, sum1 float32
	for o := 0; o < 34*nblk; o += 34 {
		ab, wb, wc := at(pa, o), at(pw, o), at(pv, o)
		a0, a1 := load8x16(at(ab, 2)), load8x16(at(ab, 18))
		da := f16p(ab)
		sum0 += float32(hsum(sumQ8_0(wb, a0, a1))) * (f16p(wb) * da)
		sum1 += float32(hsum(sumQ8_0(wc, a0, a1))) * (f16p(wc) * da)
	}
	return sum0, sum1
}

// dotQ8_0Block is dotQ8_0Row of rows w0 and w1 with vectors a0 and a1: w0·a0, w1·a0, w0·a1,
// w1·a1, each block of the four loaded once.
func dotQ8_0Block(w0, w1, a0, a1 []byte, nblk int) (float32, float32, float32, float32) {
	pw, pv, pa, pc := ptr(w0, 34*nblk), ptr(w1, 34*nblk), ptr(a0, 34*nblk), ptr(a1, 34*nblk)
	var s00, s10, s01, s11 float32
	for o := 0; o < 34*nblk; o += 34 {
		wb, wc, ab, ac := at(pw, o), at(pv, o), at(pa, o), at(pc, o)
		x0, x1 := load8x16(at(ab, 2)), load8x16(at(ab, 18))
		y0, y1 := load8x16(at(ac, 2)), load8x16(at(ac, 18))
		dw, dv, da, dc := f16p(wb), f16p(wc), f16p(ab), f16p(ac)
		s00 += float32(hsum(sumQ8_0(wb, x0, x1))) * (dw * da)
		s10 += float32(hsum(sumQ8_0(wc, x0, x1))) * (dv * da)
		s01 += float32(hsum(sumQ8_0(wb, y0, y1))) * (dw * dc)
		s11 += float32(hsum(sumQ8_0(wc, y0, y1))) * (dv * dc)
	}
	return s00, s10, s01, s11
}

// sumQ8_0 is the int32 lanes of the products of the values of the Q8_0 block at w with the activation
// block's two halves a0 and a1.
func sumQ8_0(w unsafe.Pointer, a0, a1 archsimd.Int8x16) archsimd.Int32x4 {
	return sum16(load8x16(at(w, 2)), a0).Add(sum16(load8x16(at(w, 18)), a1))
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
