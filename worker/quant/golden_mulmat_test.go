package quant

import (
	"math"
	"os"
	"strings"
	"testing"
)

// mulmatGolden is testdata/ggmlgold/mulmat.bin: llama.cpp's own ggml_mul_mat
// (prebuilt CPU backend, weights placed as llama.cpp places them, see
// mulmat.c) of a 32×512 matrix in each type with 1 and with 7 vectors.
type mulmatGolden struct {
	w, x     []float32
	dequant  map[Type][]float32    // ggml's to_float of the first 4 rows
	out      map[Type][2][]float32 // n = 1, n = 7
	unpacked map[Type][2][]float32 // Q4_0 and Q4_K kept as they are
	tails    []tailCase
}

// tailCase is a product whose rows are not a multiple of 64 values long.
type tailCase struct {
	cols int
	w, x []float32
	out  map[Type][2][]float32
}

const mmRows, mmCols = 32, 512

func readMulmatGolden(t *testing.T) mulmatGolden {
	t.Helper()
	data, err := os.ReadFile("testdata/ggmlgold/mulmat.bin")
	if err != nil {
		t.Fatal(err)
	}
	floats := func(k int) []float32 {
		if len(data) < 4*k {
			t.Fatal("mulmat.bin is truncated")
		}
		f := make([]float32, k)
		for i := range f {
			f[i] = math.Float32frombits(le.Uint32(data[4*i:]))
		}
		data = data[4*k:]
		return f
	}
	g := mulmatGolden{w: floats(mmRows * mmCols), x: floats(7 * mmCols), out: map[Type][2][]float32{}, unpacked: map[Type][2][]float32{}}
	for _, typ := range []Type{Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K, F16, F32} {
		g.out[typ] = [2][]float32{floats(mmRows), floats(7 * mmRows)}
	}
	g.dequant = map[Type][]float32{}
	for _, typ := range []Type{Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K, F16, BF16} {
		g.dequant[typ] = floats(4 * mmCols)
	}
	for _, typ := range []Type{Q4_0, Q4_K} {
		g.unpacked[typ] = [2][]float32{floats(mmRows), floats(7 * mmRows)}
	}
	g.out[BF16] = [2][]float32{floats(mmRows), floats(7 * mmRows)}
	for _, k := range []int{544, 552} {
		tc := tailCase{cols: k, w: floats(mmRows * k), x: floats(7 * k), out: map[Type][2][]float32{}}
		types := []Type{Q8_0, Q4_0, Q5_0, F16, F32, BF16}
		if k%32 != 0 {
			types = types[3:]
		}
		for _, typ := range types {
			tc.out[typ] = [2][]float32{floats(mmRows), floats(7 * mmRows)}
		}
		g.tails = append(g.tails, tc)
	}
	if len(data) != 0 {
		t.Fatalf("%d bytes left over in mulmat.bin", len(data))
	}
	return g
}

// mustMatchGGML tells which products give llama.cpp's very values on this
// machine's kernels (see the package doc): the row kernels follow
// ggml_vec_dot_* (and, for Q4_0 and Q4_K, llama.cpp's repacked gemv); the
// VNNI batched kernels follow its repacked gemm for Q4_0 and Q4_K.
func mustMatchGGML(t Type, path string) bool {
	if !rowKernelsMatchGGML {
		return false
	}
	switch path {
	case "MatVec", "MatVecUnpacked", "MatMulUnpacked":
		return true
	case "MatMulExact":
		return t != Q4_K || batchedMatchesGGML
	case "MatMul":
		return batchedMatchesGGML && (t == Q4_0 || t == Q4_K) || t == BF16 || t == F16 || t == F32
	}
	return false
}

