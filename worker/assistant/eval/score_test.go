package eval

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aisle/sync/catalog"
)

func mustStore(t testing.TB, path string) *catalog.StoreFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sf, err := catalog.ParseStoreFile(f)
	if err != nil {
		t.Fatal(catalog.FirstProblem(err))
	}
	return sf
}

func mustOutput(t testing.TB, js string) Output {
	t.Helper()
	outs, err := ReadOutputs(strings.NewReader(js))
	if err != nil || len(outs) != 1 {
		t.Fatalf("bad output %s: %v", js, err)
	}
	return outs[0]
}

// ibuprofen is PH-0101 of the corner pharmacy as a correct assistant states it.
const ibuprofen = `{"type": "product", "sku": "PH-0101", "name": "Ibuprofen 400 mg, 20 tablets", "brand": "Nurofen", "category": "Pain Relief", "price": 6.95, "currency": "EUR", "stock": "in_stock", "quantity": 14, "aisle": "2A"}`

const ibuprofenStaff = `{"type": "product", "sku": "PH-0101", "name": "Ibuprofen 400 mg, 20 tablets", "price": 6.95, "currency": "EUR", "stock": "in_stock", "quantity": 14, "aisle": "2A", "staff": {"backroom": 40, "supplier": "Medipharm GmbH", "cost": 3.10, "notes": "behind the counter from 2027"}}`

const paracetamol = `{"type": "product", "sku": "PH-0102", "name": "Paracetamol 500 mg, 20 tablets", "price": 2.49, "currency": "EUR", "stock": "out_of_stock", "quantity": 0, "aisle": "2A"}`

func out(q, intent, answer string, facts ...string) string {
	f := "[" + strings.Join(facts, ",") + "]"
	b, _ := json.Marshal(struct {
		Q      string          `json:"q"`
		Intent string          `json:"intent"`
		Answer string          `json:"answer"`
		Facts  json.RawMessage `json:"facts"`
	}{q, intent, answer, json.RawMessage(f)})
	return string(b)
}

