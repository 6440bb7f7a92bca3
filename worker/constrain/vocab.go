package constrain

import (
	"runtime"
	"sync"
	"unicode/utf8"
	"weak"

	"aisle/worker/tokenizer"
)

// Token kinds: what a token's first character does to a figure run the text is in (see
// State.Mask). Every token has exactly one kind.
const (
	kNever    uint8 = iota // never allowed: control and unknown tokens, tokens that render as nothing or hold bytes that are not UTF-8
	kEOG                   // ends generation
	kHard                  // starts with a boundary (a space that stays a space, punctuation, a symbol)
	kWord                  // starts with a letter or digit
	kSepInner              // starts with a separator followed by a letter or digit
	kSepEnd                // starts with a separator followed by a boundary or another separator
	kSepOnly               // is one separator
	kSpace                 // is one space that the decoder may still remove (clean-up vocabularies)
	kLead                  // is the start of one character, incomplete
	kCont                  // starts with the continuation bytes of a character an earlier token began
	kOdd                   // any other shape (a separator followed by an incomplete character, an incomplete character at the end that no letter completes): always checked one by one
	numKinds
)

// Groups of the two-level index: the first byte of a token's folded text, and its second byte
// when that is an ASCII digit or (folded) letter, else other.
const (
	groupOther = 36
	groupWidth = 37
	numGroups  = 256 * groupWidth
)

func groupKey(b0 byte, b1 int) int { return int(b0)*groupWidth + b1 }

// alnumIndex is the group column of folded byte b: 0-9 for digits, 10-35 for letters, else other.
func alnumIndex(b byte) int {
	switch {
	case b >= '0' && b <= '9':
		return int(b - '0')
	case b >= 'A' && b <= 'Z':
		return int(b-'A') + 10
	}
	return groupOther
}

// Vocab is what State.Mask needs to know about one tokenizer's vocabulary, computed once by
// Prepare: each token's text as it appears when generated mid-text, its kind, and indexes that
// let a step examine only the tokens whose outcome depends on the state. Immutable; safe for
// concurrent use.
type Vocab struct {
	n     int  // tokens
	words int  // uint32 words of a mask over n tokens
	clean bool // the decoder removes a space before "." and "," (clean_up_tokenization_spaces)

	text []byte   // every token's text, concatenated
	off  []uint32 // token i's text is text[off[i]:off[i+1]]
	kind []uint8

	bits        [numKinds][]uint32 // per kind, its tokens (kHard..kLead)
	headDigit   []uint32           // kWord and kSepInner tokens whose leading run (continuing a figure) holds a digit
	litDotComma []uint32           // tokens whose first byte is "." or ","
	leadBound   []uint32           // kLead tokens that a boundary character can complete

	digits []int32  // tokens (not kCont or kOdd) holding a digit
	reset  []uint16 // per digits entry: where the figure run the token continues has surely ended (noReset: never)
	cont   []int32  // kCont tokens
	odd    []int32  // kOdd tokens
	lead   []int32  // kLead tokens
	sepOne []int32  // kSepOnly and kSpace tokens
	eog    []int32

	// two-level index of kWord and kSepInner tokens by their folded text's first two bytes
	groupStart []int32 // numGroups+1 offsets into groupIDs
	groupIDs   []int32

	// wordTokens lists, for each folded word, the tokens in which that word is whole (followed by a
	// boundary inside the token)
	wordTokens map[string][]int32
}

const noReset = 0xFFFF

// tokText is the text of token id.
func (v *Vocab) tokText(id int) []byte { return v.text[v.off[id]:v.off[id+1]] }

var cache sync.Map // weak.Pointer[tokenizer.Tokenizer] -> *cacheEntry

type cacheEntry struct {
	once sync.Once
	v    *Vocab
}

// Prepare returns the Vocab of tok, computing it on the first call for tok (concurrent callers
// wait for that one computation) and caching it while tok is alive.
func Prepare(tok *tokenizer.Tokenizer) *Vocab {
	key := weak.Make(tok)
	e, loaded := cache.LoadOrStore(key, &cacheEntry{})
	ent := e.(*cacheEntry)
	if !loaded {
		runtime.AddCleanup(tok, func(k weak.Pointer[tokenizer.Tokenizer]) { cache.Delete(k) }, key)
	}
	ent.once.Do(func() { ent.v = prepare(tok) })
	return ent.v
}

