//go:build amd64 && !purego

package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRepackMatchesGo holds the gather-based repackers to the Go repacking
// byte for byte, for full and partial groups of rows.
func TestRepackMatchesGo(t *testing.T) {
	if !hasVNNI512 {
		t.Skip("no AVX-512 VNNI on this machine: the repackers are not used")
	}
	r := rand.New(rand.NewPCG(13, 14))
	for typ := range repackFast {
		lay, _ := layoutFor(typ)
		cols := 2 * max(typ.BlockSize(), 32)
		rb := mustRowBytes(t, typ, cols)
		ng := cols / lay.g
		for _, n := range []int{16, 7, 1} {
			w := make([]byte, n*rb)
			for i := range w {
				w[i] = byte(r.Uint32())
			}
			for b := 0; b < len(w)/typ.BlockBytes(); b++ { // finite fp16 scales
				for _, off := range map[Type][]int{Q8_0: {0}, Q4_0: {0}, Q5_0: {0}, Q4_K: {0, 2}, Q5_K: {0, 2}, Q6_K: {208}}[typ] {
					w[b*typ.BlockBytes()+off+1] &= 0xbf
				}
			}
			got, want := make([]byte, ng*lay.stride), make([]byte, ng*lay.stride)
			for i := range got {
				got[i] = 0xee
			}
			repackRows(typ, lay, w, rb, n, ng, got)
			repackRowsGo(typ, lay, w, rb, n, ng, want)
			for i := range got {
				if g, o := i/lay.stride, i%lay.stride; o%64/4 < n && got[i] != want[i] { // absent rows' lanes are don't-cares
					t.Errorf("%v, %d rows: byte %d (group %d, offset %d: vector %d lane %d) = %#02x, want %#02x",
						typ, n, i, g, o, o/64, o%64/4, got[i], want[i])
					break
				}
			}
		}
	}
}

// TestMatMulAVX2 runs the AVX2 batched kernel (used where AVX-512 VNNI is
// missing) against the reference, on this machine whatever it has.
func TestMatMulAVX2(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2")
	}
	defer func(v bool) { hasVNNI512 = v }(hasVNNI512)
	hasVNNI512 = false
	r := rand.New(rand.NewPCG(19, 20))
	for _, typ := range []Type{Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K} {
		bs := max(typ.BlockSize(), 32)
		for _, sh := range []struct{ rows, cols, nb int }{{16, bs, 8}, {21, 2 * bs, 13}, {7, bs, 4}, {40, 3 * bs, 30}} {
			w := fuzzWeights(typ, sh.rows, sh.cols, []byte{byte(r.Uint32()), 1, 2, 250, byte(r.Uint32())})
			checkMatMul(t, typ, sh.rows, sh.cols, sh.nb, 0, sh.rows, w, randVec(r, sh.nb*sh.cols, 1))
			checkMatMul(t, typ, sh.rows, sh.cols, sh.nb, 2, sh.rows-1, w, randVec(r, sh.nb*sh.cols, 1))
			// the kernel itself, also for the types MatMul does not route to it
			// (but Q4_K, whose repacked layout is gemmQ4K's)
			if typ == Q4_K {
				continue
			}
			rb, ab := mustRowBytes(t, typ, sh.cols), mustActBytes(t, typ, sh.cols)
			x := randVec(r, sh.nb*sh.cols, 1)
			a := make([]byte, sh.nb*ab)
			for j := 0; j < sh.nb; j++ {
				QuantizeActivations(typ, x[j*sh.cols:(j+1)*sh.cols], a[j*ab:(j+1)*ab])
			}
			out := make([]float32, sh.nb*sh.rows)
			matMulAVX2(typ, w, rb, sh.cols, a, ab, sh.nb, out, sh.rows, 1, sh.rows)
			for j := 0; j < sh.nb; j++ {
				for i := 1; i < sh.rows; i++ {
					wr, ar := w[i*rb:(i+1)*rb], a[j*ab:(j+1)*ab]
					want := vecDotRef(typ, sh.cols, wr, ar)
					if d := math.Abs(float64(out[j*sh.rows+i] - want)); d > dotTolerance(typ, sh.cols, wr, ar) {
						t.Fatalf("%v: matMulAVX2 vector %d row %d = %v, reference %v", typ, j, i, out[j*sh.rows+i], want)
					}
				}
			}
		}
	}
}
