package tokenizer

import (
	"container/heap"
	"strings"
	"sync"
)

// bpeRanks maps a merge, written as in tokenizer.ggml.merges ("left right"), to its rank (its
// index; the first of repeated merges wins). Symbols of byte-level BPE never contain a raw
// space (the byte 0x20 is encoded as "Ġ"), so "left right" names exactly one pair, the one
// llama.cpp finds by splitting the line at its first space after the first byte.
type bpeRanks map[string]int32

func newBPERanks(merges []string) bpeRanks {
	m := make(bpeRanks, len(merges))
	for rank, line := range merges {
		if len(line) < 3 || strings.IndexByte(line[1:], ' ') < 0 {
			continue // no pair: llama.cpp files it as ("", ""), which never occurs
		}
		if _, dup := m[line]; !dup {
			m[line] = int32(rank)
		}
	}
	return m
}

// bpeSymbol is the run of the word's bytes [start, end); merged-away symbols are empty.
type bpeSymbol struct {
	start, end int
	prev, next int
}

type bpeBigram struct {
	left, right int
	rank        int32
	size        int // bytes of left+right when queued; a changed pair no longer adds up
}

// bigramQueue pops the lowest rank first, then the leftmost pair.
type bigramQueue []bpeBigram

func (q bigramQueue) Len() int { return len(q) }
func (q bigramQueue) Less(i, j int) bool {
	if q[i].rank != q[j].rank {
		return q[i].rank < q[j].rank
	}
	return q[i].left < q[j].left
}
func (q bigramQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *bigramQueue) Push(x any)   { *q = append(*q, x.(bpeBigram)) }
func (q *bigramQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// encodeWord appends the tokens of one byte-encoded word.
func (t *Tokenizer) encodeWord(word string, out []int) []int {
	if t.ignoreMerges {
		if id, ok := t.toID[word]; ok {
			return append(out, int(id))
		}
	}
	if ids, ok := t.words.get(word); ok {
		return append(out, ids...)
	}
	start := len(out)
	out = t.mergeWord(word, out)
	t.words.put(word, out[start:])
	return out
}

// mergeWord runs the BPE merges on one word: start from its UTF-8 characters and repeatedly
// merge the adjacent pair with the lowest merge rank (leftmost on ties).
func (t *Tokenizer) mergeWord(word string, out []int) []int {
	if word == "" {
		return out
	}
	syms := make([]bpeSymbol, 0, len(word))
	for i := 0; i < len(word); {
		n := min(utf8Len(word[i]), len(word)-i)
		syms = append(syms, bpeSymbol{start: i, end: i + n, prev: len(syms) - 1, next: len(syms) + 1})
		i += n
	}
	syms[len(syms)-1].next = -1

	var q bigramQueue
	var key []byte
	try := func(l, r int) {
		if l < 0 || r < 0 {
			return
		}
		a, b := word[syms[l].start:syms[l].end], word[syms[r].start:syms[r].end]
		key = append(append(append(key[:0], a...), ' '), b...)
		if rank, ok := t.ranks[string(key)]; ok {
			heap.Push(&q, bpeBigram{left: l, right: r, rank: rank, size: len(a) + len(b)})
		}
	}
	for i := 1; i < len(syms); i++ {
		try(i-1, i)
	}
	for q.Len() > 0 {
		b := heap.Pop(&q).(bpeBigram)
		l, r := &syms[b.left], &syms[b.right]
		// Skip pairs of which a symbol was merged since they were queued (symbols only grow).
		if l.end == l.start || r.end == r.start || (l.end-l.start)+(r.end-r.start) != b.size {
			continue
		}
		l.end = r.end
		r.end = r.start
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = b.left
		}
		try(l.prev, b.left)
		try(b.left, l.next)
	}
	for i := 0; i >= 0; i = syms[i].next {
		s := word[syms[i].start:syms[i].end]
		if id, ok := t.toID[s]; ok {
			out = append(out, int(id))
			continue
		}
		// Not a token: llama.cpp looks each byte of the encoded text up as a one-byte token
		// and drops the bytes that are not one.
		for j := 0; j < len(s); j++ {
			if id, ok := t.toID[s[j:j+1]]; ok {
				out = append(out, int(id))
			}
		}
	}
	return out
}

// wordCache remembers the tokens of recent BPE words. It is cleared when full.
type wordCache struct {
	mu sync.RWMutex
	m  map[string][]int
}

const wordCacheMax = 1 << 16

func (c *wordCache) get(w string) ([]int, bool) {
	c.mu.RLock()
	ids, ok := c.m[w]
	c.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(w string, ids []int) {
	if len(w) > 256 {
		return
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= wordCacheMax {
		c.m = make(map[string][]int, 1024)
	}
	c.m[w] = append([]int(nil), ids...)
	c.mu.Unlock()
}
