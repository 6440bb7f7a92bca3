//go:build amd64 && !purego

package quant

import (
	"math"
	"sync"
	"unsafe"
)

// The AVX-512 VNNI batched product. Weights are repacked, 16 rows at a
// time, into groups of G values (G = 32, or 16 for Q6_K whose scales cover
// 16 values) holding each value v (a signed integer with |v| < 128 in every
// supported type) as the byte v+128, four consecutive values per dword
// lane, the 16 rows side by side (see gemm_amd64.s). The kernel then does
// 64 multiply-adds per instruction, each weight vector serving 8
// activation vectors. Every row's float scale per group (d for Q8_0 and
// Q4_0, d*sc for the K-quants) and, for Q4_K and Q5_K, its min (-dmin*m)
// follow the group's bytes.

//go:noescape
func gemmG32(w, a, meta *byte, ngroups int, out *float32)

//go:noescape
func gemmG32Min(w, a, meta *byte, ngroups int, out *float32)

//go:noescape
func repackQ8_0(w *byte, rowoff *int32, mask uint16, ng int, ws *byte)

//go:noescape
func repackQ4_0(w *byte, rowoff *int32, mask uint16, ng int, ws *byte)

//go:noescape
func repackQ5_0(w *byte, rowoff *int32, mask uint16, ng int, ws *byte)

//go:noescape
func repackQ4K(w *byte, rowoff *int32, mask uint16, nsb int, ws *byte)

//go:noescape
func repackQ5K(w *byte, rowoff *int32, mask uint16, nsb int, ws *byte)

//go:noescape
func repackQ6K(w *byte, rowoff *int32, mask uint16, nsb int, ws *byte)

//go:noescape
func prepQ8_0(src *byte, ngroups int, aq *byte, aqStride int, meta *byte, metaStride int)

//go:noescape
func prepQ8K(src *byte, nblocks, gsize, intsum int, aq *byte, aqStride int, meta *byte, metaStride int)

// prefetchRange asks the cache for the n > 0 bytes at p, without waiting.
//
//go:noescape
func prefetchRange(p *byte, n int)

//go:noescape
func gemmQ4K(w, a, meta *byte, npairs int, out, accmin *float32)

//go:noescape
func gemmG16(w, a, meta *byte, ngroups int, out *float32)

const (
	gemmRows = 16 // weight rows per kernel call
	gemmActs = 8  // activation vectors per kernel call
)

// gemmLayout describes the repacked form of a weight type.
type gemmLayout struct {
	g      int  // values per group
	mins   bool // groups carry a row min (Q4_K, Q5_K)
	stride int  // bytes per group of 16 rows
}

func layoutFor(t Type) (gemmLayout, bool) {
	switch t {
	case Q8_0, Q4_0, Q5_0:
		return gemmLayout{32, false, 576}, true
	case Q4_K:
		return gemmLayout{32, true, 768}, true // int32 scales and mins, d, dmin: see gemmQ4K
	case Q5_K:
		return gemmLayout{32, true, 640}, true
	case Q6_K:
		return gemmLayout{16, false, 320}, true
	}
	return gemmLayout{}, false
}

// spread4[b] has 0x10 in byte i for each bit i set in b.
var spread4 = func() (t [16]uint32) {
	for b := range t {
		for i := 0; i < 4; i++ {
			if b>>i&1 == 1 {
				t[b] |= 0x10 << (8 * i)
			}
		}
	}
	return t
}()

// repackFast holds the gather-based repackers (repack_amd64.s), each
// taking the count of blocks (super-blocks for the K-quants). repackRows
// keeps the Go form, used when rows are too long for 32-bit gather offsets
// and as the reference the tests hold the repackers to.
var repackFast = map[Type]func(w *byte, rowoff *int32, mask uint16, ng int, ws *byte){
	Q8_0: repackQ8_0, Q4_0: repackQ4_0, Q5_0: repackQ5_0,
	Q4_K: repackQ4K, Q5_K: repackQ5K, Q6_K: repackQ6K,
}

type gemmScratch struct{ buf []byte }

var gemmPool = sync.Pool{New: func() any { return new(gemmScratch) }}

