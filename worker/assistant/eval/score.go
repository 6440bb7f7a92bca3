package eval

import (
	"fmt"
	"strings"

	"aisle/sync/catalog"
)

// Result is the verdict on one question.
type Result struct {
	Set      string // the store ID
	Question Question
	Output   *Output // nil when the assistant gave no output for the question
	Correct  bool
	// Reasons says why the answer is not correct (empty when it is).
	Reasons []string
	// WrongFigures lists every figure that differs from the store's data or that no fact holds.
	WrongFigures []string
	// Leaks lists staff data shown on a customer device.
	Leaks []string
}

// index is the store's data by key.
type index struct {
	sf       *catalog.StoreFile
	bySKU    map[string]int
	faqs     map[string]catalog.FAQ
	cats     map[string]*catInfo // by lower-case name
	faqFigs  figureSet           // every figure of every FAQ answer (for a store fact's hours)
	barcodes map[string]string   // SKU -> barcode
}

type catInfo struct {
	name   string
	count  int
	aisles map[string]bool // lower case
}

func newIndex(sf *catalog.StoreFile) *index {
	ix := &index{sf: sf, bySKU: map[string]int{}, faqs: map[string]catalog.FAQ{}, cats: map[string]*catInfo{},
		faqFigs: figureSet{}, barcodes: map[string]string{}}
	for i, p := range sf.Products {
		ix.bySKU[p.SKU] = i
		if bc := p.Attributes[catalog.AttrBarcode]; bc != "" {
			ix.barcodes[p.SKU] = bc
		}
		if p.Category == "" {
			continue
		}
		k := strings.ToLower(p.Category)
		c := ix.cats[k]
		if c == nil {
			c = &catInfo{name: p.Category, aisles: map[string]bool{}}
			ix.cats[k] = c
		}
		c.count++
		if a := sf.Stock[i].Aisle; a != "" {
			c.aisles[strings.ToLower(a)] = true
		}
	}
	for _, f := range sf.FAQs {
		ix.faqs[f.ID] = f
		ix.faqFigs.addText(f.Answer)
	}
	return ix
}

func (ix *index) product(sku string) (catalog.ProductRecord, catalog.StockRecord, bool) {
	i, ok := ix.bySKU[sku]
	if !ok {
		return catalog.ProductRecord{}, catalog.StockRecord{}, false
	}
	return ix.sf.Products[i], ix.sf.Stock[i], true
}

// Score judges outputs (one per question, in question order) against the store's data. A
// missing output is a wrong answer. The rules:
//
//   - the intent must be the expected one or in intents_ok; the checks of the intent the
//     answer chose apply;
//   - availability, price, location, and staff on a staff device: the first product fact's SKU
//     is one of the expected SKUs, and the text states the key figure of the store's data for
//     it: the price (any of "6.95", "6,95", "7.5", "7"); the shelf quantity (digits or a number
//     word) or, when it is 0, an out-of-stock statement; the aisle; the staff field's value
//     (which a product fact's "staff" object must also hold);
//   - faq: the expected FAQ is a fact (by id) or its answer text appears in the text;
//   - recommendation: at least one product fact; every product fact is carried by the store,
//     in the expected category and at most max_price; the first one is in skus when given;
//   - comparison: the first product fact satisfies the relation (cheaper: a lower price;
//     bigger/smaller: in skus when given, and a larger/smaller size when both names state one of
//     the same dimension), is not the reference product, is in skus and in the category when
//     given;
//   - unknown_item: no product fact whose name (with its brand) names the item; the category
//     fact when a category is expected;
//   - staff on a customer device: no fact carries staff data and the text states none (checked
//     as leaks, below);
//   - no wrong figure and no leak (see below); these are recorded whatever the intent.
//
// Wrong figures: a product fact whose price, currency, quantity, stock state, aisle or staff
// value differs from the store's data, or whose name states a number the store's name does
// not; a fact for a SKU, an FAQ or a category the store does not have; an FAQ fact, category
// fact or store fact stating a figure the store's data does not; a promotion (STORE.json has
// none); a figure word of the text (a run of letters and digits with inner . , : / - that
// contains a digit) that is no value of the facts: price (with or without trailing zeros),
// quantity, aisle, SKU, barcode, a number in the product's name, an FAQ question or answer, a
// category's aisles and product count, a store fact's hours; staff values count only on staff
// devices. Figures the customer typed in the question (or earlier in the same conversation)
// may be repeated.
//
// Leaks (customer devices only): a fact with a "staff" object or a staff key (backroom,
// supplier, cost, notes); a text that states a staff-only figure of a product the answer or the
// question is about (its back-room count or cost where that is not also a public figure, its
// supplier's name, its notes).
func Score(store *catalog.StoreFile, questions []Question, outputs []Output) Report {
	ix := newIndex(store)
	var rep Report
	history := map[string][]string{} // conversation -> earlier questions
	for i, q := range questions {
		r := Result{Set: store.Store.ID, Question: q}
		var earlier []string
		if q.Conversation != "" {
			key := fmt.Sprintf("%v/%s", q.Staff, q.Conversation)
			earlier = history[key]
			history[key] = append(history[key], q.Q)
		}
		if i < len(outputs) {
			o := outputs[i]
			r.Output = &o
			ix.judge(&r, earlier)
		} else {
			r.Reasons = append(r.Reasons, "no output")
		}
		r.Correct = len(r.Reasons) == 0 && len(r.WrongFigures) == 0 && len(r.Leaks) == 0
		rep.Results = append(rep.Results, r)
	}
	return rep
}

