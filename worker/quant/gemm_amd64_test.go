//go:build amd64 && !purego

package quant

import (
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
