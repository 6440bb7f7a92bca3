//go:build amd64 && !purego

package quant

import (
	"math"
	"unsafe"
)

// A batched Q8_0 product in llama.cpp's float order, for MatMulExact: as
// exact as the row kernels and reading each weight block once for 8
// vectors (see exact_amd64.s).

//go:noescape
func exactQ8_0(w *byte, rb int, dw *float32, a *byte, nblk int, out *float32)

//go:noescape
func hsum8x(lanes *float32, n int, out *float32)

const exactTile = 8 // vectors per kernel call (4 pairs)

// matMulExactQ8_0 multiplies Q8_0 weights, or Q5_0 ones (t) turned into
// Q8_0 blocks (the same d, the values q-16) four rows at a time: the
// integer lane sums are the same as ggml_vec_dot_q5_0_q8_0's, and so are
// the results.
func matMulExactQ8_0(t Type, w []byte, rb, cols int, a []byte, ab, nb int, out []float32, rows, r0, r1 int) {
	nblk := cols / 32
	srb := rb // row stride the kernel reads
	if t == Q5_0 {
		srb = nblk * 34
	}
	tiles := (nb + exactTile - 1) / exactTile
	tileBytes := nblk * 768
	s := gemmPool.Get().(*gemmScratch)
	buf := s.grab(tiles*tileBytes + nblk*16 + 4*srb + 16*16*4 + 32*4)
	acts := buf[:tiles*tileBytes]
	dwb := buf[tiles*tileBytes:][:nblk*16]
	stage := buf[tiles*tileBytes+nblk*16:][:4*srb]
	lanes := unsafe.Slice((*float32)(unsafe.Pointer(&buf[tiles*tileBytes+nblk*16+4*srb])), 16*16)
	res := unsafe.Slice((*float32)(unsafe.Pointer(&buf[tiles*tileBytes+nblk*16+4*srb+16*16*4])), 32)
	dw := unsafe.Slice((*float32)(unsafe.Pointer(&dwb[0])), nblk*4)
	prepExactQ8_0(a, ab, nb, nblk, acts)
	for r := r0; r < r1; r += 4 {
		n := min(4, r1-r)
		rowsb := w[r*rb:]
		switch {
		case t == Q5_0:
			clear(stage)
			for k := 0; k < n; k++ {
				q5ToQ8(w[(r+k)*rb:(r+k+1)*rb], stage[k*srb:(k+1)*srb])
			}
			rowsb = stage
		case n < 4:
			clear(stage)
			copy(stage, w[r*rb:(r+n)*rb])
			rowsb = stage
		}
		for k := 0; k < 4; k++ {
			for b := 0; b < nblk; b++ {
				var d float32
				if k < n {
					d = f16At(rowsb, k*srb+34*b)
				}
				dw[b*4+k] = d
			}
		}
		for tile := 0; tile < tiles; tile++ {
			exactQ8_0(&rowsb[0], srb, &dw[0], &acts[tile*tileBytes], nblk, &lanes[0])
			hsum8x(&lanes[0], 32, &res[0])
			for p := 0; p < 4; p++ {
				for v := 0; v < 2; v++ {
					b := tile*exactTile + 2*p + v
					if b >= nb {
						continue
					}
					for k := 0; k < n; k++ {
						out[b*rows+r+k] = res[(p*4+k)*2+v]
					}
				}
			}
		}
	}
	gemmPool.Put(s)
}

// prepExactQ8_0 lays out the vectors for exactQ8_0: per tile of 8 vectors,
// per block, per pair of vectors: their 2×32 int8, 16 int32 lanes of
// -128*Σ4 (the correction for the weights' +128 bias), 16 float32 d_a.
func prepExactQ8_0(a []byte, ab, nb, nblk int, acts []byte) {
	clear(acts)
	for b := 0; b < nb; b++ {
		tile, p, v := b/exactTile, (b%exactTile)/2, b%2
		src := a[b*ab : b*ab+ab]
		for k := 0; k < nblk; k++ {
			blk := src[34*k : 34*k+34]
			dst := acts[(tile*nblk+k)*768+p*192:][:192]
			copy(dst[32*v:32*v+32], blk[2:34])
			for l := 0; l < 8; l++ {
				s := int32(int8(blk[2+4*l])) + int32(int8(blk[3+4*l])) + int32(int8(blk[4+4*l])) + int32(int8(blk[5+4*l]))
				le.PutUint32(dst[64+4*(8*v+l):], uint32(-128*s))
			}
			d := math.Float32bits(f16At(blk, 0))
			for l := 0; l < 8; l++ {
				le.PutUint32(dst[128+4*(8*v+l):], d)
			}
		}
	}
}

// q5ToQ8 rewrites a row of Q5_0 blocks as Q8_0 blocks of the same values.
func q5ToQ8(src, dst []byte) {
	for b := 0; b < len(src)/22; b++ {
		blk := src[22*b : 22*b+22]
		o := dst[34*b : 34*b+34]
		o[0], o[1] = blk[0], blk[1]
		qh := le.Uint32(blk[2:])
		for i := 0; i < 16; i++ {
			q := blk[6+i]
			o[2+i] = byte(int8(q&15|byte(qh>>i&1)<<4) - 16)
			o[18+i] = byte(int8(q>>4|byte(qh>>(i+16)&1)<<4) - 16)
		}
	}
}
