// Package grounding turns the local catalog replica into a short system message that the
// inference worker puts before a chat, so the assistant answers from the store's real products,
// prices, stock and FAQs while the device is offline.
//
// Only public customer data goes into the prompt: product name, price and currency, shelf
// quantity and aisle, and FAQ questions and answers. Staff-only fields (cost, supplier, back-room
// stock, notes) are never read, even from a staff replica.
package grounding

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"aisle/sync/catalog"
	"aisle/sync/replica"
)

// Limits bound what a lookup fetches and how long the prompt is. Zero fields take the defaults.
type Limits struct {
	Products int // products in the prompt (default 3)
	FAQs     int // FAQs in the prompt (default 2)
	Terms    int // query words looked up (default 6)
	MaxBytes int // prompt length in bytes, whole lines only (default 800)
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.Products, 3)
	def(&l.FAQs, 2)
	def(&l.Terms, 6)
	def(&l.MaxBytes, 800)
	return l
}

// Product is one product fact: public fields only.
type Product struct {
	SKU      string
	Name     string
	Price    int64 // minor units
	Currency string
	InStock  *int64 // nil: no stock line in this store
	Aisle    string
}

// FAQ is one FAQ fact.
type FAQ struct {
	Question, Answer string
}

// Facts are what a lookup found, best first.
type Facts struct {
	Products []Product
	FAQs     []FAQ
}

