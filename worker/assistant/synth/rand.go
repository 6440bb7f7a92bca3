package synth

import "hash/fnv"

// rng is a SplitMix64 generator: small, fast, and defined here, so that the same seed gives the
// same stores and questions on every Go release and every architecture (math/rand/v2 does not
// promise its derived streams across releases). Only integer arithmetic is used downstream, so
// no floating-point fusion can change a figure.
type rng struct{ s uint64 }

func newRNG(seed uint64) *rng { return &rng{s: seed} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); n must be > 0.
func (r *rng) intn(n int) int {
	if n <= 0 {
		panic("synth: intn of a non-positive n")
	}
	return int(r.next() % uint64(n))
}

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// chance returns true with probability percent/100.
func (r *rng) chance(percent int) bool { return r.intn(100) < percent }

// derive returns an independent stream named by label, so that adding draws to one concern
// (say, one intent's templates) does not shift the draws of another.
func (r *rng) derive(label string) *rng {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(r.s >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(label))
	return newRNG(h.Sum64())
}

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

func shuffle[T any](r *rng, xs []T) {
	for i := len(xs) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		xs[i], xs[j] = xs[j], xs[i]
	}
}

// sample returns k distinct elements of xs (all of them, shuffled, when k >= len(xs)).
func sample[T any](r *rng, xs []T, k int) []T {
	c := append([]T(nil), xs...)
	shuffle(r, c)
	if k < len(c) {
		c = c[:k]
	}
	return c
}

func hash64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
