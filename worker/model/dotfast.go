//go:build !amd64 && !(wasm && goexperiment.simd)

package model

// dotFast is Σ a[i]*b[i] with eight partial sums (dotfast_wasm.go: the same with SIMD).
func dotFast(a, b []float32) float32 { return dotFastScalar(a, b) }
