package quant

import "fmt"

// VecDot returns the dot product of one weight row w (n values of type t)
// and one activation vector a (n values converted by QuantizeActivations(t)),
// as llama.cpp's ggml_vec_dot for t computes it. It panics if t has no dot
// product or the slices are shorter than n values.
func VecDot(t Type, n int, w, a []byte) float32 {
	rb, ab := checkDot("VecDot", t, n)
	if len(w) < rb || len(a) < ab {
		panic(fmt.Sprintf("quant: VecDot %v: %d values need %d weight and %d activation bytes, have %d and %d", t, n, rb, ab, len(w), len(a)))
	}
	var out [1]float32
	matVec(t, w[:rb], rb, n, a[:ab], out[:], 0, 1)
	return out[0]
}

// MatVec computes out[r] = VecDot(t, cols, row r of w, a) for r in [r0, r1).
// w is a row-major matrix whose rows take RowBytes(cols) bytes each (it
// needs at least r1 rows); a is one activation vector from
// QuantizeActivations(t, x[:cols], ...). It does not allocate, so callers
// split [0, rows) among goroutines, each calling MatVec on its own range.
func MatVec(t Type, w []byte, cols int, a []byte, out []float32, r0, r1 int) {
	rb, ab := checkDot("MatVec", t, cols)
	if r0 < 0 || r1 < r0 || len(out) < r1 || len(w)/rb < r1 || len(a) < ab {
		panic(fmt.Sprintf("quant: MatVec %v: rows [%d,%d) of %d-byte rows: w has %d bytes, out %d values, a %d bytes (need %d)",
			t, r0, r1, rb, len(w), len(out), len(a), ab))
	}
	matVec(t, w, rb, cols, a[:ab], out, r0, r1)
}

// MatMul is the batched form of MatVec used for prefill: a holds nb
// activation vectors back to back, each ActivationBytes(t, cols) bytes, and
// out[b*rows + r] receives the product of row r of w with vector b, for r in
// [r0, r1) and b in [0, nb). Each weight block is loaded once for several
// activation vectors. It gives the same values as nb calls of MatVec up to
// float rounding of the per-block scaling (see the package tests), and does
// not allocate in steady state (scratch comes from a pool).
func MatMul(t Type, w []byte, cols int, a []byte, nb int, out []float32, rows, r0, r1 int) {
	rb, ab := checkDot("MatMul", t, cols)
	if nb < 0 || r0 < 0 || r1 < r0 || r1 > rows || len(w)/rb < r1 || len(a)/ab < nb ||
		(nb > 0 && len(out) < (nb-1)*rows+r1) {
		panic(fmt.Sprintf("quant: MatMul %v: rows [%d,%d) of %d, %d vectors: w has %d bytes, a %d bytes, out %d values",
			t, r0, r1, rows, nb, len(w), len(a), len(out)))
	}
	if nb == 0 || r0 == r1 {
		return
	}
	matMul(t, w, rb, cols, a[:nb*ab], ab, nb, out, rows, r0, r1)
}

// MatMulExact is MatMul for comparisons with llama.cpp that want its very
// float32 values rather than speed: on amd64 with AVX2 its results are
// bit-identical to those of llama.cpp's CPU backend (x86, AVX-512 build) for
// every quantized type. Q8_0 and Q5_0 weights llama.cpp multiplies with its
// tinyBLAS kernels and Q5_K and Q6_K with ggml_vec_dot_*, all adding in the
// order of ggml_vec_dot_*, which the row kernels follow: MatMulExact runs
// them for every vector over chunks of rows that stay in cache (Q8_0 and
// Q5_0, with AVX-512 VNNI, through a batched kernel in that order, about a
// quarter of MatMul's speed; the others at the row kernels' rate). Q4_0 and Q4_K llama.cpp repacks, and
// multiplies four vectors at a time with one kernel and the rest with
// another; MatMul with AVX-512 VNNI follows both, and MatMulExact is MatMul
// there (without VNNI, Q4_K matches only for the last nb%4 vectors).
func MatMulExact(t Type, w []byte, cols int, a []byte, nb int, out []float32, rows, r0, r1 int) {
	rb, ab := checkDot("MatMulExact", t, cols)
	if nb < 0 || r0 < 0 || r1 < r0 || r1 > rows || len(w)/rb < r1 || len(a)/ab < nb ||
		(nb > 0 && len(out) < (nb-1)*rows+r1) {
		panic(fmt.Sprintf("quant: MatMulExact %v: rows [%d,%d) of %d, %d vectors: w has %d bytes, a %d bytes, out %d values",
			t, r0, r1, rows, nb, len(w), len(a), len(out)))
	}
	if batchedMatchesGGML && (t == Q4_0 || t == Q4_K) || rowKernelsMatchGGML && (t == BF16 || t == F16 || t == F32) {
		// llama.cpp's own batched order for these, which MatMul follows here
		matMul(t, w, rb, cols, a[:nb*ab], ab, nb, out, rows, r0, r1)
		return
	}
	if (t == Q8_0 || t == Q5_0) && exactBatchedQ8_0(t, w, rb, cols, a[:nb*ab], ab, nb, out, rows, r0, r1) {
		return
	}
	rowVectors(matVec, t, w, rb, cols, a, ab, nb, out, rows, r0, r1)
}

