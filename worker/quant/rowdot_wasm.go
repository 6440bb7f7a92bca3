//go:build wasm && goexperiment.simd && !purego

package quant

import (
	"math"
	"simd/archsimd"
	"unsafe"
)

// Row kernels with WebAssembly SIMD128 for the types whose portable form decodes each block
// value by value (dot_go.go's decodeBlock): the weights are unpacked sixteen at a time in vector
// registers and multiplied at once. Integer sums are exact in any order and every float
// operation is the reference's (dot_ref.go), in its order, so the quantized types' results are
// the reference's bit for bit. The float types (F32, F16, BF16) add in eight float32 lanes where
// the reference adds in float64: their results are within the differential tests' tolerance,
// as the amd64 kernels' are (floatRowsFollowReference).

// floatRowsFollowReference is false here: simdRows' F32, F16 and BF16 kernels add in another
// order than vecDotRef.
const floatRowsFollowReference = false

// rowKernel returns the kernel of one row of type t: the dot product of a weight row of n
// blocks (values for the float types) with an activation vector (VecDotType(t)); nil where this
// file has none.
func rowKernel(t Type) func(w, a []byte, n int) float32 {
	switch t {
	case F32:
		return dotF32Row
	case F16:
		return func(w, a []byte, n int) float32 { return dotHalfRow(w, a, n, false) }
	case BF16:
		return func(w, a []byte, n int) float32 { return dotHalfRow(w, a, n, true) }
	case Q8_0:
		return dotQ8_0Row
	case Q4_0:
		return dotQ4_0Row
	case Q5_0:
		return dotQ5_0Row
	case Q4_K:
		return func(w, a []byte, n int) float32 { return dotKRow(w, a, n, false) }
	case Q5_K:
		return func(w, a []byte, n int) float32 { return dotKRow(w, a, n, true) }
	case Q6_K:
		return dotQ6KRow
	}
	return nil
}

// hasSIMDRows reports whether simdRows has a kernel for type t: every type with a row kernel
// but Q8_0, which matVecGo takes two rows at a time (dotQ8_0Rows2).
func hasSIMDRows(t Type) bool { return t != Q8_0 && rowKernel(t) != nil }

// simdRows sets out[r] to the dot product of weight row r (at w[r*rb:], n blocks, or values for
// the float types) with the activation vector a (VecDotType(t)), for every r of out, and reports
// whether it has a kernel for t (hasSIMDRows). F32 goes four rows at a time.
func simdRows(t Type, w []byte, rb int, a []byte, n int, out []float32) bool {
	if !hasSIMDRows(t) {
		return false
	}
	if t == F32 {
		dotF32Rows(w, rb, a, n, out)
		return true
	}
	row := rowKernel(t)
	for r := range out {
		out[r] = row(w[r*rb:r*rb+rb], a, n)
	}
	return true
}

var (
	// spreadBits16: lane i takes byte i/8 of a broadcast uint16 (the lanes of Q5_0's high bits).
	spreadBits16 = [16]int8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}
	// laneBit: lane i holds bit i%8.
	laneBit = [16]uint8{1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128}
)

func loadU8(p unsafe.Pointer) archsimd.Uint8x16 { return archsimd.LoadUint8x16Array((*[16]uint8)(p)) }

// madd16 is the int16 lanes of v0·a0 + v1·a1 over 32 int8 pairs (four products a lane): exact
// for |v| <= 63 and any activations.
func madd16(v0, a0, v1, a1 archsimd.Int8x16) archsimd.Int16x8 {
	return v0.MulWidenLo(a0).Add(v0.MulWidenHi(a0)).Add(v1.MulWidenLo(a1)).Add(v1.MulWidenHi(a1))
}

// widen is the int32 lanes of s's eight int16 lanes added in pairs.
func widen(s archsimd.Int16x8) archsimd.Int32x4 {
	return s.ExtendLo4ToInt32().Add(s.ExtendHi4ToInt32())
}

// scaled is the int32 lanes of sc times s's lanes added in pairs.
func scaled(s archsimd.Int16x8, sc int16) archsimd.Int32x4 {
	v := archsimd.BroadcastInt16x8(sc)
	return s.MulWidenLo(v).Add(s.MulWidenHi(v))
}

