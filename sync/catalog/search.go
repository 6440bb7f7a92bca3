package catalog

import (
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

func sortStrings(s []string) { sort.Strings(s) }

// SearchTerms splits text into the lower-case, accent-free words that the
// local indexes hold and that queries are matched against: "Crème Fraîche
// 30%" gives ["creme", "fraiche", "30"]. Duplicates are removed; order is
// first occurrence.
func SearchTerms(text string) []string {
	var (
		out  []string
		seen = map[string]bool{}
		b    strings.Builder
	)
	flush := func() {
		if b.Len() > 0 {
			w := b.String()
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
			b.Reset()
		}
	}
	for _, r := range norm.NFD.String(text) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// drop combining accents
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return out
}

// MatchTerms reports whether every query term is a prefix of some term of
// the candidate (what local product search means).
func MatchTerms(query, candidate []string) bool {
	for _, q := range query {
		found := false
		for _, c := range candidate {
			if strings.HasPrefix(c, q) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
