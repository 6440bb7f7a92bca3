package constrain

import (
	"sort"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Character classes. A word character is a letter, a number or a combining mark (so that a word
// in any script stays one word); a digit is a decimal digit of any script (unicode.IsDigit).
// Separators are the five ASCII characters that join the parts of a figure word. Everything else
// (spaces, punctuation, symbols such as "€", U+FFFD) is a boundary.
const (
	clsBoundary = iota
	clsSpace    // ' ': a boundary the decoder's clean-up may remove (see Vocab)
	clsSep      // . , : / -
	clsLetter   // a word character that is not a digit
	clsDigit    // a word character that is a decimal digit
)

// asciiClass classifies the ASCII bytes.
var asciiClass = func() (t [128]uint8) {
	for b := range 128 {
		switch {
		case b >= '0' && b <= '9':
			t[b] = clsDigit
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z':
			t[b] = clsLetter
		case b == '.' || b == ',' || b == ':' || b == '/' || b == '-':
			t[b] = clsSep
		case b == ' ':
			t[b] = clsSpace
		}
	}
	return t
}()

// runeClass classifies any rune (ASCII through asciiClass).
func runeClass(r rune) uint8 {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	switch {
	case unicode.IsDigit(r):
		return clsDigit
	case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r):
		return clsLetter
	}
	return clsBoundary
}

func isWordClass(c uint8) bool { return c >= clsLetter }

// fold maps r to the representative of its case-folding orbit (the smallest rune of the orbit,
// so ASCII letters fold to upper case): texts are compared with case ignored by comparing their
// folded forms.
func fold(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

// foldString returns s with every rune folded.
func foldString(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = utf8.AppendRune(b, fold(r))
	}
	return string(b)
}

// utf8Len is the length of the sequence a lead byte starts (0 for bytes that cannot start one:
// ASCII is 1).
func utf8Len(b byte) int {
	switch {
	case b < 0x80:
		return 1
	case b >= 0xC2 && b <= 0xDF:
		return 2
	case b >= 0xE0 && b <= 0xEF:
		return 3
	case b >= 0xF0 && b <= 0xF4:
		return 4
	}
	return 0
}

// secondRange is the range of the byte after lead byte b (the Unicode standard's table 3-7:
// no overlong forms, no surrogates, nothing above U+10FFFF).
func secondRange(b byte) (lo, hi byte) {
	switch b {
	case 0xE0:
		return 0xA0, 0xBF
	case 0xED:
		return 0x80, 0x9F
	case 0xF0:
		return 0x90, 0xBF
	case 0xF4:
		return 0x80, 0x8F
	}
	return 0x80, 0xBF
}

// utf8Prefix reports whether b is valid UTF-8 except that its last sequence may be incomplete,
// and returns the length of its complete part.
func utf8Prefix(b []byte) (complete int, ok bool) {
	for i := 0; i < len(b); {
		n := utf8Len(b[i])
		if n == 0 {
			return i, false
		}
		for k := 1; k < n; k++ {
			if i+k == len(b) {
				return i, true
			}
			lo, hi := byte(0x80), byte(0xBF)
			if k == 1 {
				lo, hi = secondRange(b[i])
			}
			if c := b[i+k]; c < lo || c > hi {
				return i, false
			}
		}
		i += n
	}
	return len(b), true
}

// Completion classes of an incomplete character: which classes the characters starting with
// those bytes fall in.
const (
	canLetter   = 1 << iota // a word character that is not a digit
	canDigit                // a decimal digit
	canBoundary             // anything else
)

var (
	completionOnce  sync.Once
	completionTable []uint8 // see completionIndex
)

// completionIndex numbers the incomplete prefixes of UTF-8 sequences: the 256 single bytes, then
// two-byte prefixes of three- and four-byte sequences (lead E0-F4), then three-byte prefixes of
// four-byte sequences (lead F0-F4).
func completionIndex(p []byte) int {
	switch len(p) {
	case 1:
		return int(p[0])
	case 2:
		return 256 + int(p[0]-0xE0)*64 + int(p[1]&0x3F)
	}
	return 256 + 21*64 + int(p[0]-0xF0)*4096 + int(p[1]&0x3F)*64 + int(p[2]&0x3F)
}

// completions returns the completion classes of p, a valid incomplete UTF-8 prefix.
func completions(p []byte) uint8 {
	completionOnce.Do(buildCompletions)
	return completionTable[completionIndex(p)]
}

func buildCompletions() {
	word := newRuneSet(unicode.L, unicode.M, unicode.N)
	digit := newRuneSet(unicode.Nd)
	t := make([]uint8, 256+21*64+5*4096)
	set := func(p []byte, lo, hi rune) {
		nw, nd := word.count(lo, hi), digit.count(lo, hi)
		size := int(hi - lo + 1)
		if lo <= 0xDFFF && hi >= 0xD800 {
			size -= int(min(hi, 0xDFFF) - max(lo, 0xD800) + 1) // surrogates have no encoding
		}
		var c uint8
		if nw > nd {
			c |= canLetter
		}
		if nd > 0 {
			c |= canDigit
		}
		if size > nw {
			c |= canBoundary
		}
		t[completionIndex(p)] = c
	}
	// the code points a prefix can start are an interval: its bytes, then the lowest or highest
	// continuation bytes
	interval := func(p []byte, n int) (rune, rune) {
		lo, hi := make([]byte, n), make([]byte, n)
		copy(lo, p)
		copy(hi, p)
		for k := len(p); k < n; k++ {
			lo[k], hi[k] = 0x80, 0xBF
		}
		a, _ := utf8.DecodeRune(lo)
		b, _ := utf8.DecodeRune(hi)
		return a, b
	}
	for b0 := 0xC2; b0 <= 0xF4; b0++ {
		n := utf8Len(byte(b0))
		p := []byte{byte(b0)}
		lo, hi := secondRange(byte(b0))
		a, _ := interval([]byte{byte(b0), lo}, n)
		_, b := interval([]byte{byte(b0), hi}, n)
		set(p, a, b)
		if n < 3 {
			continue
		}
		lo1, hi1 := secondRange(byte(b0))
		for b1 := int(lo1); b1 <= int(hi1); b1++ {
			p2 := []byte{byte(b0), byte(b1)}
			a, b := interval(p2, n)
			set(p2, a, b)
			if n < 4 {
				continue
			}
			for b2 := 0x80; b2 <= 0xBF; b2++ {
				p3 := []byte{byte(b0), byte(b1), byte(b2)}
				a, b := interval(p3, n)
				set(p3, a, b)
			}
		}
	}
	completionTable = t
}

// runeSet is a set of runes as sorted disjoint intervals, with running counts.
type runeSet struct {
	lo, hi []rune
	cum    []int // cum[i]: runes in intervals before i
}

func newRuneSet(tables ...*unicode.RangeTable) *runeSet {
	type iv struct{ lo, hi rune }
	var ivs []iv
	add := func(lo, hi, stride rune) {
		if stride == 1 {
			ivs = append(ivs, iv{lo, hi})
			return
		}
		for r := lo; r <= hi; r += stride {
			ivs = append(ivs, iv{r, r})
		}
	}
	for _, t := range tables {
		for _, r := range t.R16 {
			add(rune(r.Lo), rune(r.Hi), rune(r.Stride))
		}
		for _, r := range t.R32 {
			add(rune(r.Lo), rune(r.Hi), rune(r.Stride))
		}
	}
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].lo < ivs[j].lo })
	s := &runeSet{}
	for _, x := range ivs {
		if n := len(s.hi); n > 0 && x.lo <= s.hi[n-1]+1 {
			s.hi[n-1] = max(s.hi[n-1], x.hi)
			continue
		}
		s.lo, s.hi = append(s.lo, x.lo), append(s.hi, x.hi)
	}
	s.cum = make([]int, len(s.lo)+1)
	for i := range s.lo {
		s.cum[i+1] = s.cum[i] + int(s.hi[i]-s.lo[i]+1)
	}
	return s
}

// below counts the runes of s that are < r.
func (s *runeSet) below(r rune) int {
	i := sort.Search(len(s.lo), func(i int) bool { return s.lo[i] >= r }) // intervals before i start below r
	if i == 0 {
		return 0
	}
	return s.cum[i-1] + int(min(s.hi[i-1]+1, r)-s.lo[i-1])
}

// count counts the runes of s in [lo, hi].
func (s *runeSet) count(lo, hi rune) int { return s.below(hi+1) - s.below(lo) }
