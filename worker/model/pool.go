package model

import (
	"runtime"
	"sync"
)

// Pool runs data-parallel loops on a fixed set of goroutines: the caller's goroutine takes the
// first chunk, Threads()-1 long-lived workers take the rest. A Pool is used by one forward pass at
// a time (the Model serialises sessions' passes).
type Pool struct {
	n     int
	work  []chan func()
	wg    sync.WaitGroup
	close sync.Once
}

// NewPool starts a pool of n threads (n <= 0: one per available CPU).
func NewPool(n int) *Pool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	p := &Pool{n: n, work: make([]chan func(), n-1)}
	for i := range p.work {
		ch := make(chan func(), 1)
		p.work[i] = ch
		go func() {
			for fn := range ch {
				fn()
				p.wg.Done()
			}
		}()
	}
	return p
}

// Threads is the number of threads loops are split across.
func (p *Pool) Threads() int { return p.n }

// For calls fn(lo, hi) on disjoint contiguous chunks covering [0, n), in parallel, and returns
// when all are done. Chunk boundaries are multiples of align (the last chunk ends at n).
func (p *Pool) For(n, align int, fn func(lo, hi int)) {
	p.ForParts(n, align, func(_, lo, hi int) { fn(lo, hi) })
}

// ForParts is For that also passes the index of the part (0 <= part < Threads()), so each part
// can use scratch memory of its own.
func (p *Pool) ForParts(n, align int, fn func(part, lo, hi int)) {
	if align < 1 {
		align = 1
	}
	units := (n + align - 1) / align
	parts := min(p.n, units)
	if parts <= 1 {
		fn(0, 0, n)
		return
	}
	bound := func(i int) int { return min(n, units*i/parts*align) }
	p.wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		lo, hi := bound(i), bound(i+1)
		part := i
		p.work[i-1] <- func() { fn(part, lo, hi) }
	}
	fn(0, 0, bound(1))
	p.wg.Wait()
}

// Close stops the workers.
func (p *Pool) Close() {
	p.close.Do(func() {
		for _, ch := range p.work {
			close(ch)
		}
	})
}
