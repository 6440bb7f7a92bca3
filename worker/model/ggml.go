package model

import "math"

// The reference (pure Go) forms of the float32 kernels whose rounding must follow llama.cpp's CPU
// backend (ggml) exactly. Greedy decoding must give llama.cpp's tokens, and with activations
// rounded to int8 / bf16 / f16 before every matrix product, a last-bit difference anywhere can
// round one activation the other way and move the logits by far more than float noise. So these
// functions reproduce, operation by operation, what ggml's x86 build for AVX-512 CPUs computes
// (16-lane vectors, fused multiply-adds where it fuses, its reduction trees). The assembly versions
// (vec_amd64.s) hold the same lanes in pairs of 8-lane AVX2 registers and give identical bits;
// vec_test.go checks that on random and edge-case inputs.
//
// Every product that ggml does not fuse is converted explicitly (float32(a*b)), because the Go
// compiler may otherwise fuse a*b+c into one FMA on some targets (arm64, amd64 with GOAMD64=v3).

// fma32 returns a*b+c rounded once to float32, as the VFMADD instructions do. a*b+c rounded to
// float64 rounds correctly to float32 unless it lands exactly halfway between two float32 values
// (it cannot cross such a point, which float64 represents) or in float32's subnormal range; only
// then is the sum recomputed, rounded to odd so that the conversion cannot round twice.
func fma32(a, b, c float32) float32 {
	r := math.FMA(float64(a), float64(b), float64(c))
	if math.Float64bits(r)&(1<<29-1) != 1<<28 && math.Abs(r) >= 0x1p-126 {
		return float32(r)
	}
	return fma32Odd(a, b, c)
}

// fma32Odd is fma32 by way of a float64 sum rounded to odd (nearest, then towards the side of the
// exact remainder when inexact).
func fma32Odd(a, b, c float32) float32 {
	p := float64(a) * float64(b) // exact: 24+24 significant bits fit in 53
	s := p + float64(c)
	bv := s - p
	e := (p - (s - bv)) + (float64(c) - bv) // s + e == p + c exactly (TwoSum)
	if e != 0 && math.Float64bits(s)&1 == 0 {
		if e > 0 {
			s = math.Nextafter(s, math.Inf(1))
		} else {
			s = math.Nextafter(s, math.Inf(-1))
		}
	}
	return float32(s)
}

// Coefficients of ggml_v_expf: 2^n * poly(b) with n = round(x / ln 2) and b = x - n ln 2.
const (
	expShift = 0x1.8p23       // adding it rounds to an integer
	expLog2e = 0x1.715476p+0  // 1/ln 2
	expLn2Hi = 0x1.62e4p-1    // ln 2, high part
	expLn2Lo = 0x1.7f7d1cp-20 // ln 2, low part
	expC5    = 0x1.0e4020p-7
	expC4    = 0x1.573e2ep-5
	expC3    = 0x1.555e66p-3
	expC2    = 0x1.fffdb6p-2
	expC1    = 0x1.ffffecp-1
)

// expGGML is ggml's vectorised e^x (ggml_v_expf, about 1.5 ulp from the exact value), one lane.
// Below about -104 it is 0, above about 88.4 it is +Inf.
func expGGML(x float32) float32 {
	z := fma32(x, expLog2e, expShift)
	n := z - expShift
	b := fma32(-n, expLn2Lo, fma32(-n, expLn2Hi, x))
	u := b * b
	j := fma32(fma32(fma32(expC5, b, expC4), u, fma32(expC3, b, expC2)), u, fma32(expC1, b, 1))
	if math.Abs(float64(n)) > 192 {
		if n <= 0 {
			return 0
		}
		return float32(math.Inf(1))
	}
	// VSCALEFPS: j * 2^n rounded once (only subnormal results round); exact in float64
	return float32(float64(j) * math.Float64frombits(uint64(int64(n)+1023)<<52))
}

// siluGGML is ggml's vectorised SiLU, x / (1 + e^-x) with expGGML.
func siluGGML(x float32) float32 { return x / (1 + expGGML(0-x)) }

// siluLibm is ggml's scalar SiLU (ggml_silu_f32, with the C library's expf), used for the
// elements after the last full 16-lane vector.
func siluLibm(x float32) float32 { return x / (1 + float32(math.Exp(float64(-x)))) }

