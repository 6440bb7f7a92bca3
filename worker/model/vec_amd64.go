package model

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly kernels (vec_amd64.s). They need AVX2 and FMA; results are
// bit-identical to the Go references in ggml.go either way.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func dot64AVX2(a, b *float32, n int) float32

//go:noescape
func dot64RowsAVX2(out, a *float32, stride int, b *float32, n, rows int)

//go:noescape
func dot16AVX2(a, b *float32, n int) float32

//go:noescape
func dot16x4AVX2(a *float32, stride int, b *float32, n int, out *float32)

//go:noescape
func expSubAVX2(y, x *float32, n int, m float32) int

//go:noescape
func swigluAVX2(gate, up *float32, n int) int

// dot is ggml_vec_dot_f32: Σ a[i]*b[i] over len(a) elements in ggml's order (see dotGo); b must
// be at least as long as a.
func dot(a, b []float32) float32 {
	n := len(a) &^ 63
	if !useAVX2 || n == 0 {
		return dotGo(a, b)
	}
	b = b[:len(a)]
	s := dot64AVX2(&a[0], &b[0], n)
	for i := n; i < len(a); i++ {
		s += float32(a[i] * b[i])
	}
	return s
}

// dotRows sets out[r] = dot(a[r*stride:r*stride+n], b[:n]) for every r < len(out).
func dotRows(out, a []float32, stride int, b []float32, n int) {
	n64 := n &^ 63
	if !useAVX2 || n64 == 0 || len(out) == 0 {
		dotRowsGo(out, a, stride, b, n)
		return
	}
	_ = a[(len(out)-1)*stride+n-1]
	b = b[:n]
	dot64RowsAVX2(&out[0], &a[0], stride, &b[0], n64, len(out))
	for r := range out { // ggml_vec_dot_f32's scalar tail
		row := a[r*stride : r*stride+n]
		for i := n64; i < n; i++ {
			out[r] += float32(row[i] * b[i])
		}
	}
}

// dot16 is one output of llamafile's F32 tinyBLAS (see dot16Go); len(a) must be a multiple of 16.
func dot16(a, b []float32) float32 {
	if !useAVX2 || len(a) == 0 {
		return dot16Go(a, b)
	}
	b = b[:len(a)]
	return dot16AVX2(&a[0], &b[0], len(a))
}

// dot16x4 sets out[r] = dot16(a[r*stride:r*stride+n], b[:n]) for r = 0..3; n must be a multiple
// of 16.
func dot16x4(out *[4]float32, a []float32, stride int, b []float32, n int) {
	if !useAVX2 || n == 0 {
		for r := range out {
			out[r] = dot16Go(a[r*stride:r*stride+n], b[:n])
		}
		return
	}
	_ = a[3*stride+n-1]
	b = b[:n]
	dot16x4AVX2(&a[0], stride, &b[0], n, &out[0])
}

// expSub sets y[i] = expGGML(x[i] - m); x must be at least as long as y.
func expSub(y, x []float32, m float32) {
	x = x[:len(y)]
	i := 0
	for useAVX2 && i+8 <= len(y) {
		i += expSubAVX2(&y[i], &x[i], (len(y)-i)&^7, m)
		if i+8 <= len(y) { // a lane outside the fast range: this group in Go
			expSubGo(y[i:i+8], x[i:i+8], m)
			i += 8
		}
	}
	expSubGo(y[i:], x[i:], m)
}

// swiglu sets gate[i] = silu(gate[i]) * up[i] as ggml_vec_swiglu_f32 does (see swigluGo).
func swiglu(gate, up []float32) {
	up = up[:len(gate)]
	n16 := len(gate) &^ 15
	i := 0
	for useAVX2 && i < n16 {
		i += swigluAVX2(&gate[i], &up[i], n16-i)
		if i < n16 { // a lane outside the fast range: this group in Go
			swigluVecGo(gate[i:i+8], up[i:i+8])
			i += 8
		}
	}
	swigluGo(gate[i:], up[i:])
}

// ropePair rotates (x0, x1) by the angle whose cosine and sine are c and s, with the fused
// multiply-adds of llama.cpp's build: x0' = fma(x0, c, -(x1*s)), x1' = fma(x0, s, x1*c).
func ropePair(x0, x1, c, s float32) (float32, float32) {
	return fma32(x0, c, -float32(x1*s)), fma32(x0, s, float32(x1*c))
}
