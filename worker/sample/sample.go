// Package sample picks the next token from logits: greedy, or a llama.cpp-style chain of
// repetition penalty, top-k, top-p, min-p and temperature followed by a seeded random draw.
package sample

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"sort"
)

// Params configure a Sampler. The zero value is greedy decoding.
type Params struct {
	Temperature   float32 // <= 0: greedy (argmax)
	TopK          int     // keep the K most likely tokens; <= 0: off
	TopP          float32 // keep the smallest set whose probability mass reaches P; 0 or >= 1: off
	MinP          float32 // drop tokens less likely than MinP times the most likely; <= 0: off
	RepeatPenalty float32 // divide positive (multiply negative) logits of recent tokens; 0 or 1: off
	RepeatLastN   int     // how many recent tokens the penalty looks at (default 64)
	Seed          uint64  // random seed: the same seed and logits give the same tokens
}

// Validate reports parameters outside their meaningful ranges.
func (p Params) Validate() error {
	switch {
	case math.IsNaN(float64(p.Temperature)) || p.Temperature < 0 || p.Temperature > 100:
		return fmt.Errorf("temperature %v out of range [0, 100]", p.Temperature)
	case math.IsNaN(float64(p.TopP)) || p.TopP < 0 || p.TopP > 1:
		return fmt.Errorf("top_p %v out of range [0, 1]", p.TopP)
	case math.IsNaN(float64(p.MinP)) || p.MinP < 0 || p.MinP > 1:
		return fmt.Errorf("min_p %v out of range [0, 1]", p.MinP)
	case p.TopK < 0:
		return fmt.Errorf("top_k %d is negative", p.TopK)
	case math.IsNaN(float64(p.RepeatPenalty)) || p.RepeatPenalty < 0:
		return fmt.Errorf("repeat penalty %v is negative", p.RepeatPenalty)
	}
	return nil
}

// Sampler draws tokens. Not safe for concurrent use.
type Sampler struct {
	p      Params
	rng    *rand.Rand
	recent []int
	cands  []cand
}

type cand struct {
	id int
	v  float32 // logit, then probability
}

// New returns a sampler for p.
func New(p Params) *Sampler {
	if p.RepeatLastN == 0 {
		p.RepeatLastN = 64
	}
	return &Sampler{p: p, rng: rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))}
}

// Accept records a token of the sequence (prompt or generated) for the repetition penalty.
func (s *Sampler) Accept(id int) {
	if s.p.RepeatPenalty == 0 || s.p.RepeatPenalty == 1 {
		return
	}
	s.recent = append(s.recent, id)
	if len(s.recent) > s.p.RepeatLastN {
		s.recent = s.recent[len(s.recent)-s.p.RepeatLastN:]
	}
}

// Greedy returns the index of the largest logit (the lowest index among equals).
func Greedy(logits []float32) int {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	return best
}

// Mask sets to -Inf the logits of the tokens that allowed does not allow, so that no sampler picks
// them: bit i of allowed (allowed[i/32]>>(i%32)&1) allows token i; tokens past the end of allowed
// are not allowed. The cost is proportional to the number of words of allowed plus the number of
// tokens masked.
func Mask(logits []float32, allowed []uint32) {
	for w := 0; 32*w < len(logits); w++ {
		x := ^uint32(0) // the tokens to mask
		if w < len(allowed) {
			x = ^allowed[w]
		}
		base := 32 * w
		switch {
		case x == 0:
		case x == ^uint32(0) && base+32 <= len(logits):
			copy(logits[base:base+32], negInfs[:])
		default:
			if n := len(logits) - base; n < 32 {
				x &= 1<<n - 1
			}
			for ; x != 0; x &= x - 1 {
				logits[base+bits.TrailingZeros32(x)] = negInfs[0]
			}
		}
	}
}

var negInfs = func() (v [32]float32) {
	for i := range v {
		v[i] = float32(math.Inf(-1))
	}
	return v
}()

// Sample picks the next token from logits (which it may modify).
func (s *Sampler) Sample(logits []float32) int {
	if pen := s.p.RepeatPenalty; pen != 0 && pen != 1 {
		seen := map[int]bool{}
		for _, id := range s.recent {
			if seen[id] || id < 0 || id >= len(logits) {
				continue
			}
			seen[id] = true
			if logits[id] > 0 {
				logits[id] /= pen
			} else {
				logits[id] *= pen
			}
		}
	}
	if s.p.Temperature <= 0 {
		return Greedy(logits)
	}
	c := s.cands[:0]
	for i, v := range logits {
		c = append(c, cand{i, v})
	}
	s.cands = c
	sort.SliceStable(c, func(i, j int) bool { return c[i].v > c[j].v })
	if k := s.p.TopK; k > 0 && k < len(c) {
		c = c[:k]
	}
	if p := s.p.TopP; p > 0 && p < 1 {
		probs := softmax(c, 1)
		var cum float64
		for i, pr := range probs {
			cum += pr
			if cum >= float64(p) {
				c = c[:i+1]
				break
			}
		}
	}
	if mp := s.p.MinP; mp > 0 {
		// p_i >= mp * p_max  <=>  logit_i >= logit_max + ln(mp)
		cut := c[0].v + float32(math.Log(float64(mp)))
		n := 1
		for n < len(c) && c[n].v >= cut {
			n++
		}
		c = c[:n]
	}
	probs := softmax(c, s.p.Temperature)
	r := s.rng.Float64()
	var cum float64
	for i, pr := range probs {
		cum += pr
		if r < cum {
			return c[i].id
		}
	}
	return c[len(c)-1].id
}

// softmax returns the probabilities of candidates sorted by descending logit, at temperature t.
func softmax(c []cand, t float32) []float64 {
	out := make([]float64, len(c))
	maxv := float64(c[0].v) / float64(t)
	var sum float64
	for i, x := range c {
		out[i] = math.Exp(float64(x.v)/float64(t) - maxv)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}
