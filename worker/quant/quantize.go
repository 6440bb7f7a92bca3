package quant

import (
	"fmt"
	"math"
)

// Quantize converts src to type t and returns the encoded bytes
// (RowBytes(len(src)) of them). len(src) must be a multiple of the block
// size. The quantizers follow ggml's reference quantizers (those that
// llama-quantize uses when no importance matrix is given), so that a weight
// tensor quantized here is what llama.cpp would have written:
//   - Q8_0: d = amax/127, q = round-half-away(x/d).
//   - Q4_0: d = max/-8 with max the value of largest magnitude, q = trunc(x/d+8.5) clamped to 15.
//   - Q5_0: as Q4_0 with d = max/-16, q = trunc(x/d+16.5) clamped to 31.
//   - Q4_K, Q5_K: per sub-block of 32, a weighted least-squares search of
//     scale and min (make_qkx2_quants), then 6-bit super-block quantization of
//     scales and mins and requantization against the rounded scales.
//   - Q6_K: per sub-block of 16, a search of the scale (make_qx_quants,
//     weights x²), then 8-bit quantization of the scales.
//   - Q8_K: as QuantizeActivations (ggml's quantize_row_q8_K).
//
// Non-finite inputs are rejected with an error.
func Quantize(t Type, src []float32) ([]byte, error) {
	n, err := t.RowBytes(len(src))
	if err != nil {
		return nil, err
	}
	for i, v := range src {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("quant: quantize %v: value %d is %v", t, i, v)
		}
	}
	dst := make([]byte, n)
	switch t {
	case F32:
		for i, v := range src {
			le.PutUint32(dst[4*i:], math.Float32bits(v))
		}
	case F16:
		for i, v := range src {
			le.PutUint16(dst[2*i:], F32ToF16(v))
		}
	case BF16:
		for i, v := range src {
			le.PutUint16(dst[2*i:], F32ToBF16(v))
		}
	case Q8_0:
		for b := 0; b < len(src)/32; b++ {
			quantQ8_0Ref(src[32*b:32*b+32], dst[34*b:34*b+34])
		}
	case Q4_0:
		for b := 0; b < len(src)/32; b++ {
			quantQ4_0(src[32*b:32*b+32], dst[18*b:18*b+18])
		}
	case Q5_0:
		for b := 0; b < len(src)/32; b++ {
			quantQ5_0(src[32*b:32*b+32], dst[22*b:22*b+22])
		}
	case Q4_K:
		for b := 0; b < len(src)/QK; b++ {
			quantQ4K(src[QK*b:QK*b+QK], dst[144*b:144*b+144], 15)
		}
	case Q5_K:
		for b := 0; b < len(src)/QK; b++ {
			quantQ4K(src[QK*b:QK*b+QK], dst[176*b:176*b+176], 31)
		}
	case Q6_K:
		for b := 0; b < len(src)/QK; b++ {
			quantQ6K(src[QK*b:QK*b+QK], dst[210*b:210*b+210])
		}
	case Q8_K:
		quantizeQ8K(src, dst)
	}
	return dst, nil
}

// nearestInt rounds to the nearest integer, ties to even, exactly as ggml's
// nearest_int (adding 1.5*2^23); valid for |f| <= 2^22.
func nearestInt(f float32) int {
	v := float32(f) + 12582912 // the conversion forbids fusing with a multiply
	return int(math.Float32bits(v)&0x007fffff) - 0x00400000
}

func clamp(v, lo, hi int) int {
	return min(max(v, lo), hi)
}

