package constrain

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// Rules say what a generated text may state. The zero value allows any text that has no figure
// word at all.
type Rules struct {
	// Figures are the figure words the text may contain. A figure word is a maximal run of
	// letters and digits joined by single inner separators among ".,:/-" (a separator is inner
	// only when a letter or digit follows it) that contains at least one digit: "6.95", "14",
	// "2A", "PH-0101", "8:00-19:00", "1.5". Matching ignores case (Unicode simple case folding,
	// so ASCII case in particular). Letters and digits are those of any script (a digit is a
	// decimal digit, unicode.IsDigit; combining marks count as letters). A run of letters without
	// a digit is not a figure and is free. "€6.95." holds the figure "6.95" (the final period is
	// not inner). Every figure word of the text must be exactly one of Figures. An entry that is
	// not itself one figure word contributes the figure words it holds ("6.95 EUR" allows
	// "6.95").
	Figures []string
	// Forbidden are phrases (sequences of words, compared case-insensitively, a word being a
	// maximal run of letters/digits) the text must not contain as whole words: the token that
	// would complete the last word followed by a word boundary (any other character, or the end
	// of generation) is masked. Consecutive words of the text match whatever separates them
	// ("free, shipping" holds the phrase "free shipping"). An element holding several words
	// counts as those words in order.
	Forbidden [][]string
}

// Violation is a place where a text breaks its rules.
type Violation struct {
	Kind   string // "figure" (a figure word not among Rules.Figures) or "phrase" (a forbidden phrase)
	Text   string // the figure word, or the words of the phrase, as they appear in the text
	Offset int    // byte offset of Text in the text
}

// Check reports every violation of r in a finished text (an answer generated under a State, or
// any other text): figure words that are not among r.Figures and forbidden phrases. Bytes that
// are not UTF-8 count as boundaries. A text cut short (at MaxTokens, or before a stop string)
// can end in an unfinished figure ("6.9" for "6.95"), which Check reports.
func Check(r Rules, text string) []Violation {
	return compile(r).scan(text, true, false)
}

// compiled is a rule set in the form the automaton uses.
type compiled struct {
	fig    trie      // folded figure words
	word   trie      // folded words of the forbidden phrases; term is the word's id
	phrase automaton // forbidden phrases over word ids
}

func compile(r Rules) *compiled {
	c := &compiled{}
	var figs []string
	for _, f := range r.Figures {
		for _, w := range figureWords(f) {
			figs = append(figs, foldString(w))
		}
	}
	c.fig = buildTrie(figs)
	var words []string
	var phrases [][]string
	for _, p := range r.Forbidden {
		var ws []string
		for _, part := range p {
			for _, w := range wordsOf(part) {
				ws = append(ws, foldString(w))
			}
		}
		if len(ws) > 0 {
			phrases = append(phrases, ws)
			words = append(words, ws...)
		}
	}
	c.word = buildTrie(words)
	ids := make([][]int32, len(phrases))
	for i, p := range phrases {
		for _, w := range p {
			n := c.word.lookup(w)
			ids[i] = append(ids[i], c.word.term[n])
		}
	}
	c.phrase = buildAutomaton(ids)
	return c
}

// span is a run of text: [start, end) bytes.
type span struct{ start, end int }

// runes decodes text; bytes that are not UTF-8 become U+FFFD, one per byte.
func runes(text string) (rs []rune, pos []int) {
	for i, r := range text {
		rs = append(rs, r)
		pos = append(pos, i)
	}
	return rs, append(pos, len(text))
}