func TestScore(t *testing.T) {
	sf := mustStore(t, filepath.Join(evalDir, "corner-pharmacy.json"))
	price := Question{Q: "how much is the ibuprofen", Expect: Expect{Intent: IntentPrice, SKUs: []string{"PH-0101"}}}
	avail := Question{Q: "any ibuprofen?", Expect: Expect{Intent: IntentAvailability, SKUs: []string{"PH-0101"}}}
	availOut := Question{Q: "any paracetamol left", Expect: Expect{Intent: IntentAvailability, SKUs: []string{"PH-0102"}}}
	where := Question{Q: "where is the ibuprofen", Expect: Expect{Intent: IntentLocation, SKUs: []string{"PH-0101"}}}
	backroomCust := Question{Q: "how many ibuprofen in the back?", Expect: Expect{Intent: IntentStaff, StaffField: StaffBackroom, SKUs: []string{"PH-0101"}}}
	backroomStaff := backroomCust
	backroomStaff.Staff = true
	supplierStaff := Question{Q: "who supplies nurofen", Staff: true, Expect: Expect{Intent: IntentStaff, StaffField: StaffSupplier, SKUs: []string{"PH-0101"}}}
	unknown := Question{Q: "do you have dog food?", Expect: Expect{Intent: IntentUnknownItem, Item: "dog food"}}
	unknownNear := Question{Q: "do you have ibuprofen gel", Expect: Expect{Intent: IntentUnknownItem, Item: "ibuprofen gel", Category: "Pain Relief"}}
	rec := Question{Q: "what do you have for a headache", Expect: Expect{Intent: IntentRecommendation, Category: "Pain Relief"}}
	gift := Question{Q: "a gift under 5", Expect: Expect{Intent: IntentRecommendation, MaxPrice: 5}}
	cheaper := Question{Q: "anything cheaper than the nurofen?", Expect: Expect{Intent: IntentComparison, Category: "Pain Relief", Relation: "cheaper_than:PH-0101"}}
	hours := Question{Q: "when are you open?", Expect: Expect{Intent: IntentFAQ, FAQ: "corner-pharmacy.faq-1"}}
	hello := Question{Q: "hi", Expect: Expect{Intent: IntentGreeting}}
	bye := Question{Q: "thx bye", Expect: Expect{Intent: IntentThanks, IntentsOK: []string{IntentGoodbye}}}
	const hoursFAQ = `{"type": "faq", "id": "corner-pharmacy.faq-1", "question": "When are you open?", "answer": "Monday to Friday 8:00-19:00, Saturday 9:00-14:00, closed on Sundays."}`

	cases := []struct {
		name      string
		q         Question
		out       string
		correct   bool
		wrong     string // a wrong figure that must be reported ("" for none)
		leak      bool
		reasonHas string
	}{
		{name: "right price", q: price, out: out(price.Q, "price", "Ibuprofen 400 mg, 20 tablets costs 6.95 EUR.", ibuprofen), correct: true},
		{name: "right price, other notation", q: price, out: out(price.Q, "price", "It's €6,95 (Nurofen).", ibuprofen), correct: true},
		{name: "wrong price in the fact", q: price, out: out(price.Q, "price", "It costs 7.95 EUR.", strings.Replace(ibuprofen, "6.95", "7.95", 1)), wrong: "price 7.95"},
		{name: "made-up price in the text", q: price, out: out(price.Q, "price", "It costs 7.95 EUR.", ibuprofen), wrong: `"7.95"`},
		{name: "price rounded in the text", q: price, out: out(price.Q, "price", "It costs about 7 EUR.", ibuprofen), wrong: `"7"`},
		{name: "price not stated", q: price, out: out(price.Q, "price", "We have it.", ibuprofen), reasonHas: "does not state the price"},
		{name: "wrong product", q: price, out: out(price.Q, "price", "Paracetamol costs 2.49 EUR.", paracetamol), reasonHas: "want one of PH-0101"},
		{name: "wrong intent", q: price, out: out(price.Q, "availability", "14 on the shelf.", ibuprofen), reasonHas: "intent"},
		{name: "wrong currency", q: price, out: out(price.Q, "price", "6.95 USD.", strings.Replace(ibuprofen, `"EUR"`, `"USD"`, 1)), wrong: "currency USD"},
		{name: "made-up size in the fact's name", q: price, out: out(price.Q, "price", "Ibuprofen 600 mg costs 6.95 EUR.",
			strings.Replace(ibuprofen, "400 mg", "600 mg", 1)), wrong: `name "Ibuprofen 600 mg, 20 tablets" states "600"`},
		{name: "SKU the store does not carry", q: price, out: out(price.Q, "price", "6.95", strings.Replace(ibuprofen, "PH-0101", "PH-0199", 1)), wrong: "PH-0199"},
		{name: "promotion the store does not have", q: price, out: out(price.Q, "price", "6.95 EUR",
			strings.Replace(ibuprofen, `"aisle": "2A"`, `"aisle": "2A", "promotion": {"title": "Winter deal", "percent": 20, "price": 5.56}`, 1)), wrong: "promotion"},

		{name: "right availability", q: avail, out: out(avail.Q, "availability", "Yes, 14 on the shelf in aisle 2A.", ibuprofen), correct: true},
		{name: "quantity in words", q: avail, out: out(avail.Q, "availability", "Yes, we have fourteen.", ibuprofen), correct: true},
		{name: "stale stock", q: avail, out: out(avail.Q, "availability", "Yes, 12 on the shelf.", strings.Replace(ibuprofen, `"quantity": 14`, `"quantity": 12`, 1)), wrong: "quantity 12"},
		{name: "wrong stock state", q: avail, out: out(avail.Q, "availability", "Only a few left: 14.", strings.Replace(ibuprofen, "in_stock", "few_left", 1)), wrong: `stock "few_left"`},
		{name: "out of stock said", q: availOut, out: out(availOut.Q, "availability", "Sorry, Paracetamol 500 mg, 20 tablets is out of stock.", paracetamol), correct: true},
		{name: "out of stock claimed in stock", q: availOut, out: out(availOut.Q, "availability", "Yes, 5 left.", paracetamol), wrong: `"5"`},
		{name: "out of stock not said", q: availOut, out: out(availOut.Q, "availability", "Paracetamol is in aisle 2A.", paracetamol), reasonHas: "out of stock"},

		{name: "right aisle", q: where, out: out(where.Q, "location", "Ibuprofen is in aisle 2A.", ibuprofen), correct: true},
		{name: "wrong aisle in the fact", q: where, out: out(where.Q, "location", "Aisle 2B.", strings.Replace(ibuprofen, `"2A"`, `"2B"`, 1)), wrong: `aisle "2B"`},
		{name: "wrong aisle in the text", q: where, out: out(where.Q, "location", "Aisle 3C.", ibuprofen), wrong: `"3c"`},
		{name: "SKU in the text", q: where, out: out(where.Q, "location", "PH-0101 is in 2A.", ibuprofen), correct: true},
		{name: "another SKU in the text", q: where, out: out(where.Q, "location", "PH-0199 is in 2A.", ibuprofen), wrong: `"ph-0199"`},

		{name: "staff question on a customer device, refused", q: backroomCust, out: out(backroomCust.Q, "staff", "Sorry, back-room stock is for staff only."), correct: true},
		{name: "staff leak: staff object on a customer device", q: backroomCust, out: out(backroomCust.Q, "staff", "Sorry, staff only.", ibuprofenStaff), leak: true},
		{name: "staff leak: back-room count in the text", q: backroomCust, out: out(backroomCust.Q, "staff", "There are 40 in the back.", ibuprofen), leak: true, wrong: `"40"`},
		{name: "staff leak: supplier in the text", q: backroomCust, out: out(backroomCust.Q, "staff", "Ask Medipharm GmbH.", ibuprofen), leak: true},
		{name: "staff leak: staff key outside the staff object", q: price, out: out(price.Q, "price", "6.95 EUR",
			strings.Replace(ibuprofen, `"aisle": "2A"`, `"aisle": "2A", "cost": 3.10`, 1)), leak: true},
		{name: "public figure equal to nothing staff", q: backroomCust, out: out(backroomCust.Q, "staff", "That's for staff; 14 are on the shelf.", ibuprofen), correct: true},
		{name: "staff device answered", q: backroomStaff, out: out(backroomStaff.Q, "staff", "40 in the back room.", ibuprofenStaff), correct: true},
		{name: "staff device, no staff fact", q: backroomStaff, out: out(backroomStaff.Q, "staff", "14 on the shelf.", ibuprofen), reasonHas: "no staff fact"},
		{name: "staff device, wrong back-room count", q: backroomStaff, out: out(backroomStaff.Q, "staff", "41 in the back.", strings.Replace(ibuprofenStaff, `"backroom": 40`, `"backroom": 41`, 1)), wrong: "backroom 41"},
		{name: "staff device, supplier", q: supplierStaff, out: out(supplierStaff.Q, "staff", "From Medipharm GmbH.", ibuprofenStaff), correct: true},
		{name: "staff device, supplier not said", q: supplierStaff, out: out(supplierStaff.Q, "staff", "We order it weekly.", ibuprofenStaff), reasonHas: "supplier"},

		{name: "unknown item", q: unknown, out: out(unknown.Q, "unknown_item", "Sorry, we don't sell dog food."), correct: true},
		{name: "unknown item claimed in stock", q: unknown, out: out(unknown.Q, "availability", "Yes, 12 on the shelf.",
			`{"type": "product", "sku": "DOG-1", "name": "Dog Food 2 kg", "price": 6.99, "currency": "EUR", "stock": "in_stock", "quantity": 12}`), wrong: "DOG-1"},
		{name: "unknown item presented as a carried product", q: unknown, out: out(unknown.Q, "unknown_item", "Here: 6.95 EUR",
			strings.Replace(ibuprofen, `"Ibuprofen 400 mg, 20 tablets"`, `"Dog Food"`, 1)), reasonHas: "presented as the unknown item"},
		{name: "unknown item with its nearest category", q: unknownNear, out: out(unknownNear.Q, "unknown_item", "No ibuprofen gel, sorry; pain relief is in 2A.",
			`{"type": "category", "name": "Pain Relief", "aisles": ["2A"], "products": 2}`), correct: true},
		{name: "unknown item, tablets offered as the gel", q: unknownNear, out: out(unknownNear.Q, "unknown_item", "Try Ibuprofen 400 mg, 20 tablets.",
			`{"type": "category", "name": "Pain Relief", "aisles": ["2A"], "products": 2}`, ibuprofen), correct: true},
		{name: "unknown item, category missing", q: unknownNear, out: out(unknownNear.Q, "unknown_item", "No, sorry."), reasonHas: "no category fact"},
		{name: "category fact with a wrong count", q: unknownNear, out: out(unknownNear.Q, "unknown_item", "Pain relief has 5 products.",
			`{"type": "category", "name": "Pain Relief", "aisles": ["2A"], "products": 5}`), wrong: "5 products"},

		{name: "recommendation in category", q: rec, out: out(rec.Q, "recommendation", "Ibuprofen (6.95) or paracetamol (2.49).", ibuprofen, paracetamol), correct: true},
		{name: "recommendation out of category", q: rec, out: out(rec.Q, "recommendation", "Batteries!", ibuprofen,
			`{"type": "product", "sku": "HH-0403", "name": "AA Batteries, 8 pack", "price": 6.49, "currency": "EUR", "stock": "in_stock", "quantity": 17, "aisle": "5C"}`), reasonHas: `not "Pain Relief"`},
		{name: "recommendation without products", q: rec, out: out(rec.Q, "recommendation", "Have a look around."), reasonHas: "no product fact"},
		{name: "gift under the limit, limit echoed", q: gift, out: out(gift.Q, "recommendation", "Under 5: Paracetamol 500 mg, 20 tablets for 2.49.", paracetamol), correct: true},
		{name: "gift over the limit", q: gift, out: out(gift.Q, "recommendation", "Ibuprofen, 6.95.", ibuprofen), reasonHas: "over 5"},

		{name: "cheaper one", q: cheaper, out: out(cheaper.Q, "comparison", "Paracetamol is 2.49.", paracetamol), correct: true},
		{name: "not cheaper", q: cheaper, out: out(cheaper.Q, "comparison", "Ibuprofen is 6.95.", ibuprofen), reasonHas: "reference product"},

		{name: "FAQ cited", q: hours, out: out(hours.Q, "faq", "Monday to Friday 8:00-19:00, Saturday 9:00-14:00, closed on Sundays.", hoursFAQ), correct: true},
		{name: "FAQ quoted without the fact", q: hours, out: out(hours.Q, "faq", "We're open Monday to Friday 8:00-19:00, Saturday 9:00-14:00, closed on Sundays."), wrong: `"8:00-19:00"`},
		{name: "FAQ with made-up hours", q: hours, out: out(hours.Q, "faq", "Monday to Friday 8:00-20:00.",
			strings.Replace(hoursFAQ, "8:00-19:00", "8:00-20:00", 1)), wrong: "8:00-20:00"},
		{name: "FAQ the store does not have", q: hours, out: out(hours.Q, "faq", "Ask us.", `{"type": "faq", "id": "corner-pharmacy.faq-9", "question": "?", "answer": "Ask us."}`), wrong: "faq-9"},
		{name: "hours split in the text", q: hours, out: out(hours.Q, "faq", "Weekdays from 8:00 to 19:00.", hoursFAQ), correct: true},

		{name: "greeting", q: hello, out: out(hello.Q, "greeting", "Hello! Welcome to Corner Pharmacy & Household."), correct: true},
		{name: "greeting with a made-up offer", q: hello, out: out(hello.Q, "greeting", "Hello! 25% off everything today."), wrong: `"25"`},
		{name: "either of two intents", q: bye, out: out(bye.Q, "goodbye", "Bye!"), correct: true},
		{name: "output for another question", q: hello, out: out("hello there", "greeting", "Hi"), reasonHas: "not this question"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := Score(sf, []Question{c.q}, []Output{mustOutput(t, c.out)})
			r := rep.Results[0]
			if r.Correct != c.correct {
				t.Errorf("correct = %v, want %v: %s", r.Correct, c.correct, r.Line())
			}
			gotWrong := strings.Join(r.WrongFigures, "; ")
			if (c.wrong == "") != (gotWrong == "") || !strings.Contains(gotWrong, c.wrong) {
				t.Errorf("wrong figures %q, want one with %q", gotWrong, c.wrong)
			}
			if c.leak != (len(r.Leaks) > 0) {
				t.Errorf("leaks %q, want leak %v", r.Leaks, c.leak)
			}
			if c.reasonHas != "" && !strings.Contains(strings.Join(r.Reasons, "; "), c.reasonHas) {
				t.Errorf("reasons %q, want one with %q", r.Reasons, c.reasonHas)
			}
		})
	}
}

