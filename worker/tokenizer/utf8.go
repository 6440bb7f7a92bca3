package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// ValidUTF8 returns s with every maximal ill-formed subsequence replaced by U+FFFD, as the
// WHATWG Encoding Standard's UTF-8 decoder does (browsers' TextDecoder, node's strings: the
// text llama.cpp's detokenizer gives to JavaScript). Decode and StreamDecoder return the raw
// bytes of the tokens, which are not valid UTF-8 when the tokens split characters in ways no
// text does; pass their output through ValidUTF8 before showing it. Stream chunks can be
// converted one by one: StreamDecoder never ends a chunk inside a sequence that more bytes
// could still complete, so the chunks convert to the same text as the whole.
func ValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			b.WriteByte(c)
			i++
			continue
		}
		n, lo, hi := 0, byte(0x80), byte(0xBF) // sequence length and the range of its second byte
		switch {
		case c >= 0xC2 && c <= 0xDF:
			n = 2
		case c == 0xE0:
			n, lo = 3, 0xA0
		case c == 0xED:
			n, hi = 3, 0x9F
		case c >= 0xE1 && c <= 0xEF:
			n = 3
		case c == 0xF0:
			n, lo = 4, 0x90
		case c == 0xF4:
			n, hi = 4, 0x8F
		case c >= 0xF1 && c <= 0xF3:
			n = 4
		}
		j := i + 1
		for k := 1; k < n && j < len(s); k++ {
			if d := s[j]; (k == 1 && (d < lo || d > hi)) || (k > 1 && (d < 0x80 || d > 0xBF)) {
				break
			}
			j++
		}
		if n > 0 && j-i == n {
			b.WriteString(s[i:j])
		} else {
			b.WriteRune(utf8.RuneError) // one replacement for the maximal subpart s[i:j]
		}
		i = j
	}
	return b.String()
}
