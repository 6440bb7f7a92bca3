package sample

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestGreedy(t *testing.T) {
	tests := []struct {
		given []float32
		want  int
	}{
		{[]float32{1, 3, 2}, 1},
		{[]float32{5, 5, 1}, 0},
		{[]float32{-3, -1, -2}, 1},
	}
	for _, tc := range tests {
		if got := Greedy(tc.given); got != tc.want {
			t.Errorf("Greedy(%v) = %d, want %d", tc.given, got, tc.want)
		}
		if got := New(Params{}).Sample(append([]float32(nil), tc.given...)); got != tc.want {
			t.Errorf("zero-temperature Sample(%v) = %d, want %d", tc.given, got, tc.want)
		}
	}
}

func TestSeedDeterminism(t *testing.T) {
	logits := make([]float32, 100)
	for i := range logits {
		logits[i] = float32(i%7) * 0.3
	}
	draw := func(seed uint64) []int {
		s := New(Params{Temperature: 1, Seed: seed})
		var out []int
		for i := 0; i < 50; i++ {
			out = append(out, s.Sample(append([]float32(nil), logits...)))
		}
		return out
	}
	a, b, c := draw(1), draw(1), draw(2)
	same := func(x, y []int) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("same seed gave different tokens")
	}
	if same(a, c) {
		t.Error("different seeds gave identical 50-token draws")
	}
}

func TestFilters(t *testing.T) {
	logits := []float32{10, 9, 1, 0, -5}
	tests := []struct {
		name  string
		p     Params
		allow map[int]bool
	}{
		{"top-k 2", Params{Temperature: 1, TopK: 2}, map[int]bool{0: true, 1: true}},
		{"top-p 0.5", Params{Temperature: 1, TopP: 0.5}, map[int]bool{0: true}},
		{"min-p 0.2", Params{Temperature: 1, MinP: 0.2}, map[int]bool{0: true, 1: true}},
		{"low temperature", Params{Temperature: 0.01}, map[int]bool{0: true}},
	}
	for _, tc := range tests {
		for seed := uint64(0); seed < 200; seed++ {
			tc.p.Seed = seed
			got := New(tc.p).Sample(append([]float32(nil), logits...))
			if !tc.allow[got] {
				t.Fatalf("%s: seed %d drew token %d, allowed %v", tc.name, seed, got, tc.allow)
			}
		}
	}
	// Without filters every token with real mass appears eventually.
	seen := map[int]bool{}
	s := New(Params{Temperature: 5, Seed: 3})
	for i := 0; i < 2000; i++ {
		seen[s.Sample(append([]float32(nil), logits...))] = true
	}
	if len(seen) < 4 {
		t.Errorf("temperature 5 drew only %v", seen)
	}
}

func TestRepeatPenalty(t *testing.T) {
	s := New(Params{RepeatPenalty: 2})
	s.Accept(0)
	// token 0 (logit 3) is penalised to 1.5, below token 1 (2).
	if got := s.Sample([]float32{3, 2, -1}); got != 1 {
		t.Errorf("penalised greedy = %d, want 1", got)
	}
}

func TestValidate(t *testing.T) {
	bad := []Params{{Temperature: -1}, {TopP: 1.5}, {MinP: -0.1}, {TopK: -2}, {RepeatPenalty: -1}}
	for _, p := range bad {
		if p.Validate() == nil {
			t.Errorf("%+v accepted", p)
		}
	}
	if err := (Params{Temperature: 0.7, TopP: 0.9, TopK: 40}).Validate(); err != nil {
		t.Error(err)
	}
}

// TestMask: masked tokens are never sampled, by any sampler, and the others keep their logits.
func TestMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 70 // not a multiple of 32: the last word is partial
	for trial := range 200 {
		logits := make([]float32, n)
		for i := range logits {
			logits[i] = float32(rng.NormFloat64() * 3)
		}
		allowed := make([]uint32, (n+31)/32)
		if trial%2 == 1 {
			allowed = allowed[:1] // tokens past the mask are not allowed
		}
		for i := range min(n, 32*len(allowed)) {
			if rng.IntN(4) == 0 {
				allowed[i/32] |= 1 << (i % 32)
			}
		}
		allowed[0] |= 1 << 5 // at least one
		ok := func(id int) bool { return id/32 < len(allowed) && allowed[id/32]>>(id%32)&1 == 1 }
		for _, p := range []Params{{}, {Temperature: 1, Seed: uint64(trial)}, {Temperature: 2, TopK: 5, Seed: 3},
			{Temperature: 1, TopP: 0.5, Seed: 4}, {Temperature: 0.7, MinP: 0.1, Seed: 5}, {RepeatPenalty: 1.3}} {
			l := append([]float32(nil), logits...)
			Mask(l, allowed)
			for i, v := range l {
				if ok(i) && v != logits[i] {
					t.Fatalf("allowed token %d changed from %v to %v", i, logits[i], v)
				}
				if !ok(i) && !math.IsInf(float64(v), -1) {
					t.Fatalf("masked token %d has logit %v", i, v)
				}
			}
			s := New(p)
			s.Accept(3)
			if id := s.Sample(l); !ok(id) {
				t.Fatalf("%+v sampled masked token %d", p, id)
			}
		}
	}
}

// BenchmarkMask: masking the logits of a 151936-token vocabulary when the mask allows nearly
// every token (text between figures) and when it allows a handful (inside a figure).
func BenchmarkMask(b *testing.B) {
	const n = 151936
	logits := make([]float32, n)
	for _, c := range []struct {
		name  string
		allow func(i int) bool
	}{{"most-allowed", func(i int) bool { return i%1000 != 0 }}, {"few-allowed", func(i int) bool { return i%10000 == 0 }}} {
		allowed := make([]uint32, (n+31)/32)
		for i := range n {
			if c.allow(i) {
				allowed[i/32] |= 1 << (i % 32)
			}
		}
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				Mask(logits, allowed)
			}
		})
	}
}