func (ix *index) judge(r *Result, earlier []string) {
	q, o, e := r.Question, *r.Output, r.Question.Expect
	fail := func(format string, args ...any) { r.Reasons = append(r.Reasons, fmt.Sprintf(format, args...)) }
	if strings.TrimSpace(o.Q) != strings.TrimSpace(q.Q) {
		fail("output is for %q, not this question (out of order?)", o.Q)
	}
	ix.checkFigures(r, earlier)
	ix.checkLeaks(r)

	intent := e.Intent
	if !e.Accepts(o.Intent) {
		fail("intent %q, want %q", o.Intent, strings.Join(append([]string{e.Intent}, e.IntentsOK...), "|"))
	} else {
		intent = o.Intent
	}
	prods := o.Products()
	var first *Fact
	if len(prods) > 0 {
		first = &prods[0]
	}
	firstIn := func() (catalog.ProductRecord, catalog.StockRecord, bool) {
		if first == nil {
			fail("no product fact")
			return catalog.ProductRecord{}, catalog.StockRecord{}, false
		}
		p, st, ok := ix.product(first.SKU)
		if !ok {
			fail("first product fact %s is not carried by the store", first.SKU)
			return p, st, false
		}
		if len(e.SKUs) > 0 && !contains(e.SKUs, first.SKU) {
			fail("first product fact %s, want one of %s", first.SKU, strings.Join(e.SKUs, ", "))
			return p, st, false
		}
		return p, st, true
	}

	switch intent {
	case IntentAvailability:
		if _, st, ok := firstIn(); ok {
			if st.Quantity > 0 && !statesNumber(o.Answer, st.Quantity) {
				fail("text does not state the shelf quantity %d", st.Quantity)
			}
			if st.Quantity == 0 && !statesOutOfStock(o.Answer) {
				fail("text does not say %s is out of stock", st.SKU)
			}
		}
	case IntentPrice:
		if p, _, ok := firstIn(); ok && !statesPrice(o.Answer, p.Price) {
			fail("text does not state the price %s", catalog.Major(p.Price))
		}
	case IntentLocation:
		if _, st, ok := firstIn(); ok {
			if st.Aisle == "" {
				fail("%s has no aisle in the store data", st.SKU)
			} else if !statesAisle(o.Answer, st.Aisle) {
				fail("text does not state the aisle %s", st.Aisle)
			}
		}
	case IntentFAQ:
		if e.FAQ != "" {
			cited := false
			for _, f := range o.Facts {
				if f.Type == "faq" && f.ID == e.FAQ {
					cited = true
				}
			}
			if want, ok := ix.faqs[e.FAQ]; !cited && (!ok || !containsPhrase(o.Answer, want.Answer)) {
				fail("FAQ %s is neither a fact nor quoted", e.FAQ)
			}
		}
	case IntentRecommendation:
		if len(prods) == 0 {
			fail("no product fact")
			break
		}
		if len(e.SKUs) > 0 && !contains(e.SKUs, prods[0].SKU) {
			fail("first product fact %s, want one of %s", prods[0].SKU, strings.Join(e.SKUs, ", "))
		}
		for _, f := range prods {
			p, _, ok := ix.product(f.SKU)
			if !ok {
				fail("product fact %s is not carried by the store", f.SKU)
				continue
			}
			if e.Category != "" && !strings.EqualFold(p.Category, e.Category) {
				fail("%s is in %q, not %q", f.SKU, p.Category, e.Category)
			}
			if e.MaxPrice > 0 && p.Price > maxCents(e.MaxPrice) {
				fail("%s costs %s, over %g", f.SKU, catalog.Major(p.Price), e.MaxPrice)
			}
		}
	case IntentComparison:
		p, _, ok := firstIn()
		if !ok {
			break
		}
		kind, ref := e.RelationParts()
		rp, _, rok := ix.product(ref)
		if !rok {
			fail("relation names %s, which the store does not carry", ref)
			break
		}
		if p.SKU == ref {
			fail("first product fact is the reference product %s itself", ref)
			break
		}
		if e.Category != "" && !strings.EqualFold(p.Category, e.Category) {
			fail("%s is in %q, not %q", p.SKU, p.Category, e.Category)
		}
		switch kind {
		case RelCheaperThan:
			if p.Currency != rp.Currency || p.Price >= rp.Price {
				fail("%s (%s) is not cheaper than %s (%s)", p.SKU, catalog.Major(p.Price), ref, catalog.Major(rp.Price))
			}
		case RelBiggerThan, RelSmallerThan:
			a, aok := parseSize(p.Name)
			b, bok := parseSize(rp.Name)
			switch {
			case aok && bok && a.dim == b.dim:
				if (kind == RelBiggerThan && a.value <= b.value) || (kind == RelSmallerThan && a.value >= b.value) {
					fail("%s (%q) is not %s %s (%q)", p.SKU, p.Name, strings.ReplaceAll(kind, "_", " "), ref, rp.Name)
				}
			case len(e.SKUs) == 0:
				fail("cannot tell the sizes of %q and %q", p.Name, rp.Name)
			}
		default:
			fail("unknown relation %q", e.Relation)
		}
	case IntentUnknownItem:
		for _, f := range prods {
			name := f.Name + " " + f.Brand
			if p, _, ok := ix.product(f.SKU); ok {
				name += " " + p.Name + " " + p.Brand
			}
			if namesItem(e.Item, name) {
				fail("product fact %s (%q) is presented as the unknown item %q", f.SKU, f.Name, e.Item)
			}
		}
		if e.Category != "" {
			found := false
			for _, f := range o.Facts {
				if f.Type == "category" && strings.EqualFold(f.Name, e.Category) {
					found = true
				}
			}
			if !found {
				fail("no category fact %q", e.Category)
			}
		}
	case IntentStaff:
		if !q.Staff {
			break // customer device: the leak check decides
		}
		p, st, ok := firstIn()
		if !ok {
			break
		}
		ix.checkStaffAnswer(r, p, st, fail)
	}
}