func dotQ4_0Row(w, a []byte, nblk int) float32 {
	m4, e8 := archsimd.BroadcastUint8x16(15), archsimd.BroadcastInt8x16(8)
	pw, pa := ptr(w, 18*nblk), ptr(a, 34*nblk)
	var sum float32
	for b := 0; b < nblk; b++ {
		wb, ab := at(pw, 18*b), at(pa, 34*b)
		q := loadU8(at(wb, 2))
		lo, hi := q.And(m4).BitsToInt8().Sub(e8), q.ShiftAllRight(4).BitsToInt8().Sub(e8)
		isum := hsum(widen(madd16(lo, load8x16(at(ab, 2)), hi, load8x16(at(ab, 18)))))
		sum += float32(isum) * (f16p(wb) * f16p(ab))
	}
	return sum
}

func dotQ5_0Row(w, a []byte, nblk int) float32 {
	u := newQ5_0Unpacker()
	pw, pa := ptr(w, 22*nblk), ptr(a, 34*nblk)
	var sum float32
	for b := 0; b < nblk; b++ {
		wb, ab := at(pw, 22*b), at(pa, 34*b)
		lo, hi := u.values(wb)
		isum := hsum(widen(madd16(lo, load8x16(at(ab, 2)), hi, load8x16(at(ab, 18)))))
		sum += float32(isum) * (f16p(wb) * f16p(ab))
	}
	return sum
}

// dotQ5_0Block is dotQ5_0Row of rows w0 and w1 with vectors a0 and a1: w0·a0, w1·a0, w0·a1,
// w1·a1, each weight block unpacked once.
func dotQ5_0Block(w0, w1, a0, a1 []byte, nblk int) (float32, float32, float32, float32) {
	u := newQ5_0Unpacker()
	pw, pv, pa, pc := ptr(w0, 22*nblk), ptr(w1, 22*nblk), ptr(a0, 34*nblk), ptr(a1, 34*nblk)
	var s00, s10, s01, s11 float32
	for b := 0; b < nblk; b++ {
		wb, wc, ab, ac := at(pw, 22*b), at(pv, 22*b), at(pa, 34*b), at(pc, 34*b)
		lo0, hi0 := u.values(wb)
		lo1, hi1 := u.values(wc)
		dw, dv, da, dc := f16p(wb), f16p(wc), f16p(ab), f16p(ac)
		x0, x1 := load8x16(at(ab, 2)), load8x16(at(ab, 18))
		s00 += float32(hsum(widen(madd16(lo0, x0, hi0, x1)))) * (dw * da)
		s10 += float32(hsum(widen(madd16(lo1, x0, hi1, x1)))) * (dv * da)
		x0, x1 = load8x16(at(ac, 2)), load8x16(at(ac, 18))
		s01 += float32(hsum(widen(madd16(lo0, x0, hi0, x1)))) * (dw * dc)
		s11 += float32(hsum(widen(madd16(lo1, x0, hi1, x1)))) * (dv * dc)
	}
	return s00, s10, s01, s11
}

// q5_0Unpacker holds the constants that unpack a Q5_0 block.
type q5_0Unpacker struct {
	m4, bit          archsimd.Uint8x16
	e16, b16, spread archsimd.Int8x16
}

func newQ5_0Unpacker() q5_0Unpacker {
	return q5_0Unpacker{
		m4: archsimd.BroadcastUint8x16(15), bit: archsimd.LoadUint8x16Array(&laneBit),
		e16: archsimd.BroadcastInt8x16(16), b16: archsimd.BroadcastInt8x16(16), spread: archsimd.LoadInt8x16Array(&spreadBits16),
	}
}

// values returns the 32 values of the block at wb: lo the first 16 (low nibbles), hi the last 16.
func (u *q5_0Unpacker) values(wb unsafe.Pointer) (lo, hi archsimd.Int8x16) {
	qh := *(*uint32)(at(wb, 2))
	q := loadU8(at(wb, 6))
	lo = q.And(u.m4).BitsToInt8().Sub(u.e16).Add(u.high(uint16(qh)))
	hi = q.ShiftAllRight(4).BitsToInt8().Sub(u.e16).Add(u.high(uint16(qh >> 16)))
	return lo, hi
}