func quantQ8_0Ref(x []float32, blk []byte) {
	var amax float32
	for _, v := range x {
		amax = max(amax, abs32(v))
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	le.PutUint16(blk, F32ToF16(d))
	for i, v := range x {
		blk[2+i] = byte(int8(math.Round(float64(v * id)))) // roundf: half away from zero
	}
}

func quantQ4_0(x []float32, blk []byte) {
	var amax, mx float32
	for _, v := range x {
		if amax < abs32(v) {
			amax, mx = abs32(v), v
		}
	}
	d := mx / -8
	var id float32
	if d != 0 {
		id = 1 / d
	}
	le.PutUint16(blk, F32ToF16(d))
	for j := 0; j < 16; j++ {
		x0 := x[j] * id
		x1 := x[16+j] * id
		q0 := min(15, int(int8(float32(x0+8.5))))
		q1 := min(15, int(int8(float32(x1+8.5))))
		blk[2+j] = byte(q0) | byte(q1)<<4
	}
}

func quantQ5_0(x []float32, blk []byte) {
	var amax, mx float32
	for _, v := range x {
		if amax < abs32(v) {
			amax, mx = abs32(v), v
		}
	}
	d := mx / -16
	var id float32
	if d != 0 {
		id = 1 / d
	}
	le.PutUint16(blk, F32ToF16(d))
	var qh uint32
	for j := 0; j < 16; j++ {
		q0 := min(31, int(int8(float32(x[j]*id+16.5))))
		q1 := min(31, int(int8(float32(x[16+j]*id+16.5))))
		blk[6+j] = byte(q0&15) | byte(q1&15)<<4
		qh |= uint32(q0>>4&1)<<j | uint32(q1>>4&1)<<(j+16)
	}
	le.PutUint32(blk[2:], qh)
}

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

// makeQKX2 is ggml's make_qkx2_quants: it finds scale and min (returned as
// a positive value to subtract) minimizing the weighted squared error of
// x ≈ scale*L - min with L in [0, nmax], trying nstep+1 candidate scales.
func makeQKX2(nmax int, x, weights []float32, L, laux []uint8, rmin, rdelta float32, nstep int) (scale, theMin float32) {
	n := len(x)
	mn, mx := x[0], x[0]
	sumW := weights[0]
	sumX := sumW * x[0]
	for i := 1; i < n; i++ {
		mn = min(mn, x[i])
		mx = max(mx, x[i])
		w := weights[i]
		sumW += w
		sumX += float32(w * x[i])
	}
	if mn > 0 {
		mn = 0
	}
	if mx == mn {
		for i := range L[:n] {
			L[i] = 0
		}
		return 0, -mn
	}
	iscale := float32(nmax) / (mx - mn)
	scale = 1 / iscale
	var bestErr float32
	for i := 0; i < n; i++ {
		l := clamp(nearestInt(iscale*(x[i]-mn)), 0, nmax)
		L[i] = uint8(l)
		diff := float32(scale*float32(l)) + mn - x[i]
		bestErr += float32(weights[i] * float32(diff*diff))
	}
	for is := 0; is <= nstep; is++ {
		iscale = (rmin + float32(rdelta*float32(is)) + float32(nmax)) / (mx - mn)
		var sumL, sumL2, sumXL float32
		for i := 0; i < n; i++ {
			l := clamp(nearestInt(iscale*(x[i]-mn)), 0, nmax)
			laux[i] = uint8(l)
			w := weights[i]
			fl := float32(l)
			sumL += float32(w * fl)
			sumL2 += float32(float32(w*fl) * fl)
			sumXL += float32(float32(w*fl) * x[i])
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D > 0 {
			thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
			thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var cur float32
			for i := 0; i < n; i++ {
				diff := float32(thisScale*float32(laux[i])) + thisMin - x[i]
				cur += float32(weights[i] * float32(diff*diff))
			}
			if cur < bestErr {
				copy(L[:n], laux[:n])
				bestErr = cur
				scale = thisScale
				mn = thisMin
			}
		}
	}
	return scale, -mn
}

// quantQ4K quantizes one super-block to Q4_K (nmax 15, 144-byte blk) or
// Q5_K (nmax 31, 176-byte blk).
func quantQ4K(x []float32, blk []byte, nmax int) {
	var L [QK]uint8
	var laux [32]uint8
	var weights [32]float32
	var scales, mins [8]float32
	rmin, nstep := float32(-1), 20
	if nmax == 31 {
		rmin, nstep = -0.5, 15
	}
	var maxScale, maxMin float32
	for j := 0; j < 8; j++ {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		avX := float32(math.Sqrt(float64(sumX2 / 32)))
		for l, v := range xs {
			weights[l] = avX + abs32(v)
		}
		scales[j], mins[j] = makeQKX2(nmax, xs, weights[:], L[32*j:32*j+32], laux[:], rmin, 0.1, nstep)
		maxScale = max(maxScale, scales[j])
		maxMin = max(maxMin, mins[j])
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	sc := blk[4:16]
	clear(sc)
	for j := 0; j < 8; j++ {
		ls := min(63, uint8(nearestInt(invScale*scales[j])))
		lm := min(63, uint8(nearestInt(invMin*mins[j])))
		if j < 4 {
			sc[j] = ls
			sc[j+4] = lm
		} else {
			sc[j+4] = ls&0xF | (lm&0xF)<<4
			sc[j-4] |= (ls >> 4) << 6
			sc[j] |= (lm >> 4) << 6
		}
	}
	le.PutUint16(blk[0:], F32ToF16(maxScale/63))
	le.PutUint16(blk[2:], F32ToF16(maxMin/63))
	d, dmin := f16At(blk, 0), f16At(blk, 2)
	for j := 0; j < 8; j++ {
		s, m := scaleMinK4(j, sc)
		dd := d * float32(s)
		if dd == 0 {
			continue
		}
		dm := dmin * float32(m)
		for i := 0; i < 32; i++ {
			L[32*j+i] = uint8(clamp(nearestInt((x[32*j+i]+dm)/dd), 0, nmax))
		}
	}
	if nmax == 15 {
		qs := blk[16:144]
		for c := 0; c < 4; c++ {
			for l := 0; l < 32; l++ {
				qs[32*c+l] = L[64*c+l] | L[64*c+32+l]<<4
			}
		}
		return
	}
	qh := blk[16:48]
	qs := blk[48:176]
	clear(qh)
	for c := 0; c < 4; c++ {
		for l := 0; l < 32; l++ {
			l1, l2 := L[64*c+l], L[64*c+32+l]
			if l1 > 15 {
				l1 -= 16
				qh[l] |= 1 << (2 * c)
			}
			if l2 > 15 {
				l2 -= 16
				qh[l] |= 2 << (2 * c)
			}
			qs[32*c+l] = l1 | l2<<4
		}
	}
}

const groupMaxEps = 1e-15

// makeQX is ggml's make_qx_quants with rmse_type 1 (weights x²) and no
// importance: a symmetric scale for L in [-nmax, nmax-1], searched over 19
// candidates. L receives the values offset by nmax.
func makeQX(nmax int, x []float32, L []int8) float32 {
	var mx, amax float32
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, mx = a, v
		}
	}
	if amax < groupMaxEps {
		for i := range L[:len(x)] {
			L[i] = 0
		}
		return 0
	}
	iscale := -float32(nmax) / mx
	var sumLX, sumL2 float32
	for i, v := range x {
		l := clamp(nearestInt(iscale*v), -nmax, nmax-1)
		L[i] = int8(l + nmax)
		w := float32(v * v)
		fl := float32(l)
		sumLX += float32(float32(w*v) * fl)
		sumL2 += float32(float32(w*fl) * fl)
	}
	var scale float32
	if sumL2 != 0 {
		scale = sumLX / sumL2
	}
	best := scale * sumLX
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(float32(nmax) + float32(0.1*float32(is))) / mx
		sumLX, sumL2 = 0, 0
		for _, v := range x {
			l := clamp(nearestInt(iscale*v), -nmax, nmax-1)
			w := float32(v * v)
			fl := float32(l)
			sumLX += float32(float32(w*v) * fl)
			sumL2 += float32(float32(w*fl) * fl)
		}
		if sumL2 > 0 && float32(sumLX*sumLX) > float32(best*sumL2) {
			for i, v := range x {
				L[i] = int8(nmax + clamp(nearestInt(iscale*v), -nmax, nmax-1))
			}
			scale = sumLX / sumL2
			best = scale * sumLX
		}
	}
	return scale
}

