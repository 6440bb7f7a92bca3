package assistant

import (
	"encoding/json"
	"strconv"

	"aisle/sync/catalog"
)

// Intents (see the package documentation).
const (
	IntentAvailability   = "availability"
	IntentPrice          = "price"
	IntentLocation       = "location"
	IntentFAQ            = "faq"
	IntentRecommendation = "recommendation"
	IntentComparison     = "comparison"
	IntentPromotion      = "promotion"
	IntentUnknownItem    = "unknown_item"
	IntentGreeting       = "greeting"
	IntentThanks         = "thanks"
	IntentGoodbye        = "goodbye"
	IntentOffTopic       = "off_topic"
	IntentStaff          = "staff"
	// IntentUnavailable: the store's catalog has not reached this device yet.
	IntentUnavailable = "unavailable"
)

// Answer is the assistant's answer to one question: the intent, the facts it rests on, and the
// text. The JSON form is the package documentation's.
type Answer struct {
	Intent string `json:"intent"`
	Text   string `json:"answer"`
	Facts  []Fact `json:"facts"`

	// Key are the figures the text must state for the answer to be useful (the price for a price
	// question, the quantity or an out-of-stock word for availability, the aisle for location).
	// A model's text that lacks one gets the deterministic sentence added (see Phrase).
	Key []string `json:"-"`

	items      []*Item // the products the answer is about, first the main one
	category   *Category
	faq        *FAQEntry
	aspects    []string // what was asked about the items: IntentPrice, IntentAvailability, IntentLocation, staff fields
	mention    string   // what the customer called the thing ("the bigger drill", "bicycles")
	purpose    string   // recommendation: what it is for, after "to" ("measure a wall")
	forNeed    bool     // unknown_item: nothing fits the need (mention, purpose) of a recommendation
	limit      int64    // the price limit applied, minor units
	relation   string   // comparison: "cheaper", "dearer", "bigger", "smaller", "which_cheaper"
	ref        *Item    // comparison: the product compared with
	refused    bool     // staff information asked on a customer device
	ambiguous  bool     // several products fit the question equally
	staffField string   // staff: "backroom", "supplier", "cost", "notes"
}

// Amount is money in minor units that JSON writes in major units with two decimals: 695 -> 6.95.
type Amount int64

// MarshalJSON implements json.Marshaler.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(a.Major()), nil }

// UnmarshalJSON implements json.Unmarshaler.
func (a *Amount) UnmarshalJSON(b []byte) error {
	var f json.Number
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	v, err := strconv.ParseFloat(f.String(), 64)
	if err != nil {
		return err
	}
	*a = Amount(v*100 + 0.5)
	if v < 0 {
		*a = Amount(v*100 - 0.5)
	}
	return nil
}

// Major is the amount in major units: "6.95", "12.00".
func (a Amount) Major() string { return catalog.Major(int64(a)) }

// Fact is one fact an answer rests on. Type says which fields are set.
type Fact struct {
	Type string `json:"type"` // "product", "faq", "category", "store"

	SKU       string     `json:"sku,omitempty"`
	ID        string     `json:"id,omitempty"`
	Name      string     `json:"name,omitempty"`
	Brand     string     `json:"brand,omitempty"`
	Category  string     `json:"category,omitempty"`
	Price     *Amount    `json:"price,omitempty"`
	Currency  string     `json:"currency,omitempty"`
	Stock     string     `json:"stock,omitempty"`
	Quantity  *int64     `json:"quantity,omitempty"`
	Aisle     string     `json:"aisle,omitempty"`
	Barcode   string     `json:"barcode,omitempty"`
	Promotion *PromoFact `json:"promotion,omitempty"`
	Staff     *StaffFact `json:"staff,omitempty"`

	Question string `json:"question,omitempty"`
	Answer   string `json:"answer,omitempty"`

	Aisles   []string `json:"aisles,omitempty"`
	Products int      `json:"products,omitempty"`

	Hours string `json:"hours,omitempty"`
}

// PromoFact is a promotion running on a product.
type PromoFact struct {
	Title   string `json:"title"`
	Percent int    `json:"percent"`
	Price   Amount `json:"price"` // the price after the discount
}

// StaffFact holds the staff-only fields of a product (staff devices only).
type StaffFact struct {
	Backroom *int64  `json:"backroom,omitempty"`
	Supplier string  `json:"supplier,omitempty"`
	Cost     *Amount `json:"cost,omitempty"`
	Notes    string  `json:"notes,omitempty"`
}

// productFact is the fact of an item; staff fields only when the store has them.
func productFact(it *Item) Fact {
	price := Amount(it.Price)
	q := it.Quantity
	f := Fact{Type: "product", SKU: it.SKU, Name: it.Name, Brand: it.Brand, Category: it.Category,
		Price: &price, Currency: it.Currency, Stock: StockState(q), Quantity: &q, Aisle: it.Aisle,
		Barcode: it.Attributes[catalog.AttrBarcode]}
	if p := it.Promotion; p != nil {
		f.Promotion = &PromoFact{Title: p.Title, Percent: p.DiscountPercent, Price: Amount(discounted(it.Price, p.DiscountPercent))}
	}
	if st := it.Staff; st != nil {
		b := st.Backroom
		sf := &StaffFact{Backroom: &b, Supplier: st.Supplier, Notes: joinNotes(st.Notes, st.StockNotes)}
		if st.Cost > 0 {
			c := Amount(st.Cost)
			sf.Cost = &c
		}
		f.Staff = sf
	}
	return f
}

// discounted is price less percent, rounded to the nearest minor unit.
func discounted(price int64, percent int) int64 {
	return (price*int64(100-percent) + 50) / 100
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

func faqFact(f *FAQEntry) Fact {
	return Fact{Type: "faq", ID: f.ID, Question: f.Question, Answer: f.Answer}
}

func categoryFact(c *Category) Fact {
	return Fact{Type: "category", Name: c.Name, Aisles: c.Aisles, Products: len(c.Items)}
}

// NoCatalog answers a question when the store's catalog has not reached the device: greetings
// and thanks as usual, anything else with intent "unavailable" and no facts.
func NoCatalog(question string) Answer {
	p := parse(question, nil, false)
	a := Answer{Facts: []Fact{}}
	switch {
	case len(p.content) == 0 && p.has(cueGoodbye):
		a.Intent, a.Text = IntentGoodbye, "Goodbye!"
	case len(p.content) == 0 && p.has(cueThanks):
		a.Intent, a.Text = IntentThanks, "You're welcome!"
	case len(p.content) == 0 && p.has(cueGreeting):
		a.Intent, a.Text = IntentGreeting, "Hello! I'm still getting this store's catalog, so I can't answer product questions just yet."
	default:
		a.Intent = IntentUnavailable
		a.Text = "I don't have this store's catalog on this device yet, so I can't check products, prices or stock. " +
			"Please connect to the internet once (the store's Wi-Fi works) and I'll download it."
	}
	return a
}
