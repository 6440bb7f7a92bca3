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
func matVecF32(w *byte, rb, nrows int, a *byte, n32, tail int, out *float32)

//go:noescape
func matVecF16(w *byte, rb, nrows int, a *byte, n32, tail int, out *float32)

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
		matVecF32(wp, rb, n, ap, cols/32, cols%32, op)
	case F16:
		matVecF16(wp, rb, n, ap, cols/32, cols%32, op)
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
