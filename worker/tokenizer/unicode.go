package tokenizer

import (
	"sync"
	"unicode"
)

// Code point classes, laid out like llama.cpp's unicode_cpt_flags so that the pre-tokenizers
// can test them the same way. A code point carries exactly one category bit (flagUndefined for
// unassigned code points) plus flagWhitespace when it is white space. The zero value means
// "outside the current text chunk", which the splitters rely on.
type cpFlags uint16

const (
	flagUndefined   cpFlags = 0x0001
	flagNumber      cpFlags = 0x0002 // \p{N}
	flagLetter      cpFlags = 0x0004 // \p{L}
	flagSeparator   cpFlags = 0x0008 // \p{Z}
	flagMark        cpFlags = 0x0010 // \p{M}
	flagPunctuation cpFlags = 0x0020 // \p{P}
	flagSymbol      cpFlags = 0x0040 // \p{S}
	flagControl     cpFlags = 0x0080 // \p{C}
	flagCategories  cpFlags = 0x00FF
	flagWhitespace  cpFlags = 0x0100 // \s
)

func (f cpFlags) is(mask cpFlags) bool { return f&mask != 0 }

// maxCodePoint bounds the code points that the Unicode tables describe.
const maxCodePoint = 0x110000

// unicode151 lists the code points assigned in Unicode 15.1, which llama.cpp's tables include
// and Go's unicode package (Unicode 15.0) does not.
var unicode151 = []struct {
	lo, hi rune
	flags  cpFlags
}{
	{0x2FFC, 0x2FFF, flagSymbol},   // ideographic description characters
	{0x31EF, 0x31EF, flagSymbol},   // CJK stroke
	{0x2EBF0, 0x2EE5D, flagLetter}, // CJK unified ideographs extension I
}

// flagsOf classifies one code point. Code points beyond U+10FFFF are undefined.
func flagsOf(cp rune) cpFlags {
	if cp >= 0 && cp < 0x10000 {
		bmpOnce.Do(buildBMP)
		return bmpFlags[cp]
	}
	return computeFlags(cp)
}

var (
	bmpOnce  sync.Once
	bmpFlags []cpFlags
)

func buildBMP() {
	bmpFlags = make([]cpFlags, 0x10000)
	for cp := range bmpFlags {
		bmpFlags[cp] = computeFlags(rune(cp))
	}
}

func computeFlags(cp rune) cpFlags {
	if cp < 0 || cp >= maxCodePoint {
		return flagUndefined
	}
	var f cpFlags
	switch {
	case unicode.IsLetter(cp):
		f = flagLetter
	case unicode.IsNumber(cp):
		f = flagNumber
	case unicode.IsMark(cp):
		f = flagMark
	case unicode.IsPunct(cp):
		f = flagPunctuation
	case unicode.IsSymbol(cp):
		f = flagSymbol
	case unicode.In(cp, unicode.Zs, unicode.Zl, unicode.Zp):
		f = flagSeparator
	case unicode.In(cp, unicode.Cc, unicode.Cf, unicode.Cs, unicode.Co):
		f = flagControl
	default:
		f = flagUndefined
		for _, r := range unicode151 {
			if cp >= r.lo && cp <= r.hi {
				f = r.flags
				break
			}
		}
	}
	if isWhitespaceCP(cp) {
		f |= flagWhitespace
	}
	return f
}

// isWhitespaceCP is the Unicode White_Space property, the set llama.cpp treats as \s.
func isWhitespaceCP(cp rune) bool {
	switch cp {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return cp >= 0x2000 && cp <= 0x200A
}

// asciiWhitespace is C's isspace in the "C" locale.
func asciiWhitespace(b byte) bool {
	return b == ' ' || (b >= '\t' && b <= '\r')
}

// utf8Len is the sequence length announced by a UTF-8 lead byte, as llama.cpp computes it
// (continuation and invalid bytes count as 1).
func utf8Len(b byte) int {
	switch b >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// decodeCodePoints splits text into code points the way llama.cpp does: a well-formed lead
// byte with enough continuation bytes gives one code point (overlong forms and surrogates are
// accepted as they are); any other byte gives U+FFFD and consumes one byte.
func decodeCodePoints(text string, dst []rune) []rune {
	for i := 0; i < len(text); {
		cp, n := decodeOne(text, i)
		dst = append(dst, cp)
		i += n
	}
	return dst
}

func decodeOne(s string, i int) (rune, int) {
	b0 := s[i]
	cont := func(k int) bool { return i+k < len(s) && s[i+k]&0xC0 == 0x80 }
	switch {
	case b0 < 0x80:
		return rune(b0), 1
	case b0&0x40 == 0:
		return 0xFFFD, 1
	case b0&0x20 == 0:
		if !cont(1) {
			return 0xFFFD, 1
		}
		return rune(b0&0x1F)<<6 | rune(s[i+1]&0x3F), 2
	case b0&0x10 == 0:
		if !cont(1) || !cont(2) {
			return 0xFFFD, 1
		}
		return rune(b0&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), 3
	case b0&0x08 == 0:
		if !cont(1) || !cont(2) || !cont(3) {
			return 0xFFFD, 1
		}
		cp := rune(b0&0x07)<<18 | rune(s[i+1]&0x3F)<<12 | rune(s[i+2]&0x3F)<<6 | rune(s[i+3]&0x3F)
		if cp >= maxCodePoint {
			// llama.cpp throws on re-encoding such a code point; treat it as invalid input.
			return 0xFFFD, 1
		}
		return cp, 4
	}
	return 0xFFFD, 1
}

// appendCodePoint encodes cp as UTF-8 without Go's surrogate check (llama.cpp re-encodes
// surrogate code points byte for byte).
func appendCodePoint(dst []byte, cp rune) []byte {
	switch {
	case cp < 0x80:
		return append(dst, byte(cp))
	case cp < 0x800:
		return append(dst, 0xC0|byte(cp>>6), 0x80|byte(cp&0x3F))
	case cp < 0x10000:
		return append(dst, 0xE0|byte(cp>>12), 0x80|byte(cp>>6&0x3F), 0x80|byte(cp&0x3F))
	default:
		return append(dst, 0xF0|byte(cp>>18), 0x80|byte(cp>>12&0x3F), 0x80|byte(cp>>6&0x3F), 0x80|byte(cp&0x3F))
	}
}

// Byte-level BPE maps every byte to a printable code point: printable Latin-1 bytes map to
// themselves, the other 68 bytes to U+0100 and up, in byte order.
var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

func init() {
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = 256 + n
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}
