package model_test

import (
	"testing"

	"aisle/worker/gguf"
	"aisle/worker/internal/llamacpp"
	"aisle/worker/model"
	"aisle/worker/sample"
)

const stories = "../testdata/models/stories260K.gguf"

func openModel(t testing.TB, path string, threads int) *model.Model {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m, err := model.Load(f, threads)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// greedy decodes n tokens after prompt, feeding prompt as one batch.
func greedy(t *testing.T, s *model.Session, prompt []int, n int) []int {
	t.Helper()
	logits, err := s.Eval(prompt, false)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for len(out) < n {
		next := sample.Greedy(logits)
		out = append(out, next)
		if logits, err = s.Eval([]int{next}, false); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestStoriesGreedyMatchesLlamaCpp: 256 greedy tokens from BOS equal llama.cpp's.
func TestStoriesGreedyMatchesLlamaCpp(t *testing.T) {
	peer := llamacpp.StartT(t, stories, llamacpp.Options{})
	want, err := peer.Greedy([]int{1}, 256)
	if err != nil {
		t.Fatal(err)
	}
	for _, threads := range []int{1, 2, 3} {
		m := openModel(t, stories, threads)
		got := greedy(t, m.NewSession(0), []int{1}, 256)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("threads %d: token %d = %d, llama.cpp %d\n got %v\nwant %v", threads, i, got[i], want[i], got[:i+1], want[:i+1])
			}
		}
	}
}
