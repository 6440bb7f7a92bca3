package model_test

import (
	"os"
	"testing"

	"aisle/worker/quant"
)

// Benchmarks of the forward pass on a SmolLM2-135M-shaped random model (starcoder vocabulary,
// 49152 tokens, as SmolLM2 has). Set SLM_BENCH_MODEL to use an existing file instead.
//
//	go test -run '^$' -bench . -benchtime 64x ./worker/model
func benchModel(b *testing.B, typ quant.Type) string {
	if p := os.Getenv("SLM_BENCH_MODEL"); p != "" {
		return p
	}
	return writeRandomModel(b, "llama", "smollm2-135m", typ, "ggml-vocab-starcoder.gguf")
}

func benchDecode(b *testing.B, typ quant.Type) {
	m := openModel(b, benchModel(b, typ), 0)
	s := m.NewSession(2048)
	if _, err := s.Eval([]int{1, 2, 3, 4}, false); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if s.Pos() >= 2000 {
			s.Truncate(4)
		}
		if _, err := s.Eval([]int{100 + i%1000}, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}

func benchPrefill(b *testing.B, typ quant.Type, exact bool) {
	m := openModel(b, benchModel(b, typ), 0)
	m.ExactPrefill = exact
	s := m.NewSession(256)
	prompt := make([]int, 128)
	for i := range prompt {
		prompt[i] = 100 + 7*i
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Truncate(0)
		if _, err := s.Eval(prompt, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "tok/s")
}

func BenchmarkDecodeQ8_0(b *testing.B)  { benchDecode(b, quant.Q8_0) }
func BenchmarkDecodeQ4_K(b *testing.B)  { benchDecode(b, quant.Q4_K) }
func BenchmarkPrefillQ8_0(b *testing.B) { benchPrefill(b, quant.Q8_0, false) }
func BenchmarkPrefillQ4_K(b *testing.B) { benchPrefill(b, quant.Q4_K, false) }

// Prefill with Model.ExactPrefill (llama.cpp's order for every product).
func BenchmarkPrefillExactQ8_0(b *testing.B) { benchPrefill(b, quant.Q8_0, true) }

// Decoding at position 1024, where attention over the cache is a visible part of the work.
func BenchmarkDecodeAt1024Q8_0(b *testing.B) {
	m := openModel(b, benchModel(b, quant.Q8_0), 0)
	s := m.NewSession(2048)
	prompt := make([]int, 1024)
	for i := range prompt {
		prompt[i] = 100 + i%1000
	}
	if _, err := s.Eval(prompt, false); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Truncate(1024)
		if _, err := s.Eval([]int{100 + i%1000}, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}
