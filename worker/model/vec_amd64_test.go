//go:build amd64

package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The assembly kernels must give exactly the bits of their Go references (ggml.go), which in turn
// follow ggml's float order; the tests compare bit patterns, not tolerances. Off amd64 the
// kernels (vec_other.go) make no such promise.

// TestDotMatchesReference: dot and dot16 against dotGo and dot16Go on every length to 300
// (covering each 64-element block, the 16-element steps and the scalar tail).
func TestDotMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 300; n++ {
		a, b := randVec(rng, n), randVec(rng, n+3)
		if got, want := dot(a, b), dotGo(a, b[:n]); !sameBits(got, want) {
			t.Fatalf("n=%d: dot %v, reference %v", n, got, want)
		}
		if n%16 == 0 {
			if got, want := dot16(a, b), dot16Go(a, b[:n]); !sameBits(got, want) {
				t.Fatalf("n=%d: dot16 %v, reference %v", n, got, want)
			}
		}
	}
}

// TestDotRowsMatchesReference: the many-rows form equals one dot per row, with and without tails.
func TestDotRowsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 8, 63, 64, 100, 128, 192} {
		for _, rows := range []int{0, 1, 3, 17} {
			stride := n + 5
			a, b := randVec(rng, rows*stride+1), randVec(rng, n)
			out := make([]float32, rows)
			dotRows(out, a, stride, b, n)
			for r := range out {
				if want := dotGo(a[r*stride:r*stride+n], b); !sameBits(out[r], want) {
					t.Fatalf("n=%d rows=%d row %d: %v, reference %v", n, rows, r, out[r], want)
				}
			}
		}
	}
}

// TestDot16x4MatchesReference: the four-row form equals four single rows.
func TestDot16x4MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{16, 32, 48, 64, 80, 256, 272} {
		stride := n + 16
		a, b := randVec(rng, 4*stride), randVec(rng, n)
		var out [4]float32
		dot16x4(&out, a, stride, b, n)
		for r := range out {
			if want := dot16Go(a[r*stride:r*stride+n], b); !sameBits(out[r], want) {
				t.Fatalf("n=%d row %d: %v, reference %v", n, r, out[r], want)
			}
		}
	}
}

// expInputs are values where ggml's exp changes regime: exact zero, the ends of the normal
// range of 2^n (|n| = 126, 127), subnormal results, the ±192 cut-offs, infinities and NaN.
var expInputs = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, -0.5, 10, -10, 80, -80,
	87.3, 87.4, 88.3, 88.4, 88.8, 89, -87.3, -87.4, -88, -100, -103.9, -104, -133, -134, 133, 134,
	-200, 200, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-30, -1e-30}

// TestExpMatchesReference: the vector exp (also through softmax-style subtraction) equals expGGML
// on random and edge-case inputs, including groups where only one lane leaves the fast range.
func TestExpMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, 0, 4096)
	for range 4000 {
		x = append(x, float32(rng.NormFloat64()*30))
	}
	for i, v := range expInputs {
		x[i*37%len(x)] = v
	}
	x = append(x, expInputs...)
	for _, m := range []float32{0, 3.5, -2} {
		got, want := make([]float32, len(x)), make([]float32, len(x))
		expSub(got, x, m)
		expSubGo(want, x, m)
		for i := range got {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("exp(%v - %v): %v, reference %v", x[i], m, got[i], want[i])
			}
		}
	}
	// and ggml's exp is close to the exact one (it is an approximation, not libm)
	for _, v := range []float32{-20, -3, -1, -0.1, 0, 0.1, 1, 3, 20, 80} {
		got, want := float64(expGGML(v)), math.Exp(float64(v))
		if math.Abs(got-want) > 2*want*0x1p-23 {
			t.Errorf("expGGML(%v) = %v, exp = %v", v, got, want)
		}
	}
	if expGGML(float32(math.Inf(-1))) != 0 || !math.IsInf(float64(expGGML(200)), 1) {
		t.Errorf("expGGML(-Inf) = %v, expGGML(200) = %v; want 0, +Inf", expGGML(float32(math.Inf(-1))), expGGML(200))
	}
}

// TestSwigluMatchesReference: swiglu equals swigluGo on every length to 100 (16-lane groups with
// ggml's exp, then the scalar tail) and on edge-case inputs.
func TestSwigluMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := 0; n <= 100; n++ {
		g, u := randVec(rng, n), randVec(rng, n)
		for i := range g {
			g[i] *= 4
			if rng.IntN(10) == 0 {
				g[i] = expInputs[rng.IntN(len(expInputs))]
			}
		}
		g2 := append([]float32(nil), g...)
		swiglu(g, u)
		swigluGo(g2, u)
		for i := range g {
			if !sameBits(g[i], g2[i]) {
				t.Fatalf("n=%d: swiglu[%d] %v, reference %v", n, i, g[i], g2[i])
			}
		}
	}
}

func FuzzDot(f *testing.F) {
	f.Add(uint64(1), uint16(37))
	f.Add(uint64(2), uint16(128))
	f.Fuzz(func(t *testing.T, seed uint64, n uint16) {
		rng := rand.New(rand.NewPCG(seed, 0))
		a, b := randVec(rng, int(n%2048)), randVec(rng, int(n%2048))
		if got, want := dot(a, b), dotGo(a, b); !sameBits(got, want) {
			t.Fatalf("dot %v, reference %v", got, want)
		}
		m := len(a) &^ 15
		if got, want := dot16(a[:m], b), dot16Go(a[:m], b); !sameBits(got, want) {
			t.Fatalf("dot16 %v, reference %v", got, want)
		}
	})
}

// FuzzExp feeds arbitrary bit patterns (8 lanes) through the vector exp and SiLU.
func FuzzExp(f *testing.F) {
	f.Add(uint32(0x42b00000), uint32(0xc2c80000), float32(0))
	f.Add(uint32(0x7f800000), uint32(0xff800000), float32(1))
	f.Fuzz(func(t *testing.T, b0, b1 uint32, m float32) {
		x := make([]float32, 24)
		for i := range x {
			x[i] = math.Float32frombits(b0 + uint32(i)*(b1|1))
		}
		got, want := make([]float32, len(x)), make([]float32, len(x))
		expSub(got, x, m)
		expSubGo(want, x, m)
		for i := range got {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("exp(%v - %v): %v, reference %v", x[i], m, got[i], want[i])
			}
		}
		g, g2, u := append([]float32(nil), x...), append([]float32(nil), x...), make([]float32, len(x))
		for i := range u {
			u[i] = 1.5
		}
		swiglu(g, u)
		swigluGo(g2, u)
		for i := range g {
			if !sameBits(g[i], g2[i]) {
				t.Fatalf("swiglu(%v): %v, reference %v", x[i], g[i], g2[i])
			}
		}
	})
}
