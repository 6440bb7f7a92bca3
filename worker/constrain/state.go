package constrain

import (
	"unicode"
	"unicode/utf8"
)

// cursor is where the automaton stands in the text: the character being read, the figure run and
// the word the text ends in, and the phrase automaton's state. Small, copied freely.
type cursor struct {
	ubuf  [utf8.UTFMax]byte // an incomplete character
	ulen  uint8             // its bytes so far
	uneed uint8             // its length (0: none pending)
	space bool              // a space held back after a run (clean-up vocabularies): removed if "." or "," follows
	run   bool              // inside a figure run
	digit bool              // the run holds a digit
	sep   byte              // a separator after the run, inner only if a letter or digit follows
	word  bool              // inside a word
	fnode int32             // figure-trie node of the run (-1: no figure starts so)
	wnode int32             // word-trie node of the word (-1: no forbidden word starts so)
	ac    int32             // phrase automaton state
}

// machine runs cursors over bytes for one rule set and one vocabulary's decoder.
type machine struct {
	c     *compiled
	clean bool
}

// feed advances cur over p; false when p breaks a rule (cur is then undefined).
func (m *machine) feed(cur *cursor, p []byte) bool {
	for _, b := range p {
		if !m.byte(cur, b) {
			return false
		}
	}
	return true
}

func (m *machine) byte(cur *cursor, b byte) bool {
	if cur.uneed > 0 {
		lo, hi := byte(0x80), byte(0xBF)
		if cur.ulen == 1 {
			lo, hi = secondRange(cur.ubuf[0])
		}
		if b < lo || b > hi {
			return false // not UTF-8
		}
		cur.ubuf[cur.ulen] = b
		cur.ulen++
		if cur.ulen < cur.uneed {
			return true
		}
		r, _ := utf8.DecodeRune(cur.ubuf[:cur.ulen])
		cur.ulen, cur.uneed = 0, 0
		if isWordClass(runeClass(r)) {
			var buf [utf8.UTFMax]byte
			return m.wordChar(cur, utf8.AppendRune(buf[:0], fold(r)), runeClass(r) == clsDigit)
		}
		return m.boundary(cur)
	}
	if cur.space {
		// the held space: removed before "." and ",", else a real boundary
		if b != '.' && b != ',' {
			if !m.endRun(cur) {
				return false
			}
		}
		cur.space = false
	}
	if b >= utf8.RuneSelf {
		n := utf8Len(b)
		if n == 0 {
			return false
		}
		cur.ubuf[0], cur.ulen, cur.uneed = b, 1, uint8(n)
		return true
	}
	switch asciiClass[b] {
	case clsDigit:
		return m.wordChar(cur, []byte{b}, true)
	case clsLetter:
		return m.wordChar(cur, []byte{b &^ 0x20}, false)
	case clsSep:
		return m.separator(cur, b)
	case clsSpace:
		if m.clean && cur.run && cur.sep == 0 {
			// the word is whole whatever follows; the run may go on if "." or "," follows
			if !m.endWord(cur) {
				return false
			}
			cur.space = true
			return true
		}
	}
	return m.boundary(cur)
}

// wordChar appends a letter or digit (its folded bytes f).
func (m *machine) wordChar(cur *cursor, f []byte, digit bool) bool {
	switch {
	case !cur.run:
		cur.run, cur.digit, cur.fnode = true, false, 0
	case cur.sep != 0: // the separator is inner
		cur.fnode = m.c.fig.step(cur.fnode, cur.sep)
		cur.sep = 0
	}
	for _, x := range f {
		cur.fnode = m.c.fig.step(cur.fnode, x)
	}
	if digit {
		cur.digit = true
	}
	if cur.digit && cur.fnode < 0 {
		return false // a figure word no figure starts with
	}
	if !cur.word {
		cur.word, cur.wnode = true, 0
	}
	for _, x := range f {
		cur.wnode = m.c.word.step(cur.wnode, x)
	}
	return true
}

func (m *machine) separator(cur *cursor, b byte) bool {
	if !m.endWord(cur) {
		return false
	}
	if !cur.run {
		return true
	}
	if cur.sep != 0 { // two separators: the first was not inner
		return m.endRun(cur)
	}
	cur.sep = b
	return true
}

func (m *machine) boundary(cur *cursor) bool {
	return m.endWord(cur) && m.endRun(cur)
}

// endRun ends the figure run (before a pending separator): it must be a whole figure if it holds
// a digit.
func (m *machine) endRun(cur *cursor) bool {
	if !cur.run {
		return true
	}
	cur.run, cur.sep = false, 0
	return !cur.digit || m.c.fig.terminal(cur.fnode)
}

