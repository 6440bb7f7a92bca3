package model

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// exactFMA32 is a*b+c rounded once to float32, computed with big.Float.
func exactFMA32(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
	f, _ := x.Float32()
	return f
}

// TestFMA32: fma32 rounds once, including the cases where rounding the float64 sum to nearest and
// then to float32 would round twice (found by construction: c chosen at half-ulp distances).
func TestFMA32(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	check := func(a, b, c float32) {
		t.Helper()
		want := exactFMA32(a, b, c)
		if got := fma32(a, b, c); !sameBits(got, want) {
			t.Fatalf("fma32(%g, %g, %g) = %g, exact %g", a, b, c, got, want)
		}
		if got := fma32Odd(a, b, c); !sameBits(got, want) {
			t.Fatalf("fma32Odd(%g, %g, %g) = %g, exact %g", a, b, c, got, want)
		}
	}
	for range 20000 {
		a, b := float32(rng.NormFloat64()), float32(rng.NormFloat64())
		p := float32(a * b)
		ulp := math.Nextafter32(p, float32(math.Inf(1))) - p
		// c near minus the rounded product, and near half-ulps of it: the double-rounding cases
		check(a, b, float32(rng.NormFloat64()))
		check(a, b, -p)
		check(a, b, ulp/2)
		check(a, b, -ulp/2)
		check(a, b, float32(rng.NormFloat64())*ulp)
	}
	// Double rounding: with c = 1 + m·2^-23 (m odd) and a*b = 2^-24 - k²·2^-70, a*b + c lies just
	// below the float32 midpoint c + 2^-24 and rounds to it in float64; rounding that tie to even
	// would give c + 2^-23, the correct result is c.
	check(0x1p-12*(1+0x1p-23), 0x1p-12*(1-0x1p-23), 1+0x1p-23)
	for range 2000 {
		k := float32(1 + rng.IntN(300))
		c := float32(1 + float64(2*rng.IntN(1<<22)+1)*0x1p-23)
		a, b := 0x1p-12*(1+k*0x1p-23), 0x1p-12*(1-k*0x1p-23)
		check(a, b, c)
		check(-a, b, -c)
	}
	// subnormal results
	check(0x1p-70, 0x1p-60, 0x1p-140)
	check(0x1.8p-75, 0x1p-70, -0x1p-149)
}

func FuzzFMA32(f *testing.F) {
	f.Add(float32(1+0x1p-23), float32(1+0x1p-23), float32(-(1 + 0x1p-22 - 0x1p-24)))
	f.Fuzz(func(t *testing.T, a, b, c float32) {
		if got, want := fma32(a, b, c), exactFMA32(a, b, c); !sameBits(got, want) &&
			!math.IsInf(float64(want), 0) && !math.IsNaN(float64(a*b+c)) {
			t.Fatalf("fma32(%g, %g, %g) = %g, exact %g", a, b, c, got, want)
		}
	})
}
