package quant

import (
	"fmt"
	"math"
)

// VecDotType is the type that activations are converted to before a dot
// product with a weight row of type t, as in ggml's CPU backend: F32, F16
// and BF16 keep their own type; Q4_0, Q5_0 and Q8_0 use Q8_0; the K-quants use
// Q8_K. It returns t itself for types without a dot product.
func VecDotType(t Type) Type {
	switch t {
	case Q4_0, Q5_0, Q8_0:
		return Q8_0
	case Q4_K, Q5_K, Q6_K:
		return Q8_K
	}
	return t
}

// ActivationBytes is the size of the buffer QuantizeActivations needs for n
// values against weights of type t: RowBytes(VecDotType(t), n).
func ActivationBytes(t Type, n int) (int, error) {
	if !hasDot(t) {
		return 0, fmt.Errorf("quant: %v has no dot product: %w", t, ErrUnsupported)
	}
	return VecDotType(t).RowBytes(n)
}

func hasDot(t Type) bool {
	switch t {
	case F32, F16, BF16, Q4_0, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K:
		return true
	}
	return false
}

// QuantizeActivations converts the activation vector x to VecDotType(t) in
// dst, which must hold exactly ActivationBytes(t, len(x)) bytes, with the
// rounding of llama.cpp's CPU backend on x86-64 so that the integer dot
// products see the same int8 values as llama.cpp:
//   - Q8_0 (ggml's AVX quantize_row_q8_0): per block of 32, amax = max|x|,
//     d = fp16(amax/127), q = round-half-even(x * (127/amax)). Note that this
//     differs from Quantize(Q8_0), which follows the reference quantizer
//     (x * (1/d), ties away from zero), exactly as ggml's two paths differ.
//   - Q8_K (quantize_row_q8_K): per block of 256, max is the value of largest
//     magnitude, iscale = -127/max, q = min(127, nearest-even(iscale*x)),
//     d = 1/iscale (float32), bsums = sums of each 16 q.
//   - F16, BF16: round to nearest even; F32: the bytes of x.
//
// Non-finite values in x give unspecified (but bounded-time) results. It
// panics if t has no dot product or the sizes are wrong.
func QuantizeActivations(t Type, x []float32, dst []byte) {
	vt := VecDotType(t)
	if !hasDot(t) {
		panic(fmt.Sprintf("quant: QuantizeActivations: %v has no dot product", t))
	}
	if n := rowBytes(vt, len(x)); len(dst) != n {
		panic(fmt.Sprintf("quant: QuantizeActivations: %d values of %v need %d bytes, dst has %d", len(x), vt, n, len(dst)))
	}
	switch vt {
	case F32:
		for i, v := range x {
			le.PutUint32(dst[4*i:], math.Float32bits(v))
		}
	case F16:
		quantizeF16(x, dst)
	case BF16:
		for i, v := range x {
			le.PutUint16(dst[2*i:], F32ToBF16(v))
		}
	case Q8_0:
		quantizeQ8_0Act(x, dst)
	case Q8_K:
		quantizeQ8KAct(x, dst)
	}
}

func quantizeF16Go(x []float32, dst []byte) {
	for i, v := range x {
		le.PutUint16(dst[2*i:], F32ToF16(v))
	}
}

// quantizeQ8_0ActGo is the reference for ggml's AVX quantize_row_q8_0.
func quantizeQ8_0ActGo(x []float32, dst []byte) {
	for b := 0; b < len(x)/32; b++ {
		xs := x[32*b : 32*b+32]
		blk := dst[34*b : 34*b+34]
		var amax float32
		for _, v := range xs {
			amax = max(amax, abs32(v))
		}
		le.PutUint16(blk, F32ToF16(amax/127))
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		for i, v := range xs {
			blk[2+i] = byte(int8(nearestInt(v * id))) // |v*id| <= 127: exact ties-to-even
		}
	}
}

// quantizeQ8K is ggml's quantize_row_q8_K (its reference form is the one the
// x86 CPU backend uses).
func quantizeQ8K(x []float32, dst []byte) {
	for b := 0; b < len(x)/QK; b++ {
		xs := x[QK*b : QK*b+QK]
		blk := dst[292*b : 292*b+292]
		var mx, amax float32
		for _, v := range xs {
			if a := abs32(v); a > amax {
				amax, mx = a, v
			}
		}
		if amax == 0 {
			clear(blk)
			continue
		}
		iscale := -127 / mx
		qs := blk[4:260]
		for i, v := range xs {
			qs[i] = byte(int8(min(127, nearestInt(iscale*v))))
		}
		for j := 0; j < 16; j++ {
			var s int
			for _, q := range qs[16*j : 16*j+16] {
				s += int(int8(q))
			}
			le.PutUint16(blk[260+2*j:], uint16(int16(s)))
		}
		le.PutUint32(blk, math.Float32bits(1/iscale))
	}
}
