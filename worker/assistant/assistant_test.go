package assistant

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"aisle/sync/catalog"
)

// mustStore loads a STORE.json test file.
func mustStore(tb testing.TB, path string, staff bool) *Store {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sf, err := catalog.ParseStoreFile(f)
	if err != nil {
		tb.Fatalf("%s: %s", path, catalog.FirstProblem(err))
	}
	return NewStore(FromStoreFile(sf, staff), time.Now())
}

const mixed = "testdata/mixed-store.json"

// turn is one question of a conversation and what its answer must hold.
type turn struct {
	q        string
	intent   string
	sku      string   // the first product fact ("" when none is wanted)
	says     []string // the text contains these (case-insensitive)
	notSays  []string
	faq      string // the first FAQ fact's id
	category string // a category fact's name
	noFacts  bool
}

func runTurns(t *testing.T, s *Store, turns []turn) {
	t.Helper()
	conv := s.NewConversation()
	for _, tc := range turns {
		if tc.q == "" { // a new conversation
			conv = s.NewConversation()
			continue
		}
		a := conv.Ask(tc.q)
		facts, _ := json.Marshal(a.Facts)
		where := func() string { return "\n  answer: " + a.Text + "\n  facts: " + string(facts) }
		if a.Intent != tc.intent {
			t.Errorf("%q: intent %q, want %q%s", tc.q, a.Intent, tc.intent, where())
		}
		if tc.sku != "" {
			got := ""
			for _, f := range a.Facts {
				if f.Type == "product" {
					got = f.SKU
					break
				}
			}
			if got != tc.sku {
				t.Errorf("%q: first product %q, want %q%s", tc.q, got, tc.sku, where())
			}
		}
		if tc.faq != "" && (len(a.Facts) == 0 || a.Facts[0].ID != tc.faq) {
			t.Errorf("%q: want FAQ %q first%s", tc.q, tc.faq, where())
		}
		if tc.category != "" {
			found := false
			for _, f := range a.Facts {
				found = found || (f.Type == "category" && f.Name == tc.category)
			}
			if !found {
				t.Errorf("%q: want category %q%s", tc.q, tc.category, where())
			}
		}
		if tc.noFacts && len(a.Facts) > 0 {
			t.Errorf("%q: want no facts%s", tc.q, where())
		}
		for _, w := range tc.says {
			if !strings.Contains(strings.ToLower(a.Text), strings.ToLower(w)) {
				t.Errorf("%q: text lacks %q%s", tc.q, w, where())
			}
		}
		for _, w := range tc.notSays {
			if strings.Contains(strings.ToLower(a.Text), strings.ToLower(w)) {
				t.Errorf("%q: text says %q%s", tc.q, w, where())
			}
		}
		if bad := figuresOutsideFacts(a); len(bad) > 0 {
			t.Errorf("%q: figures %q are not in the facts%s", tc.q, bad, where())
		}
	}
}

// The retrieval faults the old grounding had, each a question that must now be right.
func TestRetrievalFaults(t *testing.T) {
	s := mustStore(t, mixed, false)
	runTurns(t, s, []turn{
		// SKUs are searched, whatever surrounds them; "still" is not Still Water
		{q: "Do you still have XY-1234?", intent: IntentAvailability, sku: "XY-1234", says: []string{"4"}},
		{q: "How much for XY-1234", intent: IntentPrice, sku: "XY-1234", says: []string{"129.00"}},
		{q: "how much is xy1234", intent: IntentPrice, sku: "XY-1234", says: []string{"129.00"}},
		{q: "price of 0194644098124?", intent: IntentPrice, sku: "EL-0100", says: []string{"24.99"}},
		// prefixes do not pull noise: "pro" is not Produce, "pan" is not Pantry, a price limit
		// is not a size
		{q: "do you have the iphone 15 pro?", intent: IntentUnknownItem, notSays: []string{"produce", "15"}},
		{q: "where are the pans", intent: IntentLocation, sku: "HH-0004", says: []string{"aisle 9"}},
		{q: "anything good under $300?", intent: IntentRecommendation, notSays: []string{"brie"}},
		{q: "wher is the parking", intent: IntentFAQ, faq: "parking"},
		// plurals and stems
		{q: "what can I use for the dishes", intent: IntentRecommendation, sku: "HH-0001"},
		{q: "where can i park", intent: IntentFAQ, faq: "parking"},
	})
}

