package catalog

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Text fields hold what customers read, so they are stored as they will be shown: trimmed, in
// Unicode NFC (one encoding per visible character, so "é" matches whether it was typed as one
// character or two), and without characters that are invisible or change how the text around them
// reads (refusedRune): a right-to-left override can make a stored "Milk €1.99" display as another
// name or price. A field that holds one is refused with a per-field error rather than silently
// changed, so the admin sees what was wrong with the data they sent.

// line normalises a one-line text field.
func line(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }

// paragraphs normalises a text field that may hold line breaks: CRLF and CR become LF.
func paragraphs(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	return norm.NFC.String(strings.TrimSpace(s))
}

// refusedRune returns the first character of s that a text field refuses and what it is ("" when
// none):
//   - control characters (C0, DEL, C1: NUL, ESC of ANSI escapes, CR), except line feed and tab in
//     multi-line fields;
//   - bidirectional controls (LRM, RLM, ALM, the embeddings, overrides and isolates);
//   - invisible characters: zero-width space, word joiner and the invisible operators, the BOM,
//     the Mongolian vowel separator, line and paragraph separators. The zero-width joiner and
//     non-joiner stay: Persian, the Indic scripts and emoji sequences need them.
func refusedRune(s string, multiline bool) (rune, string) {
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			if !multiline {
				return r, "a line break or tab in a one-line field"
			}
		case unicode.Is(unicode.Cc, r):
			return r, "a control character"
		case unicode.Is(unicode.Bidi_Control, r):
			return r, "a bidirectional control character"
		case r == 0x200B, r >= 0x2060 && r <= 0x2064, r == 0xFEFF, r == 0x180E, r == 0x2028, r == 0x2029:
			return r, "an invisible character"
		}
	}
	return 0, ""
}
