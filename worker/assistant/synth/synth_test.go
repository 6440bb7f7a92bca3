package synth

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	_ "time/tzdata" // store time zones validate without the system's zoneinfo

	"aisle/sync/catalog"
	"aisle/worker/assistant/eval"
)

const evalDir = "../testdata/eval"

// checkStore holds a generated store to its invariants and to the file it writes.
func checkStore(t *testing.T, s *Store) *catalog.StoreFile {
	t.Helper()
	sf, err := s.StoreFile()
	if err != nil {
		t.Fatalf("%s: %v", s.ID, err)
	}
	if len(sf.Products) != len(s.Products) || len(sf.FAQs) != len(s.FAQs) {
		t.Fatalf("%s: file has %d products and %d FAQs, store %d and %d", s.ID, len(sf.Products), len(sf.FAQs), len(s.Products), len(s.FAQs))
	}
	for i, p := range s.Products {
		fp, st := sf.Products[i], sf.Stock[i]
		if fp.SKU != p.SKU || fp.Price != p.Price || st.Quantity != p.Stock || st.Aisle != p.Aisle || fp.Name != p.Name {
			t.Errorf("%s: product %d reads back as %+v / %+v, generated %+v", s.ID, i, fp, st, p)
		}
		if p.Staff != nil && (fp.Staff.Cost != p.Staff.Cost || st.Staff.Backroom != p.Staff.Backroom || fp.Staff.Supplier != p.Staff.Supplier) {
			t.Errorf("%s: %s staff reads back as %+v / %+v", s.ID, p.SKU, fp.Staff, st.Staff)
		}
		if p.Barcode != "" && fp.Attributes[catalog.AttrBarcode] != p.Barcode {
			t.Errorf("%s: %s barcode lost", s.ID, p.SKU)
		}
		if p.Price <= 0 || p.Price%100 == 0 && p.Currency != "CHF" && p.Currency != "SEK" && p.Price < 20000 {
			t.Errorf("%s: %s price %s has no cents", s.ID, p.SKU, catalog.Major(p.Price))
		}
	}
	for i, f := range s.FAQs {
		if sf.FAQs[i].ID != f.ID {
			t.Errorf("%s: FAQ %d has ID %q in the file, %q in the generator", s.ID, i, sf.FAQs[i].ID, f.ID)
		}
	}
	return sf
}

