// Package eval scores the assistant's answers against a store's own data, independently of how
// the assistant works: its input is the store ([catalog.StoreFile]), the question rows (what a
// customer or a staff member typed, with the expectation computed from the store) and the output
// rows (the JSON objects `slm ask --json` prints, the answer contract of package
// aisle/worker/assistant).
//
// # Files
//
// An evaluation directory holds, per store, `<store-id>.json` (STORE.json) and
// `<store-id>.questions.jsonl`: one [Question] per line, for example
//
//	{"id": "corner-pharmacy.q012", "q": "how much is the ibuprofen", "conversation": "c3",
//	 "expect": {"intent": "price", "skus": ["PH-0101"]}, "tags": ["partial"]}
//
// `slm ask` ignores the keys it does not know; [Ask] nevertheless hands it only "q" and
// "conversation", so an assistant cannot read the expectation. Lines with "staff": true are
// asked on a staff device (`--staff`): a conversation lives on one device, and the customer and
// the staff lines are asked in two runs, each in file order.
//
// # When an answer is correct
//
// See [Score]. In short: the intent is the expected one (or in intents_ok); a product question's
// first product fact is one of the expected SKUs and the text states the intent's key figure
// (the price, the shelf quantity or an out-of-stock statement, the aisle); an FAQ question cites
// the FAQ; a recommendation lists only products the store carries, in the expected category and
// under the price limit; a comparison's first product satisfies the relation; an unknown item is
// never presented as a product; staff data appears on staff devices only.
//
// Independently of correctness, a *wrong figure* is any product fact whose price, currency,
// quantity, stock state or aisle differs from the store's data, a fact for a SKU or an FAQ the
// store does not have, or a figure in the text that no fact (nor the question) holds. Wrong
// figures are counted apart: one is worse than no answer, and [Run] fails the test for any.
package eval

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Intents of the answer contract (package aisle/worker/assistant).
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
)

// Intents lists every intent of the contract, in report order.
var Intents = []string{
	IntentAvailability, IntentPrice, IntentLocation, IntentFAQ, IntentRecommendation,
	IntentComparison, IntentPromotion, IntentUnknownItem, IntentGreeting, IntentThanks,
	IntentGoodbye, IntentOffTopic, IntentStaff,
}

// Stock states of a product fact.
const (
	StockIn    = "in_stock"
	StockFew   = "few_left"
	StockOut   = "out_of_stock"
	FewLeftMax = 3 // "few_left" is 1 to FewLeftMax on the shelf
)

// StockState is the stock state a shelf quantity must be reported as.
func StockState(quantity int64) string {
	switch {
	case quantity <= 0:
		return StockOut
	case quantity <= FewLeftMax:
		return StockFew
	}
	return StockIn
}

// Staff fields a staff question asks about.
const (
	StaffBackroom = "backroom"
	StaffSupplier = "supplier"
	StaffCost     = "cost"
	StaffNotes    = "notes"
)

// Relations of comparison questions: "<relation>:<SKU>".
const (
	RelCheaperThan = "cheaper_than"
	RelBiggerThan  = "bigger_than"
	RelSmallerThan = "smaller_than"
)

// Question is one line of a questions file: what was typed, on which device, in which
// conversation, and what a correct answer must show.
type Question struct {
	// ID names the question in reports ("<store-id>.q042"); optional.
	ID string `json:"id,omitempty"`
	// Q is the text as typed.
	Q string `json:"q"`
	// Conversation continues the conversation of earlier lines with the same ID.
	Conversation string `json:"conversation,omitempty"`
	// Staff: asked on a staff device (`slm ask --staff`).
	Staff  bool   `json:"staff,omitempty"`
	Expect Expect `json:"expect"`
	// Tags name the phenomena the question shows (typo, sku, paraphrase, followup, ...), so
	// results can be split by them.
	Tags []string `json:"tags,omitempty"`
}

// Expect is what a correct answer must show. Only the fields that apply to the intent are set.
type Expect struct {
	Intent string `json:"intent"`
	// IntentsOK lists further intents that are also right (where two truly are); the checks of
	// the intent the answer chose apply.
	IntentsOK []string `json:"intents_ok,omitempty"`
	// SKUs: the answer's first product fact must be one of them (any-of when the question is
	// genuinely ambiguous between a few products).
	SKUs []string `json:"skus,omitempty"`
	// FAQ is the ID of the FAQ that answers the question.
	FAQ string `json:"faq,omitempty"`
	// Category: for recommendations, every product fact's category; for comparisons, the first
	// product's category; for unknown items, the category fact the answer must carry.
	Category string `json:"category,omitempty"`
	// MaxPrice: every product fact of a recommendation costs at most this much (major units).
	MaxPrice float64 `json:"max_price,omitempty"`
	// Relation is "cheaper_than:SKU", "bigger_than:SKU" or "smaller_than:SKU": what the first
	// product fact of a comparison must be relative to that product.
	Relation string `json:"relation,omitempty"`
	// StaffField is "backroom", "supplier", "cost" or "notes".
	StaffField string `json:"staff_field,omitempty"`
	// Item is what an unknown_item question asked for ("dog lead"): no product fact may be
	// presented as it.
	Item string `json:"item,omitempty"`
}