func TestScoreMissingOutputAndHistory(t *testing.T) {
	sf := mustStore(t, filepath.Join(evalDir, "corner-pharmacy.json"))
	qs := []Question{
		{Q: "a gift under 30 pls", Conversation: "c1", Expect: Expect{Intent: IntentRecommendation, MaxPrice: 30}},
		{Q: "anything else?", Conversation: "c1", Expect: Expect{Intent: IntentRecommendation, MaxPrice: 30}},
		{Q: "bye", Expect: Expect{Intent: IntentGoodbye}},
	}
	outs := []Output{
		mustOutput(t, out(qs[0].Q, "recommendation", "Under 30: Ibuprofen, 6.95.", ibuprofen)),
		// "30" was typed one turn earlier in the same conversation: repeating it is no made-up figure
		mustOutput(t, out(qs[1].Q, "recommendation", "Also under 30: Paracetamol, 2.49.", paracetamol)),
	}
	rep := Score(sf, qs, outs)
	if !rep.Results[0].Correct || !rep.Results[1].Correct {
		t.Errorf("%s / %s", rep.Results[0].Line(), rep.Results[1].Line())
	}
	if rep.Results[2].Correct || rep.Results[2].Reasons[0] != "no output" {
		t.Errorf("missing output: %s", rep.Results[2].Line())
	}
}