// checkQuestions holds every expectation to the store's data, independently of the scorer.
func checkQuestions(t *testing.T, s *Store, sf *catalog.StoreFile, qs []eval.Question) {
	t.Helper()
	prods := map[string]*Product{}
	for _, p := range s.Products {
		prods[p.SKU] = p
	}
	faqs := map[string]bool{}
	for _, f := range sf.FAQs {
		faqs[f.ID] = true
	}
	cats := map[string]bool{}
	for _, c := range s.Categories() {
		cats[c] = true
	}
	ids := map[string]bool{}
	device := map[string]bool{}
	for _, q := range qs {
		e := q.Expect
		where := fmt.Sprintf("%s %q", q.ID, q.Q)
		if err := q.Validate(); err != nil {
			t.Errorf("%s: %v", where, err)
		}
		if ids[q.ID] {
			t.Errorf("%s: ID used twice", where)
		}
		ids[q.ID] = true
		if q.Conversation != "" {
			if d, ok := device[q.Conversation]; ok && d != q.Staff {
				t.Errorf("%s: conversation %s mixes devices", where, q.Conversation)
			}
			device[q.Conversation] = q.Staff
		}
		for _, sku := range e.SKUs {
			p := prods[sku]
			if p == nil {
				t.Errorf("%s: expects %s, which the store does not carry", where, sku)
				continue
			}
			if e.Intent == eval.IntentLocation && p.Aisle == "" {
				t.Errorf("%s: %s has no aisle", where, sku)
			}
			if e.Intent == eval.IntentStaff && !hasField(p, e.StaffField) {
				t.Errorf("%s: %s has no %s", where, sku, e.StaffField)
			}
			if e.Category != "" && e.Intent != eval.IntentUnknownItem && p.Category != e.Category {
				t.Errorf("%s: %s is in %s, not %s", where, sku, p.Category, e.Category)
			}
			if e.MaxPrice > 0 && p.Price > int64(e.MaxPrice*100) {
				t.Errorf("%s: %s is over %g", where, sku, e.MaxPrice)
			}
		}
		if e.FAQ != "" && !faqs[e.FAQ] {
			t.Errorf("%s: FAQ %s does not exist", where, e.FAQ)
		}
		if e.Category != "" && !cats[e.Category] {
			t.Errorf("%s: category %s does not exist", where, e.Category)
		}
		switch e.Intent {
		case eval.IntentRecommendation:
			n := 0
			for _, p := range s.Products {
				if (e.Category == "" || p.Category == e.Category) && (e.MaxPrice == 0 || p.Price <= int64(e.MaxPrice*100)) {
					n++
				}
			}
			if n == 0 {
				t.Errorf("%s: no product fits", where)
			}
		case eval.IntentComparison:
			kind, ref := e.RelationParts()
			rp := prods[ref]
			if rp == nil {
				t.Errorf("%s: relation to %s, which the store does not carry", where, ref)
				break
			}
			for _, sku := range e.SKUs {
				p := prods[sku]
				if p == nil {
					continue
				}
				ok := p != rp
				switch kind {
				case eval.RelCheaperThan:
					ok = ok && p.Price < rp.Price
				case eval.RelBiggerThan:
					ok = ok && p.Family == rp.Family && p.Variant > rp.Variant
				case eval.RelSmallerThan:
					ok = ok && p.Family == rp.Family && p.Variant < rp.Variant
				}
				if !ok {
					t.Errorf("%s: %s is not %s %s", where, sku, kind, ref)
				}
			}
		case eval.IntentUnknownItem:
			want := keyWords(e.Item)
			for _, p := range s.Products {
				have := map[string]bool{}
				for _, w := range keyWords(p.Name + " " + p.Brand) {
					have[w] = true
				}
				all := true
				for _, w := range want {
					all = all && have[w]
				}
				if all {
					t.Errorf("%s: the store carries %s %q", where, p.SKU, p.Name)
				}
			}
		}
	}
}