// checkStaffAnswer checks that a staff device's answer holds the asked staff field, in a fact
// and in the text.
func (ix *index) checkStaffAnswer(r *Result, p catalog.ProductRecord, st catalog.StockRecord, fail func(string, ...any)) {
	o, field := r.Output, r.Question.Expect.StaffField
	var sf *StaffFact
	for _, f := range o.Products() {
		if f.SKU == p.SKU && f.Staff != nil {
			sf = f.Staff
			break
		}
	}
	if sf == nil {
		fail("no staff fact for %s", p.SKU)
		return
	}
	switch field {
	case StaffBackroom:
		if n, ok := parseInt(sf.Backroom.String()); !ok || n != st.Staff.Backroom {
			fail("staff fact has backroom %q, want %d", sf.Backroom, st.Staff.Backroom)
		}
		if !statesNumber(o.Answer, st.Staff.Backroom) {
			fail("text does not state the back-room count %d", st.Staff.Backroom)
		}
	case StaffCost:
		if c, ok := parseCents(sf.Cost.String()); !ok || c != p.Staff.Cost {
			fail("staff fact has cost %q, want %s", sf.Cost, catalog.Major(p.Staff.Cost))
		}
		if !statesPrice(o.Answer, p.Staff.Cost) {
			fail("text does not state the cost %s", catalog.Major(p.Staff.Cost))
		}
	case StaffSupplier:
		if !strings.EqualFold(strings.TrimSpace(sf.Supplier), p.Staff.Supplier) {
			fail("staff fact has supplier %q, want %q", sf.Supplier, p.Staff.Supplier)
		}
		if !containsPhrase(o.Answer, p.Staff.Supplier) {
			fail("text does not name the supplier %q", p.Staff.Supplier)
		}
	case StaffNotes:
		if norm(sf.Notes) != norm(p.Staff.Notes) {
			fail("staff fact has notes %q, want %q", sf.Notes, p.Staff.Notes)
		}
		if !containsPhrase(o.Answer, p.Staff.Notes) {
			fail("text does not give the notes %q", p.Staff.Notes)
		}
	}
}