// endWord makes the word whole: it must not complete a forbidden phrase.
func (m *machine) endWord(cur *cursor) bool {
	if !cur.word {
		return true
	}
	cur.word = false
	id := int32(-1)
	if cur.wnode >= 0 {
		id = m.c.word.term[cur.wnode]
	}
	cur.ac = m.c.phrase.step(cur.ac, id)
	return !m.c.phrase.states[cur.ac].match
}

// end is the end of the text (an end-of-generation token): everything pending is decided.
func (m *machine) end(cur *cursor) bool {
	if cur.uneed > 0 {
		return false // an incomplete character
	}
	cur.space = false
	return m.boundary(cur)
}

// viable reports whether the text can still be completed within the rules: a separator, a held
// space or an incomplete character at its end must have some continuation that works ("5-" is a
// dead end when the only figure starting with 5 is "5kg"; so is an incomplete character all of
// whose completions are letters after "5-").
func (m *machine) viable(cur *cursor) bool {
	fig := &m.c.fig
	switch {
	case cur.uneed > 0:
		return m.viableChar(cur)
	case cur.space: // "." or "," may follow
		return !cur.digit || fig.terminal(cur.fnode) || fig.step(cur.fnode, '.') >= 0 || fig.step(cur.fnode, ',') >= 0
	case cur.run && cur.sep != 0:
		return !cur.digit || fig.terminal(cur.fnode) || fig.step(cur.fnode, cur.sep) >= 0
	}
	return true
}

// viableChar is viable for a cursor inside an incomplete character: some character starting with
// its bytes must fit.
func (m *machine) viableChar(cur *cursor) bool {
	p := cur.ubuf[:cur.ulen]
	cls := completions(p)
	if cls&canBoundary != 0 {
		c := *cur
		c.ulen, c.uneed = 0, 0
		if m.boundary(&c) {
			return true
		}
	}
	digitRun := cur.run && cur.digit
	if cls&canLetter != 0 && !digitRun {
		return true // a letter starts or continues a run without digits
	}
	want := cls & canDigit // the classes that must go on along the figure trie
	if digitRun {
		want = cls & (canLetter | canDigit)
	}
	if want == 0 {
		return false
	}
	n := int32(0)
	if cur.run {
		n = cur.fnode
		if cur.sep != 0 {
			n = m.c.fig.step(n, cur.sep)
		}
	}
	var path [utf8.UTFMax]byte
	return n >= 0 && m.trieChar(n, p, want, path[:0], 0)
}

// trieChar reports whether a path of the figure trie from node n spells (folded) a character of a
// class in want whose encoding starts with p (non-ASCII); path holds the depth bytes spelled so far.
func (m *machine) trieChar(n int32, p []byte, want uint8, path []byte, depth int) bool {
	t := &m.c.fig
	if depth == 0 && !t.wide[n] {
		return false // only ASCII characters that no non-ASCII one folds to continue from here
	}
	if depth > 0 && depth == utf8Len(path[0]) {
		f, _ := utf8.DecodeRune(path)
		r := f
		for {
			var buf [utf8.UTFMax]byte
			k := utf8.EncodeRune(buf[:], r)
			if k > len(p) && string(buf[:len(p)]) == string(p) {
				cls := uint8(canBoundary)
				switch runeClass(r) {
				case clsLetter:
					cls = canLetter
				case clsDigit:
					cls = canDigit
				}
				if cls&want != 0 {
					return true
				}
			}
			if r = unicode.SimpleFold(r); r == f {
				return false
			}
		}
	}
	for e := t.first[n]; e < t.first[n]+t.count[n]; e++ {
		if depth == 0 && utf8Len(t.label[e]) == 0 {
			continue
		}
		if m.trieChar(t.next[e], p, want, append(path, t.label[e]), depth+1) {
			return true
		}
	}
	return false
}

// canEndRun is whether the run could end here (a boundary now).
func (m *machine) canEndRun(cur *cursor) bool {
	return !cur.run || !cur.digit || m.c.fig.terminal(cur.fnode)
}

// canEndWord is whether the word could become whole here.
func (m *machine) canEndWord(cur *cursor) bool {
	if !cur.word {
		return true
	}
	id := int32(-1)
	if cur.wnode >= 0 {
		id = m.c.word.term[cur.wnode]
	}
	return !m.c.phrase.states[m.c.phrase.step(cur.ac, id)].match
}