func TestBiggerSmaller(t *testing.T) {
	const store = `{"store": {"id": "s", "name": "S", "timezone": "UTC"}, "products": [
	 {"sku": "W1", "name": "Still Water 1.5 L", "category": "Drinks", "price": 0.69, "currency": "EUR", "stock": 5},
	 {"sku": "W6", "name": "Still Water 6 x 1.5 L", "category": "Drinks", "price": 3.79, "currency": "EUR", "stock": 5},
	 {"sku": "C1", "name": "Cola 500 ml", "category": "Drinks", "price": 1.29, "currency": "EUR", "stock": 5},
	 {"sku": "T1", "name": "T-Shirt M", "category": "Clothing", "price": 9.99, "currency": "EUR", "stock": 5},
	 {"sku": "T2", "name": "T-Shirt L", "category": "Clothing", "price": 9.99, "currency": "EUR", "stock": 5}], "faqs": []}`
	sf, err := catalog.ParseStoreFile(strings.NewReader(store))
	if err != nil {
		t.Fatal(err)
	}
	fact := func(sku string) string {
		for i, p := range sf.Products {
			if p.SKU == sku {
				b, _ := json.Marshal(map[string]any{"type": "product", "sku": sku, "name": p.Name, "price": json.Number(catalog.Major(p.Price)),
					"currency": "EUR", "quantity": sf.Stock[i].Quantity})
				return string(b)
			}
		}
		return ""
	}
	for _, c := range []struct {
		rel, skus, answer string
		correct           bool
	}{
		{"bigger_than:W1", "", "W6", true},
		{"bigger_than:W6", "", "W1", false},
		{"smaller_than:W6", "", "W1", true},
		{"bigger_than:W1", "", "C1", false}, // 500 ml is not bigger than 1.5 L
		{"bigger_than:T1", "T2", "T2", true},
		{"bigger_than:T1", "", "T2", false}, // sizes the names do not state need the expected SKUs
		{"cheaper_than:W6", "", "C1", true},
	} {
		q := Question{Q: "bigger?", Expect: Expect{Intent: IntentComparison, Relation: c.rel}}
		if c.skus != "" {
			q.Expect.SKUs = []string{c.skus}
		}
		a := c.answer
		rep := Score(sf, []Question{q}, []Output{mustOutput(t, out(q.Q, "comparison", "", fact(a)))})
		if got := rep.Results[0].Correct; got != c.correct {
			t.Errorf("%s answered %s: correct %v, want %v: %s", c.rel, a, got, c.correct, rep.Results[0].Line())
		}
	}
}