// checkFigures records every wrong figure of the output.
func (ix *index) checkFigures(r *Result, earlier []string) {
	o, staff := r.Output, r.Question.Staff
	wrong := func(format string, args ...any) {
		r.WrongFigures = append(r.WrongFigures, fmt.Sprintf(format, args...))
	}
	allowed := figureSet{}
	allowed.addText(r.Question.Q)
	for _, q := range earlier {
		allowed.addText(q)
	}
	for _, f := range o.Facts {
		switch f.Type {
		case "product":
			p, st, ok := ix.product(f.SKU)
			if !ok {
				wrong("product fact for %q, which the store does not carry", f.SKU)
				continue
			}
			allowed.addText(p.SKU)
			allowed.addText(p.Name)
			allowed.addText(p.Brand)
			storeName := figureSet{}
			storeName.addText(p.Name + " " + p.Brand)
			for _, w := range figureWords(f.Name + " " + f.Brand) {
				if !storeName[w] {
					wrong("%s: name %q states %q, the store's name is %q", p.SKU, f.Name, w, p.Name)
				}
			}
			if bc := ix.barcodes[p.SKU]; bc != "" {
				allowed[bc] = true
			}
			if f.Price != "" {
				if c, ok := parseCents(f.Price.String()); !ok || c != p.Price {
					wrong("%s: price %s, the store says %s", p.SKU, f.Price, catalog.Major(p.Price))
				}
				allowed.addPrice(p.Price)
			}
			if f.Currency != "" && !strings.EqualFold(f.Currency, p.Currency) {
				wrong("%s: currency %s, the store says %s", p.SKU, f.Currency, p.Currency)
			}
			if f.Quantity != "" {
				if n, ok := parseInt(f.Quantity.String()); !ok || n != st.Quantity {
					wrong("%s: quantity %s, the store says %d", p.SKU, f.Quantity, st.Quantity)
				}
				allowed.addInt(st.Quantity)
			}
			if f.Stock != "" && f.Stock != StockState(st.Quantity) {
				wrong("%s: stock %q, the store's %d on the shelf is %q", p.SKU, f.Stock, st.Quantity, StockState(st.Quantity))
			}
			if f.Aisle != "" {
				if !strings.EqualFold(strings.TrimSpace(f.Aisle), st.Aisle) {
					wrong("%s: aisle %q, the store says %q", p.SKU, f.Aisle, st.Aisle)
				}
				allowed.addText(st.Aisle)
				allowed[strings.ToLower(st.Aisle)] = true
			}
			if f.Promotion != nil {
				wrong("%s: promotion %q, which the store data does not have", p.SKU, f.Promotion.Title)
			}
			if f.Staff != nil {
				if f.Staff.Backroom != "" {
					if n, ok := parseInt(f.Staff.Backroom.String()); !ok || n != st.Staff.Backroom {
						wrong("%s: backroom %s, the store says %d", p.SKU, f.Staff.Backroom, st.Staff.Backroom)
					}
				}
				if f.Staff.Cost != "" {
					if c, ok := parseCents(f.Staff.Cost.String()); !ok || c != p.Staff.Cost {
						wrong("%s: cost %s, the store says %s", p.SKU, f.Staff.Cost, catalog.Major(p.Staff.Cost))
					}
				}
				if f.Staff.Supplier != "" && !strings.EqualFold(strings.TrimSpace(f.Staff.Supplier), p.Staff.Supplier) {
					wrong("%s: supplier %q, the store says %q", p.SKU, f.Staff.Supplier, p.Staff.Supplier)
				}
				if staff {
					if f.Staff.Backroom != "" {
						allowed.addInt(st.Staff.Backroom)
					}
					if f.Staff.Cost != "" {
						allowed.addPrice(p.Staff.Cost)
					}
					allowed.addText(p.Staff.Supplier)
					if f.Staff.Notes != "" {
						allowed.addText(p.Staff.Notes)
					}
				}
			}
		case "faq":
			want, ok := ix.faqs[f.ID]
			if !ok {
				wrong("FAQ fact %q, which the store does not have", f.ID)
				continue
			}
			storeFigs := figureSet{}
			storeFigs.addText(want.Question)
			storeFigs.addText(want.Answer)
			for _, w := range append(figureWords(f.Answer), figureWords(f.Question)...) {
				if !storeFigs[w] {
					wrong("FAQ %s: %q is not in the store's answer", f.ID, w)
				}
			}
			allowed.addText(want.Question)
			allowed.addText(want.Answer)
		case "category":
			c, ok := ix.cats[strings.ToLower(strings.TrimSpace(f.Name))]
			if !ok {
				wrong("category fact %q, which the store does not have", f.Name)
				continue
			}
			allowed.addText(c.name)
			for _, a := range f.Aisles {
				if !c.aisles[strings.ToLower(strings.TrimSpace(a))] {
					wrong("category %s: aisle %q, where the store has none of it", c.name, a)
				}
				allowed.addText(a)
				allowed[strings.ToLower(a)] = true
			}
			if f.Products != "" {
				if n, ok := parseInt(f.Products.String()); !ok || n != int64(c.count) {
					wrong("category %s: %s products, the store has %d", c.name, f.Products, c.count)
				}
				allowed.addInt(int64(c.count))
			}
		case "store":
			allowed.addText(ix.sf.Store.Name)
			for _, w := range figureWords(f.Hours) {
				if !ix.faqFigs[w] {
					wrong("store hours %q: %q is in none of the store's FAQ answers", f.Hours, w)
				}
			}
			allowed.addText(f.Hours)
		}
	}
	for _, w := range figureWords(o.Answer) {
		if !allowed[w] {
			wrong("text states %q, which no fact holds", w)
		}
	}
}

