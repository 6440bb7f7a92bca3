package quant

import "math"

// This file holds the pure-Go reference dot products: one weight row of n
// values of type t (its bytes w) times one activation vector already
// converted by QuantizeActivations (its bytes a). Integer parts are exact;
// each block's integer sum is scaled in float32 as ggml's generic code does.
// The assembly kernels are held to these functions by the differential tests.

func vecDotRef(t Type, n int, w, a []byte) float32 {
	switch t {
	case F32:
		return dotF32Ref(n, w, a)
	case F16:
		return dotF16Ref(n, w, a)
	case BF16:
		return dotBF16Ref(n, w, a)
	case Q8_0:
		return dotQ8_0Ref(n, w, a)
	case Q4_0:
		return dotQ4_0Ref(n, w, a)
	case Q5_0:
		return dotQ5_0Ref(n, w, a)
	case Q4_K:
		return dotQ4KRef(n, w, a)
	case Q5_K:
		return dotQ5KRef(n, w, a)
	case Q6_K:
		return dotQ6KRef(n, w, a)
	}
	panic("quant: no dot product for " + t.String())
}

func dotF32Ref(n int, w, a []byte) float32 {
	var s float64
	for i := 0; i < n; i++ {
		s += float64(math.Float32frombits(le.Uint32(w[4*i:]))) * float64(math.Float32frombits(le.Uint32(a[4*i:])))
	}
	return float32(s)
}

func dotF16Ref(n int, w, a []byte) float32 {
	var s float64
	for i := 0; i < n; i++ {
		s += float64(F16ToF32(le.Uint16(w[2*i:]))) * float64(F16ToF32(le.Uint16(a[2*i:])))
	}
	return float32(s)
}

func dotBF16Ref(n int, w, a []byte) float32 {
	var s float64
	for i := 0; i < n; i++ {
		s += float64(BF16ToF32(le.Uint16(w[2*i:]))) * float64(BF16ToF32(le.Uint16(a[2*i:])))
	}
	return float32(s)
}

func dotQ8_0Ref(n int, w, a []byte) float32 {
	var sum float32
	for b := 0; b < n/32; b++ {
		wb := w[34*b : 34*b+34]
		ab := a[34*b : 34*b+34]
		var isum int32
		for i := 2; i < 34; i++ {
			isum += int32(int8(wb[i])) * int32(int8(ab[i]))
		}
		sum += float32(isum) * (f16At(wb, 0) * f16At(ab, 0))
	}
	return sum
}

func dotQ4_0Ref(n int, w, a []byte) float32 {
	var sum float32
	for b := 0; b < n/32; b++ {
		wb := w[18*b : 18*b+18]
		ab := a[34*b : 34*b+34]
		var isum int32
		for i := 0; i < 16; i++ {
			q := wb[2+i]
			isum += (int32(q&15) - 8) * int32(int8(ab[2+i]))
			isum += (int32(q>>4) - 8) * int32(int8(ab[18+i]))
		}
		sum += float32(isum) * (f16At(wb, 0) * f16At(ab, 0))
	}
	return sum
}

func dotQ5_0Ref(n int, w, a []byte) float32 {
	var sum float32
	for b := 0; b < n/32; b++ {
		wb := w[22*b : 22*b+22]
		ab := a[34*b : 34*b+34]
		qh := le.Uint32(wb[2:])
		var isum int32
		for i := 0; i < 16; i++ {
			q := wb[6+i]
			isum += (int32(q&15|byte(qh>>i&1)<<4) - 16) * int32(int8(ab[2+i]))
			isum += (int32(q>>4|byte(qh>>(i+16)&1)<<4) - 16) * int32(int8(ab[18+i]))
		}
		sum += float32(isum) * (f16At(wb, 0) * f16At(ab, 0))
	}
	return sum
}

// q8KBsum32 is the sum of the 32 activation values of sub-block j of a Q8_K block.
func q8KBsum32(ab []byte, j int) int32 {
	return int32(int16(le.Uint16(ab[260+4*j:]))) + int32(int16(le.Uint16(ab[262+4*j:])))
}

func dotQ4KRef(n int, w, a []byte) float32 {
	var sum float32
	for b := 0; b < n/QK; b++ {
		wb := w[144*b : 144*b+144]
		ab := a[292*b : 292*b+292]
		aq := ab[4:260]
		qs := wb[16:144]
		var isum, imin int32
		for j := 0; j < 8; j++ {
			sc, m := scaleMinK4(j, wb[4:16])
			q := qs[32*(j/2) : 32*(j/2)+32]
			shift := 4 * uint(j&1)
			var s int32
			for l := 0; l < 32; l++ {
				s += int32((q[l]>>shift)&15) * int32(int8(aq[32*j+l]))
			}
			isum += int32(sc) * s
			imin += int32(m) * q8KBsum32(ab, j)
		}
		da := math.Float32frombits(le.Uint32(ab))
		sum += da*f16At(wb, 0)*float32(isum) - da*f16At(wb, 2)*float32(imin)
	}
	return sum
}

func dotQ5KRef(n int, w, a []byte) float32 {
	var sum float32
	for b := 0; b < n/QK; b++ {
		wb := w[176*b : 176*b+176]
		ab := a[292*b : 292*b+292]
		aq := ab[4:260]
		qh := wb[16:48]
		qs := wb[48:176]
		var isum, imin int32
		for j := 0; j < 8; j++ {
			sc, m := scaleMinK4(j, wb[4:16])
			q := qs[32*(j/2) : 32*(j/2)+32]
			shift := 4 * uint(j&1)
			var s int32
			for l := 0; l < 32; l++ {
				v := (q[l]>>shift)&15 | ((qh[l]>>uint(j))&1)<<4
				s += int32(v) * int32(int8(aq[32*j+l]))
			}
			isum += int32(sc) * s
			imin += int32(m) * q8KBsum32(ab, j)
		}
		da := math.Float32frombits(le.Uint32(ab))
		sum += da*f16At(wb, 0)*float32(isum) - da*f16At(wb, 2)*float32(imin)
	}
	return sum
}

func dotQ6KRef(n int, w, a []byte) float32 {
	var sum float32
	for b := 0; b < n/QK; b++ {
		wb := w[210*b : 210*b+210]
		ab := a[292*b : 292*b+292]
		aq := ab[4:260]
		ql, qh, sc := wb[0:128], wb[128:192], wb[192:208]
		var isum int32
		for s := 0; s < 16; s++ {
			var p int32
			for i := 16 * s; i < 16*s+16; i++ {
				p += int32(q6Value(ql, qh, i)-32) * int32(int8(aq[i]))
			}
			isum += int32(int8(sc[s])) * p
		}
		da := math.Float32frombits(le.Uint32(ab))
		sum += da * f16At(wb, 208) * float32(isum)
	}
	return sum
}
