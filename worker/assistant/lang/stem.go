package lang

import "strings"

// Stem reduces a lower-case English word to a stem that its plural and common inflections share:
// "batteries" -> "battery", "dishes" -> "dish", "measuring"/"measure" -> "measur",
// "knives" -> "knife", "children" -> "child". It is deliberately light (no derivational
// suffixes), so that different product words rarely collide.
func Stem(w string) string {
	if len(w) == 3 && w[2] == 's' && !isVowel(w[1]) && !isVowel(w[0]) && w != "yes" {
		return w[:2] // "tvs", "pcs", "cds"
	}
	if len(w) <= 3 {
		return w
	}
	if base, ok := irregular[w]; ok {
		if base == w {
			return w
		}
		return Stem(base) // "knives" -> "knife" -> "knif", as "knife" itself
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ves") && len(w) > 5 && vesToF[w[:len(w)-3]]:
		w = w[:len(w)-3] + "fe"
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "shes"), strings.HasSuffix(w, "ches"),
		strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "zes") && !strings.HasSuffix(w, "izes"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "oes") && len(w) > 5:
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") &&
		!strings.HasSuffix(w, "is") && !strings.HasSuffix(w, "os") && len(w) > 3:
		w = w[:len(w)-1]
	}
	switch {
	case strings.HasSuffix(w, "ing") && len(w) > 5 && hasVowel(w[:len(w)-3]):
		w = undouble(w[:len(w)-3])
	case strings.HasSuffix(w, "ed") && len(w) > 4 && hasVowel(w[:len(w)-2]) && !strings.HasSuffix(w, "eed"):
		w = undouble(w[:len(w)-2])
	}
	if strings.HasSuffix(w, "e") && len(w) > 4 && !strings.HasSuffix(w, "ee") {
		w = w[:len(w)-1]
	}
	if strings.HasSuffix(w, "y") && len(w) > 3 && !isVowel(w[len(w)-2]) {
		w = w[:len(w)-1] + "i"
	}
	return w
}

func isVowel(c byte) bool { return strings.IndexByte("aeiou", c) >= 0 }

func hasVowel(s string) bool { return strings.ContainsAny(s, "aeiouy") }

// undouble drops one of a doubled final consonant left by -ing/-ed ("cutting" -> "cut").
func undouble(s string) string {
	n := len(s)
	if n >= 3 && s[n-1] == s[n-2] && !isVowel(s[n-1]) && strings.IndexByte("lsz", s[n-1]) < 0 {
		return s[:n-1]
	}
	return s
}

var vesToF = map[string]bool{"kni": true, "wi": true, "li": true}

var irregular = map[string]string{
	"children": "child", "women": "woman", "men": "man", "mice": "mouse", "geese": "goose",
	"teeth": "tooth", "feet": "foot", "people": "person", "leaves": "leaf", "loaves": "loaf",
	"halves": "half", "shelves": "shelf", "wolves": "wolf", "calves": "calf", "scarves": "scarf",
	"knives": "knife", "wives": "wife", "lives": "life", "dice": "die", "oxen": "ox",
	"glasses": "glass", "series": "series", "species": "species", "news": "news", "gas": "gas",
	"yes": "yes", "this": "this", "was": "was", "has": "has", "does": "does", "goes": "go",
	"lens": "lens", "lenses": "lens", "chips": "chip", "tomatoes": "tomato", "potatoes": "potato",
	"cheeses": "cheese", "shoes": "shoe", "clothes": "cloth",
	"pants": "pant", "jeans": "jean", "trousers": "trouser", "scissors": "scissor", "pliers": "plier",
	"tweezers": "tweezer", "headphones": "headphone", "earphones": "earphone", "earbuds": "earbud",
}