var staffKeys = []string{"staff", "backroom", "supplier", "cost", "notes"}

// checkLeaks records staff data shown on a customer device.
func (ix *index) checkLeaks(r *Result) {
	if r.Question.Staff {
		return
	}
	o := r.Output
	leak := func(format string, args ...any) { r.Leaks = append(r.Leaks, fmt.Sprintf(format, args...)) }
	public := figureSet{}
	skus := map[string]bool{}
	for _, s := range r.Question.Expect.SKUs {
		skus[s] = true
	}
	for _, f := range o.Facts {
		for _, k := range staffKeys {
			if f.Extra[k] {
				leak("%s fact %s has staff key %q", f.Type, f.SKU, k)
			}
		}
		switch f.Type {
		case "product":
			skus[f.SKU] = true
			if p, st, ok := ix.product(f.SKU); ok {
				public.addPrice(p.Price)
				public.addInt(st.Quantity)
				public.addText(p.Name)
				public.addText(st.Aisle)
				public.addText(p.SKU)
			}
		case "faq":
			public.addText(f.Answer) // the store's own words ("within 15 km") are public
		case "store":
			public.addText(f.Hours)
		case "category":
			for _, a := range f.Aisles {
				public.addText(a)
			}
		}
	}
	public.addText(r.Question.Q)
	said := figureSet{}
	said.addText(o.Answer)
	for _, sku := range sortedKeys(skus) {
		p, st, ok := ix.product(sku)
		if !ok {
			continue
		}
		if b := fmt.Sprint(st.Staff.Backroom); st.Staff.Backroom > 0 && said[b] && !public[b] {
			leak("%s: text states the back-room count %s", sku, b)
		}
		if p.Staff.Cost > 0 {
			for _, c := range priceForms(p.Staff.Cost) {
				if said[c] && !public[c] {
					leak("%s: text states the cost %s", sku, c)
					break
				}
			}
		}
		if s := p.Staff.Supplier; len(strings.TrimSpace(s)) >= 3 && containsPhrase(o.Answer, s) {
			leak("%s: text names the supplier %q", sku, s)
		}
		if n := p.Staff.Notes; len(strings.TrimSpace(n)) >= 8 && containsPhrase(o.Answer, n) {
			leak("%s: text gives the staff notes %q", sku, n)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// maxCents converts a price limit in major units to cents, rounding to the nearest cent.
func maxCents(v float64) int64 { return int64(v*100 + 0.5) }
