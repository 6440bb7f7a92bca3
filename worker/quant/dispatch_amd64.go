//go:build amd64 && !purego

package quant

import "golang.org/x/sys/cpu"

var (
	// hasAVX2 selects the AVX2 + FMA + F16C row kernels.
	hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C
	// hasVNNI512 selects the AVX-512 VNNI batched kernels.
	hasVNNI512 = hasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI
)

// rowKernelsMatchGGML reports that MatVec and VecDot of the quantized types
// give exactly the float32 values of llama.cpp's x86 ggml_vec_dot_* (the
// products llama.cpp decodes with): same integer lanes, same FMAs, same
// horizontal sums.
var rowKernelsMatchGGML = hasAVX2

// batchedMatchesGGML reports that MatMul of Q4_0 and Q4_K weights gives the
// values of llama.cpp's repacked gemm/gemv kernels (the VNNI kernels).
var batchedMatchesGGML = hasVNNI512

// tinyMatchesGGML reports that MatMul of F32, F16 and BF16 weights adds in
// the order of the llama.cpp build this CPU runs: its tinyBLAS kernels
// follow the vector width, and MatMul follows the 512-bit ones.
var tinyMatchesGGML = hasAVX2 && cpu.X86.HasAVX512F

func matVec(t Type, w []byte, rb, cols int, a []byte, out []float32, r0, r1 int) {
	if hasAVX2 {
		matVecAVX2(t, w, rb, cols, a, out, r0, r1)
		return
	}
	matVecGo(t, w, rb, cols, a, out, r0, r1)
}

func matVecUnpacked(t Type, w []byte, rb, cols int, a []byte, out []float32, r0, r1 int) {
	if hasAVX2 {
		matVecUnpackedAVX2(t, w, rb, cols, a, out, r0, r1)
		return
	}
	matVecGo(t, w, rb, cols, a, out, r0, r1)
}

func matMul(t Type, w []byte, rb, cols int, a []byte, ab, nb int, out []float32, rows, r0, r1 int) {
	// llama.cpp's batched F32/F16/BF16 order (tinyBLAS), as fast as the rows
	if hasAVX2 && matMulTinyAVX2(t, w, rb, cols, a, ab, nb, out, rows, r0, r1) {
		return
	}
	// Below 4 vectors the row kernels win: a repacked row group serves too
	// few vectors to pay for its repacking (measured on weights streamed
	// from memory, Zen 4).
	if _, ok := layoutFor(t); ok && nb >= 4 {
		switch {
		case hasVNNI512:
			matMulVNNI(t, w, rb, cols, a, ab, nb, out, rows, r0, r1)
			return
		case hasAVX2 && (t == Q8_0 || t == Q4_0 || t == Q5_0):
			// Measured on Zen 4 with 128 vectors: 1.5x (Q8_0) to 2.7x
			// (Q5_0) the per-vector row kernels; the K-quants' row kernels
			// beat the tiled product there, whose weights are repacked in Go.
			matMulAVX2(t, w, rb, cols, a, ab, nb, out, rows, r0, r1)
			return
		}
	}
	for b := 0; b < nb; b++ {
		matVec(t, w, rb, cols, a[b*ab:b*ab+ab], out[b*rows:], r0, r1)
	}
}

//go:noescape
func quantQ8_0AVX2(x *float32, nblk int, dst *byte)

//go:noescape
func quantQ8KAVX2(x *float32, nblk int, dst *byte)

//go:noescape
func cvtF16AVX2(x *float32, n8 int, dst *byte)

func quantizeF16(x []float32, dst []byte) {
	n8 := len(x) / 8
	if hasAVX2 && n8 > 0 {
		cvtF16AVX2(&x[0], n8, &dst[0])
		quantizeF16Go(x[8*n8:], dst[16*n8:])
		return
	}
	quantizeF16Go(x, dst)
}

func quantizeQ8_0Act(x []float32, dst []byte) {
	if hasAVX2 && len(x) >= 32 {
		quantQ8_0AVX2(&x[0], len(x)/32, &dst[0])
		return
	}
	quantizeQ8_0ActGo(x, dst)
}

func quantizeQ8KAct(x []float32, dst []byte) {
	if hasAVX2 && len(x) >= QK {
		quantQ8KAVX2(&x[0], len(x)/QK, &dst[0])
		return
	}
	quantizeQ8K(x, dst)
}

// exactBatchedQ8_0 runs MatMulExact's Q8_0 or Q5_0 product in the batched exact
// kernel where the CPU has one (AVX-512 VNNI); false otherwise.
func exactBatchedQ8_0(t Type, w []byte, rb, cols int, a []byte, ab, nb int, out []float32, rows, r0, r1 int) bool {
	if !hasVNNI512 || nb < 2 {
		return false
	}
	if r1 > r0 {
		matMulExactQ8_0(t, w, rb, cols, a, ab, nb, out, rows, r0, r1)
	}
	return true
}
