//go:build wasm && goexperiment.simd && !purego

package quant

import (
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"
)

// TestF32RowsAreRows: dotF32Rows, four rows at a time, gives each row dotF32Row's value bit for
// bit, whatever rows are beside it (a row's value must not depend on how rows are split).
func TestF32RowsAreRows(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, n := range []int{1, 7, 8, 9, 64, 71} {
		for rows := 1; rows <= 9; rows++ {
			w, _ := Quantize(F32, randVec(r, rows*n, 1))
			a, _ := Quantize(F32, randVec(r, n, 1))
			out := make([]float32, rows)
			simdRows(F32, w, 4*n, a, n, out)
			for i := range out {
				if want := dotF32Row(w[4*n*i:4*n*(i+1)], a, n); math.Float32bits(out[i]) != math.Float32bits(want) {
					t.Fatalf("n=%d rows=%d row %d: %v, one row alone %v", n, rows, i, out[i], want)
				}
			}
		}
	}
}

// TestF16x4IsF16ToF32: the vector conversion gives F16ToF32's bits for all 65,536 values
// (subnormals, infinities and NaN payloads included).
func TestF16x4IsF16ToF32(t *testing.T) {
	for h := uint32(0); h < 1<<16; h += 4 {
		got := f16x4(archsimd.LoadUint32x4Array(&[4]uint32{h, h + 1, h + 2, h + 3})).ToBits()
		for i := range 4 {
			if want := math.Float32bits(F16ToF32(uint16(h) + uint16(i))); got.GetElem(uint8(i)) != want {
				t.Fatalf("f16 %#04x: %#08x, F16ToF32 %#08x", h+uint32(i), got.GetElem(uint8(i)), want)
			}
		}
	}
}

// TestMatMulIsRows: the batched F32, Q8_0 and Q5_0 kernels give every (vector, row) the row kernel's
// value bit for bit (a prompt's batch gives the values of its tokens one at a time).
func TestMatMulIsRows(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	for _, typ := range []Type{F32, Q8_0, Q5_0} {
		for _, n := range []int{32, 64, 96, 160} {
			if typ == F32 {
				n += r.IntN(8)
			}
			rb, ab := mustRowBytes(t, typ, n), mustActBytes(t, typ, n)
			for _, sh := range []struct{ rows, nb, r0, r1 int }{{1, 1, 0, 1}, {5, 3, 0, 5}, {6, 4, 1, 6}, {9, 5, 2, 7}} {
				w := fuzzWeights(typ, sh.rows, n, []byte{byte(r.Uint32()), 9, 250})
				a := make([]byte, sh.nb*ab)
				for v := 0; v < sh.nb; v++ {
					QuantizeActivations(typ, randVec(r, n, 1), a[v*ab:(v+1)*ab])
				}
				out := make([]float32, sh.nb*sh.rows)
				if !simdMatMul(typ, w, rb, a, ab, sh.nb, out, sh.rows, sh.r0, sh.r1) {
					t.Fatalf("%v: no batched kernel", typ)
				}
				for v := 0; v < sh.nb; v++ {
					for i := sh.r0; i < sh.r1; i++ {
						var want float32
						switch wr, ar := w[rb*i:rb*(i+1)], a[ab*v:ab*(v+1)]; typ {
						case F32:
							want = dotF32Row(wr, ar, n)
						case Q8_0:
							want = dotQ8_0Row(wr, ar, n/32)
						default:
							want = dotQ5_0Row(wr, ar, n/32)
						}
						if got := out[v*sh.rows+i]; math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
							t.Fatalf("%v n=%d %+v vector %d row %d: %v, alone %v", typ, n, sh, v, i, got, want)
						}
					}
				}
			}
		}
	}
}