// State holds one generation to its Rules: Mask says which tokens may come next, Accept records
// the token taken. It implements the engine's per-token filter (engine.TokenFilter). Not safe for
// concurrent use; create one per generation.
type State struct {
	v   *Vocab
	m   machine
	cur cursor
	bad bool // a token the rules forbid was accepted: only end of generation is allowed

	sens []int32 // tokens in which a word of a forbidden phrase is whole: always checked one by one
	// Bulk verdicts by kind for the rule set, leaving out the tokens checked one by one. "Failing"
	// is judged by running the token's text from the start of a text (freshBad in NewState), or
	// from where a figure run it continues has surely ended (restBad); only tokens with a digit
	// can fail so.
	fFresh    []uint32 // every kind that can follow a boundary, not failing from there
	fEnd      []uint32 // kHard and kSepEnd, not failing after their first character
	fNonWord  []uint32 // every kind starting with a boundary, separator or space, not failing from there
	fLead     []uint32 // kLead
	dWord     []uint32 // kWord continuing a run no figure starts with: no digit in that run, no failure after it
	dSepInner []uint32 // kSepInner likewise
	scratch   []uint32
	exc       []int32 // tokens to check one by one this step
}

// NewState starts a generation under r with vocabulary v.
func NewState(v *Vocab, r Rules) *State {
	s := &State{v: v, m: machine{c: compile(r), clean: v.clean}}
	w := v.words
	freshBad := make([]uint32, w)
	restBad := make([]uint32, w)
	for i, id := range v.digits {
		p := v.tokText(int(id))
		var c cursor
		if !s.m.feed(&c, p) || !s.m.viable(&c) {
			freshBad[id/32] |= 1 << (id % 32)
		}
		if rp := v.reset[i]; rp != noReset {
			c = cursor{}
			if !s.m.feed(&c, p[rp:]) || !s.m.viable(&c) {
				restBad[id/32] |= 1 << (id % 32)
			}
		}
	}
	sens := make([]uint32, w)
	c := s.m.c
	for _, word := range c.word.strs {
		for _, id := range v.wordTokens[word] {
			if sens[id/32]&(1<<(id%32)) == 0 {
				sens[id/32] |= 1 << (id % 32)
				s.sens = append(s.sens, id)
			}
		}
	}
	mk := func() []uint32 { return make([]uint32, w) }
	s.fFresh, s.fEnd, s.fNonWord, s.fLead = mk(), mk(), mk(), mk()
	s.dWord, s.dSepInner, s.scratch = mk(), mk(), mk()
	b := &v.bits
	for i := range w {
		ok := ^(freshBad[i] | sens[i])
		hard, sepEnd := b[kHard][i]&ok, b[kSepEnd][i]&ok
		sepOnly, space, lead := b[kSepOnly][i]&ok, b[kSpace][i]&ok, b[kLead][i]&ok
		word, sepInner := b[kWord][i]&ok, b[kSepInner][i]&ok
		s.fFresh[i] = hard | sepEnd | sepOnly | space | lead | word | sepInner
		s.fEnd[i] = hard | sepEnd
		s.fNonWord[i] = hard | sepEnd | sepInner | sepOnly | space
		s.fLead[i] = lead
		dead := ^(v.headDigit[i] | restBad[i] | sens[i])
		s.dWord[i] = b[kWord][i] & dead
		s.dSepInner[i] = b[kSepInner][i] & dead
	}
	return s
}

// Accept records token tok as the next of the text (its text as the decoder renders it). A token
// that Mask did not allow puts s in a state that allows only end of generation.
func (s *State) Accept(tok int) {
	if tok < 0 || tok >= s.v.n || s.bad || s.v.kind[tok] == kNever {
		return // control and unknown tokens render as nothing
	}
	if !s.m.feed(&s.cur, s.v.tokText(tok)) {
		s.bad = true
	}
}

// allows reports whether token id (not kNever, not kEOG) may come next.
func (s *State) allows(id int) bool {
	c := s.cur
	return s.m.feed(&c, s.v.tokText(id)) && s.m.viable(&c)
}

// Complete reports whether the text could end here (end of generation would be allowed).
func (s *State) Complete() bool {
	c := s.cur
	return !s.bad && s.m.end(&c)
}

