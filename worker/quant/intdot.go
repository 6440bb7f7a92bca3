//go:build !(wasm && goexperiment.simd) || purego

package quant

// The inner loops of the portable kernels (dot_go.go) that intdot_wasm.go writes with
// WebAssembly SIMD: integer sums, exact in any order, and the Q8_0 row in the reference's float
// order.

// dotQ8_0Row is the dot product of a Q8_0 weight row of nblk blocks with a Q8_0 activation
// vector: the reference itself.
func dotQ8_0Row(w, a []byte, nblk int) float32 { return dotQ8_0Ref(32*nblk, w, a) }

// dotQ8_0Rows2 is dotQ8_0Row of two rows against the same vector.
func dotQ8_0Rows2(w0, w1, a []byte, nblk int) (float32, float32) {
	return dotQ8_0Row(w0, a, nblk), dotQ8_0Row(w1, a, nblk)
}

// dot32 is Σ v[i]·int8(a[i]) over 32 values.
func dot32(v *[32]int8, a *[32]byte) int32 {
	var s0, s1, s2, s3 int32
	for i := 0; i < 32; i += 4 {
		s0 += int32(v[i]) * int32(int8(a[i]))
		s1 += int32(v[i+1]) * int32(int8(a[i+1]))
		s2 += int32(v[i+2]) * int32(int8(a[i+2]))
		s3 += int32(v[i+3]) * int32(int8(a[i+3]))
	}
	return s0 + s1 + s2 + s3
}

// dot16 is Σ v[i]·int8(a[i]) over 16 values.
func dot16(v *[16]int8, a *[16]byte) int32 {
	var s0, s1 int32
	for i := 0; i < 16; i += 2 {
		s0 += int32(v[i]) * int32(int8(a[i]))
		s1 += int32(v[i+1]) * int32(int8(a[i+1]))
	}
	return s0 + s1
}

// floatRowsFollowReference: the portable F32, F16 and BF16 rows are the reference itself.
const floatRowsFollowReference = true

// hasSIMDRows, simdRows and simdMatMul: no SIMD kernels in this build (rowdot_wasm.go has
// them).
func hasSIMDRows(Type) bool                                   { return false }
func simdRows(Type, []byte, int, []byte, int, []float32) bool { return false }
func simdMatMul(Type, []byte, int, []byte, int, int, []float32, int, int, int) bool {
	return false
}