// stopwords are common words of customer questions that would match too much.
var stopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the and or of for to in on at is are do does did you your
		we our i me my it its this that these those have has with what where which who how when
		can could would will there their them any some much many please price cost costs stock
		store shop sell buy find get need want about from be been was were not no yes hi hello`) {
		stopwords[w] = true
	}
}

// Terms are the words of question worth looking up: normalised as the catalog's search does,
// without stop words and words shorter than 3 characters, in order, at most max.
func Terms(question string, max int) []string {
	var out []string
	for _, w := range catalog.SearchTerms(question) {
		if len([]rune(w)) < 3 || stopwords[w] {
			continue
		}
		out = append(out, w)
		if len(out) == max {
			break
		}
	}
	return out
}

// Lookup searches the catalog for each term of question and ranks products and FAQs by how many
// terms found them (then by name or ID). It returns empty Facts, not an error, when the catalog
// has nothing to say; errors are those of the catalog other than NotFound.
func Lookup(ctx context.Context, cat replica.Catalog, question string, lim Limits) (Facts, error) {
	lim = lim.withDefaults()
	terms := Terms(question, lim.Terms)
	var f Facts
	if len(terms) == 0 {
		return f, nil
	}
	type hit[T any] struct {
		v T
		n int
	}
	prods := map[string]*hit[catalog.Product]{}
	faqs := map[string]*hit[catalog.FAQ]{}
	for _, t := range terms {
		ps, err := cat.SearchProducts(ctx, t, 2*lim.Products)
		if err != nil && !notFound(err) {
			return Facts{}, err
		}
		for _, p := range ps {
			if h, ok := prods[p.SKU]; ok {
				h.n++
			} else {
				prods[p.SKU] = &hit[catalog.Product]{p, 1}
			}
		}
		qs, err := cat.FAQs(ctx, t, 2*lim.FAQs)
		if err != nil && !notFound(err) {
			return Facts{}, err
		}
		for _, q := range qs {
			if h, ok := faqs[q.ID]; ok {
				h.n++
			} else {
				faqs[q.ID] = &hit[catalog.FAQ]{q, 1}
			}
		}
	}
	ph := make([]*hit[catalog.Product], 0, len(prods))
	for _, h := range prods {
		ph = append(ph, h)
	}
	sort.Slice(ph, func(i, j int) bool {
		a, b := ph[i], ph[j]
		if a.n != b.n {
			return a.n > b.n
		}
		if a.v.Name != b.v.Name {
			return a.v.Name < b.v.Name
		}
		return a.v.SKU < b.v.SKU
	})
	for _, h := range ph[:min(len(ph), lim.Products)] {
		p := Product{SKU: h.v.SKU, Name: h.v.Name, Price: h.v.Price, Currency: h.v.Currency}
		sv, err := cat.Stock(ctx, h.v.SKU)
		switch {
		case err == nil && sv.Stock != nil:
			q := sv.Stock.Quantity
			p.InStock, p.Aisle = &q, sv.Stock.Aisle
		case err != nil && !notFound(err):
			return Facts{}, err
		}
		f.Products = append(f.Products, p)
	}
	fh := make([]*hit[catalog.FAQ], 0, len(faqs))
	for _, h := range faqs {
		fh = append(fh, h)
	}
	sort.Slice(fh, func(i, j int) bool {
		if fh[i].n != fh[j].n {
			return fh[i].n > fh[j].n
		}
		return fh[i].v.ID < fh[j].v.ID
	})
	for _, h := range fh[:min(len(fh), lim.FAQs)] {
		f.FAQs = append(f.FAQs, FAQ{Question: h.v.Question, Answer: h.v.Answer})
	}
	return f, nil
}

func notFound(err error) bool {
	var ce *catalog.Error
	return errors.As(err, &ce) && catalog.ErrorCode(err) == catalog.NotFound
}

// Price formats minor units with two decimals and the currency code: "2.49 EUR".
func Price(minor int64, currency string) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, minor/100, minor%100, currency)
}

// Prompt renders facts as a system message, one fact a line, keeping whole lines up to
// lim.MaxBytes. It returns "" when there are no facts or not even one fact line fits. Shape:
//
//	Store catalog facts (answer from these; say so if something is not listed):
//	- Oat Milk 1L: 2.49 EUR, 12 in stock, aisle 4
//	- FAQ: Do you take cards? Yes, all major cards.
func Prompt(f Facts, lim Limits) string {
	lim = lim.withDefaults()
	if len(f.Products) == 0 && len(f.FAQs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Store catalog facts (answer from these; say so if something is not listed):")
	header := b.Len()
	done := func() string {
		if b.Len() == header { // not one fact fitted
			return ""
		}
		return b.String()
	}
	add := func(line string) bool {
		line = oneLine(line)
		if b.Len()+1+len(line) > lim.MaxBytes {
			return false
		}
		b.WriteString("\n")
		b.WriteString(line)
		return true
	}
	for _, p := range f.Products {
		line := "- " + p.Name + ": " + Price(p.Price, p.Currency)
		switch {
		case p.InStock == nil:
			line += ", stock unknown"
		case *p.InStock == 0:
			line += ", out of stock"
		default:
			line += fmt.Sprintf(", %d in stock", *p.InStock)
		}
		if p.Aisle != "" {
			line += ", aisle " + p.Aisle
		}
		if !add(line) {
			return done()
		}
	}
	for _, q := range f.FAQs {
		if !add("- FAQ: " + q.Question + " " + q.Answer) {
			break
		}
	}
	return done()
}

// oneLine collapses white space so a catalog text cannot break the prompt's line structure.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Ground returns msgs with a facts system message put first, looked up for the last user
// message; msgs unchanged (the same slice) when there is no user message or nothing was found.
// An existing system message is kept after the facts.
func Ground(ctx context.Context, cat replica.Catalog, msgs []Message, lim Limits) ([]Message, error) {
	q := ""
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			q = msgs[i].Content
			break
		}
	}
	if q == "" {
		return msgs, nil
	}
	f, err := Lookup(ctx, cat, q, lim)
	if err != nil {
		return msgs, err
	}
	p := Prompt(f, lim)
	if p == "" {
		return msgs, nil
	}
	return append([]Message{{Role: "system", Content: p}}, msgs...), nil
}

// Message is a chat message (the shape of the worker's wire.Message).
type Message struct {
	Role, Content string
}
