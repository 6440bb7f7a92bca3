package quant

import "math"

// Portable fast forms of the dot products, for architectures without
// assembly kernels (and the purego tag): the same arithmetic as the
// reference in dot_ref.go, term for term and in the same order, so their
// results are bit-identical to it; they are faster because each weight
// block is decoded once into integers (for up to goBatch activation vectors
// at a time in matMulGo) and the inner loops run over fixed-size arrays
// without bounds checks.

const goBatch = 8

// decoded is one weight block in integer form: values v[i] (|v| < 128),
// per-group integer scales (1 for Q8_0, Q4_0, Q5_0) and, for Q4_K/Q5_K, the
// group mins; group = 32 values (16 for Q6_K).
type decoded struct {
	v      [QK]int8
	sc, mn [16]int32
	d, dm  float32 // the block's float scales (d, dmin)
}

// decodeBlock decodes block b of row w into dec and returns the number of
// values it holds.
func decodeBlock(t Type, w []byte, b int, dec *decoded) int {
	switch t {
	case Q8_0:
		blk := (*[34]byte)(w[34*b:])
		for i := 0; i < 32; i++ {
			dec.v[i] = int8(blk[2+i])
		}
		dec.d = f16At(blk[:], 0)
		return 32
	case Q4_0:
		blk := (*[18]byte)(w[18*b:])
		for i := 0; i < 16; i++ {
			q := blk[2+i]
			dec.v[i] = int8(q&15) - 8
			dec.v[i+16] = int8(q>>4) - 8
		}
		dec.d = f16At(blk[:], 0)
		return 32
	case Q5_0:
		blk := (*[22]byte)(w[22*b:])
		qh := le.Uint32(blk[2:])
		for i := 0; i < 16; i++ {
			q := blk[6+i]
			dec.v[i] = int8(q&15|byte(qh>>i&1)<<4) - 16
			dec.v[i+16] = int8(q>>4|byte(qh>>(i+16)&1)<<4) - 16
		}
		dec.d = f16At(blk[:], 0)
		return 32
	case Q4_K, Q5_K:
		var qs *[128]byte
		var qh *[32]byte
		var blk []byte
		if t == Q4_K {
			blk = w[144*b : 144*b+144]
			qs = (*[128]byte)(blk[16:])
		} else {
			blk = w[176*b : 176*b+176]
			qh = (*[32]byte)(blk[16:])
			qs = (*[128]byte)(blk[48:])
		}
		for j := 0; j < 8; j++ {
			sc, m := scaleMinK4(j, blk[4:16])
			dec.sc[j], dec.mn[j] = int32(sc), int32(m)
			q := (*[32]byte)(qs[32*(j/2):])
			shift := 4 * uint(j&1)
			v := (*[32]int8)(dec.v[32*j:])
			for l := 0; l < 32; l++ {
				v[l] = int8((q[l] >> shift) & 15)
			}
			if qh != nil {
				for l := 0; l < 32; l++ {
					v[l] |= int8((qh[l]>>uint(j))&1) << 4
				}
			}
		}
		dec.d, dec.dm = f16At(blk, 0), f16At(blk, 2)
		return QK
	case Q6_K:
		blk := (*[210]byte)(w[210*b:])
		for h := 0; h < 2; h++ {
			ql := (*[64]byte)(blk[64*h:])
			qh := (*[32]byte)(blk[128+32*h:])
			v := (*[128]int8)(dec.v[128*h:])
			for l := 0; l < 32; l++ {
				hb := qh[l]
				v[l] = int8(ql[l]&15|(hb&3)<<4) - 32
				v[l+32] = int8(ql[l+32]&15|(hb>>2&3)<<4) - 32
				v[l+64] = int8(ql[l]>>4|(hb>>4&3)<<4) - 32
				v[l+96] = int8(ql[l+32]>>4|(hb>>6&3)<<4) - 32
			}
		}
		for s := 0; s < 16; s++ {
			dec.sc[s] = int32(int8(blk[192+s]))
		}
		dec.d = f16At(blk[:], 208)
		return QK
	}
	panic("quant: no integer decoding for " + t.String())
}