// Accepts reports whether intent is the expected one or one of IntentsOK.
func (e Expect) Accepts(intent string) bool {
	if intent == e.Intent {
		return true
	}
	for _, i := range e.IntentsOK {
		if i == intent {
			return true
		}
	}
	return false
}

// RelationParts splits Relation into its kind and SKU ("cheaper_than", "PH-0101").
func (e Expect) RelationParts() (kind, sku string) {
	kind, sku, _ = strings.Cut(e.Relation, ":")
	return kind, sku
}

// Output is one object of `slm ask --json`: the answer to one question.
type Output struct {
	Q      string `json:"q"`
	Intent string `json:"intent"`
	Answer string `json:"answer"`
	Facts  []Fact `json:"facts"`
	// Phrasing says how a model-phrased answer was made (`slm ask -m`): "model" when the text
	// is the model's words alone; "" without a model.
	Phrasing string `json:"phrasing,omitempty"`
}

// Fact is one fact of an answer; Type says which fields apply ("product", "faq", "category",
// "store"). Numbers keep their JSON text, so prices compare exactly.
type Fact struct {
	Type string `json:"type"`

	// product
	SKU       string          `json:"sku,omitempty"`
	Name      string          `json:"name,omitempty"` // product, category and store name
	Brand     string          `json:"brand,omitempty"`
	Category  string          `json:"category,omitempty"`
	Price     json.Number     `json:"price,omitempty"`
	Currency  string          `json:"currency,omitempty"`
	Stock     string          `json:"stock,omitempty"`
	Quantity  json.Number     `json:"quantity,omitempty"`
	Aisle     string          `json:"aisle,omitempty"`
	Promotion *PromotionFact  `json:"promotion,omitempty"`
	Staff     *StaffFact      `json:"staff,omitempty"`
	Extra     map[string]bool `json:"-"` // every key the fact had, for leak checks

	// faq
	ID       string `json:"id,omitempty"`
	Question string `json:"question,omitempty"`
	Answer   string `json:"answer,omitempty"`

	// category
	Aisles   []string    `json:"aisles,omitempty"`
	Products json.Number `json:"products,omitempty"`

	// store
	Hours string `json:"hours,omitempty"`
}

// PromotionFact is a product fact's promotion.
type PromotionFact struct {
	Title   string      `json:"title"`
	Percent json.Number `json:"percent"`
	Price   json.Number `json:"price"`
}

// StaffFact is a product fact's staff-only part.
type StaffFact struct {
	Backroom json.Number `json:"backroom,omitempty"`
	Supplier string      `json:"supplier,omitempty"`
	Cost     json.Number `json:"cost,omitempty"`
	Notes    string      `json:"notes,omitempty"`
}

// UnmarshalJSON decodes a fact and records which keys it had (Extra), so that a staff key
// outside the "staff" object is still seen.
func (f *Fact) UnmarshalJSON(b []byte) error {
	type plain Fact
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	*f = Fact(p)
	f.Extra = make(map[string]bool, len(keys))
	for k, v := range keys {
		if string(v) != "null" {
			f.Extra[k] = true
		}
	}
	return nil
}

// Products returns the product facts of o, in order.
func (o Output) Products() []Fact {
	var out []Fact
	for _, f := range o.Facts {
		if f.Type == "product" {
			out = append(out, f)
		}
	}
	return out
}

// Validate reports the first problem of a question row: an unknown intent, a missing field the
// intent needs, a malformed relation.
func (q Question) Validate() error {
	known := func(i string) bool {
		for _, k := range Intents {
			if k == i {
				return true
			}
		}
		return false
	}
	e := q.Expect
	if strings.TrimSpace(q.Q) == "" {
		return fmt.Errorf("empty q")
	}
	if !known(e.Intent) {
		return fmt.Errorf("unknown intent %q", e.Intent)
	}
	for _, i := range e.IntentsOK {
		if !known(i) {
			return fmt.Errorf("unknown intent %q in intents_ok", i)
		}
	}
	switch e.Intent {
	case IntentAvailability, IntentPrice, IntentLocation:
		if len(e.SKUs) == 0 {
			return fmt.Errorf("%s needs skus", e.Intent)
		}
	case IntentFAQ:
		if e.FAQ == "" {
			return fmt.Errorf("faq needs faq")
		}
	case IntentComparison:
		kind, sku := e.RelationParts()
		if (kind != RelCheaperThan && kind != RelBiggerThan && kind != RelSmallerThan) || sku == "" {
			return fmt.Errorf("comparison needs relation cheaper_than|bigger_than|smaller_than:SKU, not %q", e.Relation)
		}
	case IntentUnknownItem:
		if e.Item == "" {
			return fmt.Errorf("unknown_item needs item")
		}
	case IntentStaff:
		switch e.StaffField {
		case StaffBackroom, StaffSupplier, StaffCost, StaffNotes:
		default:
			return fmt.Errorf("staff needs staff_field backroom|supplier|cost|notes, not %q", e.StaffField)
		}
		if len(e.SKUs) == 0 {
			return fmt.Errorf("staff needs skus")
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
