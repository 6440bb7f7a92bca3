package quant

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Shapes of SmolLM2-135M (dim 576, FFN 1536, vocabulary 49152): the
// products the forward pass makes for every token.
var benchShapes = []struct{ rows, cols int }{{576, 576}, {1536, 576}, {576, 1536}}

func benchWeights(b *testing.B, typ Type, rows, cols int) (w, a []byte, x []float32) {
	b.Helper()
	r := rand.New(rand.NewPCG(7, 8))
	var err error
	w, err = Quantize(typ, randVec(r, rows*cols, 0.05))
	if err != nil {
		b.Fatal(err)
	}
	x = randVec(r, 128*cols, 1)
	ab := mustActBytes(b, typ, cols)
	a = make([]byte, 128*ab)
	for j := 0; j < 128; j++ {
		QuantizeActivations(typ, x[j*cols:(j+1)*cols], a[j*ab:(j+1)*ab])
	}
	return w, a, x
}

// BenchmarkMatVec reports the weight bytes streamed per second (decode is
// bound by memory bandwidth). One goroutine.
func BenchmarkMatVec(b *testing.B) {
	for _, typ := range dotTypes {
		for _, s := range benchShapes {
			if s.cols%typ.BlockSize() != 0 {
				continue
			}
			b.Run(fmt.Sprintf("%v_%dx%d", typ, s.cols, s.rows), func(b *testing.B) {
				w, a, _ := benchWeights(b, typ, s.rows, s.cols)
				out := make([]float32, s.rows)
				b.SetBytes(int64(len(w)))
				b.ReportAllocs()
				for b.Loop() {
					MatVec(typ, w, s.cols, a, out, 0, s.rows)
				}
			})
		}
	}
}

// BenchmarkMatMul reports GFLOP/s (2 per multiply-add) of a 128-vector
// batch, the prefill of a 128-token prompt. One goroutine.
func BenchmarkMatMul(b *testing.B) {
	const nb = 128
	for _, typ := range dotTypes {
		for _, s := range benchShapes {
			if s.cols%typ.BlockSize() != 0 {
				continue
			}
			b.Run(fmt.Sprintf("%v_%dx%d", typ, s.cols, s.rows), func(b *testing.B) {
				w, a, _ := benchWeights(b, typ, s.rows, s.cols)
				out := make([]float32, nb*s.rows)
				b.ReportAllocs()
				for b.Loop() {
					MatMul(typ, w, s.cols, a, nb, out, s.rows, 0, s.rows)
				}
				b.ReportMetric(2*float64(nb*s.rows*s.cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkQuantizeActivations reports float32 input bytes per second.
func BenchmarkQuantizeActivations(b *testing.B) {
	for _, typ := range []Type{Q8_0, Q4_K, F16} {
		b.Run(typ.String(), func(b *testing.B) {
			x := randVec(rand.New(rand.NewPCG(1, 1)), 1536, 1)
			dst := make([]byte, mustActBytes(b, typ, 1536))
			b.SetBytes(4 * 1536)
			for b.Loop() {
				QuantizeActivations(typ, x, dst)
			}
		})
	}
}

// BenchmarkMatVecStream streams 96 MiB of weights (three times the L3
// cache) through MatVec in 576x1536 matrices, as decoding does: the GB/s
// figure is the memory bandwidth one goroutine reaches.
func BenchmarkMatVecStream(b *testing.B) {
	for _, typ := range []Type{Q8_0, Q4_0, Q4_K, Q6_K, F16} {
		b.Run(typ.String(), func(b *testing.B) {
			rows, cols := 1536, 576
			if typ.BlockSize() == QK {
				rows, cols = 576, 1536
			}
			w, a, _ := benchWeights(b, typ, rows, cols)
			copies := (96 << 20) / len(w)
			big := make([]byte, copies*len(w))
			for i := 0; i < copies; i++ {
				copy(big[i*len(w):], w)
			}
			out := make([]float32, rows)
			b.SetBytes(int64(len(big)))
			for b.Loop() {
				for i := 0; i < copies; i++ {
					MatVec(typ, big[i*len(w):(i+1)*len(w)], cols, a, out, 0, rows)
				}
			}
		})
	}
}

// BenchmarkMatMul2 splits the rows of a 128-vector batch between two
// goroutines, as the forward pass does on a 2-core machine: GFLOP/s of
// the whole product.
func BenchmarkMatMul2(b *testing.B) {
	const nb = 128
	for _, typ := range []Type{Q8_0, Q4_0, Q5_0, Q4_K, Q6_K} {
		for _, s := range benchShapes {
			if s.cols%typ.BlockSize() != 0 {
				continue
			}
			b.Run(fmt.Sprintf("%v_%dx%d", typ, s.cols, s.rows), func(b *testing.B) {
				w, a, _ := benchWeights(b, typ, s.rows, s.cols)
				out := make([]float32, nb*s.rows)
				half := s.rows / 2 / 16 * 16
				done := make(chan struct{})
				for b.Loop() {
					go func() {
						MatMul(typ, w, s.cols, a, nb, out, s.rows, half, s.rows)
						done <- struct{}{}
					}()
					MatMul(typ, w, s.cols, a, nb, out, s.rows, 0, half)
					<-done
				}
				b.ReportMetric(2*float64(nb*s.rows*s.cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkVecDotF32Short is an attention-sized product (head size 64):
// the per-call overhead.
func BenchmarkVecDotF32Short(b *testing.B) {
	x := randVec(rand.New(rand.NewPCG(2, 2)), 128, 1)
	w, _ := Quantize(F32, x[:64])
	a := make([]byte, 256)
	QuantizeActivations(F32, x[64:], a)
	var s float32
	for b.Loop() {
		s += VecDot(F32, 64, w, a)
	}
	_ = s
}

// BenchmarkMatMulStream is BenchmarkMatMul over 96 MiB of weights (576x1536
// matrices cycled through), so that each product reads its weights from
// memory as the forward pass does: GFLOP/s.
func BenchmarkMatMulStream(b *testing.B) {
	const nb = 128
	for _, typ := range []Type{Q8_0, Q4_K} {
		b.Run(typ.String(), func(b *testing.B) {
			rows, cols := 576, 1536
			w, a, _ := benchWeights(b, typ, rows, cols)
			copies := (96 << 20) / len(w)
			big := make([]byte, copies*len(w))
			for i := 0; i < copies; i++ {
				copy(big[i*len(w):], w)
			}
			out := make([]float32, nb*rows)
			i := 0
			for b.Loop() {
				MatMul(typ, big[i*len(w):(i+1)*len(w)], cols, a, nb, out, rows, 0, rows)
				i = (i + 1) % copies
			}
			b.ReportMetric(2*float64(nb*rows*cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMatMulExact is BenchmarkMatMul for MatMulExact (llama.cpp's
// float order) on the types where it differs from MatMul.
func BenchmarkMatMulExact(b *testing.B) {
	const nb = 128
	for _, typ := range []Type{Q8_0, Q5_0, Q5_K, Q6_K} {
		s := benchShapes[2]
		b.Run(fmt.Sprintf("%v_%dx%d", typ, s.cols, s.rows), func(b *testing.B) {
			w, a, _ := benchWeights(b, typ, s.rows, s.cols)
			out := make([]float32, nb*s.rows)
			for b.Loop() {
				MatMulExact(typ, w, s.cols, a, nb, out, s.rows, 0, s.rows)
			}
			b.ReportMetric(2*float64(nb*s.rows*s.cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