// figureRuns returns the runs of letters and digits joined by single inner separators, with
// whether each holds a digit and whether it is open (with open set: the text may continue and
// the run reaches its end, or only a separator follows it).
func figureRuns(rs []rune, open bool) (runs []span, digit, isOpen []bool) {
	for i := 0; i < len(rs); {
		if !isWordClass(runeClass(rs[i])) {
			i++
			continue
		}
		start, d := i, false
		for {
			for i < len(rs) && isWordClass(runeClass(rs[i])) {
				d = d || runeClass(rs[i]) == clsDigit
				i++
			}
			if i+1 < len(rs) && runeClass(rs[i]) == clsSep && isWordClass(runeClass(rs[i+1])) {
				i++
				continue
			}
			break
		}
		runs = append(runs, span{start, i})
		digit = append(digit, d)
		isOpen = append(isOpen, open && (i == len(rs) || (i+1 == len(rs) && runeClass(rs[i]) == clsSep)))
	}
	return runs, digit, isOpen
}

// figureWords returns the figure words of s.
func figureWords(s string) []string {
	rs, pos := runes(s)
	runs, digit, _ := figureRuns(rs, false)
	var out []string
	for i, r := range runs {
		if digit[i] {
			out = append(out, s[pos[r.start]:pos[r.end]])
		}
	}
	return out
}

