package assistant

import (
	"strings"
	"testing"
)

// TestSuggestions: every store of the evaluation sets gets suggestions drawn from its own
// catalog, each answered with its intent and a fact (Suggestions checks that itself; here the
// answers are asked again and the texts read), and the same store gives the same ones.
func TestSuggestions(t *testing.T) {
	for _, path := range []string{"testdata/eval/corner-pharmacy.json", "testdata/mixed-store.json"} {
		s := mustStore(t, path, false)
		got := s.Suggestions(4)
		if len(got) < 3 {
			t.Errorf("%s: %d suggestions %q, want at least 3", path, len(got), got)
		}
		intents := map[string]bool{}
		for _, q := range got {
			a := s.NewConversation().Ask(q)
			intents[a.Intent] = true
			if len(a.Facts) == 0 || strings.Contains(a.Text, "Sorry") {
				t.Errorf("%s: suggestion %q answered %s %q", path, q, a.Intent, a.Text)
			}
		}
		if len(intents) < 3 {
			t.Errorf("%s: suggestions %q cover intents %v, want at least 3 kinds", path, got, intents)
		}
		if again := s.Suggestions(4); strings.Join(again, "|") != strings.Join(got, "|") {
			t.Errorf("%s: suggestions changed: %q, then %q", path, got, again)
		}
		if two := s.Suggestions(2); len(two) != 2 {
			t.Errorf("%s: Suggestions(2) gave %d", path, len(two))
		}
		t.Logf("%s: %q", path, got)
	}
}

func TestLowerFirst(t *testing.T) {
	for in, want := range map[string]string{"Organic milk": "organic milk", "USB cable": "USB cable", "iPhone case": "iPhone case", "A4 paper": "A4 paper", "Hand Cream Sensitive 75 ml": "Hand Cream Sensitive 75 ml", "Bananas, per lb": "bananas, per lb", "Orange juice 1 L": "orange juice 1 L", "Sunscreen SPF 50": "sunscreen SPF 50", "": ""} {
		if got := lowerFirst(in); got != want {
			t.Errorf("lowerFirst(%q) = %q, want %q", in, got, want)
		}
	}
}