// grab returns n bytes of s aligned to 64 bytes, growing s when needed.
func (s *gemmScratch) grab(n int) []byte {
	if cap(s.buf) < n+64 {
		s.buf = make([]byte, n+64)
	}
	b := s.buf[:cap(s.buf)]
	off := int(-uintptr(unsafe.Pointer(&b[0])) & 63)
	return b[off : off+n]
}

func matMulVNNI(t Type, w []byte, rb, cols int, a []byte, ab, nb int, out []float32, rows, r0, r1 int) {
	lay, _ := layoutFor(t)
	ng := cols / lay.g
	if t == Q4_K && nb%4 != 0 {
		// llama.cpp multiplies vectors four at a time with its gemm kernel
		// and the rest one at a time with its gemv kernel, whose order
		// MatVec follows.
		tail := nb - nb%4
		for b := tail; b < nb; b++ {
			matVec(t, w, rb, cols, a[b*ab:b*ab+ab], out[b*rows:], r0, r1)
		}
		nb = tail
		if nb == 0 {
			return
		}
	}
	tiles := (nb + gemmActs - 1) / gemmActs
	actQ := tiles * ng * gemmActs * lay.g
	actM := tiles * ng * gemmActs * 16
	wsz := ng * lay.stride
	s := gemmPool.Get().(*gemmScratch)
	stage := gemmRows * rb
	buf := s.grab(actQ + actM + wsz + 2*gemmRows*gemmActs*4 + stage)
	aq, meta, ws := buf[:actQ], buf[actQ:actQ+actM], buf[actQ+actM:actQ+actM+wsz]
	tout := unsafe.Slice((*float32)(unsafe.Pointer(&buf[actQ+actM+wsz])), gemmRows*gemmActs)
	accmin := unsafe.Slice((*float32)(unsafe.Pointer(&buf[actQ+actM+wsz+gemmRows*gemmActs*4])), gemmRows*gemmActs)
	staging := buf[actQ+actM+wsz+2*gemmRows*gemmActs*4:][:stage]
	prepActs(t, lay, a, ab, nb, ng, aq, meta)
	kernel := gemmG32
	if lay.mins {
		kernel = gemmG32Min
	} else if lay.g == 16 {
		kernel = gemmG16
	}
	// Vectors go in chunks of gemmChunk tiles, whose activation scratch
	// (about 1.5 bytes per value) stays in L2 while every row group passes;
	// the weights are repacked once per row group and chunk.
	const gemmChunk = 16
	tq, tm := ng*gemmActs*lay.g, ng*gemmActs*16
	for t0 := 0; t0 < tiles; t0 += gemmChunk {
		t1 := min(tiles, t0+gemmChunk)
		prefetchRange(&w[r0*rb], min(gemmRows, r1-r0)*rb)
		for r := r0; r < r1; r += gemmRows {
			n := min(gemmRows, r1-r)
			// The gathers of the repacking read 16 rows at once, a pattern
			// the hardware prefetchers miss: the rows are first copied
			// (sequential reads, which they follow) to a staging buffer, and
			// the next rows are fetched into L2 while the kernel works on
			// these, a slice before each kernel call so that the prefetches
			// never queue up behind each other.
			copy(staging, w[r*rb:(r+n)*rb])
			repackRows(t, lay, staging[:n*rb], rb, n, ng, ws)
			var pf []byte
			if next := r + gemmRows; next < r1 {
				pf = w[next*rb : min(next+gemmRows, r1)*rb]
			}
			slice := (len(pf)/(t1-t0) + 63) &^ 63
			for tile := t0; tile < t1; tile++ {
				if len(pf) > 0 {
					k := min(slice, len(pf))
					prefetchRange(&pf[0], k)
					pf = pf[k:]
				}
				if t == Q4_K {
					gemmQ4K(&ws[0], &aq[tile*tq], &meta[tile*tm], ng/2, &tout[0], &accmin[0])
				} else {
					kernel(&ws[0], &aq[tile*tq], &meta[tile*tm], ng, &tout[0])
				}
				for j := 0; j < min(gemmActs, nb-tile*gemmActs); j++ {
					copy(out[(tile*gemmActs+j)*rows+r:(tile*gemmActs+j)*rows+r+n], tout[j*gemmRows:j*gemmRows+n])
				}
			}
		}
	}
	gemmPool.Put(s)
}