// high is 16 in lane i where bit i of h is set, else 0.
func (u *q5_0Unpacker) high(h uint16) archsimd.Int8x16 {
	x := archsimd.BroadcastUint16x8(h).ReshapeToUint8s().BitsToInt8().LookupOrZero(u.spread).ToBits()
	return x.And(u.bit).Equal(u.bit).ToInt8x16().And(u.b16)
}

// dotKRow is the Q4_K row, or with five the Q5_K row: sub-blocks 2p and 2p+1 are the low and
// high nibbles of qs[32p:32p+32], with bits 2p and 2p+1 of qh[0:32] above them for Q5_K.
func dotKRow(w, a []byte, nblk int, five bool) float32 {
	m4, one := archsimd.BroadcastUint8x16(15), archsimd.BroadcastUint8x16(1)
	bs, qsAt := 144, 16
	if five {
		bs, qsAt = 176, 48
	}
	pw, pa := ptr(w, bs*nblk), ptr(a, 292*nblk)
	var sum float32
	for b := 0; b < nblk; b++ {
		wb, ab := at(pw, bs*b), (*[292]byte)(at(pa, 292*b))
		scales := (*[12]byte)(at(wb, 4))
		var h0, h1 archsimd.Uint8x16
		if five {
			h0, h1 = loadU8(at(wb, 16)), loadU8(at(wb, 32))
		}
		var acc archsimd.Int32x4
		var imin int32
		for p := 0; p < 4; p++ {
			q0, q1 := loadU8(at(wb, qsAt+32*p)), loadU8(at(wb, qsAt+32*p+16))
			l0, l1 := q0.And(m4), q1.And(m4)
			u0, u1 := q0.ShiftAllRight(4), q1.ShiftAllRight(4)
			if five {
				j := uint64(2 * p)
				l0 = l0.Or(h0.ShiftAllRight(j).And(one).ShiftAllLeft(4))
				l1 = l1.Or(h1.ShiftAllRight(j).And(one).ShiftAllLeft(4))
				u0 = u0.Or(h0.ShiftAllRight(j + 1).And(one).ShiftAllLeft(4))
				u1 = u1.Or(h1.ShiftAllRight(j + 1).And(one).ShiftAllLeft(4))
			}
			aq := at(unsafe.Pointer(ab), 4+64*p)
			sLo := madd16(l0.BitsToInt8(), load8x16(aq), l1.BitsToInt8(), load8x16(at(aq, 16)))
			sHi := madd16(u0.BitsToInt8(), load8x16(at(aq, 32)), u1.BitsToInt8(), load8x16(at(aq, 48)))
			sc0, m0 := scaleMinK4(2*p, scales[:])
			sc1, m1 := scaleMinK4(2*p+1, scales[:])
			acc = acc.Add(scaled(sLo, int16(sc0))).Add(scaled(sHi, int16(sc1)))
			imin += int32(m0)*q8KBsum32(ab[:], 2*p) + int32(m1)*q8KBsum32(ab[:], 2*p+1)
		}
		isum := hsum(acc)
		da := *(*float32)(unsafe.Pointer(ab))
		sum += da*f16p(wb)*float32(isum) - da*f16p(at(wb, 2))*float32(imin)
	}
	return sum
}

