package tokenizer

import (
	"container/heap"
	"strings"
	"sync"
)

// bpeMerges holds the merge table with every string interned: vocabulary tokens keep their
// ids, strings that occur only in merges get ids from len(vocab) up. A merge of the pair
// (a, b) is found by one map lookup of the pair's ids.
type bpeMerges struct {
	symID  map[string]int32 // text -> interned id
	nVocab int32
	pairs  map[uint64]mergeRule
}

type mergeRule struct {
	rank   int32
	result int32 // interned id of left+right
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func newBPEMerges(merges []string, toID map[string]int32) *bpeMerges {
	m := &bpeMerges{symID: make(map[string]int32, len(toID)), nVocab: int32(len(toID)),
		pairs: make(map[uint64]mergeRule, len(merges))}
	maxID := int32(-1)
	for s, id := range toID {
		m.symID[s] = id
		maxID = max(maxID, id)
	}
	next := maxID + 1
	m.nVocab = next
	intern := func(s string) int32 {
		if id, ok := m.symID[s]; ok {
			return id
		}
		id := next
		next++
		m.symID[s] = id
		return id
	}
	for rank, line := range merges {
		// llama.cpp splits at the first space after the first byte; a line without one
		// stands for the pair ("", ""), which never occurs between real symbols.
		sp := strings.IndexByte(line[min(1, len(line)):], ' ')
		if sp < 0 {
			continue
		}
		sp += min(1, len(line))
		left, right := line[:sp], line[sp+1:]
		if left == "" || right == "" {
			continue
		}
		k := pairKey(intern(left), intern(right))
		if _, dup := m.pairs[k]; dup {
			continue // the first rank of a repeated pair wins
		}
		m.pairs[k] = mergeRule{rank: int32(rank), result: intern(left + right)}
	}
	return m
}

// bpeSymbol is a run of the word's bytes [start, end) with its interned id (-1 when the text
// is neither a token nor part of any merge).
type bpeSymbol struct {
	start, end int
	id         int32
	prev, next int
}

type bpeBigram struct {
	left, right int
	lid, rid    int32
	rank        int32
	result      int32
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

func (t *Tokenizer) mergeWord(word string, out []int) []int {
	if word == "" {
		return out
	}
	m := t.bpe
	syms := make([]bpeSymbol, 0, len(word))
	for i := 0; i < len(word); {
		n := min(utf8Len(word[i]), len(word)-i)
		id, ok := m.symID[word[i:i+n]]
		if !ok {
			id = -1
		}
		syms = append(syms, bpeSymbol{start: i, end: i + n, id: id, prev: len(syms) - 1, next: len(syms) + 1})
		i += n
	}
	syms[len(syms)-1].next = -1

	var q bigramQueue
	try := func(l, r int) {
		if l < 0 || r < 0 || syms[l].id < 0 || syms[r].id < 0 {
			return
		}
		if rule, ok := m.pairs[pairKey(syms[l].id, syms[r].id)]; ok {
			heap.Push(&q, bpeBigram{left: l, right: r, lid: syms[l].id, rid: syms[r].id, rank: rule.rank, result: rule.result})
		}
	}
	for i := 1; i < len(syms); i++ {
		try(i-1, i)
	}
	for q.Len() > 0 {
		b := heap.Pop(&q).(bpeBigram)
		l, r := &syms[b.left], &syms[b.right]
		// Skip pairs whose symbols changed since they were queued.
		if l.end == l.start || r.end == r.start || l.id != b.lid || r.id != b.rid || l.next != b.right {
			continue
		}
		l.end = r.end
		l.id = b.result
		r.end = r.start
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = b.left
		}
		try(l.prev, b.left)
		try(b.left, l.next)
	}
	for i := 0; i >= 0 && i < len(syms); i = syms[i].next {
		s := syms[i]
		if s.end == s.start {
			continue
		}
		if id, ok := t.toID[word[s.start:s.end]]; ok {
			out = append(out, int(id))
			continue
		}
		// Not a token: llama.cpp looks each byte of the encoded text up as a one-byte token
		// and drops the bytes that are not one.
		for j := s.start; j < s.end; j++ {
			if id, ok := t.toID[word[j:j+1]]; ok {
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