// prepActs lays out the activation vectors for the kernel: per tile of 8
// vectors and per group, the 8 vectors' G bytes one after the other, and
// per (group, vector) 16 bytes of meta {-128*sum, scale, scale*sum, 0}.
// Vectors past nb are zeros.
func prepActs(t Type, lay gemmLayout, a []byte, ab, nb, ng int, aq, meta []byte) {
	g := lay.g
	clear(aq[(nb/gemmActs)*ng*gemmActs*g:])
	clear(meta[(nb/gemmActs)*ng*gemmActs*16:])
	if hasAVX2 {
		for b := 0; b < nb; b++ {
			tile, j := b/gemmActs, b%gemmActs
			slot := tile*ng*gemmActs + j
			if VecDotType(t) == Q8_0 {
				prepQ8_0(&a[b*ab], ng, &aq[slot*g], gemmActs*g, &meta[slot*16], gemmActs*16)
			} else {
				prepQ8K(&a[b*ab], ng*g/QK, g, intSums(t), &aq[slot*g], gemmActs*g, &meta[slot*16], gemmActs*16)
			}
		}
		return
	}
	prepActsGo(t, lay, a, ab, nb, ng, aq, meta)
}

// prepActsGo is the portable form of prepActs (after the padding is cleared).
func prepActsGo(t Type, lay gemmLayout, a []byte, ab, nb, ng int, aq, meta []byte) {
	g := lay.g
	for b := 0; b < nb; b++ {
		tile, j := b/gemmActs, b%gemmActs
		src := a[b*ab : b*ab+ab]
		for grp := 0; grp < ng; grp++ {
			slot := (tile*ng+grp)*gemmActs + j
			q := aq[slot*g:][:g]
			m := meta[slot*16:][:16]
			var d float32
			var sum int32
			if VecDotType(t) == Q8_0 {
				blk := src[34*grp : 34*grp+34]
				copy(q, blk[2:34])
				d = f16At(blk, 0)
				sum = sumInt8x32(blk[2:34])
			} else {
				per := QK / g
				blk := src[292*(grp/per) : 292*(grp/per)+292]
				c := grp % per
				copy(q, blk[4+g*c:])
				d = math.Float32frombits(le.Uint32(blk))
				if g == 32 {
					sum = int32(int16(le.Uint16(blk[260+4*c:]))) + int32(int16(le.Uint16(blk[262+4*c:])))
				} else {
					sum = int32(int16(le.Uint16(blk[260+2*c:])))
				}
			}
			le.PutUint32(m[0:], uint32(-128*sum))
			if intSums(t) != 0 {
				le.PutUint32(m[4:], uint32(sum))
				le.PutUint32(m[8:], math.Float32bits(d))
			} else {
				le.PutUint32(m[4:], math.Float32bits(d))
				le.PutUint32(m[8:], math.Float32bits(d*float32(sum)))
			}
			le.PutUint32(m[12:], 0)
		}
	}
}

// intSums is 1 for the type whose kernel (gemmQ4K) takes the activation
// sums as integers in the meta records: {-128*sum, sum, d, 0}.
func intSums(t Type) int {
	if t == Q4_K {
		return 1
	}
	return 0
}

// sumInt8x32 sums 32 signed bytes eight at a time: biased to unsigned,
// byte pairs added into 16-bit lanes, lanes added by a multiply.
func sumInt8x32(b []byte) int32 {
	const lo = 0x00ff00ff00ff00ff
	var s uint64
	for i := 0; i < 32; i += 8 {
		v := le.Uint64(b[i:]) ^ 0x8080808080808080
		s += v&lo + (v>>8)&lo
	}
	return int32((s*0x0001000100010001)>>48) - 32*128
}

// repackRows writes n (<= 16) weight rows into ws in the kernel's layout;
// lanes of missing rows are zero.
func repackRows(t Type, lay gemmLayout, w []byte, rb, n, ng int, ws []byte) {
	if fast := repackFast[t]; fast != nil && rb*gemmRows <= math.MaxInt32 {
		var rowoff [gemmRows]int32
		for r := range rowoff {
			rowoff[r] = int32(r * rb)
		}
		units := ng // blocks of Q8_0, Q4_0, Q5_0; super-blocks of the K-quants
		if t.BlockSize() == QK {
			units = ng * lay.g / QK
		}
		fast(&w[0], &rowoff[0], uint16(1<<n-1), units, &ws[0])
		return
	}
	repackRowsGo(t, lay, w, rb, n, ng, ws)
}