func dotQ6KRow(w, a []byte, nblk int) float32 {
	m4, m3, e32 := archsimd.BroadcastUint8x16(15), archsimd.BroadcastUint8x16(3), archsimd.BroadcastInt8x16(32)
	pw, pa := ptr(w, 210*nblk), ptr(a, 292*nblk)
	var sum float32
	for b := 0; b < nblk; b++ {
		wb, ab := at(pw, 210*b), at(pa, 292*b)
		var acc archsimd.Int32x4
		for h := 0; h < 2; h++ {
			for l0 := 0; l0 < 32; l0 += 16 {
				ql0, ql1 := loadU8(at(wb, 64*h+l0)), loadU8(at(wb, 64*h+32+l0))
				qh := loadU8(at(wb, 128+32*h+l0))
				// values 128h + 32k + l0 + [0,16): quadrant k, group s = 8h + 2k + l0/16
				v := [4]archsimd.Uint8x16{
					ql0.And(m4).Or(qh.And(m3).ShiftAllLeft(4)),
					ql1.And(m4).Or(qh.ShiftAllRight(2).And(m3).ShiftAllLeft(4)),
					ql0.ShiftAllRight(4).Or(qh.ShiftAllRight(4).And(m3).ShiftAllLeft(4)),
					ql1.ShiftAllRight(4).Or(qh.ShiftAllRight(6).ShiftAllLeft(4)),
				}
				for k := 0; k < 4; k++ {
					i := 128*h + 32*k + l0
					x, y := v[k].BitsToInt8().Sub(e32), load8x16(at(ab, 4+i))
					acc = acc.Add(scaled(x.MulWidenLo(y).Add(x.MulWidenHi(y)), int16(*(*int8)(at(wb, 192+i/16)))))
				}
			}
		}
		isum := hsum(acc)
		da := *(*float32)(ab)
		sum += da * f16p(at(wb, 208)) * float32(isum)
	}
	return sum
}

// dotF32Rows is dotF32Row of every row, four rows at a time against one load of a (the same
// lanes and order for every row: a row's value does not depend on the rows beside it).
func dotF32Rows(w []byte, rb int, a []byte, n int, out []float32) {
	r := 0
	pa := ptr(a, 4*n)
	for ; r+4 <= len(out); r += 4 {
		var s00, s01, s10, s11, s20, s21, s30, s31 archsimd.Float32x4
		w0, w1, w2, w3 := w[r*rb:], w[(r+1)*rb:], w[(r+2)*rb:], w[(r+3)*rb:]
		b0, b1, b2, b3 := ptr(w0, 4*n), ptr(w1, 4*n), ptr(w2, 4*n), ptr(w3, 4*n)
		i := 0
		for ; i+8 <= n; i += 8 {
			a0, a1 := loadF32(at(pa, 4*i)), loadF32(at(pa, 4*i+16))
			p0, p1, p2, p3 := at(b0, 4*i), at(b1, 4*i), at(b2, 4*i), at(b3, 4*i)
			s00, s01 = s00.Add(loadF32(p0).Mul(a0)), s01.Add(loadF32(at(p0, 16)).Mul(a1))
			s10, s11 = s10.Add(loadF32(p1).Mul(a0)), s11.Add(loadF32(at(p1, 16)).Mul(a1))
			s20, s21 = s20.Add(loadF32(p2).Mul(a0)), s21.Add(loadF32(at(p2, 16)).Mul(a1))
			s30, s31 = s30.Add(loadF32(p3).Mul(a0)), s31.Add(loadF32(at(p3, 16)).Mul(a1))
		}
		if i+4 <= n { // a last group of four lanes, as dotF32Row adds it
			a0 := loadF32(at(pa, 4*i))
			s00 = s00.Add(loadF32(at(b0, 4*i)).Mul(a0))
			s10 = s10.Add(loadF32(at(b1, 4*i)).Mul(a0))
			s20 = s20.Add(loadF32(at(b2, 4*i)).Mul(a0))
			s30 = s30.Add(loadF32(at(b3, 4*i)).Mul(a0))
			i += 4
		}
		out[r] = dotF32Tail(w0, a, i, n, reduceF32(s00.Add(s01)))
		out[r+1] = dotF32Tail(w1, a, i, n, reduceF32(s10.Add(s11)))
		out[r+2] = dotF32Tail(w2, a, i, n, reduceF32(s20.Add(s21)))
		out[r+3] = dotF32Tail(w3, a, i, n, reduceF32(s30.Add(s31)))
	}
	for ; r < len(out); r++ {
		out[r] = dotF32Row(w[r*rb:r*rb+rb], a, n)
	}
}