func TestEveryKindGeneratesValidStoresAndQuestions(t *testing.T) {
	for _, kind := range Kinds() {
		for _, split := range []Split{SplitTrain, SplitEval, SplitAll} {
			for seed := uint64(1); seed <= 4; seed++ {
				t.Run(fmt.Sprintf("%s/%s/%d", kind, split, seed), func(t *testing.T) {
					s, err := NewStore(StoreSpec{Kind: kind, Seed: seed, Split: split})
					if err != nil {
						t.Fatal(err)
					}
					sf := checkStore(t, s)
					// the held-out part of the smaller vocabularies is small
					// the three main kinds have the largest vocabularies; the held-out part of
					// the others is small
					minimum := 15
					switch {
					case kind == "grocery" || kind == "hardware" || kind == "pharmacy":
						minimum = 30
					case split == SplitEval:
						minimum = 5
					}
					if len(s.Products) < minimum {
						t.Errorf("only %d products", len(s.Products))
					}
					qs := s.Questions(DefaultQuestionSpec(seed))
					checkQuestions(t, s, sf, qs)
					// a plain correct answer meets every expectation, as the scorer judges it
					var outs []eval.Output
					for _, q := range qs {
						o, err := eval.Reference(sf, q)
						if err != nil {
							t.Fatalf("%s: %v", q.ID, err)
						}
						outs = append(outs, o)
					}
					for _, f := range eval.Score(sf, qs, outs).Failures() {
						t.Errorf("reference answer fails: %s", f.Line())
					}
					got := map[string]int{}
					for _, q := range qs {
						if q.Conversation == "" {
							got[q.Expect.Intent]++
						}
					}
					for intent, want := range DefaultCounts {
						if got[intent] < want*2/3 {
							t.Errorf("%d stand-alone %s questions, want about %d", got[intent], intent, want)
						}
					}
				})
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, kind := range Kinds() {
		spec := StoreSpec{Kind: kind, Seed: 7, Split: SplitTrain}
		a, err := NewStore(spec)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewStore(spec)
		if !bytes.Equal(a.JSON(), b.JSON()) {
			t.Errorf("%s: two stores from one spec differ", kind)
		}
		qa, _ := Files([]Generated{{a, a.Questions(DefaultQuestionSpec(3))}})
		qb, _ := Files([]Generated{{b, b.Questions(DefaultQuestionSpec(3))}})
		for n := range qa {
			if !bytes.Equal(qa[n], qb[n]) {
				t.Errorf("%s: %s differs between two runs", kind, n)
			}
		}
		c, _ := NewStore(StoreSpec{Kind: kind, Seed: 8, Split: SplitTrain})
		if bytes.Equal(a.JSON(), c.JSON()) {
			t.Errorf("%s: seeds 7 and 8 give the same store", kind)
		}
	}
}

// TestHeldOutVocabulary: evaluation stores use only held-out families, brands and store
// names; training stores never do.
func TestHeldOutVocabulary(t *testing.T) {
	for _, kind := range Kinds() {
		for seed := uint64(1); seed <= 10; seed++ {
			for _, split := range []Split{SplitTrain, SplitEval} {
				s, err := NewStore(StoreSpec{Kind: kind, Seed: seed, Split: split})
				if err != nil {
					t.Fatal(err)
				}
				if !split.Allows(s.first) {
					t.Errorf("%s %s store named after %q", split, kind, s.first)
				}
				for _, p := range s.Products {
					if !split.Allows(p.Family) {
						t.Errorf("%s %s store sells %q", split, kind, p.Family)
					}
					if p.Brand != "" && !p.House && !split.Allows(p.Brand) {
						t.Errorf("%s %s store sells brand %q", split, kind, p.Brand)
					}
				}
			}
		}
	}
	// The split is a function of the entry's text: the same name in two kinds falls the same way.
	if HeldOut("Brie de Meaux") != HeldOut("  brie DE meaux ") || HeldOut("Crème Fraîche") != HeldOut("creme fraiche") {
		t.Error("HeldOut depends on case, spacing or accents")
	}
	n, held := 0, 0
	for _, k := range kinds {
		for _, c := range k.Cats {
			for _, f := range c.Fams {
				n++
				if HeldOut(f.Name) {
					held++
				}
			}
		}
	}
	if held*100/n < 20 || held*100/n > 45 {
		t.Errorf("%d of %d families held out", held, n)
	}
}

func TestNewStoreErrors(t *testing.T) {
	if _, err := NewStore(StoreSpec{Kind: "spaceport"}); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := NewStore(StoreSpec{Kind: "grocery", Currency: "XXX"}); err == nil {
		t.Error("unknown currency accepted")
	}
	if _, err := NewStore(StoreSpec{Kind: "grocery", ID: "not an id"}); err == nil {
		t.Error("invalid ID accepted")
	}
	if _, err := NewStore(StoreSpec{Kind: "grocery", SKUStyle: "roman"}); err == nil {
		t.Error("unknown SKU style accepted")
	}
}

// TestEvalSetUpToDate: the committed evaluation set is exactly what the generator makes.
func TestEvalSetUpToDate(t *testing.T) {
	files, err := EvalSetFiles()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(evalDir, name))
		if err != nil {
			t.Errorf("%v (run go generate ./worker/assistant/synth)", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator makes: run go generate ./worker/assistant/synth and commit", name)
		}
	}
}

// TestEvalSetShape holds the evaluation set to its brief: three kinds, 40 to 150 products each,
// 500+ questions over every intent, conversations, staff questions on both devices.
func TestEvalSetShape(t *testing.T) {
	gen, err := Generate(EvalSet)
	if err != nil {
		t.Fatal(err)
	}
	intents := map[string]int{}
	tags := map[string]int{}
	total, staffDev, custDev := 0, 0, 0
	for _, g := range gen {
		sf := checkStore(t, g.Store)
		checkQuestions(t, g.Store, sf, g.Questions)
		if n := len(g.Store.Products); n < 40 || n > 150 {
			t.Errorf("%s has %d products", g.Store.ID, n)
		}
		zero, few := 0, 0
		for _, p := range g.Store.Products {
			switch {
			case p.Stock == 0:
				zero++
			case p.Stock <= 3:
				few++
			}
		}
		if zero < 3 || few < 3 {
			t.Errorf("%s: %d products out of stock, %d with few left", g.Store.ID, zero, few)
		}
		convs := map[string]bool{}
		for _, q := range g.Questions {
			total++
			intents[q.Expect.Intent]++
			for _, tg := range q.Tags {
				tags[tg]++
			}
			if q.Conversation != "" {
				convs[q.Conversation] = true
			}
			if q.Expect.Intent == eval.IntentStaff {
				if q.Staff {
					staffDev++
				} else {
					custDev++
				}
			}
		}
		if len(convs) < 10 {
			t.Errorf("%s: %d conversations", g.Store.ID, len(convs))
		}
	}
	if total < 500 {
		t.Errorf("%d questions", total)
	}
	for _, i := range []string{eval.IntentAvailability, eval.IntentPrice, eval.IntentLocation, eval.IntentFAQ,
		eval.IntentRecommendation, eval.IntentComparison, eval.IntentUnknownItem, eval.IntentStaff} {
		if intents[i] < 30 {
			t.Errorf("%d %s questions, want 30 or more", intents[i], i)
		}
	}
	for _, i := range []string{eval.IntentGreeting, eval.IntentThanks, eval.IntentGoodbye, eval.IntentOffTopic} {
		if intents[i] < 12 {
			t.Errorf("%d %s questions", intents[i], i)
		}
	}
	if staffDev < 20 || custDev < 20 {
		t.Errorf("staff questions: %d on staff devices, %d on customer devices", staffDev, custDev)
	}
	for _, tg := range []string{"typo", "sku", "barcode", "paraphrase", "followup", "chat_speak", "partial", "brand", "brand_only",
		"no_accents", "no_punct", "ambiguous", "plural", "size", "out_of_stock", "few_left", "near_category", "bare_code"} {
		if tags[tg] < 2 {
			t.Errorf("tag %s on %d questions", tg, tags[tg])
		}
	}
	var b strings.Builder
	for _, i := range eval.Intents {
		fmt.Fprintf(&b, " %s=%d", i, intents[i])
	}
	t.Logf("%d questions:%s", total, b.String())
}

func TestTypoAndReplaceWord(t *testing.T) {
	r := newRNG(1)
	for i := 0; i < 200; i++ {
		w := "ibuprofen"
		if got := typo(r, w); len(got) < len(w)-1 || len(got) > len(w)+1 || got[0] != 'i' {
			t.Fatalf("typo(%q) = %q", w, got)
		}
	}
	for _, c := range []struct{ s, old, repl, want string }{
		{"do you have brie", "you", "u", "do u have brie"},
		{"your youth", "you", "u", "your youth"},
		{"Where is it", "where is", "wheres", "wheres it"},
	} {
		if got, _ := replaceWord(c.s, c.old, c.repl); got != c.want {
			t.Errorf("replaceWord(%q, %q) = %q, want %q", c.s, c.old, got, c.want)
		}
	}
}

func TestEAN(t *testing.T) {
	r := newRNG(5)
	for i := 0; i < 50; i++ {
		e := ean(r, "400")
		if len(e) != 13 {
			t.Fatalf("%q", e)
		}
		sum := 0
		for j, c := range e {
			d := int(c - '0')
			if j%2 == 1 {
				d *= 3
			}
			sum += d
		}
		if sum%10 != 0 {
			t.Errorf("%s: bad check digit", e)
		}
	}
}
