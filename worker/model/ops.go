package model

import "math"

// The elementwise operations of the forward pass, written to follow llama.cpp's CPU numerics
// (ggml): sums of squares and softmax denominators accumulate in float64, everything else in
// float32, so that logits agree to float rounding and greedy tokens agree exactly.

// rmsNorm sets out = x / sqrt(mean(x²) + eps) * w. out may alias x.
func rmsNorm(out, x, w []float32, eps float32) {
	var sum float64
	for _, v := range x {
		sum += float64(v * v)
	}
	mean := float32(sum / float64(len(x)))
	scale := float32(1 / math.Sqrt(float64(mean+eps)))
	for i, v := range x {
		out[i] = v * scale * w[i]
	}
}

// softmaxScaled sets x[i] = exp(x[i]*scale - max) / sum over i.
func softmaxScaled(x []float32, scale float32) {
	maxv := float32(math.Inf(-1))
	for i := range x {
		x[i] *= scale
		if x[i] > maxv {
			maxv = x[i]
		}
	}
	var sum float64
	for i, v := range x {
		e := float32(math.Exp(float64(v - maxv)))
		x[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

// swiglu sets gate[i] = silu(gate[i]) * up[i], silu(x) = x / (1 + e^-x).
func swiglu(gate, up []float32) {
	for i, g := range gate {
		gate[i] = g / (1 + float32(math.Exp(float64(-g)))) * up[i]
	}
}

// add sets dst += src.
func add(dst, src []float32) {
	for i, v := range src {
		dst[i] += v
	}
}

// dotGo is the reference float32 dot product, with 8 partial sums as the assembly uses lanes.
func dotGo(a, b []float32) float32 {
	var s [8]float32
	n := len(a) &^ 7
	b = b[:len(a)]
	for i := 0; i < n; i += 8 {
		s[0] += a[i] * b[i]
		s[1] += a[i+1] * b[i+1]
		s[2] += a[i+2] * b[i+2]
		s[3] += a[i+3] * b[i+3]
		s[4] += a[i+4] * b[i+4]
		s[5] += a[i+5] * b[i+5]
		s[6] += a[i+6] * b[i+6]
		s[7] += a[i+7] * b[i+7]
	}
	for i := n; i < len(a); i++ {
		s[0] += a[i] * b[i]
	}
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
}

// axpyGo is the reference of axpy: y += a*x.
func axpyGo(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// rope rotates the first dims elements of one head vector x at position pos.
// thetas[i] is the angle step of pair i (base^(-2i/dims) / freq factor * scale); style picks pairing.
func rope(x []float32, pos int, dims int, cosSin []float32, style RopeStyle) {
	half := dims / 2
	for i := 0; i < half; i++ {
		c, s := cosSin[2*i], cosSin[2*i+1]
		var a, b int
		if style == RopeNeox {
			a, b = i, i+half
		} else {
			a, b = 2*i, 2*i+1
		}
		x0, x1 := x[a], x[b]
		x[a] = x0*c - x1*s
		x[b] = x0*s + x1*c
	}
}

// ropeTable computes cos/sin pairs for position pos the way ggml does: the angle starts at pos
// and is multiplied by base^(-2/dims) once per pair, in float32; freq factors divide it.
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
