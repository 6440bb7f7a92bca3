package constrain

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

var storeRules = Rules{
	Figures:   []string{"6.95", "14", "2A", "PH-0101", "8:00-19:00", "1.5", "400 mg", "20"},
	Forbidden: [][]string{{"free", "shipping"}, {"guaranteed"}, {"best price"}},
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		rules Rules
		text  string
		want  string // violations as kind:text@offset, space-separated
	}{
		{"figures of the store", storeRules, "Ibuprofen 400 mg, 20 tablets (PH-0101) costs €6.95. Aisle 2A, 14 left.", ""},
		{"final period is not inner", storeRules, "It costs 6.95.", ""},
		{"case ignored", storeRules, "aisle 2a, ph-0101", ""},
		{"hours", storeRules, "Open 8:00-19:00 daily.", ""},
		{"part of an hours figure", storeRules, "Open from 8:00 daily.", "figure:8:00@10"},
		{"unknown price", storeRules, "It costs 7.95 EUR.", "figure:7.95@9"},
		{"prefix of a figure", storeRules, "It costs 6.9", "figure:6.9@9"},
		{"figure run on", storeRules, "It costs 6.95x", "figure:6.95x@9"},
		{"letters joined to a figure", storeRules, "model A2A", "figure:A2A@6"},
		{"letters are free", storeRules, "e-mail co-op vs. N/A", ""},
		{"two separators split", storeRules, "1.5..20", ""},
		{"leading separator not part", storeRules, "-14 and /20", ""},
		{"negative sign not part, wrong figure", storeRules, "-15", "figure:15@1"},
		{"digits of other scripts", storeRules, "costs ٦.٩٥", "figure:٦.٩٥@6"},
		{"phrase", storeRules, "We offer free shipping.", "phrase:free shipping@9"},
		{"phrase across punctuation and case", storeRules, "FREE, Shipping!", "phrase:FREE, Shipping@0"},
		{"phrase element with two words", storeRules, "the best  price", "phrase:best  price@4"},
		{"not whole words", storeRules, "freely shipping, guaranteedly", ""},
		{"phrase at the end", storeRules, "It is guaranteed", "phrase:guaranteed@6"},
		{"both", storeRules, "Guaranteed: 99", "phrase:Guaranteed@0 figure:99@12"},
		{"no rules, no figures", Rules{}, "Hello there, 3 apples", "figure:3@13"},
		{"figure entry with words", Rules{Figures: []string{"6.95 EUR"}}, "6.95 EUR", ""},
		{"invalid bytes are boundaries", storeRules, "14\xff20", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, v := range Check(tt.rules, tt.text) {
				got = append(got, fmt.Sprintf("%s:%s@%d", v.Kind, v.Text, v.Offset))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("Check(%q) = %q, want %q", tt.text, g, tt.want)
			}
		})
	}
}

// automatonVerdicts feeds text to the automaton a byte at a time and returns, for every prefix
// length, whether it has broken no rule yet, and finally whether the whole text is within the rules.
func automatonVerdicts(c *compiled, clean bool, text string) (prefix []bool, final bool) {
	m := machine{c: c, clean: clean}
	var cur cursor
	ok := true
	prefix = append(prefix, true)
	for i := 0; i < len(text); i++ {
		ok = ok && m.byte(&cur, text[i])
		prefix = append(prefix, ok)
	}
	return prefix, ok && m.end(&cur)
}

// scanVerdicts is the same from the reference scan of every prefix.
func scanVerdicts(c *compiled, clean bool, text string) (prefix []bool, final bool) {
	for i := 0; i <= len(text); i++ {
		p := text[:i]
		n, ok := utf8Prefix([]byte(p))
		held := clean && n == len(p) && strings.HasSuffix(p, " ")
		p = p[:n] // an incomplete character at the end is not known yet
		if clean {
			p = cleanUp(p)
		}
		prefix = append(prefix, ok && len(c.scan(p, false, held)) == 0)
	}
	whole := text
	if clean {
		whole = cleanUp(text)
	}
	return prefix, utf8.ValidString(text) && len(c.scan(whole, true, false)) == 0
}

// FuzzAutomatonMatchesScan: on any text, the byte automaton State.Mask relies on and the reference
// scan (Check) agree on every prefix and on the whole, with and without the decoder's clean-up.
func FuzzAutomatonMatchesScan(f *testing.F) {
	for _, s := range []string{"costs 6.95 EUR.", "6 .95", "6 ,5", "PH-0101-x", "8:00-19:00", "free, shipping ",
		"2A2A", "٣.5", "€6.95.", "a . b", "x..5", "5-梀", "14\xff", "best price!", "Guaranteed.", "1.5 .5"} {
		f.Add(s, "6.95 14 2A PH-0101 8:00-19:00 1.5 ٣.5", "free shipping|guaranteed|best price")
	}
	f.Fuzz(func(t *testing.T, text, figures, phrases string) {
		if len(text) > 200 {
			return
		}
		r := Rules{Figures: strings.Fields(figures)}
		for _, p := range strings.Split(phrases, "|") {
			r.Forbidden = append(r.Forbidden, strings.Fields(p))
		}
		c := compile(r)
		for _, clean := range []bool{false, true} {
			ap, af := automatonVerdicts(c, clean, text)
			sp, sf := scanVerdicts(c, clean, text)
			for i := range ap {
				if ap[i] != sp[i] {
					t.Fatalf("clean %v, rules %+v: prefix %q: automaton %v, scan %v", clean, r, text[:i], ap[i], sp[i])
				}
			}
			if af != sf {
				t.Fatalf("clean %v, rules %+v: text %q: automaton %v, scan %v", clean, r, text, af, sf)
			}
		}
	})
}
