package quant

import (
	"math"
	"os"
	"testing"
)

// TestGGMLGolden holds this package to llama.cpp's own functions (see
// testdata/ggmlgold/README.md): Quantize and QuantizeActivations must give
// the same bytes, and VecDot the same values up to float summation order;
// where the amd64 row kernels run (rowKernelsMatchGGML), which add in
// llama.cpp's order, the very same float32 values.
//
// Dot tolerance: the integer part of every block is exact on both sides;
// they differ only in the order in which the float32 per-block terms
// d_w*d_a*isum are added (ggml uses 8 SIMD lanes and FMA), so the bound is
// a few float32 epsilons times the sum of the terms' magnitudes, which we
// bound by 1e-5 * (number of blocks) * max|term| plus 1e-6 * |value|.
func TestGGMLGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/ggmlgold/golden.bin")
	if err != nil {
		t.Fatal(err)
	}
	const n, rows, cols, nact = 8192, 8, 1024, 4
	take := func(k int) []byte {
		t.Helper()
		if len(data) < k {
			t.Fatalf("golden.bin is truncated")
		}
		b := data[:k]
		data = data[k:]
		return b
	}
	floats := func(k int) []float32 {
		b := take(4 * k)
		f := make([]float32, k)
		for i := range f {
			f[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
		return f
	}
	x := floats(n)
	for _, typ := range []Type{Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, Q8_K, F16, BF16} {
		want := take(mustRowBytes(t, typ, n))
		got, err := Quantize(typ, x)
		if err != nil {
			t.Fatal(err)
		}
		compareBytes(t, "Quantize "+typ.String(), typ, got, want)
	}
	for _, typ := range []Type{Q8_0, Q4_K} {
		vt := VecDotType(typ)
		want := take(mustRowBytes(t, vt, n))
		got := make([]byte, len(want))
		QuantizeActivations(typ, x, got)
		compareBytes(t, "QuantizeActivations "+vt.String(), vt, got, want)
	}
	acts := floats(nact * cols)
	for _, typ := range []Type{Q8_0, Q4_0, Q4_K, Q5_K, Q6_K} {
		checkGoldenDots(t, typ, x, acts, floats(rows*nact))
	}
	// Q5_0, appended: its quantization of x, then its dot products.
	want := take(mustRowBytes(t, Q5_0, n))
	got, err := Quantize(Q5_0, x)
	if err != nil {
		t.Fatal(err)
	}
	compareBytes(t, "Quantize Q5_0", Q5_0, got, want)
	checkGoldenDots(t, Q5_0, x, acts, floats(rows*nact))
	if len(data) != 0 {
		t.Errorf("%d bytes left over in golden.bin", len(data))
	}
}

func mustRowBytes(t testing.TB, typ Type, n int) int {
	t.Helper()
	b, err := typ.RowBytes(n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compareBytes(t *testing.T, what string, typ Type, got, want []byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d bytes, want %d", what, len(got), len(want))
		return
	}
	bb := typ.BlockBytes()
	bad := 0
	for i := range got {
		blk := want[i/bb*bb:]
		if typ == Q8_K && i%bb >= 260 && le.Uint32(blk) == 0 {
			continue // ggml leaves the bsums of an all-zero block unwritten; they are multiplied by d = 0
		}
		if got[i] != want[i] {
			if bad < 5 {
				t.Errorf("%s: byte %d (block %d, offset %d) = %#02x, llama.cpp %#02x", what, i, i/bb, i%bb, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d bytes differ", what, bad, len(got))
	}
}

// dotTolerance bounds the float rounding difference between two correct
// evaluations of a quantized dot product that differ only in the order of
// the float32 additions (and FMA contractions) of the per-block terms
// scale*isum: each addition errs by at most one float32 epsilon (6e-8) of
// the running sum, which never exceeds Σ|w_i*a_i|; 1e-5 of that sum allows
// about 160 such errors, more than the blocks of any row we test. The same
// bound holds for F32, F16 and BF16 rows summed in eight or 32 lanes.
func dotTolerance(t Type, n int, w, a []byte) float64 {
	wf := make([]float32, n)
	af := make([]float32, n)
	if Dequantize(t, w, wf) != nil || Dequantize(VecDotType(t), a, af) != nil {
		panic("dotTolerance: bad sizes")
	}
	var mag float64
	for i := range wf {
		mag += math.Abs(float64(wf[i]) * float64(af[i]))
	}
	return 1e-5*mag + 1e-30
}

// checkGoldenDots compares VecDot and the reference with llama.cpp's dot
// products of the 8×1024 matrix x[:8192] quantized to typ and the four
// activation vectors.
func checkGoldenDots(t *testing.T, typ Type, x, acts, want []float32) {
	t.Helper()
	const rows, cols, nact = 8, 1024, 4
	w, _ := Quantize(typ, x[:rows*cols])
	rb := mustRowBytes(t, typ, cols)
	ab := mustActBytes(t, typ, cols)
	a := make([]byte, nact*ab)
	for j := 0; j < nact; j++ {
		QuantizeActivations(typ, acts[j*cols:(j+1)*cols], a[j*ab:(j+1)*ab])
	}
	for r := 0; r < rows; r++ {
		for j := 0; j < nact; j++ {
			for _, impl := range []struct {
				name string
				dot  func(Type, int, []byte, []byte) float32
			}{{"VecDot", VecDot}, {"reference", vecDotRef}, {"MatVecUnpacked", matVecUnpacked1}} {
				got := impl.dot(typ, cols, w[r*rb:(r+1)*rb], a[j*ab:(j+1)*ab])
				wv := want[r*nact+j]
				// (Q4_0 and Q4_K rows follow llama.cpp's repacked kernels instead,
				// which it uses for those types: TestMulMatGolden.)
				if rowKernelsMatchGGML && (impl.name == "VecDot" && typ != Q4_0 && typ != Q4_K || impl.name == "MatVecUnpacked") && got != wv {
					t.Errorf("%v VecDot row %d act %d: got %v, llama.cpp %v: the row kernels should be bit-identical", typ, r, j, got, wv)
				}
				tol := dotTolerance(typ, cols, w[r*rb:(r+1)*rb], a[j*ab:(j+1)*ab]) + 1e-6*math.Abs(float64(wv))
				if d := math.Abs(float64(got - wv)); d > tol {
					t.Errorf("%v %s row %d act %d: got %v, llama.cpp %v (|diff| %.3g > %.3g)", typ, impl.name, r, j, got, wv, d, tol)
				}
			}
		}
	}
}

// matVecUnpacked1 is MatVecUnpacked of one row.
func matVecUnpacked1(t Type, n int, w, a []byte) float32 {
	var out [1]float32
	MatVecUnpacked(t, w, n, a, out[:], 0, 1)
	return out[0]
}
