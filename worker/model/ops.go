package model

import "math"

// The elementwise operations of the forward pass, written to follow llama.cpp's CPU numerics
// (ggml) to the bit; see ggml.go for why and for the shared kernels.

// rmsNorm sets out = x * (1/sqrt(mean(x²) + eps)) * w, as ggml_compute_forward_rms_norm_f32 and
// the following multiply do: squares summed in float64, the mean rounded to float32, the scale
// 1.0f/sqrtf(...) in float32, then (x*scale)*w. out may alias x.
func rmsNorm(out, x, w []float32, eps float32) {
	var sum float64
	for _, v := range x {
		sum += float64(v * v)
	}
	mean := float32(sum / float64(len(x)))
	scale := 1 / float32(math.Sqrt(float64(mean+eps))) // float64 sqrt rounded to float32 is sqrtf
	w = w[:len(x)]
	for i, v := range x {
		out[i] = float32(v*scale) * w[i]
	}
}

// add sets dst += src.
func add(dst, src []float32) {
	for i, v := range src {
		dst[i] += v
	}
}

// rope rotates the first dims elements of one head vector x by the angles of one position:
// cosSin holds (cos θᵢ, sin θᵢ) per pair i, from ropeTable. style picks the pairs: (2i, 2i+1) for
// RopeNormal, (i, i+dims/2) for RopeNeox. The rotation is contracted into fused multiply-adds the
// way GCC compiles ggml's rotate_pairs for AVX-512:
//
//	x0' = fma(x0, cos, -(x1*sin))    x1' = fma(x0, sin, x1*cos)
func rope(x []float32, dims int, cosSin []float32, style RopeStyle) {
	half := dims / 2
	for i := 0; i < half; i++ {
		c, s := cosSin[2*i], cosSin[2*i+1]
		a, b := 2*i, 2*i+1
		if style == RopeNeox {
			a, b = i, i+half
		}
		x[a], x[b] = ropePair(x[a], x[b], c, s)
	}
}

// ropeTable computes cos/sin pairs for position pos the way ggml does: the angle starts at pos
// and is multiplied by base^(-2/dims) once per pair, in float32; freq factors divide it. Cosine
// and sine are correctly rounded here; ggml takes the C library's cosf/sinf, which (glibc 2.36)
// are 1 ulp off for a few angles: the one known source of last-bit differences that remains.
func ropeTable(dst []float32, pos int, dims int, base, scale float32, freqFactors []float32) {
	thetaScale := float32(math.Pow(float64(base), -2.0/float64(dims)))
	theta := float32(pos)
	for i := 0; i < dims/2; i++ {
		t := theta
		if freqFactors != nil {
			t /= freqFactors[i]
		}
		t *= scale
		dst[2*i] = float32(math.Cos(float64(t)))
		dst[2*i+1] = float32(math.Sin(float64(t)))
		theta *= thetaScale
	}
}