func quantQ6K(x []float32, blk []byte) {
	var L [QK]int8
	var scales [16]float32
	var maxScale, maxAbs float32
	for ib := 0; ib < 16; ib++ {
		s := makeQX(32, x[16*ib:16*ib+16], L[16*ib:16*ib+16])
		scales[ib] = s
		if a := abs32(s); a > maxAbs {
			maxAbs, maxScale = a, s
		}
	}
	clear(blk)
	if maxAbs < groupMaxEps {
		return
	}
	iscale := -128 / maxScale
	le.PutUint16(blk[208:], F32ToF16(1/iscale))
	sc := blk[192:208]
	for ib := 0; ib < 16; ib++ {
		sc[ib] = byte(int8(min(127, nearestInt(iscale*scales[ib]))))
	}
	d := f16At(blk, 208)
	for j := 0; j < 16; j++ {
		dd := d * float32(int8(sc[j]))
		if dd == 0 {
			continue
		}
		for i := 0; i < 16; i++ {
			L[16*j+i] = int8(clamp(nearestInt(x[16*j+i]/dd), -32, 31) + 32)
		}
	}
	ql := blk[0:128]
	qh := blk[128:192]
	for h := 0; h < 2; h++ {
		for l := 0; l < 32; l++ {
			base := 128 * h
			q1, q2, q3, q4 := L[base+l], L[base+l+32], L[base+l+64], L[base+l+96]
			ql[64*h+l] = byte(q1&0xF) | byte(q3&0xF)<<4
			ql[64*h+l+32] = byte(q2&0xF) | byte(q4&0xF)<<4
			qh[32*h+l] = byte(q1>>4) | byte(q2>>4)<<2 | byte(q3>>4)<<4 | byte(q4>>4)<<6
		}
	}
}
