package assistant

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Suggestions returns up to n questions a customer might start with, drawn from the store's own
// catalog: the price of a product, where to find another, whether a third is in stock, and the
// opening hours (or another of its FAQs). Each is kept only when the assistant, asked it, answers
// with that intent and that product or FAQ, so a suggestion never leads to a miss. The same
// catalog gives the same suggestions.
func (s *Store) Suggestions(n int) []string {
	var items []*Item
	for _, it := range s.Items {
		if it.Quantity > FewLeft && it.Aisle != "" {
			items = append(items, it)
		}
	}
	// short names read best in a suggestion; one product per category
	slices.SortFunc(items, func(a, b *Item) int {
		return cmp.Or(cmp.Compare(len(a.Name), len(b.Name)), cmp.Compare(a.SKU, b.SKU))
	})
	type want struct {
		question, intent, sku, faq string
	}
	templates := []struct{ text, intent string }{
		{"How much is the %s?", IntentPrice},
		{"Where do I find the %s?", IntentLocation},
		{"Do you have %s in stock?", IntentAvailability},
	}
	var wants []want
	usedCategory := map[string]bool{}
	for _, it := range items {
		if len(wants) == len(templates) {
			break
		}
		if usedCategory[it.Category] {
			continue
		}
		usedCategory[it.Category] = true
		t := templates[len(wants)]
		wants = append(wants, want{question: fmt.Sprintf(t.text, lowerFirst(it.Name)), intent: t.intent, sku: it.SKU})
	}
	if f := s.hoursFAQ(); f != nil {
		wants = append(wants, want{question: f.Question, intent: IntentFAQ, faq: f.ID})
	} else if len(s.FAQs) > 0 {
		wants = append(wants, want{question: s.FAQs[0].Question, intent: IntentFAQ, faq: s.FAQs[0].ID})
	}
	var out []string
	for _, w := range wants {
		if len(out) == n {
			break
		}
		a := s.NewConversation().Ask(w.question)
		if a.Intent != w.intent || len(a.Facts) == 0 {
			continue
		}
		if f := a.Facts[0]; (w.sku != "" && f.SKU != w.sku) || (w.faq != "" && f.ID != w.faq) {
			continue
		}
		out = append(out, w.question)
	}
	return out
}

// lowerFirst lower-cases the first letter of a name written in sentence case ("Organic milk" ->
// "organic milk"); a name in title case, or one that starts with an acronym or a brand in
// capitals, stays as it is ("Hand Cream Sensitive", "USB cable", "iPhone case").
func lowerFirst(name string) string {
	r, size := utf8.DecodeRuneInString(name)
	next, _ := utf8.DecodeRuneInString(name[size:])
	if !unicode.IsUpper(r) || unicode.IsUpper(next) || unicode.IsDigit(next) {
		return name
	}
	for _, w := range strings.Fields(name)[1:] { // a capitalised word: "Cream", not "L" or "SPF"
		first, n := utf8.DecodeRuneInString(w)
		if second, _ := utf8.DecodeRuneInString(w[n:]); unicode.IsUpper(first) && unicode.IsLower(second) {
			return name
		}
	}
	return string(unicode.ToLower(r)) + name[size:]
}