func TestIntents(t *testing.T) {
	s := mustStore(t, mixed, false)
	runTurns(t, s, []turn{
		{q: "hi", intent: IntentGreeting, says: []string{"Main Street"}},
		{q: "do you have brie de meaux", intent: IntentAvailability, sku: "GR-0006", says: []string{"9"}},
		{q: "how much is it?", intent: IntentPrice, sku: "GR-0006", says: []string{"9.99"}},
		{q: "and where can I find it", intent: IntentLocation, sku: "GR-0006", says: []string{"aisle 2"}},
		{q: "thanks!", intent: IntentThanks, noFacts: true},
		{},
		{q: "is the oat milk in stock", intent: IntentAvailability, sku: "GR-0005", says: []string{"out of stock"}},
		{q: "wat time do u close on sunday", intent: IntentFAQ, faq: "hours", says: []string{"8:00-18:00"}},
		{q: "do u cut keys?", intent: IntentFAQ, faq: "keys"},
		{q: "something to measure a wall", intent: IntentRecommendation, sku: "HT-0100"},
		{q: "do you sell bicycles?", intent: IntentUnknownItem, says: []string{"bicycles"}},
		{q: "tell me a joke", intent: IntentOffTopic, noFacts: true},
		{q: "which is cheaper, the tape measure or the laser measurer?", intent: IntentComparison, sku: "HT-0100", says: []string{"14.99", "59.99"}},
		{},
		{q: "do you have the 20 pack of AA batteries", intent: IntentAvailability, sku: "EL-0301"},
		{q: "a smaller one?", intent: IntentComparison, sku: "EL-0300"},
		{q: "ok bye", intent: IntentGoodbye},
		{},
		{q: "how much is the cordless drill", intent: IntentPrice, sku: "XY-1234", says: []string{"129.00"}},
		{q: "got a cheaper one?", intent: IntentComparison, sku: "XY-1235", says: []string{"79.99"}},
		{q: "how many are in the back?", intent: IntentStaff, notSays: []string{" 3 in the back", "back room and"}},
	})
}

// A customer device never receives nor states a staff field; a staff device answers them.
func TestStaffFields(t *testing.T) {
	customer := mustStore(t, mixed, false)
	staff := mustStore(t, mixed, true)
	questions := []string{"how many cordless drills are in the back?", "who is the supplier of the tape measure?",
		"what's our cost price for XY-1234", "any notes on XY-1234?", "is the cordless drill in stock",
		"how much is the drill"}
	for _, q := range questions {
		a := customer.NewConversation().Ask(q)
		b, _ := json.Marshal(a)
		for _, leak := range []string{`"staff":`, "82.50", "Tool Distributors", "display model", "backroom", "Stanley Black"} {
			if strings.Contains(string(b), leak) {
				t.Errorf("customer device: %q: answer holds %q: %s", q, leak, b)
			}
		}
	}
	runTurns(t, staff, []turn{
		{q: "how many cordless drills are in the back?", intent: IntentStaff, sku: "XY-1234", says: []string{"6 in the back room"}},
		{q: "who supplies it?", intent: IntentStaff, sku: "XY-1234", says: []string{"Tool Distributors Inc."}},
		{q: "what do we pay for it", intent: IntentStaff, sku: "XY-1234", says: []string{"82.50"}},
		{q: "any notes on XY-1234?", intent: IntentStaff, sku: "XY-1234", says: []string{"display model"}},
	})
}