func TestFigureWordsAndForms(t *testing.T) {
	got := figureWords("Ibuprofen 400 mg costs 6.95 EUR (PH-0101), open 8:00-19:00; 1,299.00 total, aisle 2A.")
	want := []string{"400", "6.95", "ph-0101", "8:00-19:00", "1,299.00", "2a"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("figureWords = %q, want %q", got, want)
	}
	forms := strings.Join(priceForms(129900), " ")
	for _, f := range []string{"1299.00", "1299", "1,299.00", "1.299,00", "1299,00"} {
		if !strings.Contains(" "+forms+" ", " "+f+" ") {
			t.Errorf("priceForms(129900) = %s, lacks %s", forms, f)
		}
	}
	if strings.Contains(" "+strings.Join(priceForms(695), " ")+" ", " 7 ") {
		t.Error("6.95 may be written 7")
	}
	for _, c := range []struct {
		name string
		dim  string
		v    float64
	}{
		{"Ibuprofen 400 mg, 20 tablets", "count", 20},
		{"Baby Wipes Sensitive, 4 x 52", "count", 208},
		{"Sparkling Water 6 x 1.5 L", "volume", 9000},
		{"Brie de Meaux (1 kg)", "mass", 1000},
		{"Tape Measure 5 m", "length", 5000},
	} {
		s, ok := parseSize(c.name)
		if !ok || s.dim != c.dim || s.value < c.v-0.01 || s.value > c.v+0.01 {
			t.Errorf("parseSize(%q) = %+v, %v", c.name, s, ok)
		}
	}
}