// ExactMatchesLlamaCpp reports whether MatMulExact's values for weights of
// type t are bit-identical to those of the llama.cpp build this CPU runs.
// llama.cpp's x86 backend picks its batched kernels by vector width
// (tinyBLAS for F32, F16 and BF16; repacked kernels for Q4_0 and Q4_K), and
// MatMulExact follows its AVX-512 ones (with VNNI for Q4_0 and Q4_K); the
// other types it multiplies in ggml_vec_dot_*'s order, which the row
// kernels follow with AVX2.
func ExactMatchesLlamaCpp(t Type) bool {
	switch t {
	case Q4_0, Q4_K:
		return batchedMatchesGGML
	case F32, F16, BF16:
		return tinyMatchesGGML
	default:
		return rowKernelsMatchGGML
	}
}

// rowVectors runs a row kernel for nb vectors over rows [r0, r1), a chunk of
// rows (about 32 KiB of weights, which stay in cache) at a time for all the
// vectors, so that the weights are read from memory once.
func rowVectors(kern func(Type, []byte, int, int, []byte, []float32, int, int), t Type, w []byte, rb, cols int, a []byte, ab, nb int, out []float32, rows, r0, r1 int) {
	step := max(16, (32<<10)/rb)
	for c0 := r0; c0 < r1; c0 += step {
		c1 := min(r1, c0+step)
		for b := 0; b < nb; b++ {
			kern(t, w, rb, cols, a[b*ab:b*ab+ab], out[b*rows:], c0, c1)
		}
	}
}

// LlamaCppRepacks reports whether llama.cpp's CPU backend (x86 with AVX2)
// repacks a weight matrix of type t with the given number of rows: Q4_0 and
// Q4_K matrices with a multiple of 8 rows (an output matrix tied to the
// token embedding included: llama.cpp loads a second, repacked copy for the
// product). It then adds in another order than for weights it keeps as they
// are; MatVec and MatMul follow the repacked order for these two types, and
// MatVecUnpacked and MatMulUnpacked the other, for matrices it does not
// repack.
func LlamaCppRepacks(t Type, rows int) bool {
	return (t == Q4_0 || t == Q4_K) && rows%8 == 0
}

// MatVecUnpacked is MatVec in the order of ggml_vec_dot_*, which llama.cpp
// uses for Q4_0 and Q4_K matrices it does not repack (LlamaCppRepacks false);
// for the other types it is MatVec. Its values are bit-identical to
// llama.cpp's on amd64 with AVX2; its speed is MatVec's.
func MatVecUnpacked(t Type, w []byte, cols int, a []byte, out []float32, r0, r1 int) {
	rb, ab := checkDot("MatVecUnpacked", t, cols)
	if r0 < 0 || r1 < r0 || len(out) < r1 || len(w)/rb < r1 || len(a) < ab {
		panic(fmt.Sprintf("quant: MatVecUnpacked %v: rows [%d,%d) of %d-byte rows: w has %d bytes, out %d values, a %d bytes (need %d)",
			t, r0, r1, rb, len(w), len(out), len(a), ab))
	}
	matVecUnpacked(t, w, rb, cols, a[:ab], out, r0, r1)
}

// MatMulUnpacked is MatMulExact for matrices that llama.cpp does not repack:
// nb MatVecUnpacked calls, bit-identical to llama.cpp's batched products of
// such Q4_0 (tinyBLAS) and Q4_K (ggml_vec_dot_q4_K_q8_K) matrices; for the
// other types it is MatMulExact.
func MatMulUnpacked(t Type, w []byte, cols int, a []byte, nb int, out []float32, rows, r0, r1 int) {
	if t != Q4_0 && t != Q4_K {
		MatMulExact(t, w, cols, a, nb, out, rows, r0, r1)
		return
	}
	rb, ab := checkDot("MatMulUnpacked", t, cols)
	if nb < 0 || r0 < 0 || r1 < r0 || r1 > rows || len(w)/rb < r1 || len(a)/ab < nb ||
		(nb > 0 && len(out) < (nb-1)*rows+r1) {
		panic(fmt.Sprintf("quant: MatMulUnpacked %v: rows [%d,%d) of %d, %d vectors: w has %d bytes, a %d bytes, out %d values",
			t, r0, r1, rows, nb, len(w), len(a), len(out)))
	}
	rowVectors(matVecUnpacked, t, w, rb, cols, a, ab, nb, out, rows, r0, r1)
}

func checkDot(op string, t Type, n int) (rb, ab int) {
	if !hasDot(t) {
		panic(fmt.Sprintf("quant: %s: %v has no dot product", op, t))
	}
	if n <= 0 || n%t.BlockSize() != 0 || n%VecDotType(t).BlockSize() != 0 {
		panic(fmt.Sprintf("quant: %s %v: %d values is not a positive multiple of the block size", op, t, n))
	}
	return rowBytes(t, n), rowBytes(VecDotType(t), n)
}
