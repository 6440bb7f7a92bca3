//go:build wasm && goexperiment.simd

package model

import "simd/archsimd"

// e^x four lanes at a time with WebAssembly SIMD128 (built with GOEXPERIMENT=simd): ggml's
// polynomial (expC1..expC5) without fused multiply-adds, which wasm lacks, so n·ln 2 is
// subtracted in two parts that multiply exactly. Within a few ulp of the exact value for x in
// [expMin, expMax]; outside, x is clamped there (e^-87 is 1.6e-38: nothing for a softmax or a
// SiLU).
const (
	expMin   = -87
	expMax   = 88
	expLn2C1 = 0x1.63p-1         // ln 2 to 9 bits: n·expLn2C1 is exact for |n| <= 128
	expLn2C2 = -0x1.bd0105c6p-13 // ln 2 - expLn2C1
)

func exp4(x archsimd.Float32x4) archsimd.Float32x4 {
	x = x.Max(archsimd.BroadcastFloat32x4(expMin)).Min(archsimd.BroadcastFloat32x4(expMax))
	n := x.Mul(archsimd.BroadcastFloat32x4(expLog2e)).Round() // in [-126, 127]
	b := x.Sub(n.Mul(archsimd.BroadcastFloat32x4(expLn2C1))).Sub(n.Mul(archsimd.BroadcastFloat32x4(expLn2C2)))
	u := b.Mul(b)
	c := func(v float32) archsimd.Float32x4 { return archsimd.BroadcastFloat32x4(v) }
	j := c(expC5).Mul(b).Add(c(expC4)).Mul(u).Add(c(expC3).Mul(b).Add(c(expC2))).Mul(u).Add(c(expC1).Mul(b).Add(c(1)))
	scale := n.ConvertToInt32().Add(archsimd.BroadcastInt32x4(127)).ShiftAllLeft(23).ToBits().BitsToFloat32()
	return j.Mul(scale)
}

// exp1 is exp4 of one value.
func exp1(x float32) float32 { return exp4(archsimd.BroadcastFloat32x4(x)).GetElem(0) }

func expSub(y, x []float32, m float32) {
	x = x[:len(y)]
	mv := archsimd.BroadcastFloat32x4(m)
	i := 0
	for ; i+4 <= len(y); i += 4 {
		exp4(archsimd.LoadFloat32x4Array((*[4]float32)(x[i:])).Sub(mv)).StoreArray((*[4]float32)(y[i:]))
	}
	for ; i < len(y); i++ {
		y[i] = exp1(x[i] - m)
	}
}

// swiglu sets gate[i] = gate[i] / (1 + e^-gate[i]) * up[i].
func swiglu(gate, up []float32) {
	up = up[:len(gate)]
	one := archsimd.BroadcastFloat32x4(1)
	i := 0
	for ; i+4 <= len(gate); i += 4 {
		g := archsimd.LoadFloat32x4Array((*[4]float32)(gate[i:]))
		e := exp4(g.Neg())
		g.Div(one.Add(e)).Mul(archsimd.LoadFloat32x4Array((*[4]float32)(up[i:]))).StoreArray((*[4]float32)(gate[i:]))
	}
	for ; i < len(gate); i++ {
		g := gate[i]
		gate[i] = g / (1 + exp1(-g)) * up[i]
	}
}