// wordsOf returns the words (maximal runs of word characters) of s.
func wordsOf(s string) []string {
	var out []string
	start := -1
	for i, r := range s {
		if isWordClass(runeClass(r)) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			out = append(out, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

// scan is the reference check, written plainly over the whole text (the State's automaton reaches
// the same verdicts a byte at a time; the tests hold them to each other). With final false the
// text may continue: its last figure may be unfinished and its last word is not yet a whole word.
// heldSpace (with final false) says that a trailing space may still vanish before a following
// "." or "," (the decoder's clean-up), so a figure it follows may continue.
func (c *compiled) scan(text string, final, heldSpace bool) []Violation {
	var out []Violation
	rs, pos := runes(text)
	held := !final && heldSpace && len(rs) >= 2 && rs[len(rs)-1] == ' ' && isWordClass(runeClass(rs[len(rs)-2]))
	if held {
		// the run before the space stays open; the word before it is whole either way
		rs, pos = rs[:len(rs)-1], pos[:len(pos)-1]
	}
	runs, digit, open := figureRuns(rs, !final)
	for i, r := range runs {
		if !digit[i] {
			continue
		}
		f := foldString(string(rs[r.start:r.end]))
		n := c.fig.lookup(f)
		if n < 0 || (!open[i] && c.fig.term[n] < 0) {
			out = append(out, Violation{Kind: "figure", Text: text[pos[r.start]:pos[r.end]], Offset: pos[r.start]})
		}
	}
	if len(c.phrase.states) == 1 {
		return out
	}
	// whole words, in order: a word is whole when something follows it (or at the end, when final)
	var words []span
	for i := 0; i < len(rs); {
		if !isWordClass(runeClass(rs[i])) {
			i++
			continue
		}
		j := i
		for j < len(rs) && isWordClass(runeClass(rs[j])) {
			j++
		}
		if j < len(rs) || final || held {
			words = append(words, span{i, j})
		}
		i = j
	}
	ids := make([]int32, len(words))
	for i, w := range words {
		ids[i] = -1
		if n := c.word.lookup(foldString(string(rs[w.start:w.end]))); n >= 0 {
			ids[i] = c.word.term[n]
		}
	}
	for _, p := range c.phrase.phrases {
		for i := 0; i+len(p) <= len(ids); i++ {
			match := true
			for k, id := range p {
				if ids[i+k] != id {
					match = false
					break
				}
			}
			if match {
				first, last := words[i], words[i+len(p)-1]
				out = append(out, Violation{Kind: "phrase", Text: text[pos[first.start]:pos[last.end]], Offset: pos[first.start]})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Offset < out[j].Offset })
	return out
}

// trie is a byte trie over folded strings, flattened: node n's children are the edges
// [first[n], first[n]+count[n]), sorted by byte.
type trie struct {
	first, count []int32
	term         []int32  // per node: the id of the string ending there (its index among the distinct strings), or -1
	strs         []string // the distinct strings by id
	wide         []bool   // per node: a child spells a character that a non-ASCII character folds to
	label        []byte   // per edge
	next         []int32  // per edge
}

func buildTrie(in []string) trie {
	type edge struct {
		b    byte
		next int32
	}
	kids := [][]edge{nil}
	term := []int32{-1}
	var strs []string
	for _, s := range in {
		n := int32(0)
	chars:
		for i := 0; i < len(s); i++ {
			for _, e := range kids[n] {
				if e.b == s[i] {
					n = e.next
					continue chars
				}
			}
			k := int32(len(kids))
			kids = append(kids, nil)
			term = append(term, -1)
			kids[n] = append(kids[n], edge{s[i], k})
			n = k
		}
		if term[n] < 0 && s != "" {
			term[n] = int32(len(strs))
			strs = append(strs, s)
		}
	}
	t := trie{first: make([]int32, len(kids)), count: make([]int32, len(kids)), term: term, strs: strs,
		wide: make([]bool, len(kids))}
	for i, es := range kids {
		sort.Slice(es, func(a, b int) bool { return es[a].b < es[b].b })
		t.first[i] = int32(len(t.label))
		t.count[i] = int32(len(es))
		for _, e := range es {
			t.label = append(t.label, e.b)
			t.next = append(t.next, e.next)
			t.wide[i] = t.wide[i] || e.b >= utf8.RuneSelf || foldsFromWide(rune(e.b))
		}
	}
	return t
}

// foldsFromWide reports whether some non-ASCII rune has ASCII r in its case-folding orbit (the
// Kelvin sign and K, the long s and S).
func foldsFromWide(r rune) bool {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// step follows the edge labelled b from node n; -1 (no string continues so) stays -1.
func (t *trie) step(n int32, b byte) int32 {
	if n < 0 {
		return -1
	}
	for e := t.first[n]; e < t.first[n]+t.count[n]; e++ {
		if t.label[e] == b {
			return t.next[e]
		}
	}
	return -1
}

// lookup returns the node s leads to from the root, or -1.
func (t *trie) lookup(s string) int32 {
	n := int32(0)
	for i := 0; i < len(s) && n >= 0; i++ {
		n = t.step(n, s[i])
	}
	return n
}

// terminal reports whether a string ends at node n.
func (t *trie) terminal(n int32) bool { return n >= 0 && t.term[n] >= 0 }

// automaton is an Aho-Corasick automaton over word ids: its state is the longest suffix of the
// whole words so far that begins some phrase; match[s] is set when a phrase ends there.
type automaton struct {
	phrases [][]int32
	states  []acState
}

type acState struct {
	words, next []int32 // goto edges
	fail        int32
	match       bool
}

func buildAutomaton(phrases [][]int32) automaton {
	a := automaton{phrases: phrases, states: []acState{{}}}
	for _, p := range phrases {
		s := int32(0)
		for _, w := range p {
			k := a.gotoEdge(s, w)
			if k < 0 {
				k = int32(len(a.states))
				a.states = append(a.states, acState{})
				a.states[s].words = append(a.states[s].words, w)
				a.states[s].next = append(a.states[s].next, k)
			}
			s = k
		}
		a.states[s].match = true
	}
	// failure links, breadth first
	queue := []int32{}
	for _, k := range a.states[0].next {
		queue = append(queue, k)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for i, w := range a.states[s].words {
			k := a.states[s].next[i]
			a.states[k].fail = a.step(a.states[s].fail, w)
			a.states[k].match = a.states[k].match || a.states[a.states[k].fail].match
			queue = append(queue, k)
		}
	}
	return a
}

func (a *automaton) gotoEdge(s, w int32) int32 {
	st := &a.states[s]
	for i, x := range st.words {
		if x == w {
			return st.next[i]
		}
	}
	return -1
}

// step is the state after whole word w (-1: a word of no phrase) in state s.
func (a *automaton) step(s, w int32) int32 {
	if w < 0 {
		return 0
	}
	for {
		if k := a.gotoEdge(s, w); k >= 0 {
			return k
		}
		if s == 0 {
			return 0
		}
		s = a.states[s].fail
	}
}
