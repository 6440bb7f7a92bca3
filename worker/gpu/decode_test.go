//go:build cgo && !js

package gpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"aisle/worker/sample"
)

// TestMaskedDecode: StartDecode with masks. A mask allowing every token gives exactly Decode's
// tokens, greedy and sampled (the same noise per step); a random mask per step gives, greedily,
// the CPU's argmax over the allowed tokens; after Next returns token k, the forward pass that
// evaluates it is already submitted (Pos counts it: the GPU runs it while the host computes the
// next mask); Stop leaves Pos at the prompt plus every token but the last.
func TestMaskedDecode(t *testing.T) {
	d := mustDevice(t)
	m := loadModel(t, stories)
	r, err := NewRunner(d, m, 0, RunnerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	words := (m.Vocab + 31) / 32
	all := make([]uint32, words)
	for i := range all {
		all[i] = ^uint32(0)
	}
	const n = 40
	prompt := []int{1, 403, 407}
	decode := func(masks func(k int) []uint32) []int {
		t.Helper()
		r.Truncate(0)
		dec, err := r.StartDecode(prompt, n, masks != nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for k := range n {
			var allowed []uint32
			if masks != nil {
				allowed = masks(k)
			}
			tok, err := dec.Next(allowed)
			if err != nil {
				t.Fatal(err)
			}
			if want := len(prompt) + k + 1; k+1 < n && r.Pos() != want {
				t.Fatalf("after token %d Pos() = %d, want %d: the next forward pass is not queued", k, r.Pos(), want)
			}
			got = append(got, tok)
		}
		dec.Stop()
		if r.Pos() != len(prompt)+n-1 {
			t.Fatalf("after %d tokens Pos() = %d, want %d", n, r.Pos(), len(prompt)+n-1)
		}
		return got
	}
	for _, temp := range []float32{0, 1} {
		if err := r.SetSampling(temp, 7); err != nil {
			t.Fatal(err)
		}
		plain := decode(nil)
		if err := r.SetSampling(temp, 7); err != nil {
			t.Fatal(err)
		}
		if masked := decode(func(int) []uint32 { return all }); fmt.Sprint(masked) != fmt.Sprint(plain) {
			t.Errorf("temperature %v: with a mask allowing all %v, without %v", temp, masked, plain)
		}
	}
	// random masks, greedy: the CPU's argmax over the allowed tokens of its own logits
	if err := r.SetSampling(0, 0); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	masks := make([][]uint32, n)
	for k := range masks {
		masks[k] = make([]uint32, words)
		for i := range masks[k] {
			masks[k][i] = rng.Uint32() & rng.Uint32() // a quarter of the tokens
		}
	}
	got := decode(func(k int) []uint32 { return masks[k] })
	s := m.NewSession(0)
	logits, err := s.Eval(prompt, false)
	if err != nil {
		t.Fatal(err)
	}
	for k, tok := range got {
		sample.Mask(logits, masks[k])
		if want := sample.Greedy(logits); tok != want {
			t.Fatalf("token %d = %d, CPU argmax over the mask %d", k, tok, want)
		}
		if logits, err = s.Eval([]int{tok}, false); err != nil {
			t.Fatal(err)
		}
	}
	// stopped early: Pos counts the prompt and the tokens returned but the last
	r.Truncate(0)
	dec, err := r.StartDecode(prompt, n, true)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := dec.Next(all); err != nil {
			t.Fatal(err)
		}
	}
	dec.Stop()
	if r.Pos() != len(prompt)+4 {
		t.Fatalf("stopped after 5 tokens: Pos() = %d, want %d", r.Pos(), len(prompt)+4)
	}
	// a mask that allows nothing is an error, not a token
	r.Truncate(0)
	if dec, err = r.StartDecode(prompt, 2, true); err != nil {
		t.Fatal(err)
	}
	if tok, err := dec.Next(make([]uint32, words)); err == nil {
		t.Fatalf("an empty mask gave token %d", tok)
	}
	dec.Stop()
}
