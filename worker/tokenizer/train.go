package tokenizer

import (
	"container/heap"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"
)

// BPEOptions configure TrainBPE.
type BPEOptions struct {
	// VocabSize is the number of tokens wanted: the special tokens, the 256 byte tokens and
	// the merged tokens. Training stops earlier when no pair is left to merge.
	VocabSize int
	// Special are control tokens (type CONTROL), given ids 0..len(Special)-1 in this order.
	// They are cut out of the training texts, so no merge ever learns their text.
	Special []string
	// Threads count words in parallel (default GOMAXPROCS). The result does not depend on it.
	Threads int
}

// TrainBPE learns a GPT-2-style byte-level BPE vocabulary from texts, for the "gpt-2"
// pre-tokenizer.
//
// Each text is cut at the special tokens, the pieces are pre-tokenized into words, and the
// unique words are counted. Starting from the 256 byte tokens (ids len(Special)+b, spelled with
// GPT-2's byte-to-code-point map), the most frequent adjacent pair of tokens is merged into a
// new token until the vocabulary has VocabSize tokens; ties go to the pair whose left token
// text is lowest, then right token text (byte order). Pairs involving a token that contains an
// ASCII digit are never merged, so every digit stays a token of its own. A merge whose text is
// already a token (reached through other merges) reuses that token.
//
// The result is deterministic. Its Model is "gpt2", Pre "gpt-2", AddBOS false; the caller
// sets Special ids (BOS, EOS, PAD) and Name as needed.
func TrainBPE(texts []string, opts BPEOptions) (*Vocab, error) {
	nSpecial := len(opts.Special)
	seen := map[string]bool{}
	for _, s := range opts.Special {
		if s == "" || seen[s] {
			return nil, fmt.Errorf("tokenizer: special token %q is empty or repeated", s)
		}
		if utf8.RuneCountInString(s) == 1 {
			return nil, fmt.Errorf("tokenizer: special token %q would clash with a byte token", s)
		}
		seen[s] = true
	}
	if opts.VocabSize < nSpecial+256 {
		return nil, fmt.Errorf("tokenizer: vocabulary size %d is below %d special + 256 byte tokens", opts.VocabSize, nSpecial)
	}
	pre, _, err := preTokenizerFor("gpt-2")
	if err != nil {
		return nil, err
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	counts := countWords(texts, opts.Special, pre, threads)

	tr := newBPETrainer(opts.Special, counts)
	var merges []string
	for len(tr.tokens) < opts.VocabSize {
		a, b, ok := tr.best()
		if !ok {
			break // every pair left involves a digit, or the corpus is exhausted
		}
		merges = append(merges, tr.tokens[a]+" "+tr.tokens[b])
		tr.merge(a, b)
	}

	types := make([]TokenType, len(tr.tokens))
	for i := range types {
		types[i] = TypeNormal
		if i < nSpecial {
			types[i] = TypeControl
		}
	}
	return &Vocab{Model: "gpt2", Pre: "gpt-2", Tokens: tr.tokens, Types: types, Merges: merges, AddBOS: Bool(false)}, nil
}

// countWords cuts every text at the special tokens, pre-tokenizes the pieces and counts each
// distinct word (raw UTF-8 bytes), in parallel over contiguous shards of texts.
func countWords(texts []string, special []string, pre *preTokenizer, threads int) map[string]int64 {
	shards := make([]map[string]int64, threads)
	var wg sync.WaitGroup
	for s := range shards {
		lo, hi := len(texts)*s/threads, len(texts)*(s+1)/threads
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := map[string]int64{}
			for _, text := range texts[lo:hi] {
				for _, piece := range splitSpecial(text, special) {
					pre.words(piece, func(w []byte) { m[string(w)]++ })
				}
			}
			shards[s] = m
		}()
	}
	wg.Wait()
	all := shards[0]
	for _, m := range shards[1:] {
		for w, n := range m {
			all[w] += n
		}
	}
	return all
}

// splitSpecial returns the pieces of text between occurrences of the special tokens (the
// leftmost occurrence first, the longest token on a tie), without the empty ones.
func splitSpecial(text string, special []string) []string {
	var out []string
	for text != "" {
		at, n := -1, 0
		for _, s := range special {
			i := strings.Index(text, s)
			if i >= 0 && (at < 0 || i < at || i == at && len(s) > n) {
				at, n = i, len(s)
			}
		}
		if at < 0 {
			return append(out, text)
		}
		if at > 0 {
			out = append(out, text[:at])
		}
		text = text[at+n:]
	}
	return out
}

// bpeTrainer holds the state of BPE training. A pair (a, b) of token ids is packed as
// uint64(a)<<32 | b.
type bpeTrainer struct {
	tokens []string         // token texts by id (byte-level code points)
	ids    map[string]int32 // token text -> id
	frozen []bool           // tokens that never merge (they contain a digit)

	words  [][]int32 // the token ids of each distinct word
	counts []int64   // occurrences of each distinct word

	pairs map[uint64]int64   // occurrences of each mergeable adjacent pair, > 0
	where map[uint64][]int32 // words that held the pair when it was recorded (may repeat or be stale)
	queue pairQueue          // candidate pairs; entries whose count changed are stale
	grown map[uint64]bool    // pairs with the token being merged, counted during one merge
	stamp []int32            // per word: the last merge that visited it
	step  int32
}