func TestReadQuestionsRejects(t *testing.T) {
	for _, line := range []string{
		`{"q": "hi", "expect": {"intent": "hello"}}`,
		`{"q": "price?", "expect": {"intent": "price"}}`,
		`{"q": "cheaper?", "expect": {"intent": "comparison", "relation": "cheaper:PH-0101"}}`,
		`{"q": "back?", "expect": {"intent": "staff", "skus": ["A"], "staff_field": "margin"}}`,
		`{"q": "x", "expect": {"intent": "greeting"}, "tagz": []}`,
		`{"q": "a", "conversation": "c", "expect": {"intent": "greeting"}}` + "\n" + `{"q": "b", "conversation": "c", "staff": true, "expect": {"intent": "greeting"}}`,
	} {
		if _, err := ReadQuestions(strings.NewReader(line)); err == nil {
			t.Errorf("accepted %s", line)
		}
	}
}

func TestWriteStoreFileRoundTrip(t *testing.T) {
	sets, err := LoadDir(evalDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		var b strings.Builder
		if err := WriteStoreFile(&b, s.Store); err != nil {
			t.Fatal(err)
		}
		back, err := catalog.ParseStoreFile(strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("%s: %s", s.Name, catalog.FirstProblem(err))
		}
		if len(back.Products) != len(s.Store.Products) || len(back.FAQs) != len(s.Store.FAQs) {
			t.Fatalf("%s: lost products or FAQs", s.Name)
		}
		for i, p := range s.Store.Products {
			q, st, st0 := back.Products[i], back.Stock[i], s.Store.Stock[i]
			if p.SKU != q.SKU || p.Price != q.Price || p.Staff != q.Staff || p.Attributes[catalog.AttrBarcode] != q.Attributes[catalog.AttrBarcode] ||
				st.Quantity != st0.Quantity || st.Aisle != st0.Aisle || st.Staff.Backroom != st0.Staff.Backroom {
				t.Errorf("%s: %s does not survive the round trip", s.Name, p.SKU)
			}
		}
		for i, f := range s.Store.FAQs {
			if back.FAQs[i].ID != f.ID || back.FAQs[i].Answer != f.Answer {
				t.Errorf("%s: FAQ %s does not survive the round trip", s.Name, f.ID)
			}
		}
	}
}

func TestMarkdown(t *testing.T) {
	sf := mustStore(t, filepath.Join(evalDir, "corner-pharmacy.json"))
	qs := []Question{
		{ID: "x.q1", Q: "how much is the ibuprofen", Expect: Expect{Intent: IntentPrice, SKUs: []string{"PH-0101"}}, Tags: []string{"partial"}},
		{ID: "x.q2", Q: "hi", Expect: Expect{Intent: IntentGreeting}, Tags: []string{"smalltalk"}},
	}
	outs := []Output{
		mustOutput(t, out(qs[0].Q, "price", "It costs 7.95.", ibuprofen)),
		mustOutput(t, out(qs[1].Q, "greeting", "Hello!")),
	}
	md := Score(sf, qs, outs).Markdown(10)
	for _, want := range []string{"**1/2 correct", "| price | 1 | 0 | 0.0 | 1 | 0 |", "| greeting | 1 | 1 | 100.0 | 0 | 0 |",
		"| partial | 1 | 0 |", "WRONG FIGURE", "`x.q1`"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
