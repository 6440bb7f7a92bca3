package tokenizer

import (
	"container/heap"
	"strings"
	"unicode/utf8"
)

// fragment is a piece of the input: raw text still to tokenize, or a special token cut out of
// it.
type fragment struct {
	text  string // raw text (when token < 0)
	token int
}

// Encode tokenizes text as llama.cpp's llama_tokenize does.
//
// With addSpecial, BOS is prepended and EOS appended where the vocabulary asks for them
// (AddBOS, AddEOS). With parseSpecial, control tokens written in the text (such as
// "<|im_start|>") become their ids; user-defined tokens are always recognised, control and
// unknown ones only with parseSpecial. Invalid UTF-8 never fails: byte-level BPE encodes each
// bad byte as U+FFFD, SentencePiece falls back to byte tokens.
func (t *Tokenizer) Encode(text string, addSpecial, parseSpecial bool) []int {
	out := make([]int, 0, len(text)/3+2)
	var frags []fragment
	if text != "" {
		frags = t.partition(text, parseSpecial)
	}
	if addSpecial && t.addBOS && t.bos != noToken {
		out = append(out, t.bos)
	}
	prevSpecial := true // SentencePiece: prefix a space to the first fragment and after specials
	for _, f := range frags {
		if f.token >= 0 {
			out = append(out, f.token)
			prevSpecial = true
			continue
		}
		if t.spm {
			s := f.text
			if t.addSpacePrefix && prevSpecial {
				s = " " + s
			}
			out = t.encodeSPM(strings.ReplaceAll(s, " ", "▁"), out)
			prevSpecial = false
			continue
		}
		t.pre.words(f.text, func(word []byte) {
			out = t.encodeWord(byteEncode(word), out)
		})
	}
	if addSpecial && t.addEOS && t.eos != noToken {
		out = append(out, t.eos)
	}
	return out
}

// byteEncode maps every byte to its byte-level BPE code point.
func byteEncode(word []byte) string {
	buf := make([]byte, 0, 2*len(word))
	for _, b := range word {
		buf = utf8.AppendRune(buf, byteToRune[b])
	}
	return string(buf)
}

// partition cuts special tokens out of text: for each special token, longest first, every
// occurrence in every remaining raw fragment, left to right. Tokens with the lstrip/rstrip
// attribute swallow the white space before/after them.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	frags := []fragment{{text: text, token: -1}}
	present := t.specialTrie.occurring(text)
	if len(present) == 0 {
		return frags
	}
	var next []fragment
	for _, id := range t.specials {
		a := t.attrs[id]
		if !present[id] || !parseSpecial && a&(attrControl|attrUnknown) != 0 {
			continue
		}
		tok := t.tokens[id]
		next = next[:0]
		changed := false
		for _, f := range frags {
			if f.token >= 0 || !strings.Contains(f.text, tok) {
				next = append(next, f)
				continue
			}
			changed = true
			rest := f.text
			for {
				i := strings.Index(rest, tok)
				if i < 0 {
					if rest != "" {
						next = append(next, fragment{text: rest, token: -1})
					}
					break
				}
				left := rest[:i]
				if a&attrLStrip != 0 {
					left = strings.TrimRightFunc(left, isCSpace)
				}
				if left != "" {
					next = append(next, fragment{text: left, token: -1})
				}
				next = append(next, fragment{token: int(id)})
				rest = rest[i+len(tok):]
				if a&attrRStrip != 0 {
					rest = strings.TrimLeftFunc(rest, isCSpace)
				}
			}
		}
		if changed {
			frags, next = next, frags
		}
	}
	return frags
}

// trieNode is a byte trie of the special tokens' texts, used to find which of them occur in
// a text at all (only those can be cut out of it).
type trieNode struct {
	next map[byte]*trieNode
	ids  []int32 // tokens whose text ends here (several when texts repeat)
}

func (n *trieNode) insert(s string, id int32) {
	for i := 0; i < len(s); i++ {
		if n.next == nil {
			n.next = map[byte]*trieNode{}
		}
		c, ok := n.next[s[i]]
		if !ok {
			c = &trieNode{}
			n.next[s[i]] = c
		}
		n = c
	}
	n.ids = append(n.ids, id)
}

// occurring returns the set of token ids whose text occurs somewhere in text (nil if none).
func (n *trieNode) occurring(text string) map[int32]bool {
	var found map[int32]bool
	for i := 0; i < len(text); i++ {
		node := n.next[text[i]]
		for j := i + 1; node != nil; j++ {
			for _, id := range node.ids {
				if found == nil {
					found = map[int32]bool{}
				}
				found[id] = true
			}
			if j == len(text) {
				break
			}
			node = node.next[text[j]]
		}
	}
	return found
}

func isCSpace(r rune) bool { return r < 0x80 && asciiWhitespace(byte(r)) }

// SentencePiece encoding: start from single UTF-8 characters and repeatedly merge the adjacent
// pair whose concatenation is the token with the highest score (leftmost on ties); symbols that
// never became a token are emitted as byte tokens.

type spmSymbol struct {
	start, end int
	prev, next int
}

type spmBigram struct {
	left, right int
	score       float32
	size        int
}

type spmQueue []spmBigram

func (q spmQueue) Len() int { return len(q) }
func (q spmQueue) Less(i, j int) bool {
	if q[i].score != q[j].score {
		return q[i].score > q[j].score
	}
	return q[i].left < q[j].left
}
func (q spmQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *spmQueue) Push(x any)   { *q = append(*q, x.(spmBigram)) }
func (q *spmQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func (t *Tokenizer) encodeSPM(text string, out []int) []int {
	if text == "" {
		return out
	}
	syms := make([]spmSymbol, 0, len(text))
	for i := 0; i < len(text); {
		n := min(utf8Len(text[i]), len(text)-i)
		syms = append(syms, spmSymbol{start: i, end: i + n, prev: len(syms) - 1, next: len(syms) + 1})
		i += n
	}
	syms[len(syms)-1].next = -1

	var q spmQueue
	try := func(l, r int) {
		if l < 0 || r < 0 {
			return
		}
		s := text[syms[l].start:syms[r].end]
		if id, ok := t.toID[s]; ok {
			heap.Push(&q, spmBigram{left: l, right: r, score: t.scores[id], size: len(s)})
		}
	}
	for i := 1; i < len(syms); i++ {
		try(i-1, i)
	}
	for q.Len() > 0 {
		b := heap.Pop(&q).(spmBigram)
		l, r := &syms[b.left], &syms[b.right]
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
		s := text[syms[i].start:syms[i].end]
		if id, ok := t.toID[s]; ok {
			out = append(out, int(id))
			continue
		}
		for j := 0; j < len(s); j++ {
			if id := t.byteTokens[s[j]]; id >= 0 {
				out = append(out, int(id))
			} else if t.unk != noToken {
				out = append(out, t.unk) // llama.cpp aborts here; the vocabulary lacks byte tokens
			}
		}
	}
	return out
}