// repackRowsGo is the portable form of repackRows.
func repackRowsGo(t Type, lay gemmLayout, w []byte, rb, n, ng int, ws []byte) {
	if n < gemmRows {
		clear(ws[:ng*lay.stride])
	}
	vecs := lay.g / 4
	for r := 0; r < n; r++ {
		row := w[r*rb : r*rb+rb]
		for grp := 0; grp < ng; grp++ {
			base := ws[grp*lay.stride:][:lay.stride]
			lane := base[4*r:]
			var scale, mn float32
			switch t {
			case Q8_0:
				blk := row[34*grp : 34*grp+34]
				for m := 0; m < 8; m++ {
					le.PutUint32(lane[(m)*64:], le.Uint32(blk[2+4*m:])^0x80808080)
				}
				scale = f16At(blk, 0)
			case Q4_0:
				blk := row[18*grp : 18*grp+18]
				for m := 0; m < 4; m++ {
					v := le.Uint32(blk[2+4*m:])
					le.PutUint32(lane[(m)*64:], v&0x0f0f0f0f+0x78787878)
					le.PutUint32(lane[(m+4)*64:], (v>>4)&0x0f0f0f0f+0x78787878)
				}
				scale = f16At(blk, 0)
			case Q5_0:
				blk := row[22*grp : 22*grp+22]
				qh := le.Uint32(blk[2:])
				for m := 0; m < 4; m++ {
					v := le.Uint32(blk[6+4*m:])
					le.PutUint32(lane[(m)*64:], v&0x0f0f0f0f|spread4[qh>>(4*m)&15]+0x70707070)
					le.PutUint32(lane[(m+4)*64:], (v>>4)&0x0f0f0f0f|spread4[qh>>(16+4*m)&15]+0x70707070)
				}
				scale = f16At(blk, 0)
			case Q4_K:
				blk := row[144*(grp/8) : 144*(grp/8)+144]
				j := grp % 8
				qs := blk[16+32*(j/2):]
				shift := 4 * uint(j&1)
				for m := 0; m < 8; m++ {
					le.PutUint32(lane[(m)*64:], (le.Uint32(qs[4*m:])>>shift)&0x0f0f0f0f|0x80808080)
				}
				sc, mm := scaleMinK4(j, blk[4:16])
				le.PutUint32(lane[512:], uint32(sc))
				le.PutUint32(lane[576:], uint32(mm))
				le.PutUint32(lane[640:], math.Float32bits(f16At(blk, 0)))
				le.PutUint32(lane[704:], math.Float32bits(f16At(blk, 2)))
				continue
			case Q5_K:
				blk := row[176*(grp/8) : 176*(grp/8)+176]
				j := grp % 8
				qh := blk[16:48]
				qs := blk[48+32*(j/2):]
				shift := 4 * uint(j&1)
				for m := 0; m < 8; m++ {
					lo := (le.Uint32(qs[4*m:]) >> shift) & 0x0f0f0f0f
					hi := (le.Uint32(qh[4*m:]) >> uint(j)) & 0x01010101
					le.PutUint32(lane[(m)*64:], lo|hi<<4|0x80808080)
				}
				sc, mm := scaleMinK4(j, blk[4:16])
				scale = f16At(blk, 0) * float32(sc)
				mn = -(f16At(blk, 2) * float32(mm))
			case Q6_K:
				blk := row[210*(grp/16) : 210*(grp/16)+210]
				s := grp % 16
				h, k, l0 := s/8, (s%8)/2, 16*(s%2)
				ql := blk[64*h+32*(k&1)+l0:]
				qh := blk[128+32*h+l0:]
				shift := 4 * uint(k/2)
				for m := 0; m < 4; m++ {
					lo := (le.Uint32(ql[4*m:]) >> shift) & 0x0f0f0f0f
					hi := (le.Uint32(qh[4*m:]) >> (2 * uint(k))) & 0x03030303
					le.PutUint32(lane[(m)*64:], (lo|hi<<4)+0x60606060)
				}
				scale = f16At(blk, 208) * float32(int8(blk[192+s]))
			}
			le.PutUint32(base[vecs*64+4*r:], math.Float32bits(scale))
			if lay.mins {
				le.PutUint32(base[vecs*64+64+4*r:], math.Float32bits(mn))
			}
		}
	}
}
