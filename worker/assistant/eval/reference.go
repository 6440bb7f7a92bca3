package eval

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"aisle/sync/catalog"
)

// productFact is the fact a correct assistant gives for a SKU (with the staff part on staff
// devices).
func productFact(sf *catalog.StoreFile, sku string, staff bool) (Fact, error) {
	for i, p := range sf.Products {
		if p.SKU != sku {
			continue
		}
		st := sf.Stock[i]
		f := Fact{Type: "product", SKU: p.SKU, Name: p.Name, Brand: p.Brand, Category: p.Category,
			Price: json.Number(catalog.Major(p.Price)), Currency: p.Currency, Stock: StockState(st.Quantity),
			Quantity: json.Number(strconv.FormatInt(st.Quantity, 10)), Aisle: st.Aisle}
		if staff {
			f.Staff = &StaffFact{Backroom: json.Number(strconv.FormatInt(st.Staff.Backroom, 10)), Supplier: p.Staff.Supplier,
				Cost: json.Number(catalog.Major(p.Staff.Cost)), Notes: p.Staff.Notes}
		}
		return f, nil
	}
	return Fact{}, fmt.Errorf("the store does not carry %s", sku)
}

// Reference is a plain correct answer to q, composed from the store's data and the question's
// expectation: the first expected SKU, the expected FAQ, the first products that fit a
// recommendation, the category of an unknown item. It shows that an expectation can be met and
// that [Score] accepts it (the tests hold every committed and generated question to it); it
// can also serve as a baseline target. It is not the assistant's wording. It fails when the
// store cannot meet the expectation (a SKU or FAQ it does not have, no product that fits).
func Reference(sf *catalog.StoreFile, q Question) (Output, error) {
	ix := newIndex(sf)
	e := q.Expect
	o := Output{Q: q.Q, Intent: e.Intent, Facts: []Fact{}}
	one := func(sku string, staff bool) (Fact, error) {
		f, err := productFact(sf, sku, staff)
		if err == nil {
			o.Facts = append(o.Facts, f)
		}
		return f, err
	}
	first := func() string {
		if len(e.SKUs) == 0 {
			return ""
		}
		return e.SKUs[0]
	}
	switch e.Intent {
	case IntentAvailability:
		f, err := one(first(), false)
		if err != nil {
			return o, err
		}
		if f.Quantity == "0" {
			o.Answer = fmt.Sprintf("Sorry, %s is out of stock.", f.Name)
		} else {
			o.Answer = fmt.Sprintf("Yes, %s: %s on the shelf.", f.Name, f.Quantity)
		}
	case IntentPrice:
		f, err := one(first(), false)
		if err != nil {
			return o, err
		}
		o.Answer = fmt.Sprintf("%s costs %s %s.", f.Name, f.Price, f.Currency)
	case IntentLocation:
		f, err := one(first(), false)
		if err != nil {
			return o, err
		}
		o.Answer = fmt.Sprintf("%s is in %s.", f.Name, f.Aisle)
	case IntentFAQ:
		f, ok := ix.faqs[e.FAQ]
		if !ok {
			return o, fmt.Errorf("the store has no FAQ %s", e.FAQ)
		}
		o.Facts = []Fact{{Type: "faq", ID: f.ID, Question: f.Question, Answer: f.Answer}}
		o.Answer = f.Answer
	case IntentRecommendation:
		cands := e.SKUs
		if len(cands) == 0 {
			for _, p := range sf.Products {
				cands = append(cands, p.SKU)
			}
		}
		var names []string
		for _, sku := range cands {
			p, _, ok := ix.product(sku)
			if !ok || (e.Category != "" && !strings.EqualFold(p.Category, e.Category)) || (e.MaxPrice > 0 && p.Price > maxCents(e.MaxPrice)) {
				continue
			}
			f, _ := one(sku, false)
			names = append(names, fmt.Sprintf("%s (%s)", f.Name, f.Price))
			if len(names) == 3 {
				break
			}
		}
		if len(names) == 0 {
			return o, fmt.Errorf("no product fits %+v", e)
		}
		o.Answer = "You could try " + strings.Join(names, ", ") + "."
	case IntentComparison:
		sku := first()
		if sku == "" {
			for _, p := range sf.Products {
				probe := Result{Question: Question{Q: q.Q, Expect: e}, Output: &Output{Q: q.Q, Intent: e.Intent}}
				f, _ := productFact(sf, p.SKU, false)
				probe.Output.Facts = []Fact{f}
				probe.Output.Answer = f.Name
				ix.judge(&probe, nil)
				if len(probe.Reasons) == 0 {
					sku = p.SKU
					break
				}
			}
		}
		f, err := one(sku, false)
		if err != nil {
			return o, fmt.Errorf("no product is %s: %v", e.Relation, err)
		}
		o.Answer = fmt.Sprintf("%s costs %s %s.", f.Name, f.Price, f.Currency)
	case IntentUnknownItem:
		o.Answer = "Sorry, we don't carry that."
		if e.Category != "" {
			c, ok := ix.cats[strings.ToLower(e.Category)]
			if !ok {
				return o, fmt.Errorf("the store has no category %s", e.Category)
			}
			var aisles []string
			seen := map[string]bool{}
			for i, p := range sf.Products {
				a := sf.Stock[i].Aisle
				if strings.EqualFold(p.Category, c.name) && a != "" && !seen[strings.ToLower(a)] {
					seen[strings.ToLower(a)] = true
					aisles = append(aisles, a)
				}
			}
			o.Facts = []Fact{{Type: "category", Name: c.name, Aisles: aisles, Products: json.Number(strconv.Itoa(c.count))}}
			o.Answer += fmt.Sprintf(" Our %s (%d products) is in %s.", c.name, c.count, strings.Join(aisles, " and "))
		}
	case IntentStaff:
		if !q.Staff {
			o.Answer = "Sorry, that information is for staff only."
			break
		}
		f, err := one(first(), true)
		if err != nil {
			return o, err
		}
		switch e.StaffField {
		case StaffBackroom:
			o.Answer = fmt.Sprintf("%s: %s in the back room.", f.Name, f.Staff.Backroom)
		case StaffSupplier:
			o.Answer = fmt.Sprintf("%s comes from %s.", f.Name, f.Staff.Supplier)
		case StaffCost:
			o.Answer = fmt.Sprintf("Our cost for %s is %s %s.", f.Name, f.Staff.Cost, f.Currency)
		case StaffNotes:
			o.Answer = fmt.Sprintf("Notes on %s: %s", f.Name, f.Staff.Notes)
		}
	case IntentGreeting:
		o.Answer = "Hello! How can I help?"
	case IntentThanks:
		o.Answer = "You're welcome!"
	case IntentGoodbye:
		o.Answer = "Goodbye!"
	default:
		o.Answer = "Sorry, I can only help with this store."
	}
	return o, nil
}
