//go:build !amd64 || purego

package quant

// rowKernelsMatchGGML: the portable code adds in another order than llama.cpp.
const rowKernelsMatchGGML = false

// batchedMatchesGGML and tinyMatchesGGML: idem.
const (
	batchedMatchesGGML = false
	tinyMatchesGGML    = false
)

func matVec(t Type, w []byte, rb, cols int, a []byte, out []float32, r0, r1 int) {
	matVecGo(t, w, rb, cols, a, out, r0, r1)
}

func matVecUnpacked(t Type, w []byte, rb, cols int, a []byte, out []float32, r0, r1 int) {
	matVecGo(t, w, rb, cols, a, out, r0, r1)
}

func matMul(t Type, w []byte, rb, cols int, a []byte, ab, nb int, out []float32, rows, r0, r1 int) {
	matMulGo(t, w, rb, cols, a, ab, nb, out, rows, r0, r1)
}

func quantizeF16(x []float32, dst []byte)     { quantizeF16Go(x, dst) }
func quantizeQ8_0Act(x []float32, dst []byte) { quantizeQ8_0ActGo(x, dst) }
func quantizeQ8KAct(x []float32, dst []byte)  { quantizeQ8K(x, dst) }

func exactBatchedQ8_0(t Type, w []byte, rb, cols int, a []byte, ab, nb int, out []float32, rows, r0, r1 int) bool {
	return false
}
