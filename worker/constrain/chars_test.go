package constrain

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestCompletions: the completion classes of every incomplete UTF-8 prefix, computed from the
// Unicode range tables, equal those found by encoding every code point.
func TestCompletions(t *testing.T) {
	want := map[int]uint8{}
	var buf [utf8.UTFMax]byte
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		bit := uint8(canBoundary)
		switch runeClass(r) {
		case clsLetter:
			bit = canLetter
		case clsDigit:
			bit = canDigit
		}
		n := utf8.EncodeRune(buf[:], r)
		for k := 1; k < n; k++ {
			want[completionIndex(buf[:k])] |= bit
		}
	}
	completions([]byte{0xC3})
	for i, got := range completionTable {
		if got != want[i] {
			t.Errorf("prefix index %d: classes %03b, want %03b", i, got, want[i])
		}
	}
}

func TestFold(t *testing.T) {
	for _, c := range []struct{ a, b string }{{"ph-0101", "PH-0101"}, {"straße", "STRASSE"}, {"ſ", "s"}, {"\u212a", "k"}, {"Äpfel", "äPFEL"}} {
		fa, fb := foldString(c.a), foldString(c.b)
		if c.a == "straße" {
			if fa == fb {
				t.Errorf("fold(%q) == fold(%q): simple folding does not expand ß", c.a, c.b)
			}
			continue
		}
		if fa != fb {
			t.Errorf("fold(%q) = %q, fold(%q) = %q", c.a, fa, c.b, fb)
		}
	}
}