// TestMulMatGolden compares MatVec, MatMul and MatMulExact with llama.cpp's
// ggml_mul_mat on the same weights and activations: bit for bit where this
// package claims it, within rounding everywhere.
// TestMulMatGoldenTails: rows of 544 and 552 values (the row kernels'
// remainders; at 552 llama.cpp's batched float kernels fall back to its
// row products) give llama.cpp's values too.
func TestMulMatGoldenTails(t *testing.T) {
	if !rowKernelsMatchGGML {
		t.Skip("no AVX2: the portable code adds in another order than llama.cpp")
	}
	g := readMulmatGolden(t)
	for _, tc := range g.tails {
		for typ, want := range tc.out {
			w, err := Quantize(typ, tc.w)
			if err != nil {
				t.Fatal(err)
			}
			ab := mustActBytes(t, typ, tc.cols)
			a := make([]byte, 7*ab)
			for j := 0; j < 7; j++ {
				QuantizeActivations(typ, tc.x[j*tc.cols:(j+1)*tc.cols], a[j*ab:(j+1)*ab])
			}
			got1 := make([]float32, mmRows)
			MatVec(typ, w, tc.cols, a, got1, 0, mmRows)
			got7 := make([]float32, 7*mmRows)
			MatMulExact(typ, w, tc.cols, a, 7, got7, mmRows, 0, mmRows)
			for i := range got1 {
				if got1[i] != want[0][i] {
					t.Errorf("%v, %d values: MatVec row %d = %v, llama.cpp %v", typ, tc.cols, i, got1[i], want[0][i])
					break
				}
			}
			for i := range got7 {
				if got7[i] != want[1][i] {
					t.Errorf("%v, %d values: MatMulExact value %d = %v, llama.cpp %v", typ, tc.cols, i, got7[i], want[1][i])
					break
				}
			}
		}
	}
}

// TestDequantizeGolden: Dequantize gives exactly ggml's to_float values
// (which its get_rows, the embedding lookup, uses).
func TestDequantizeGolden(t *testing.T) {
	g := readMulmatGolden(t)
	for typ, want := range g.dequant {
		w, err := Quantize(typ, g.w[:4*mmCols])
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, len(want))
		if err := Dequantize(typ, w, got); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%v value %d: %v, ggml %v", typ, i, got[i], want[i])
				break
			}
		}
	}
}

func TestMulMatGolden(t *testing.T) {
	g := readMulmatGolden(t)
	for _, typ := range []Type{Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K, F16, F32, BF16} {
		w, err := Quantize(typ, g.w)
		if err != nil {
			t.Fatal(err)
		}
		ab := mustActBytes(t, typ, mmCols)
		a := make([]byte, 7*ab)
		for j := 0; j < 7; j++ {
			QuantizeActivations(typ, g.x[j*mmCols:(j+1)*mmCols], a[j*ab:(j+1)*ab])
		}
		for _, c := range []struct {
			name string
			n    int
			run  func(out []float32)
		}{
			{"MatVec", 1, func(out []float32) { MatVec(typ, w, mmCols, a, out, 0, mmRows) }},
			{"MatMul", 7, func(out []float32) { MatMul(typ, w, mmCols, a, 7, out, mmRows, 0, mmRows) }},
			{"MatMulExact", 7, func(out []float32) { MatMulExact(typ, w, mmCols, a, 7, out, mmRows, 0, mmRows) }},
			{"MatVecUnpacked", 1, func(out []float32) { MatVecUnpacked(typ, w, mmCols, a, out, 0, mmRows) }},
			{"MatMulUnpacked", 7, func(out []float32) { MatMulUnpacked(typ, w, mmCols, a, 7, out, mmRows, 0, mmRows) }},
		} {
			golden := g.out[typ]
			if u, ok := g.unpacked[typ]; ok && strings.HasSuffix(c.name, "Unpacked") {
				golden = u
			}
			want := golden[0]
			if c.n == 7 {
				want = golden[1]
			}
			got := make([]float32, len(want))
			c.run(got)
			same, worst := 0, 0.0
			for i := range got {
				if got[i] == want[i] {
					same++
				}
				worst = math.Max(worst, math.Abs(float64(got[i]-want[i]))/math.Max(1e-3, math.Abs(float64(want[i]))))
			}
			t.Logf("%v %-14s: %3d/%3d bit-identical to llama.cpp, worst relative diff %.2g", typ, c.name, same, len(got), worst)
			if mustMatchGGML(typ, c.name) && same != len(got) {
				t.Errorf("%v %s: %d of %d values differ from llama.cpp's; this path should give the very same float32 values", typ, c.name, len(got)-same, len(got))
			}
			// Every path stays within rounding of llama.cpp: 1e-4 relative
			// (F16/F32 and the fast batched products add in other orders).
			if worst > 1e-3 {
				t.Errorf("%v %s: relative difference %.2g from llama.cpp", typ, c.name, worst)
			}
		}
	}
}
