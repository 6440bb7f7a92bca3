//go:build amd64 && !purego

package quant

// Row loops over AVX2 + FMA + F16C dot products (matvec_amd64.s). Each
// computes out[0:nrows] for rows of rb bytes at w against the activation a.

//go:noescape
func matVecQ8_0(w *byte, rb, nrows int, a *byte, nblk int, out *float32)

//go:noescape
func matVecQ4_0(w *byte, rb, nrows int, a *byte, nblk int, out *float32)

//go:noescape
func matVecQ4_0VD(w *byte, rb, nrows int, a *byte, nblk int, out *float32)

//go:noescape
func matVecQ4KVD(w *byte, rb, nrows int, a *byte, nblk int, out *float32)

//go:noescape
func matVecQ5_0(w *byte, rb, nrows int, a *byte, nblk int, out *float32)

//go:noescape
func matVecQ4K(w *byte, rb, nrows int, a *byte, nblk int, out *float32)

//go:noescape
func matVecQ5K(w *byte, rb, nrows int, a *byte, nblk int, out *float32)

//go:noescape
func matVecQ6K(w *byte, rb, nrows int, a *byte, nblk int, out *float32)

//go:noescape
func matVecF32GGML(w *byte, rb, nrows int, a *byte, n int, out *float32)

//go:noescape
func matVecF16GGML(w *byte, rb, nrows int, a *byte, n int, out *float32)

//go:noescape
func matVecF32Tiny(w *byte, rb, nrows int, a *byte, n16 int, out *float32)

//go:noescape
func matVecF16Tiny(w *byte, rb, nrows int, a *byte, n16 int, out *float32)

//go:noescape
func matVecBF16GGML(w *byte, rb, nrows int, a *byte, n int, out *float32)

//go:noescape
func matVecBF16Tiny(w *byte, rb, nrows int, a *byte, n32 int, out *float32)

// matVecAVX2 runs the kernel of t over rows [r0, r1); the caller checked
// every size.
func matVecAVX2(t Type, w []byte, rb, cols int, a []byte, out []float32, r0, r1 int) {
	n := r1 - r0
	if n == 0 {
		return
	}
	wp, ap, op := &w[r0*rb], &a[0], &out[r0]
	switch t {
	case Q8_0:
		matVecQ8_0(wp, rb, n, ap, cols/32, op)
	case Q4_0:
		matVecQ4_0(wp, rb, n, ap, cols/32, op)
	case Q5_0:
		matVecQ5_0(wp, rb, n, ap, cols/32, op)
	case Q4_K:
		matVecQ4K(wp, rb, n, ap, cols/QK, op)
	case Q5_K:
		matVecQ5K(wp, rb, n, ap, cols/QK, op)
	case Q6_K:
		matVecQ6K(wp, rb, n, ap, cols/QK, op)
	case F32:
		matVecF32GGML(wp, rb, n, ap, cols, op)
	case F16:
		matVecF16GGML(wp, rb, n, ap, cols, op)
	case BF16:
		matVecBF16GGML(wp, rb, n, ap, cols, op)
	}
}

// matVecUnpackedAVX2 is matVecAVX2 in ggml_vec_dot order for Q4_0 and Q4_K.
func matVecUnpackedAVX2(t Type, w []byte, rb, cols int, a []byte, out []float32, r0, r1 int) {
	n := r1 - r0
	if n == 0 {
		return
	}
	switch t {
	case Q4_0:
		matVecQ4_0VD(&w[r0*rb], rb, n, &a[0], cols/32, &out[r0])
	case Q4_K:
		matVecQ4KVD(&w[r0*rb], rb, n, &a[0], cols/QK, &out[r0])
	default:
		matVecAVX2(t, w, rb, cols, a, out, r0, r1)
	}
}

// matMulTinyAVX2 runs llama.cpp's batched order for F32, F16 and BF16
// (tinyBLAS: one accumulator per output over steps of 16 or 32 values); ok
// is false when cols is not a multiple of the step (llama.cpp then uses its
// row products, as MatVec does).
func matMulTinyAVX2(t Type, w []byte, rb, cols int, a []byte, ab, nb int, out []float32, rows, r0, r1 int) (ok bool) {
	var kern func(w *byte, rb, nrows int, a *byte, n int, out *float32)
	var step int
	switch t {
	case F32:
		kern, step = matVecF32Tiny, 16
	case F16:
		kern, step = matVecF16Tiny, 16
	case BF16:
		kern, step = matVecBF16Tiny, 32
	default:
		return false
	}
	if cols%step != 0 {
		return false
	}
	if r1 > r0 {
		for b := 0; b < nb; b++ {
			kern(&w[r0*rb], rb, r1-r0, &a[b*ab], cols/step, &out[b*rows+r0])
		}
	}
	return true
}