// Products another store stocks, and other stores' FAQs, are not this store's.
func TestScopedToStore(t *testing.T) {
	d := Data{Store: catalog.Store{ID: "a", Name: "Store A", TimeZone: "UTC"}}
	d.Products = []catalog.Product{
		{SKU: "P1", Name: "Sparkling Water 1 L", Category: "Drinks", Price: 99, Currency: "EUR", Active: true},
		{SKU: "P2", Name: "Sparkling Wine 75 cl", Category: "Drinks", Price: 899, Currency: "EUR", Active: true},
		{SKU: "P3", Name: "Still Water 1 L", Category: "Drinks", Price: 79, Currency: "EUR", Active: false},
	}
	d.Stock = []catalog.Stock{{SKU: "P1", Quantity: 5, Aisle: "1"}, {SKU: "P3", Quantity: 5, Aisle: "1"}} // P2: another store's
	d.FAQs = []catalog.FAQ{
		{ID: "chain-returns", Question: "Can I return things?", Answer: "Within 14 days.", Tags: []string{"returns"}},
		{ID: "a-returns", Store: "a", Question: "What is the return policy?", Answer: "Within 30 days at Store A.", Tags: []string{"returns"}},
		{ID: "b-returns", Store: "b", Question: "Can I return items?", Answer: "Store B: no returns.", Tags: []string{"returns"}},
	}
	s := NewStore(d, time.Now())
	if len(s.Items) != 1 || s.Items[0].SKU != "P1" {
		t.Fatalf("items %v, want only P1 (P2 has no stock line here, P3 is inactive)", s.Items)
	}
	runTurns(t, s, []turn{
		{q: "do you have sparkling wine?", intent: IntentUnknownItem},
		{q: "can I return something?", intent: IntentFAQ, faq: "a-returns", says: []string{"30 days"}},
	})
}

// figuresOutsideFacts returns the figure words of the text that no fact holds.
func figuresOutsideFacts(a Answer) []string {
	allowed := map[string]bool{}
	for _, f := range FactFigures(a) {
		allowed[strings.ToLower(f)] = true
	}
	var bad []string
	for _, f := range figures(a.Text) {
		if !allowed[strings.ToLower(f)] {
			bad = append(bad, f)
		}
	}
	return bad
}

// FuzzAsk: any question gets an answer without panicking, and the deterministic text never
// states a figure that is not in its facts.
func FuzzAsk(f *testing.F) {
	for _, q := range []string{"how much is the milk", "XY-1234", "under $5", "where r the aa batteries", "",
		"do you have 300 g brie", "a cheaper one?", "how many in the back", "1.5 l water?", "€€€ 12,50"} {
		f.Add(q, false)
	}
	customer := mustStore(f, mixed, false)
	staff := mustStore(f, mixed, true)
	f.Fuzz(func(t *testing.T, q string, asStaff bool) {
		s := customer
		if asStaff {
			s = staff
		}
		conv := s.NewConversation()
		for _, part := range strings.Split(q, "|") {
			a := conv.Ask(part)
			if bad := figuresOutsideFacts(a); len(bad) > 0 {
				t.Fatalf("%q: figures %q not in the facts: %s", part, bad, a.Text)
			}
			if !asStaff {
				b, _ := json.Marshal(a)
				if strings.Contains(string(b), `"staff":`) {
					t.Fatalf("%q: staff fields on a customer device: %s", part, b)
				}
			}
		}
	})
}

func TestStatesKeys(t *testing.T) {
	for _, tc := range []struct {
		text string
		keys []string
		want bool
	}{
		{"It costs €6.95.", []string{"6.95"}, true},
		{"It costs 6,95 €.", []string{"6.95"}, true},
		{"Ibuprofen 400 mg is on the shelf.", []string{"4"}, false},
		{"We have 4 left.", []string{"4"}, true},
		{"Sorry, it is Out of Stock.", []string{"out of stock"}, true},
		{"It is in aisle 2A.", []string{"2A", "6.95"}, false},
	} {
		if got := statesKeys(tc.text, tc.keys); got != tc.want {
			t.Errorf("statesKeys(%q, %q) = %v, want %v", tc.text, tc.keys, got, tc.want)
		}
	}
}
