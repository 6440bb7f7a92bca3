package eval

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// figureRE matches a figure word candidate: a run of letters and digits with inner . , : / -
// ("6.95", "2A", "PH-0101", "8:00-19:00", "1,299.00").
var figureRE = regexp.MustCompile(`[\p{L}\p{N}]+(?:[.,:/-][\p{L}\p{N}]+)*`)

// figureWords returns the lower-cased figure words of s: the runs of figureRE that hold a digit.
func figureWords(s string) []string {
	var out []string
	for _, w := range figureRE.FindAllString(s, -1) {
		if strings.ContainsFunc(w, unicode.IsDigit) {
			out = append(out, strings.ToLower(w))
		}
	}
	return out
}

// figureSet is a set of allowed figure words (lower case).
type figureSet map[string]bool

// addText allows every figure word of s, and the parts of each split at '-' and '/', so that
// "8:00-19:00" also allows "8:00" and "19:00".
func (fs figureSet) addText(s string) {
	for _, w := range figureWords(s) {
		fs[w] = true
		for _, p := range strings.FieldsFunc(w, func(r rune) bool { return r == '-' || r == '/' }) {
			if strings.ContainsFunc(p, unicode.IsDigit) {
				fs[p] = true
			}
		}
	}
}

func (fs figureSet) addInt(n int64) { fs[strconv.FormatInt(n, 10)] = true }

func (fs figureSet) addPrice(cents int64) {
	for _, f := range priceForms(cents) {
		fs[f] = true
	}
}

// priceForms are the ways a text may write an amount of cents: "6.95", "7.50", "7.5", "7",
// "6,95", and with thousands separators ("1,299.00", "1.299,00").
func priceForms(cents int64) []string {
	major, minor := cents/100, cents%100
	var out []string
	add := func(whole string) {
		out = append(out, fmt.Sprintf("%s.%02d", whole, minor), fmt.Sprintf("%s,%02d", whole, minor))
		if minor%10 == 0 {
			out = append(out, fmt.Sprintf("%s.%d", whole, minor/10), fmt.Sprintf("%s,%d", whole, minor/10))
		}
		if minor == 0 {
			out = append(out, whole)
		}
	}
	add(strconv.FormatInt(major, 10))
	if major >= 1000 {
		s := strconv.FormatInt(major, 10)
		var comma, dot strings.Builder
		for i, r := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				comma.WriteByte(',')
				dot.WriteByte('.')
			}
			comma.WriteRune(r)
			dot.WriteRune(r)
		}
		out = append(out, fmt.Sprintf("%s.%02d", comma.String(), minor), fmt.Sprintf("%s,%02d", dot.String(), minor))
		if minor == 0 {
			out = append(out, comma.String(), dot.String())
		}
	}
	return out
}

// parseCents reads a JSON number in major units ("6.95", "7", "7.5") as cents.
func parseCents(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "-") || strings.ContainsAny(s, "eE") {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 2 || whole == "" {
		return 0, false
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	f, err := strconv.ParseInt((frac + "00")[:2], 10, 64)
	if err != nil {
		return 0, false
	}
	return w*100 + f, true
}

// parseInt reads a JSON number that must be a whole number.
func parseInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int64(f)) {
		return int64(f), true
	}
	return 0, false
}

// accentFold maps accented Latin letters to their plain letters.
var accentFold = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ã", "a", "ä", "a", "å", "a", "æ", "ae",
	"ç", "c", "è", "e", "é", "e", "ê", "e", "ë", "e",
	"ì", "i", "í", "i", "î", "i", "ï", "i", "ñ", "n",
	"ò", "o", "ó", "o", "ô", "o", "õ", "o", "ö", "o", "ø", "o", "œ", "oe",
	"ù", "u", "ú", "u", "û", "u", "ü", "u", "ý", "y", "ÿ", "y", "ß", "ss",
	"’", "'", "‘", "'", "–", "-", "—", "-",
)

// norm lower-cases s, folds accents and collapses every run of characters that are not letters
// or digits into one space, with a space at both ends, so that bounded phrases can be found
// with strings.Contains(norm(text), norm(phrase)).
func norm(s string) string {
	s = accentFold.Replace(strings.ToLower(s))
	var b strings.Builder
	b.WriteByte(' ')
	space := true
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// containsPhrase reports whether phrase occurs in text as whole words (case, accents and
// punctuation ignored).
func containsPhrase(text, phrase string) bool {
	p := norm(phrase)
	if strings.TrimSpace(p) == "" {
		return false
	}
	return strings.Contains(norm(text), p)
}

var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "some": true, "any": true, "of": true, "for": true,
	"with": true, "and": true, "in": true, "to": true, "my": true, "your": true,
}

// singular strips a plain English plural ending.
func singular(w string) string {
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && (strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "sses")):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us"):
		return w[:len(w)-1]
	}
	return w
}

// contentWords returns the singular content words of s.
func contentWords(s string) []string {
	var out []string
	for _, w := range strings.Fields(norm(s)) {
		if !stopWords[w] {
			out = append(out, singular(w))
		}
	}
	return out
}

// namesItem reports whether a product name (with its brand) names item: every content word of
// the item is a word of the name.
func namesItem(item, name string) bool {
	want := contentWords(item)
	if len(want) == 0 {
		return false
	}
	have := map[string]bool{}
	for _, w := range contentWords(name) {
		have[w] = true
	}
	for _, w := range want {
		if !have[w] {
			return false
		}
	}
	return true
}

// outOfStockPhrases are statements that a product is not on the shelf.
var outOfStockPhrases = []string{
	"out of stock", "sold out", "none left", "not in stock", "no stock", "none in stock",
	"none on the shelf", "nothing on the shelf", "currently unavailable", "not available",
	"unavailable", "0 left", "0 in stock", "0 on the shelf", "none available", "don t have any",
	"do not have any", "ran out", "run out", "out of it", "no units", "zero in stock", "none at the moment",
}

func statesOutOfStock(text string) bool {
	n := norm(text)
	for _, p := range outOfStockPhrases {
		if strings.Contains(n, norm(p)) {
			return true
		}
	}
	return false
}

var numberWords = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
	"nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
	"eighteen", "nineteen", "twenty"}

// statesNumber reports whether text states n, in digits or (up to twenty) in words.
func statesNumber(text string, n int64) bool {
	s := strconv.FormatInt(n, 10)
	for _, w := range figureWords(text) {
		if w == s {
			return true
		}
	}
	if n >= 0 && n < int64(len(numberWords)) {
		return strings.Contains(norm(text), " "+numberWords[n]+" ")
	}
	return false
}

// statesPrice reports whether text states the amount (any of its forms).
func statesPrice(text string, cents int64) bool {
	forms := map[string]bool{}
	for _, f := range priceForms(cents) {
		forms[f] = true
	}
	for _, w := range figureWords(text) {
		if forms[w] {
			return true
		}
	}
	return false
}

// statesAisle reports whether text states the aisle: the aisle as a phrase ("aisle 7", "2A"),
// or every figure word of it ("7" for "Aisle 7").
func statesAisle(text, aisle string) bool {
	if containsPhrase(text, aisle) {
		return true
	}
	want := figureWords(aisle)
	if len(want) == 0 {
		return false
	}
	have := map[string]bool{}
	for _, w := range figureWords(text) {
		have[w] = true
	}
	for _, w := range want {
		if !have[w] {
			return false
		}
	}
	return true
}
