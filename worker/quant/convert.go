package quant

import (
	"encoding/binary"
	"fmt"
	"math"
)

var le = binary.LittleEndian

func f16At(b []byte, off int) float32 { return F16ToF32(le.Uint16(b[off:])) }

// Dequantize converts len(dst) values of type t from src to float32. src must
// hold at least RowBytes(len(dst)) bytes; len(dst) must be a multiple of the
// block size. Any byte content is accepted (NaN or Inf scales give NaN or Inf
// values, as in ggml).
func Dequantize(t Type, src []byte, dst []float32) error {
	need, err := t.RowBytes(len(dst))
	if err != nil {
		return err
	}
	if len(src) < need {
		return fmt.Errorf("quant: dequantize %v: %d values need %d bytes, have %d", t, len(dst), need, len(src))
	}
	src = src[:need]
	switch t {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(src[4*i:]))
		}
	case F16:
		for i := range dst {
			dst[i] = F16ToF32(le.Uint16(src[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = BF16ToF32(le.Uint16(src[2*i:]))
		}
	case Q8_0:
		for b := 0; b < len(dst)/32; b++ {
			blk := src[34*b : 34*b+34]
			d := f16At(blk, 0)
			y := dst[32*b : 32*b+32]
			for i := range y {
				y[i] = d * float32(int8(blk[2+i]))
			}
		}
	case Q4_0:
		for b := 0; b < len(dst)/32; b++ {
			blk := src[18*b : 18*b+18]
			d := f16At(blk, 0)
			y := dst[32*b : 32*b+32]
			for i := 0; i < 16; i++ {
				q := blk[2+i]
				y[i] = d * float32(int(q&15)-8)
				y[i+16] = d * float32(int(q>>4)-8)
			}
		}
	case Q5_0:
		for b := 0; b < len(dst)/32; b++ {
			blk := src[22*b : 22*b+22]
			d := f16At(blk, 0)
			qh := le.Uint32(blk[2:])
			y := dst[32*b : 32*b+32]
			for i := 0; i < 16; i++ {
				q := blk[6+i]
				y[i] = d * float32(int(q&15|byte(qh>>i&1)<<4)-16)
				y[i+16] = d * float32(int(q>>4|byte(qh>>(i+16)&1)<<4)-16)
			}
		}
	case Q4_K:
		for b := 0; b < len(dst)/QK; b++ {
			dequantQ4K(src[144*b:144*b+144], dst[QK*b:QK*b+QK])
		}
	case Q5_K:
		for b := 0; b < len(dst)/QK; b++ {
			dequantQ5K(src[176*b:176*b+176], dst[QK*b:QK*b+QK])
		}
	case Q6_K:
		for b := 0; b < len(dst)/QK; b++ {
			dequantQ6K(src[210*b:210*b+210], dst[QK*b:QK*b+QK])
		}
	case Q8_K:
		for b := 0; b < len(dst)/QK; b++ {
			blk := src[292*b : 292*b+292]
			d := math.Float32frombits(le.Uint32(blk))
			y := dst[QK*b : QK*b+QK]
			for i := range y {
				y[i] = d * float32(int8(blk[4+i]))
			}
		}
	}
	return nil
}

// scaleMinK4 unpacks the 6-bit scale and min of sub-block j (0..7) from the
// 12 packed bytes of a Q4_K or Q5_K block: for j < 4 the low 6 bits of
// q[j] and q[j+4]; for j >= 4 a nibble of q[j+4] plus the top 2 bits of
// q[j-4] (scale) or q[j] (min).
func scaleMinK4(j int, q []byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xF | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

func dequantQ4K(blk []byte, y []float32) {
	d := f16At(blk, 0)
	dmin := f16At(blk, 2)
	scales := blk[4:16]
	qs := blk[16:144]
	for c := 0; c < 4; c++ {
		sc1, m1 := scaleMinK4(2*c, scales)
		sc2, m2 := scaleMinK4(2*c+1, scales)
		d1, mm1 := d*float32(sc1), dmin*float32(m1)
		d2, mm2 := d*float32(sc2), dmin*float32(m2)
		q := qs[32*c : 32*c+32]
		for l := 0; l < 32; l++ {
			// float32(...) keeps the product rounded before the subtraction,
			// as ggml computes it (no FMA contraction, whatever GOAMD64 says)
			y[64*c+l] = float32(d1*float32(q[l]&0xF)) - mm1
			y[64*c+32+l] = float32(d2*float32(q[l]>>4)) - mm2
		}
	}
}

func dequantQ5K(blk []byte, y []float32) {
	d := f16At(blk, 0)
	dmin := f16At(blk, 2)
	scales := blk[4:16]
	qh := blk[16:48]
	qs := blk[48:176]
	for c := 0; c < 4; c++ {
		sc1, m1 := scaleMinK4(2*c, scales)
		sc2, m2 := scaleMinK4(2*c+1, scales)
		d1, mm1 := d*float32(sc1), dmin*float32(m1)
		d2, mm2 := d*float32(sc2), dmin*float32(m2)
		q := qs[32*c : 32*c+32]
		for l := 0; l < 32; l++ {
			h1 := (qh[l] >> (2 * c)) & 1
			h2 := (qh[l] >> (2*c + 1)) & 1
			y[64*c+l] = float32(d1*float32(q[l]&0xF|h1<<4)) - mm1
			y[64*c+32+l] = float32(d2*float32(q[l]>>4|h2<<4)) - mm2
		}
	}
}

// q6Value returns the 6-bit value (0..63) of element i (0..255) of a Q6_K
// block's ql and qh arrays: within each half of 128 values, element l+32k
// (l < 32, k < 4) has its low nibble in ql[64h + l + 32(k&1)] (low nibble
// for k < 2, high for k >= 2) and its top two bits at bit 2k of qh[32h + l].
func q6Value(ql, qh []byte, i int) int {
	h, r := i/128, i%128
	k, l := r/32, r%32
	lo := ql[64*h+l+32*(k&1)]
	if k >= 2 {
		lo >>= 4
	}
	return int(lo&0xF) | int((qh[32*h+l]>>(2*k))&3)<<4
}

func dequantQ6K(blk []byte, y []float32) {
	ql := blk[0:128]
	qh := blk[128:192]
	sc := blk[192:208]
	d := f16At(blk, 208)
	for i := 0; i < QK; i++ {
		y[i] = d * float32(int8(sc[i/16])) * float32(q6Value(ql, qh, i)-32)
	}
}