// prepare computes a Vocab. It keeps no reference to tok.
func prepare(tok *tokenizer.Tokenizer) *Vocab {
	n := tok.VocabSize()
	v := &Vocab{n: n, words: (n + 31) / 32, clean: detectClean(tok), wordTokens: map[string][]int32{}}
	v.off = make([]uint32, n+1)
	v.kind = make([]uint8, n)
	for k := kHard; k <= kLead; k++ {
		v.bits[k] = make([]uint32, v.words)
	}
	v.headDigit = make([]uint32, v.words)
	v.litDotComma = make([]uint32, v.words)
	v.leadBound = make([]uint32, v.words)
	groups := make([]int32, n) // group of each indexed token, -1 for the others
	count := make([]int32, numGroups+1)
	for id := range n {
		var p string
		switch {
		case tok.IsEOG(id):
			v.kind[id] = kEOG
			v.eog = append(v.eog, int32(id))
			if !tok.IsControl(id) && id != tok.UNK() {
				p = tok.Piece(id) // what the decoder renders when the EOG token is taken (IgnoreEOS)
			}
		case tok.IsControl(id) || id == tok.UNK():
			v.kind[id] = kNever
		default:
			p = tok.Piece(id)
			v.kind[id] = kindOf(p, v.clean)
		}
		v.text = append(v.text, p...)
		v.off[id+1] = uint32(len(v.text))
		groups[id] = -1
		k := v.kind[id]
		if k >= kHard && k <= kLead {
			v.bits[k][id/32] |= 1 << (id % 32)
		}
		if k == kNever || k == kEOG {
			continue
		}
		if p[0] == '.' || p[0] == ',' {
			v.litDotComma[id/32] |= 1 << (id % 32)
		}
		switch k {
		case kCont:
			v.cont = append(v.cont, int32(id))
			continue
		case kOdd:
			v.odd = append(v.odd, int32(id))
			continue
		case kLead:
			v.lead = append(v.lead, int32(id))
			if completions([]byte(p))&canBoundary != 0 {
				v.leadBound[id/32] |= 1 << (id % 32)
			}
		case kSepOnly, kSpace:
			v.sepOne = append(v.sepOne, int32(id))
		}
		e := effectiveStart(p, v.clean)
		if k == kWord || k == kSepInner {
			if leadingRunHasDigit(p[e:], v.clean) {
				v.headDigit[id/32] |= 1 << (id % 32)
			}
			g := groupOf(p[e:])
			groups[id] = int32(g)
			count[g+1]++
		}
		if hasDigit(p) {
			v.digits = append(v.digits, int32(id))
			r := resetPoint(p, e, v.clean)
			if r < 0 || r >= noReset {
				r = noReset
			}
			v.reset = append(v.reset, uint16(r))
		}
		for _, w := range wholeWords(p) {
			f := foldString(w)
			v.wordTokens[f] = append(v.wordTokens[f], int32(id))
		}
	}
	for g := range numGroups {
		count[g+1] += count[g]
	}
	v.groupStart = count
	v.groupIDs = make([]int32, count[numGroups])
	fill := append([]int32(nil), count[:numGroups]...)
	for id, g := range groups {
		if g >= 0 {
			v.groupIDs[fill[g]] = int32(id)
			fill[g]++
		}
	}
	return v
}

// group returns the tokens of index group g.
func (v *Vocab) group(g int) []int32 { return v.groupIDs[v.groupStart[g]:v.groupStart[g+1]] }

// detectClean reports whether tok's decoder removes a space before "," (llama.cpp's
// clean_up_tokenization_spaces, which removes a space before ". , ! ?"): it decodes a letter, a
// space and a comma.
func detectClean(tok *tokenizer.Tokenizer) bool {
	letter, space, comma, spaceComma := -1, -1, -1, -1
	for id := range tok.VocabSize() {
		if tok.IsControl(id) || tok.IsEOG(id) || id == tok.UNK() {
			continue
		}
		switch tok.Piece(id) {
		case "a":
			letter = id
		case " ":
			space = id
		case ",":
			comma = id
		case " ,":
			spaceComma = id
		}
	}
	switch {
	case letter < 0:
		return false
	case space >= 0 && comma >= 0:
		return tok.Decode([]int{letter, space, comma}) == "a,"
	case spaceComma >= 0:
		return tok.Decode([]int{letter, spaceComma}) == "a,"
	}
	return false
}

// effectiveStart is where a token's first character begins once the decoder's clean-up is
// applied: after a leading space that a "." or "," follows in clean-up vocabularies.
func effectiveStart(p string, clean bool) int {
	if clean && len(p) > 1 && p[0] == ' ' && (p[1] == '.' || p[1] == ',') {
		return 1
	}
	return 0
}

