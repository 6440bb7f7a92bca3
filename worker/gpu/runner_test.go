//go:build cgo && !js

package gpu

import (
	"fmt"
	"testing"

	"aisle/worker/model"
	"aisle/worker/sample"
)

// cpuGreedy decodes n greedy tokens after prompt on the CPU.
func cpuGreedy(t *testing.T, m *model.Model, prompt []int, n int) []int {
	t.Helper()
	s := m.NewSession(0)
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

// TestStoriesGreedyMatchesCPU: 256 greedy tokens from BOS, sampled on the GPU, equal the CPU
// path's, with the weights in one buffer per matrix and split into parts of 7 rows.
func TestStoriesGreedyMatchesCPU(t *testing.T) {
	d := mustDevice(t)
	m := loadModel(t, stories)
	want := cpuGreedy(t, m, []int{1}, 256)
	for _, partRows := range []int{0, 7} {
		r, err := NewRunner(d, m, 0, RunnerOptions{MaxPartRows: partRows})
		if err != nil {
			t.Fatal(err)
		}
		next, err := r.Greedy([]int{1})
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for len(got) < 256 {
			got = append(got, next)
			if next, err = r.Greedy([]int{next}); err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("parts of %d rows: token %d = %d, CPU %d\n got %v\nwant %v", partRows, i, got[i], want[i], got[:i+1], want[:i+1])
			}
		}
	}
}

// TestStoriesDecodeMatchesCPU: the pipelined Decode gives the same 256 tokens; stopped early,
// the runner continues from the last emitted token as if Greedy had been called.
func TestStoriesDecodeMatchesCPU(t *testing.T) {
	m := loadModel(t, stories)
	want := cpuGreedy(t, m, []int{1}, 256)
	r := newRunner(t, m)
	var got []int
	if err := r.Decode([]int{1}, 256, func(tok int) bool { got = append(got, tok); return true }); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("token %d = %d, CPU %d", i, got[i], want[i])
		}
	}
	// stop after 10 tokens, then continue one token at a time
	r.Truncate(0)
	got = got[:0]
	if err := r.Decode([]int{1}, 256, func(tok int) bool { got = append(got, tok); return len(got) < 10 }); err != nil {
		t.Fatal(err)
	}
	if r.Pos() != 10 {
		t.Fatalf("Pos() = %d after 10 tokens from a 1-token prompt, want 10", r.Pos())
	}
	for len(got) < 40 {
		next, err := r.Greedy(got[len(got)-1:])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, next)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("after stopping: token %d = %d, CPU %d", i, got[i], want[i])
		}
	}
}

// TestSamplingReproducible: sampling on the GPU at a temperature gives the same tokens for the
// same seed, other tokens for another seed, and SetSampling(0, ...) is greedy again.
func TestSamplingReproducible(t *testing.T) {
	m := loadModel(t, stories)
	r := newRunner(t, m)
	run := func(temp float32, seed uint64) []int {
		t.Helper()
		r.Truncate(0)
		if err := r.SetSampling(temp, seed); err != nil {
			t.Fatal(err)
		}
		var got []int
		if err := r.Decode([]int{1}, 60, func(tok int) bool { got = append(got, tok); return true }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	a, b, c := run(1, 42), run(1, 42), run(1, 43)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("seed 42 twice:\n%v\n%v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatalf("seeds 42 and 43 gave the same 60 tokens %v", a)
	}
	want := cpuGreedy(t, m, []int{1}, 60)
	if g := run(0, 42); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Fatalf("temperature 0: %v, CPU greedy %v", g, want)
	}
	if err := r.SetSampling(-1, 0); err == nil {
		t.Fatal("SetSampling(-1) did not fail")
	}
}
