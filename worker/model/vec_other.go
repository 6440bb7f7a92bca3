//go:build !amd64

package model

// Off amd64 (the browser's WebAssembly, arm64) there is no llama.cpp build to be bit-identical
// with, and Go has no fused multiply-add in hardware there (math.FMA is emulated in software on
// wasm), so these kernels compute the same functions in plain float32 with several partial sums:
// the same results to float rounding, several times faster than the ggml-order references.

func dot(a, b []float32) float32 { return dotFast(a, b) }

func dot16(a, b []float32) float32 { return dotFast(a, b) }

func dotRows(out, a []float32, stride int, b []float32, n int) {
	for r := range out {
		out[r] = dotFast(a[r*stride:r*stride+n], b[:n])
	}
}

func dot16x4(out *[4]float32, a []float32, stride int, b []float32, n int) {
	for r := range out {
		out[r] = dotFast(a[r*stride:r*stride+n], b[:n])
	}
}

// ropePair rotates (x0, x1) by the angle whose cosine and sine are c and s.
func ropePair(x0, x1, c, s float32) (float32, float32) { return x0*c - x1*s, x0*s + x1*c }

// dotFastScalar is Σ a[i]*b[i] with eight partial sums: dotFast without SIMD.
func dotFastScalar(a, b []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	b = b[:len(a)]
	n := len(a) &^ 7
	for i := 0; i < n; i += 8 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
		s4 += a[i+4] * b[i+4]
		s5 += a[i+5] * b[i+5]
		s6 += a[i+6] * b[i+6]
		s7 += a[i+7] * b[i+7]
	}
	for i := n; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7))
}