func newBPETrainer(special []string, counts map[string]int64) *bpeTrainer {
	t := &bpeTrainer{ids: map[string]int32{}, pairs: map[uint64]int64{}, where: map[uint64][]int32{},
		grown: map[uint64]bool{}}
	for _, s := range special {
		t.add(s, false)
	}
	base := int32(len(t.tokens))
	for b := 0; b < 256; b++ {
		t.add(string(byteToRune[b]), b >= '0' && b <= '9')
	}
	t.words = make([][]int32, 0, len(counts))
	t.counts = make([]int64, 0, len(counts))
	for w, n := range counts {
		syms := make([]int32, len(w))
		for i := 0; i < len(w); i++ {
			syms[i] = base + int32(w[i])
		}
		t.words = append(t.words, syms)
		t.counts = append(t.counts, n)
	}
	t.stamp = make([]int32, len(t.words))
	for w, syms := range t.words {
		t.count(int32(w), syms, t.counts[w], -1)
	}
	t.queue = pairQueue{items: make([]pairCount, 0, len(t.pairs)), t: t}
	for p, n := range t.pairs {
		t.queue.items = append(t.queue.items, pairCount{p, n})
	}
	heap.Init(&t.queue)
	return t
}

func (t *bpeTrainer) add(text string, frozen bool) int32 {
	id := int32(len(t.tokens))
	t.tokens = append(t.tokens, text)
	t.ids[text] = id
	t.frozen = append(t.frozen, frozen)
	return id
}

// count adds n occurrences of every mergeable adjacent pair of syms (word w) to the pair
// counts. Pairs that involve the token record (or -1 for all pairs) also record w in where.
func (t *bpeTrainer) count(w int32, syms []int32, n int64, record int32) {
	for i := 1; i < len(syms); i++ {
		a, b := syms[i-1], syms[i]
		if t.frozen[a] || t.frozen[b] {
			continue
		}
		p := uint64(a)<<32 | uint64(uint32(b))
		if c := t.pairs[p] + n; c != 0 {
			t.pairs[p] = c
		} else {
			delete(t.pairs, p)
		}
		if n > 0 && (record < 0 || a == record || b == record) {
			t.where[p] = append(t.where[p], w)
			if record >= 0 {
				t.grown[p] = true
			}
		}
	}
}

// best pops the pair to merge next: the highest count, then the lowest token texts.
func (t *bpeTrainer) best() (a, b int32, ok bool) {
	for t.queue.Len() > 0 {
		e := heap.Pop(&t.queue).(pairCount)
		n := t.pairs[e.pair]
		if n == 0 {
			continue
		}
		if n != e.count { // counts of existing pairs only fall, so the entry is late, not early
			heap.Push(&t.queue, pairCount{e.pair, n})
			continue
		}
		return int32(e.pair >> 32), int32(uint32(e.pair)), true
	}
	return 0, 0, false
}

// merge replaces every occurrence of the pair (a, b), left to right, by the token a+b (new,
// or the existing token of that text) and updates the pair counts and the queue.
func (t *bpeTrainer) merge(a, b int32) {
	text := t.tokens[a] + t.tokens[b]
	id, ok := t.ids[text]
	if !ok {
		id = t.add(text, false)
	}
	p := uint64(a)<<32 | uint64(uint32(b))
	t.step++
	for _, w := range t.where[p] {
		if t.stamp[w] == t.step {
			continue
		}
		t.stamp[w] = t.step
		syms := t.words[w]
		if !hasPair(syms, a, b) {
			continue
		}
		n := t.counts[w]
		t.count(w, syms, -n, -1)
		j := 0
		for i := 0; i < len(syms); j++ {
			if i+1 < len(syms) && syms[i] == a && syms[i+1] == b {
				syms[j] = id
				i += 2
			} else {
				syms[j] = syms[i]
				i++
			}
		}
		syms = syms[:j]
		t.words[w] = syms
		t.count(w, syms, n, id)
	}
	delete(t.where, p)
	delete(t.pairs, p)
	// Pairs with the merged token are the only ones whose count grew: queue them with their
	// final counts. (An older entry of such a pair, possible when the token existed, is
	// harmless: best skips or re-queues entries whose count is not the current one.)
	for q := range t.grown {
		if n, live := t.pairs[q]; live {
			heap.Push(&t.queue, pairCount{q, n})
		}
	}
	clear(t.grown)
}

func hasPair(syms []int32, a, b int32) bool {
	for i := 1; i < len(syms); i++ {
		if syms[i-1] == a && syms[i] == b {
			return true
		}
	}
	return false
}

// pairCount is a queue entry: a pair and its count when queued.
type pairCount struct {
	pair  uint64
	count int64
}

// pairQueue is a max-heap of pairs by count, ties by lowest left then right token text.
type pairQueue struct {
	items []pairCount
	t     *bpeTrainer
}

func (q pairQueue) Len() int { return len(q.items) }
func (q pairQueue) Less(i, j int) bool {
	x, y := q.items[i], q.items[j]
	if x.count != y.count {
		return x.count > y.count
	}
	tok := q.t.tokens
	if l1, l2 := tok[x.pair>>32], tok[y.pair>>32]; l1 != l2 {
		return l1 < l2
	}
	return tok[uint32(x.pair)] < tok[uint32(y.pair)]
}
func (q pairQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *pairQueue) Push(x any)   { q.items = append(q.items, x.(pairCount)) }
func (q *pairQueue) Pop() any {
	x := q.items[len(q.items)-1]
	q.items = q.items[:len(q.items)-1]
	return x
}