// Mask sets bit i of allowed (allowed[i/32]>>(i%32)&1) for every token i that keeps the text
// within the rules, and clears every other bit (tokens past the vocabulary included): inside a
// figure word only tokens that keep it a prefix of an allowed figure, ending a figure word only
// where it is whole, never a token that makes a forbidden phrase whole, end of generation only
// where the text may end, never control tokens or bytes that are not UTF-8. The mask is never
// empty: when no token fits, end of generation is allowed.
//
// Cost: a few passes of bitwise operations over precomputed per-kind bitsets, then exact checks
// of the few tokens whose outcome depends on the state beyond what the bitsets tell: those that
// continue a figure or forbidden word along the tries (found through the two-level index by
// their first two bytes), those holding a whole forbidden word, and the rare odd ones.
func (s *State) Mask(allowed []uint32) {
	v := s.v
	w := min(len(allowed), v.words)
	dst := allowed[:w]
	cur := &s.cur
	s.exc = s.exc[:0]
	switch {
	case s.bad:
		clear(dst)
	case cur.uneed > 0:
		// only a token continuing the character can come
		clear(dst)
		s.exc = append(s.exc, v.cont...)
	case !cur.run:
		copy(dst, s.fFresh)
	case !cur.space:
		s.runBulk(dst, cur)
	default:
		// a space held after a run: a token starting with "." or "," removes it, any other token
		// makes it a boundary that ends the run
		c := *cur
		c.space = false
		tmp := s.scratch[:w]
		s.runBulk(tmp, &c)
		end := all(s.m.canEndRun(cur))
		for i := range dst {
			lit := v.litDotComma[i]
			dst[i] = tmp[i]&lit | s.fFresh[i]&^lit&end
		}
	}
	if !s.bad && cur.uneed == 0 {
		s.exc = append(s.exc, s.sens...)
		s.exc = append(s.exc, v.odd...)
	}
	lim := int32(32 * w)
	for _, id := range s.exc {
		if id >= lim {
			continue
		}
		if s.allows(int(id)) {
			dst[id/32] |= 1 << (id % 32)
		} else {
			dst[id/32] &^= 1 << (id % 32)
		}
	}
	clear(allowed[w:])
	endOK := s.Complete()
	var any uint32
	for _, x := range dst {
		any |= x
	}
	for _, id := range v.eog {
		if id < lim && (endOK || any == 0) {
			dst[id/32] |= 1 << (id % 32)
		}
	}
}

// all is a word of ones for true, zeros for false.
func all(b bool) uint32 {
	if b {
		return ^uint32(0)
	}
	return 0
}

// runBulk fills dst for a cursor inside a figure run (no held space, no incomplete character)
// and queues the tokens whose outcome the bitsets cannot tell.
func (s *State) runBulk(dst []uint32, cur *cursor) {
	v, fig := s.v, &s.m.c.fig
	endRun := all(s.m.canEndRun(cur))
	noDigit := all(!cur.digit)
	// An incomplete character after a run with a digit: a letter or digit must go on along the
	// figure trie, a boundary must end the run. Unless a non-ASCII character can go on (rare),
	// the boundary decides, the same for every such token.
	var leadEnd uint32
	if cur.digit {
		n := cur.fnode
		if cur.sep != 0 {
			n = fig.step(n, cur.sep)
		}
		if n >= 0 && fig.wide[n] {
			s.exc = append(s.exc, v.lead...)
		} else {
			leadEnd = endRun & all(s.m.canEndWord(cur))
		}
	}
	if cur.sep == 0 {
		// the text ends in a letter or digit of the run, and of a word
		endWord := all(s.m.canEndWord(cur))
		end, wordNoDigit := endRun&endWord, endWord&noDigit
		for i := range dst {
			dst[i] = s.fEnd[i]&end | s.dSepInner[i]&wordNoDigit | (s.dWord[i]|s.fLead[i])&noDigit | v.leadBound[i]&leadEnd
		}
		s.exc = append(s.exc, v.sepOne...) // a separator or space left pending: can the run go on?
		if cur.fnode >= 0 {
			s.queueGroups(fig, cur.fnode)
		}
		if cur.word && cur.wnode >= 0 {
			s.queueGroups(&s.m.c.word, cur.wnode)
		}
		return
	}
	// a separator pending after the run: a letter or digit makes it inner, anything else ends the run
	for i := range dst {
		dst[i] = s.fNonWord[i]&endRun | (s.fLead[i]|s.dWord[i])&noDigit | v.leadBound[i]&leadEnd
	}
	if n := fig.step(cur.fnode, cur.sep); n >= 0 {
		s.queueGroups(fig, n)
	}
}

// queueGroups queues the tokens that may follow trie node n for two bytes: those whose folded
// text starts with a child's byte and then has another child's byte or anything but a digit or
// letter. The others leave the trie within two bytes with a letter or digit, which the bitsets
// account for.
func (s *State) queueGroups(t *trie, n int32) {
	v := s.v
	for e := t.first[n]; e < t.first[n]+t.count[n]; e++ {
		x, y := t.label[e], t.next[e]
		s.exc = append(s.exc, v.group(groupKey(x, groupOther))...)
		for f := t.first[y]; f < t.first[y]+t.count[y]; f++ {
			if k := alnumIndex(t.label[f]); k != groupOther {
				s.exc = append(s.exc, v.group(groupKey(x, k))...)
			}
		}
	}
}
