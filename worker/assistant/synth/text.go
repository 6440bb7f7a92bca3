package synth

import (
	"strings"
	"unicode"
)

var accentFold = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ã", "a", "ä", "a", "å", "a", "æ", "ae",
	"ç", "c", "è", "e", "é", "e", "ê", "e", "ë", "e",
	"ì", "i", "í", "i", "î", "i", "ï", "i", "ñ", "n",
	"ò", "o", "ó", "o", "ô", "o", "õ", "o", "ö", "o", "ø", "o", "œ", "oe",
	"ù", "u", "ú", "u", "û", "u", "ü", "u", "ý", "y", "ÿ", "y", "ß", "ss",
	"À", "A", "Á", "A", "Â", "A", "Ä", "A", "Ç", "C", "È", "E", "É", "E", "Ê", "E",
	"Î", "I", "Ñ", "N", "Ô", "O", "Ö", "O", "Ü", "U", "Û", "U",
)

// foldAccents drops accents: "Crème Fraîche" -> "Creme Fraiche".
func foldAccents(s string) string { return accentFold.Replace(s) }

func hasAccents(s string) bool { return foldAccents(s) != s }

// words splits s into lower-case words of letters or digits, also splitting where digits meet
// letters ("400g" -> "400", "g"), accents folded.
func words(s string) []string {
	s = foldAccents(strings.ToLower(s))
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
	}
	prevDigit := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			d := unicode.IsDigit(r)
			if len(cur) > 0 && d != prevDigit {
				flush()
			}
			cur = append(cur, r)
			prevDigit = d
		case r == '.' || r == ',':
			// a decimal point inside a number stays ("1.5")
			if len(cur) > 0 && prevDigit {
				cur = append(cur, '.')
				continue
			}
			flush()
		default:
			flush()
		}
	}
	flush()
	for i, w := range out {
		out[i] = strings.TrimSuffix(w, ".")
	}
	return out
}

var stop = map[string]bool{
	"a": true, "an": true, "the": true, "some": true, "any": true, "of": true, "for": true,
	"with": true, "and": true, "your": true, "my": true, "in": true, "x": true, "pack": true,
}

// stem reduces an English word to a rough singular, enough to match "croissants" with
// "croissant" and "batteries" with "battery".
func stem(w string) string {
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && (strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "sses") || strings.HasSuffix(w, "oes")):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:len(w)-1]
	}
	return w
}

// keyWords returns the stemmed content words of s.
func keyWords(s string) []string {
	var out []string
	for _, w := range words(s) {
		if !stop[w] {
			out = append(out, stem(w))
		}
	}
	return out
}

// slug turns a name into an ID: "Maple & Co. Pharmacy" -> "maple-co-pharmacy".
func slug(s string) string {
	return strings.Join(words(strings.ReplaceAll(s, "'", "")), "-")
}

// plural forms a plain English plural of a phrase's last word.
func plural(s string) string {
	if s == "" {
		return s
	}
	i := strings.LastIndexByte(s, ' ')
	head, last := s[:i+1], s[i+1:]
	lw := strings.ToLower(last)
	switch {
	case strings.ContainsFunc(last, unicode.IsDigit):
		return s
	case strings.HasSuffix(lw, "s") || strings.HasSuffix(lw, "x") || strings.HasSuffix(lw, "ch") || strings.HasSuffix(lw, "sh"):
		if strings.HasSuffix(lw, "ss") || strings.HasSuffix(lw, "x") || strings.HasSuffix(lw, "ch") || strings.HasSuffix(lw, "sh") {
			return head + last + "es"
		}
		return s
	case strings.HasSuffix(lw, "y") && len(lw) > 1 && !strings.ContainsRune("aeiou", rune(lw[len(lw)-2])):
		return head + last[:len(last)-1] + "ies"
	}
	return head + last + "s"
}

// capitalize upper-cases the first letter.
func capitalize(s string) string {
	for i, r := range s {
		return s[:i] + string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}
