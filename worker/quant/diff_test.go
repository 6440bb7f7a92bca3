package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// checkMatMul compares MatMul (the fast kernels where the machine has them)
// with the reference dot product for every (vector, row) of a random
// problem, within dotTolerance.
func checkMatMul(t *testing.T, typ Type, rows, cols, nb, r0, r1 int, w []byte, x []float32) {
	t.Helper()
	rb := mustRowBytes(t, typ, cols)
	ab := mustActBytes(t, typ, cols)
	a := make([]byte, nb*ab)
	for j := 0; j < nb; j++ {
		QuantizeActivations(typ, x[j*cols:(j+1)*cols], a[j*ab:(j+1)*ab])
	}
	out := make([]float32, nb*rows)
	for i := range out {
		out[i] = float32(math.NaN())
	}
	MatMul(typ, w, cols, a, nb, out, rows, r0, r1)
	if nb == 1 { // the row kernels in both orders
		un := make([]float32, rows)
		MatVecUnpacked(typ, w, cols, a, un, r0, r1)
		for r := r0; r < r1; r++ {
			wr := w[r*rb : (r+1)*rb]
			want := vecDotRef(typ, cols, wr, a)
			if d := math.Abs(float64(un[r] - want)); d > dotTolerance(typ, cols, wr, a) || math.IsNaN(float64(un[r])) {
				t.Fatalf("%v %dx%d row %d: MatVecUnpacked %v, reference %v", typ, rows, cols, r, un[r], want)
			}
		}
	}
	for j := 0; j < nb; j++ {
		for r := 0; r < rows; r++ {
			got := out[j*rows+r]
			if r < r0 || r >= r1 {
				if !math.IsNaN(float64(got)) {
					t.Fatalf("%v %dx%d nb=%d rows [%d,%d): wrote row %d", typ, rows, cols, nb, r0, r1, r)
				}
				continue
			}
			wr, ar := w[r*rb:(r+1)*rb], a[j*ab:(j+1)*ab]
			want := vecDotRef(typ, cols, wr, ar)
			if d := math.Abs(float64(got - want)); d > dotTolerance(typ, cols, wr, ar) || math.IsNaN(float64(got)) {
				t.Fatalf("%v %dx%d nb=%d vector %d row %d: MatMul %v, reference %v", typ, rows, cols, nb, j, r, got, want)
			}
		}
	}
}

func TestMatMulMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, typ := range dotTypes {
		bs := max(typ.BlockSize(), VecDotType(typ).BlockSize())
		for _, sh := range []struct{ rows, cols, nb int }{
			{1, bs, 1}, {16, bs, 8}, {17, 2 * bs, 9}, {40, 3 * bs, 2}, {33, bs, 17}, {5, 6 * bs, 3},
		} {
			w, err := Quantize(typ, randVec(r, sh.rows*sh.cols, 0.1))
			if err != nil {
				t.Fatal(err)
			}
			x := randVec(r, sh.nb*sh.cols, 1)
			checkMatMul(t, typ, sh.rows, sh.cols, sh.nb, 0, sh.rows, w, x)
			if sh.rows > 3 {
				checkMatMul(t, typ, sh.rows, sh.cols, sh.nb, 1, sh.rows-2, w, x)
			}
		}
	}
}

func TestMatVecMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, typ := range dotTypes {
		bs := max(typ.BlockSize(), VecDotType(typ).BlockSize())
		for _, cols := range []int{bs, 2 * bs, 3 * bs, 7 * bs, 24 * bs} {
			if typ.BlockSize() == 1 {
				cols += r.IntN(32) // F32, F16, BF16 take any length
			}
			rows := 1 + r.IntN(9)
			w, err := Quantize(typ, randVec(r, rows*cols, 0.1))
			if err != nil {
				t.Fatal(err)
			}
			checkMatMul(t, typ, rows, cols, 1, 0, rows, w, randVec(r, cols, 1))
			checkMatMul(t, typ, rows, cols, 1, rows/2, rows, w, randVec(r, cols, 1))
		}
	}
}

// TestPortableMatchesReference holds the portable Go kernels (used off
// amd64 and under the purego tag) to the reference bit for bit: they make
// the same float operations in the same order.
func TestPortableMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, typ := range dotTypes {
		if typ.BlockSize() == 1 && !floatRowsFollowReference {
			continue // held to the reference within tolerance (TestMatMulMatchesReference)
		}
		bs := max(typ.BlockSize(), VecDotType(typ).BlockSize())
		rows, cols, nb := 5, 3*bs, 11
		w := fuzzWeights(typ, rows, cols, []byte{byte(r.Uint32()), 7, 200, 33, byte(r.Uint32())})
		rb := mustRowBytes(t, typ, cols)
		ab := mustActBytes(t, typ, cols)
		a := make([]byte, nb*ab)
		for j := 0; j < nb; j++ {
			QuantizeActivations(typ, randVec(r, cols, 1), a[j*ab:(j+1)*ab])
		}
		out := make([]float32, nb*rows)
		matMulGo(typ, w, rb, cols, a, ab, nb, out, rows, 1, rows)
		for j := 0; j < nb; j++ {
			for i := 1; i < rows; i++ {
				want := vecDotRef(typ, cols, w[i*rb:(i+1)*rb], a[j*ab:(j+1)*ab])
				if got := out[j*rows+i]; got != want && !(got != got && want != want) {
					t.Fatalf("%v vector %d row %d: portable %v, reference %v", typ, j, i, got, want)
				}
			}
		}
	}
}

// TestMatMulLargeBatch covers batches of several vector chunks.
func TestMatMulLargeBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, typ := range []Type{Q8_0, Q4_K} {
		rows, cols, nb := 20, 256, 300
		w, _ := Quantize(typ, randVec(r, rows*cols, 0.1))
		checkMatMul(t, typ, rows, cols, nb, 3, rows, w, randVec(r, nb*cols, 1))
	}
}

// TestMatMulExactIsMatVec: MatMulExact gives exactly MatVec's values (but
// for Q4_0 and Q4_K where it is MatMul: see its doc).
func TestMatMulExactIsMatVec(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, typ := range dotTypes {
		bs := max(typ.BlockSize(), VecDotType(typ).BlockSize())
		rows, cols, nb := 9, 2*bs, 6
		w := fuzzWeights(typ, rows, cols, []byte{byte(r.Uint32()), 3, 99})
		ab := mustActBytes(t, typ, cols)
		a := make([]byte, nb*ab)
		for j := 0; j < nb; j++ {
			QuantizeActivations(typ, randVec(r, cols, 1), a[j*ab:(j+1)*ab])
		}
		got := make([]float32, nb*rows)
		MatMulExact(typ, w, cols, a, nb, got, rows, 1, rows)
		if batchedMatchesGGML && (typ == Q4_0 || typ == Q4_K) {
			want := make([]float32, nb*rows)
			MatMul(typ, w, cols, a, nb, want, rows, 1, rows)
			for i := range want {
				if i%rows != 0 && got[i] != want[i] {
					t.Fatalf("%v value %d: MatMulExact %v, MatMul %v", typ, i, got[i], want[i])
				}
			}
			continue
		}
		want := make([]float32, rows)
		for j := 0; j < nb; j++ {
			MatVec(typ, w, cols, a[j*ab:(j+1)*ab], want, 1, rows)
			for i := 1; i < rows; i++ {
				if g := got[j*rows+i]; g != want[i] && !(g != g && want[i] != want[i]) {
					t.Fatalf("%v vector %d row %d: MatMulExact %v, MatVec %v", typ, j, i, g, want[i])
				}
			}
		}
	}
}