// simdMatMul computes rows [r0, r1) against nb vectors (out[v*rows+r]) for F32, Q8_0 and Q5_0 two
// rows by two vectors at a time, each weight and activation block loaded once for two products,
// and reports whether it has a kernel for t. Each product is the row kernel's, in its order, so
// a batch gives the values its vectors give one at a time.
func simdMatMul(t Type, w []byte, rb int, a []byte, ab, nb int, out []float32, rows, r0, r1 int) bool {
	var block func(w0, w1, a0, a1 []byte, n int) (float32, float32, float32, float32)
	switch t {
	case F32:
		block = dotF32Block
	case Q8_0:
		block = dotQ8_0Block
	case Q5_0:
		block = dotQ5_0Block
	default:
		return false
	}
	row, n := rowKernel(t), rb/t.BlockBytes()
	wr := func(r int) []byte { return w[r*rb : r*rb+rb] }
	v := 0
	for ; v+2 <= nb; v += 2 {
		a0, a1 := a[v*ab:v*ab+ab], a[(v+1)*ab:(v+1)*ab+ab]
		o0, o1 := out[v*rows:v*rows+rows], out[(v+1)*rows:(v+1)*rows+rows]
		r := r0
		for ; r+2 <= r1; r += 2 {
			o0[r], o0[r+1], o1[r], o1[r+1] = block(wr(r), wr(r+1), a0, a1, n)
		}
		if r < r1 {
			o0[r], o1[r] = row(wr(r), a0, n), row(wr(r), a1, n)
		}
	}
	if v < nb {
		for r := r0; r < r1; r++ {
			out[v*rows+r] = row(wr(r), a[v*ab:v*ab+ab], n)
		}
	}
	return true
}

// dotF32Block is dotF32Row of rows w0 and w1 with vectors a0 and a1: w0·a0, w1·a0, w0·a1, w1·a1.
func dotF32Block(w0, w1, a0, a1 []byte, n int) (float32, float32, float32, float32) {
	pw0, pw1, pa0, pa1 := ptr(w0, 4*n), ptr(w1, 4*n), ptr(a0, 4*n), ptr(a1, 4*n)
	var s00, s01, s10, s11, t00, t01, t10, t11 archsimd.Float32x4 // s: vector a0, t: a1; rows 0 and 1; lanes 0-3 and 4-7
	i := 0
	for ; i+8 <= n; i += 8 {
		p0, p1 := at(pw0, 4*i), at(pw1, 4*i)
		q0, q1 := at(pa0, 4*i), at(pa1, 4*i)
		x0, x1, y0, y1 := loadF32(p0), loadF32(at(p0, 16)), loadF32(p1), loadF32(at(p1, 16))
		b0, b1 := loadF32(q0), loadF32(at(q0, 16))
		s00, s01, s10, s11 = s00.Add(x0.Mul(b0)), s01.Add(x1.Mul(b1)), s10.Add(y0.Mul(b0)), s11.Add(y1.Mul(b1))
		b0, b1 = loadF32(q1), loadF32(at(q1, 16))
		t00, t01, t10, t11 = t00.Add(x0.Mul(b0)), t01.Add(x1.Mul(b1)), t10.Add(y0.Mul(b0)), t11.Add(y1.Mul(b1))
	}
	if i+4 <= n {
		x0, y0 := loadF32(at(pw0, 4*i)), loadF32(at(pw1, 4*i))
		b0, b1 := loadF32(at(pa0, 4*i)), loadF32(at(pa1, 4*i))
		s00, s10, t00, t10 = s00.Add(x0.Mul(b0)), s10.Add(y0.Mul(b0)), t00.Add(x0.Mul(b1)), t10.Add(y0.Mul(b1))
		i += 4
	}
	return dotF32Tail(w0, a0, i, n, reduceF32(s00.Add(s01))), dotF32Tail(w1, a0, i, n, reduceF32(s10.Add(s11))),
		dotF32Tail(w0, a1, i, n, reduceF32(t00.Add(t01))), dotF32Tail(w1, a1, i, n, reduceF32(t10.Add(t11)))
}