// blockTerm is the float term of decoded block b against the activation
// vector a, computed exactly as the reference does.
func blockTerm(t Type, dec *decoded, a []byte, b int) float32 {
	switch t {
	case Q8_0, Q4_0, Q5_0:
		ab := (*[34]byte)(a[34*b:])
		isum := dot32((*[32]int8)(dec.v[:]), (*[32]byte)(ab[2:]))
		return float32(isum) * (dec.d * f16At(ab[:], 0))
	case Q4_K, Q5_K:
		ab := (*[292]byte)(a[292*b:])
		var isum, imin int32
		for j := 0; j < 8; j++ {
			isum += dec.sc[j] * dot32((*[32]int8)(dec.v[32*j:]), (*[32]byte)(ab[4+32*j:]))
			imin += dec.mn[j] * q8KBsum32(ab[:], j)
		}
		da := math.Float32frombits(le.Uint32(ab[:]))
		return da*dec.d*float32(isum) - da*dec.dm*float32(imin)
	case Q6_K:
		ab := (*[292]byte)(a[292*b:])
		var isum int32
		for s := 0; s < 16; s++ {
			isum += dec.sc[s] * dot16((*[16]int8)(dec.v[16*s:]), (*[16]byte)(ab[4+16*s:]))
		}
		da := math.Float32frombits(le.Uint32(ab[:]))
		return da * dec.d * float32(isum)
	}
	panic("unreachable")
}

func isIntType(t Type) bool {
	switch t {
	case Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K:
		return true
	}
	return false
}

// matVecGo computes rows [r0, r1) against one vector.
func matVecGo(t Type, w []byte, rb, cols int, a []byte, out []float32, r0, r1 int) {
	switch {
	case t == Q8_0: // its blocks are already integers: no decoding
		nblk := cols / 32
		r := r0
		for ; r+2 <= r1; r += 2 {
			out[r], out[r+1] = dotQ8_0Rows2(w[r*rb:r*rb+rb], w[(r+1)*rb:(r+1)*rb+rb], a, nblk)
		}
		if r < r1 {
			out[r] = dotQ8_0Row(w[r*rb:r*rb+rb], a, nblk)
		}
		return
	case simdRows(t, w[r0*rb:], rb, a, cols/t.BlockSize(), out[r0:r1]):
		return
	case !isIntType(t):
		for r := r0; r < r1; r++ {
			out[r] = vecDotRef(t, cols, w[r*rb:r*rb+rb], a)
		}
		return
	}
	var dec decoded
	nblk := cols / t.BlockSize()
	for r := r0; r < r1; r++ {
		row := w[r*rb : r*rb+rb]
		var sum float32
		for b := 0; b < nblk; b++ {
			decodeBlock(t, row, b, &dec)
			sum += blockTerm(t, &dec, a, b)
		}
		out[r] = sum
	}
}

// matMulGo computes rows [r0, r1) against nb vectors, decoding each weight
// block once for up to goBatch vectors.
func matMulGo(t Type, w []byte, rb, cols int, a []byte, ab, nb int, out []float32, rows, r0, r1 int) {
	if simdMatMul(t, w, rb, a, ab, nb, out, rows, r0, r1) {
		return
	}
	if t == Q8_0 || hasSIMDRows(t) || !isIntType(t) { // nothing to decode once for several vectors
		rowVectors(matVecGo, t, w, rb, cols, a, ab, nb, out, rows, r0, r1)
		return
	}
	var dec decoded
	var sums [goBatch]float32
	nblk := cols / t.BlockSize()
	for b0 := 0; b0 < nb; b0 += goBatch {
		nv := min(goBatch, nb-b0)
		for r := r0; r < r1; r++ {
			row := w[r*rb : r*rb+rb]
			clear(sums[:])
			for k := 0; k < nblk; k++ {
				decodeBlock(t, row, k, &dec)
				for v := 0; v < nv; v++ {
					sums[v] += blockTerm(t, &dec, a[(b0+v)*ab:(b0+v+1)*ab], k)
				}
			}
			for v := 0; v < nv; v++ {
				out[(b0+v)*rows+r] = sums[v]
			}
		}
	}
}
