package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	_ "time/tzdata"

	"aisle/sync/catalog"
)

const evalDir = "../testdata/eval"

// roundTrip sends outputs through JSON, as `slm ask --json` would.
func roundTrip(t testing.TB, outs []Output) []Output {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, o := range outs {
		if err := enc.Encode(o); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadOutputs(&b)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestReferenceIsCorrect: the reference answers scores 100% with no wrong figure on every
// committed set, generated and hand-written.
func TestReferenceIsCorrect(t *testing.T) {
	sets, err := LoadDir(evalDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) < 4 {
		t.Fatalf("%d sets in %s", len(sets), evalDir)
	}
	rep, err := Evaluate(sets, func(store *catalog.StoreFile, rows []Question, staff bool) ([]Output, error) {
		var byID = map[string]Question{}
		for _, s := range sets {
			for _, q := range s.Questions {
				byID[q.ID] = q
			}
		}
		var outs []Output
		for _, r := range rows {
			q := byID[r.ID]
			if r.Expect.Intent != "" {
				return nil, fmt.Errorf("the expectation of %s reached the assistant", r.ID)
			}
			o, err := Reference(store, q)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", q.ID, err)
			}
			outs = append(outs, o)
		}
		return roundTrip(t, outs), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Failures() {
		t.Errorf("%s", f.Line())
	}
	if tot := rep.Total(); tot.Correct != tot.Total || tot.Total < 550 {
		t.Errorf("reference answers: %+v", tot)
	}
}

// TestSilentAssistant: an assistant that answers nothing states no wrong figure and gets only
// the off-topic questions right.
func TestSilentAssistant(t *testing.T) {
	sets, err := LoadDir(evalDir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(sets, func(_ *catalog.StoreFile, rows []Question, _ bool) ([]Output, error) {
		outs := make([]Output, len(rows))
		for i, r := range rows {
			outs[i] = Output{Q: r.Q, Intent: IntentOffTopic, Answer: "Sorry, I can't help with that."}
		}
		return outs, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rep.ByIntent() {
		want := 0
		if row.Key == IntentOffTopic {
			want = row.Total
		}
		if row.Correct != want || row.WrongFigures != 0 || row.Leaks != 0 {
			t.Errorf("%s: %+v", row.Key, row.Tally)
		}
	}
}

func TestReferenceFindsAndFails(t *testing.T) {
	sf := mustStore(t, evalDir+"/corner-pharmacy.json")
	o, err := Reference(sf, Question{Q: "cheaper than the nurofen?", Expect: Expect{Intent: IntentComparison, Category: "Pain Relief", Relation: "cheaper_than:PH-0101"}})
	if err != nil || len(o.Facts) != 1 || o.Facts[0].SKU != "PH-0102" {
		t.Errorf("comparison without SKUs: %+v, %v", o, err)
	}
	for _, e := range []Expect{
		{Intent: IntentPrice, SKUs: []string{"PH-0999"}},
		{Intent: IntentFAQ, FAQ: "corner-pharmacy.faq-9"},
		{Intent: IntentRecommendation, Category: "Pain Relief", MaxPrice: 1},
		{Intent: IntentUnknownItem, Item: "dog food", Category: "Pet Care"},
		{Intent: IntentComparison, Relation: "cheaper_than:PH-0102", Category: "Pain Relief"},
	} {
		if _, err := Reference(sf, Question{Q: "?", Expect: e}); err == nil {
			t.Errorf("%+v: no error", e)
		}
	}
}
