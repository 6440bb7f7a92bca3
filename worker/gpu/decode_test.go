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
// TestDecodeAhead covers the unmasked decode's steps in flight.
func TestMaskedDecode(t *testing.T) {
	m := loadModel(t, stories)
	r := newRunner(t, m)
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
			ahead := 1 // steps submitted beyond token k's
			if masks == nil {
				ahead = DefaultDecodeAhead
			}
			if want := len(prompt) + min(k+ahead, n-1); r.Pos() != want {
				t.Fatalf("after token %d Pos() = %d, want %d: the next forward passes are not queued", k, r.Pos(), want)
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

// TestDecodeAhead: an unmasked decode gives the same tokens whatever the number of steps it
// keeps in flight, and one stopped early, its later steps already submitted, leaves the cache
// as if they had never run: continuing from Pos gives the rest of the uninterrupted sequence.
func TestDecodeAhead(t *testing.T) {
	m := loadModel(t, stories)
	r := newRunner(t, m)
	prompt := []int{1, 403, 407}
	const n = 24
	decode := func(tokens []int, n int) []int {
		t.Helper()
		var got []int
		if err := r.Decode(tokens, n, func(tok int) bool { got = append(got, tok); return true }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	r.SetDecodeAhead(1)
	want := decode(prompt, n)
	for _, ahead := range []int{2, DefaultDecodeAhead, 8, n + 5} {
		r.SetDecodeAhead(ahead)
		r.Truncate(0)
		if got := decode(prompt, n); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%d steps ahead: %v, one step ahead: %v", ahead, got, want)
		}
		// stop after 7 tokens with up to ahead more steps submitted, then go on
		r.Truncate(0)
		var first []int
		if err := r.Decode(prompt, n, func(tok int) bool { first = append(first, tok); return len(first) < 7 }); err != nil {
			t.Fatal(err)
		}
		if r.Pos() != len(prompt)+6 {
			t.Fatalf("%d steps ahead, stopped after 7 tokens: Pos() = %d, want %d", ahead, r.Pos(), len(prompt)+6)
		}
		rest := decode(first[6:], n-7)
		if got := append(first, rest...); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%d steps ahead, stopped and continued: %v, uninterrupted: %v", ahead, got, want)
		}
	}
}
