package model_test

import (
	"os"
	"testing"

	"aisle/worker/gguf"
	"aisle/worker/model"
)

func BenchmarkDecodeWasm(b *testing.B) {
	data, err := os.ReadFile(os.Getenv("PF_MODEL"))
	if err != nil {
		b.Fatal(err)
	}
	f, _ := gguf.Parse(data)
	m, _ := model.Load(f, 1)
	s := m.NewSession(1024)
	toks := make([]int, 48)
	for i := range toks {
		toks[i] = 100 + i
	}
	s.Eval(toks, false)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if s.Pos() > 900 {
			s.Truncate(48)
		}
		s.Eval([]int{200 + i%50}, false)
	}
}
