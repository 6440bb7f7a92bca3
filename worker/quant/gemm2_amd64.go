//go:build amd64 && !purego

package quant

import "unsafe"

// The AVX2 batched product, for machines without AVX-512 VNNI. It takes the
// weights from repackRowsGo's layout (u = v+128, 16 rows × 4 values per
// vector) rewritten per group as the signed values, their absolute values,
// then the row scales (and mins): the sign trick of VPSIGNB/VPMADDUBSW
// needs |v| beside v. Each call multiplies 8 rows by 4 vectors. It takes
// every layout but Q4_K's (whose groups hold integer scales for gemmQ4K).

//go:noescape
func gemmAVX2(w *byte, stride, vecs, mins int, a *byte, gsize int, meta *byte, ngroups int, out *float32)

func matMulAVX2(t Type, w []byte, rb, cols int, a []byte, ab, nb int, out []float32, rows, r0, r1 int) {
	lay, _ := layoutFor(t)
	ng := cols / lay.g
	vecs := lay.g / 4
	stride2 := 2*vecs*64 + 64
	if lay.mins {
		stride2 += 64
	}
	tiles := (nb + gemmActs - 1) / gemmActs
	actQ := tiles * ng * gemmActs * lay.g
	actM := tiles * ng * gemmActs * 16
	wsz := ng * lay.stride
	wsz2 := ng * stride2
	s := gemmPool.Get().(*gemmScratch)
	buf := s.grab(actQ + actM + wsz + wsz2 + 4*8*4)
	aq, meta := buf[:actQ], buf[actQ:actQ+actM]
	ws := buf[actQ+actM : actQ+actM+wsz]
	ws2 := buf[actQ+actM+wsz : actQ+actM+wsz+wsz2]
	tout := unsafe.Slice((*float32)(unsafe.Pointer(&buf[actQ+actM+wsz+wsz2])), 32)
	prepActs(t, lay, a, ab, nb, ng, aq, meta)
	mins := 0
	if lay.mins {
		mins = 1
	}
	tq, tm := ng*gemmActs*lay.g, ng*gemmActs*16
	const chunk = 16
	for t0 := 0; t0 < tiles; t0 += chunk {
		t1 := min(tiles, t0+chunk)
		for r := r0; r < r1; r += gemmRows {
			n := min(gemmRows, r1-r)
			repackRowsGo(t, lay, w[r*rb:(r+n)*rb], rb, n, ng, ws)
			signSplit(ws, ws2, ng, lay, stride2)
			for tile := t0; tile < t1; tile++ {
				for q := 0; q < gemmActs && tile*gemmActs+q < nb; q += 4 {
					for half := 0; half < n; half += 8 {
						gemmAVX2(&ws2[4*half], stride2, vecs, mins, &aq[tile*tq+q*lay.g], lay.g, &meta[tile*tm+q*16], ng, &tout[0])
						for j := 0; j < 4 && tile*gemmActs+q+j < nb; j++ {
							b := tile*gemmActs + q + j
							m := min(8, n-half)
							copy(out[b*rows+r+half:b*rows+r+half+m], tout[j*8:j*8+m])
						}
					}
				}
			}
		}
	}
	gemmPool.Put(s)
}

// signSplit rewrites the groups of ws (u = v+128) as v, |v|, scales, mins.
func signSplit(ws, ws2 []byte, ng int, lay gemmLayout, stride2 int) {
	vb := lay.g / 4 * 64
	for g := 0; g < ng; g++ {
		src := ws[g*lay.stride : (g+1)*lay.stride]
		dst := ws2[g*stride2 : (g+1)*stride2]
		v, av := dst[:vb], dst[vb:2*vb]
		for i, u := range src[:vb] {
			x := int8(u ^ 0x80)
			m := x >> 7
			v[i] = byte(x)
			av[i] = byte((x ^ m) - m) // branch-free |x|; -128 stays 0x80, read as 128 by VPMADDUBSW
		}
		copy(dst[2*vb:], src[vb:])
	}
}