// dotF32Row is Σ w[i]·a[i] over n float32 values in eight float32 lanes (the first four take a
// last group of four), the rest one by one.
func dotF32Row(w, a []byte, n int) float32 {
	bw, ba := ptr(w, 4*n), ptr(a, 4*n)
	var s0, s1 archsimd.Float32x4
	i := 0
	for ; i+8 <= n; i += 8 {
		pw, pa := at(bw, 4*i), at(ba, 4*i)
		s0 = s0.Add(loadF32(pw).Mul(loadF32(pa)))
		s1 = s1.Add(loadF32(at(pw, 16)).Mul(loadF32(at(pa, 16))))
	}
	if i+4 <= n {
		s0 = s0.Add(loadF32(at(bw, 4*i)).Mul(loadF32(at(ba, 4*i))))
		i += 4
	}
	return dotF32Tail(w, a, i, n, reduceF32(s0.Add(s1)))
}

// dotF32Tail adds w[i]·a[i] for i from i to n to s, one by one (a call only where there is a
// tail: dotF32Rest's loop is not inlined).
func dotF32Tail(w, a []byte, i, n int, s float32) float32 {
	if i < n {
		return dotF32Rest(w, a, i, n, s)
	}
	return s
}

func dotF32Rest(w, a []byte, i, n int, s float32) float32 {
	for ; i < n; i++ {
		s += math.Float32frombits(le.Uint32(w[4*i:])) * math.Float32frombits(le.Uint32(a[4*i:]))
	}
	return s
}

// dotHalfRow is dotF32Row over F16 values, or with bf16 BF16 values, converted in vector
// registers.

func dotHalfRow(w, a []byte, n int, bf16 bool) float32 {
	pw, pa := ptr(w, 2*n), ptr(a, 2*n)
	var s0, s1 archsimd.Float32x4
	i := 0
	for ; i+8 <= n; i += 8 {
		hw := archsimd.LoadUint16x8Array((*[8]uint16)(at(pw, 2*i)))
		ha := archsimd.LoadUint16x8Array((*[8]uint16)(at(pa, 2*i)))
		w0, w1, a0, a1 := hw.ExtendLo4ToUint32(), hw.ExtendHi4ToUint32(), ha.ExtendLo4ToUint32(), ha.ExtendHi4ToUint32()
		if bf16 {
			s0 = s0.Add(bf16x4(w0).Mul(bf16x4(a0)))
			s1 = s1.Add(bf16x4(w1).Mul(bf16x4(a1)))
		} else {
			s0 = s0.Add(f16x4(w0).Mul(f16x4(a0)))
			s1 = s1.Add(f16x4(w1).Mul(f16x4(a1)))
		}
	}
	s := reduceF32(s0.Add(s1))
	half := F16ToF32
	if bf16 {
		half = BF16ToF32
	}
	for ; i < n; i++ {
		s += half(le.Uint16(w[2*i:])) * half(le.Uint16(a[2*i:]))
	}
	return s
}

// f16x4 converts four IEEE half-precision values (the low 16 bits of h's lanes) to float32
// exactly as F16ToF32 does: the value's bits moved into float32's place and scaled by 2^112,
// which also makes subnormals normal, with the exponent of Inf and NaN set to all ones.
func f16x4(h archsimd.Uint32x4) archsimd.Float32x4 {
	em := h.And(archsimd.BroadcastUint32x4(0x7fff))
	bits := em.ShiftAllLeft(13).BitsToFloat32().Mul(archsimd.BroadcastFloat32x4(0x1p112)).ToBits()
	infNaN := em.GreaterEqual(archsimd.BroadcastUint32x4(0x7c00)).ToInt32x4().ToBits()
	sign := h.And(archsimd.BroadcastUint32x4(0x8000)).ShiftAllLeft(16)
	return bits.Or(infNaN.And(archsimd.BroadcastUint32x4(0x7f800000))).Or(sign).BitsToFloat32()
}

// bf16x4 converts four bfloat16 values (the low 16 bits of h's lanes) to float32.
func bf16x4(h archsimd.Uint32x4) archsimd.Float32x4 { return h.ShiftAllLeft(16).BitsToFloat32() }

func loadF32(p unsafe.Pointer) archsimd.Float32x4 {
	return archsimd.LoadFloat32x4Array((*[4]float32)(p))
}

// reduceF32 adds the four lanes of s, in pairs.
func reduceF32(s archsimd.Float32x4) float32 {
	return (s.GetElem(0) + s.GetElem(2)) + (s.GetElem(1) + s.GetElem(3))
}