// nextRune decodes the character at p[i:]; ok is false when p ends inside it.
func nextRune(p string, i int) (r rune, size int, ok bool) {
	if i >= len(p) || !utf8.FullRuneInString(p[i:]) {
		return 0, 0, false
	}
	r, size = utf8.DecodeRuneInString(p[i:])
	return r, size, true
}

// kindOf classifies a token's text (not EOG, not control).
func kindOf(p string, clean bool) uint8 {
	if p == "" {
		return kNever
	}
	if p[0] >= 0x80 && p[0] < 0xC0 {
		i := 0
		for i < len(p) && i < 4 && p[i] >= 0x80 && p[i] < 0xC0 {
			i++
		}
		if i > 3 {
			return kNever
		}
		if _, ok := utf8Prefix([]byte(p[i:])); !ok {
			return kNever
		}
		return kCont
	}
	n, ok := utf8Prefix([]byte(p))
	if !ok {
		return kNever
	}
	if n < len(p) && completions([]byte(p[n:]))&canLetter == 0 {
		// whether the text can go on after it depends on the state (a boundary must end the run
		// before it): checked one by one
		return kOdd
	}
	if clean && p == " " {
		return kSpace
	}
	e := effectiveStart(p, clean)
	r, size, ok := nextRune(p, e)
	if !ok {
		return kLead
	}
	switch c := runeClass(r); {
	case isWordClass(c):
		return kWord
	case c == clsSep:
		if e+size == len(p) {
			return kSepOnly
		}
		r2, _, ok := nextRune(p, e+size)
		switch {
		case !ok:
			return kOdd
		case isWordClass(runeClass(r2)):
			return kSepInner
		}
		return kSepEnd
	}
	return kHard
}

// groupOf is the index group of a token's effective text.
func groupOf(p string) int {
	r, size, _ := nextRune(p, 0)
	var buf [utf8.UTFMax]byte
	f := utf8.AppendRune(buf[:0], fold(r))
	if len(f) > 1 {
		return groupKey(f[0], groupOther)
	}
	r2, _, ok := nextRune(p, size)
	if !ok || r2 >= utf8.RuneSelf {
		return groupKey(f[0], groupOther)
	}
	return groupKey(f[0], alnumIndex(byte(fold(r2))))
}

// leadingRunHasDigit reports whether the run a token's text starts with (letters and digits
// joined by inner separators, the first character included whatever it is) holds a digit. In
// clean-up vocabularies a space before "." or "," is removed, so the run goes on across it.
func leadingRunHasDigit(p string, clean bool) bool {
	for i := 0; i < len(p); {
		r, size, ok := nextRune(p, i)
		if !ok {
			return false
		}
		c := runeClass(r)
		switch {
		case c == clsDigit:
			return true
		case c == clsLetter || (c == clsSep && i == 0):
		case c == clsSpace && clean && i+1 < len(p) && (p[i+1] == '.' || p[i+1] == ','):
		case c == clsSep:
			r2, _, ok := nextRune(p, i+size)
			if !ok || !isWordClass(runeClass(r2)) {
				return false
			}
		default:
			return false
		}
		i += size
	}
	return false
}

func hasDigit(p string) bool {
	for i := 0; i < len(p); {
		r, size, ok := nextRune(p, i)
		if !ok {
			return false
		}
		if runeClass(r) == clsDigit {
			return true
		}
		i += size
	}
	return false
}

// resetPoint is where, in a token that continues a figure run, that run has surely ended and the
// figure state no longer depends on what came before: after the first boundary, or after a
// separator that a boundary or separator follows. -1 when the token never gets there.
func resetPoint(p string, e int, clean bool) int {
	for i := e; i < len(p); {
		r, size, ok := nextRune(p, i)
		if !ok {
			return -1
		}
		switch c := runeClass(r); {
		case isWordClass(c):
		case c == clsSep:
			r2, _, ok := nextRune(p, i+size)
			if !ok {
				return -1
			}
			if !isWordClass(runeClass(r2)) {
				return i + size
			}
		case c == clsSpace && clean:
			if i+1 == len(p) {
				return -1 // held: a "." or "," in the next token would remove it
			}
			if p[i+1] != '.' && p[i+1] != ',' {
				return i + 1
			}
		default:
			return i + size
		}
		i += size
	}
	return -1
}

// wholeWords returns the words of p that a boundary follows inside p.
func wholeWords(p string) []string {
	var out []string
	start := -1
	for i := 0; i < len(p); {
		r, size, ok := nextRune(p, i)
		if !ok {
			break
		}
		if isWordClass(runeClass(r)) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			out = append(out, p[start:i])
			start = -1
		}
		i += size
	}
	return out
}
