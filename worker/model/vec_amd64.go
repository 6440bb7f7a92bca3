package model

import "golang.org/x/sys/cpu"

var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func axpyAVX2(y *float32, a float32, x *float32, n int)

// dot returns Σ a[i]*b[i] over len(a) elements (b at least as long).
func dot(a, b []float32) float32 {
	if useAVX2 && len(a) >= 8 {
		b = b[:len(a)]
		return dotAVX2(&a[0], &b[0], len(a))
	}
	return dotGo(a, b)
}

// axpy sets y += a*x over len(y) elements (x at least as long).
func axpy(y []float32, a float32, x []float32) {
	if useAVX2 && len(y) >= 8 {
		x = x[:len(y)]
		axpyAVX2(&y[0], a, &x[0], len(y))
		return
	}
	axpyGo(y, a, x)
}