// swigluGo sets gate[i] = silu(gate[i]) * up[i] as ggml_vec_swiglu_f32 does: expGGML for every
// full group of 16 elements, the C library's exp for the rest.
func swigluGo(gate, up []float32) {
	n16 := len(gate) &^ 15
	swigluVecGo(gate[:n16], up[:n16])
	up = up[:len(gate)]
	for i := n16; i < len(gate); i++ {
		gate[i] = siluLibm(gate[i]) * up[i]
	}
}

// swigluVecGo sets gate[i] = siluGGML(gate[i]) * up[i] for every i (the vector lanes).
func swigluVecGo(gate, up []float32) {
	up = up[:len(gate)]
	for i, g := range gate {
		gate[i] = siluGGML(g) * up[i]
	}
}

// reduce16 is _mm512_reduce_add_ps as GCC expands it: halves added lane by lane down to four
// lanes, then (v0 + v2) + (v1 + v3).
func reduce16(v *[16]float32) float32 {
	var t [8]float32
	for i := range t {
		t[i] = v[i] + v[i+8]
	}
	var u [4]float32
	for i := range u {
		u[i] = t[i] + t[i+4]
	}
	return (u[0] + u[2]) + (u[1] + u[3])
}

// dotGo is ggml_vec_dot_f32 (AVX-512): four 16-lane FMA accumulators over each 64 elements,
// folded as (acc0 + acc2) + (acc1 + acc3), reduced with reduce16, then the elements after the last
// full 64 added one by one. b must be at least as long as a.
func dotGo(a, b []float32) float32 {
	var acc [4][16]float32
	n := len(a) &^ 63
	b = b[:len(a)]
	for i := 0; i < n; i += 64 {
		for j := range acc {
			for l := range acc[j] {
				k := i + 16*j + l
				acc[j][l] = fma32(a[k], b[k], acc[j][l])
			}
		}
	}
	for l := 0; l < 16; l++ {
		acc[0][l] += acc[2][l]
		acc[1][l] += acc[3][l]
	}
	for l := 0; l < 16; l++ {
		acc[0][l] += acc[1][l]
	}
	s := reduce16(&acc[0])
	for i := n; i < len(a); i++ {
		s += float32(a[i] * b[i])
	}
	return s
}

// dotRowsGo sets out[r] = dotGo(a[r*stride:r*stride+n], b[:n]) for every r < len(out).
func dotRowsGo(out, a []float32, stride int, b []float32, n int) {
	for r := range out {
		out[r] = dotGo(a[r*stride:r*stride+n], b[:n])
	}
}

// dot16Go is one output element of llamafile's F32 tinyBLAS (the matrix product ggml uses for two
// or more tokens): one 16-lane FMA accumulator over 16 elements at a time, then reduce16.
// len(a) must be a multiple of 16; b at least as long.
func dot16Go(a, b []float32) float32 {
	var acc [16]float32
	b = b[:len(a)]
	for i := 0; i < len(a); i += 16 {
		for l := range acc {
			acc[l] = fma32(a[i+l], b[i+l], acc[l])
		}
	}
	return reduce16(&acc)
}

// expSubGo sets y[i] = expGGML(x[i] - m).
func expSubGo(y, x []float32, m float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] = expGGML(x[i] - m)
	}
}

// softmax turns the attention scores x[:live] into probabilities in place, as ggml's soft_max
// does over a row of n_kv scores of which those past live are masked (-inf): e = expGGML(x - max),
// the sum accumulated in float64 one reduce16 of 16 lanes at a time, then x *= float32(1/sum).
// x[live:n] are set to 0 (ggml's exp of -inf); n must be a multiple of 16 with live <= n.
func softmax(x []float32, live, n int) {
	x = x[:n]
	maxv := float32(math.Inf(-1))
	for _, v := range x[:live] {
		maxv = max(maxv, v)
	}
	expSub(x[:live], x[:live], maxv)
	clear(x[live:])
	var sum float64
	for i := 0; i < n; i += 16 {
		sum += float64(reduce16((*[16]float32)(x[i : i+16])))
	}
	inv := float32(1 / sum)
	for i := range x[:live] {
		x[i] *= inv
	}
}
