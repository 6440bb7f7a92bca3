package training

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"aisle/worker/assistant"
	"aisle/worker/assistant/synth"
	"aisle/worker/chat"
	"aisle/worker/tokenizer"
)

var spec = Spec{Stores: 4, Seed: 9, Split: synth.SplitTrain}

func conversations(t *testing.T, spec Spec) []Conversation {
	t.Helper()
	var all []Conversation
	for i := range spec.Stores {
		cs, err := StoreConversations(spec, i)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, cs...)
	}
	return all
}

// The segments are the template's rendering, cut where the model's words begin and end.
func TestSegmentsAreTheTemplatesRendering(t *testing.T) {
	if f, err := chat.DetectStrict(ChatTemplate); err != nil || f != Template.Family {
		t.Fatalf("ChatTemplate is detected as %s (%v), want %s", f, err, Template.Family)
	}
	for _, c := range conversations(t, spec) {
		want, err := Template.Render(c.Messages, false)
		if err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		var targets []string
		segs, err := Segments(c.Messages)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range segs {
			got.WriteString(s.Text)
			if s.Target && s.Text != endOfTurn {
				targets = append(targets, s.Text)
			}
		}
		if got.String() != want {
			t.Fatalf("segments render\n%q\nwant\n%q", got.String(), want)
		}
		var answers []string
		for _, m := range c.Messages {
			if m.Role == "assistant" {
				answers = append(answers, m.Content)
			}
		}
		if !reflect.DeepEqual(targets, answers) {
			t.Fatalf("targets %q, want the assistant turns %q", targets, answers)
		}
	}
}

// Every conversation is laid out as the assistant prompts a model: its system prompt first,
// then user turns of facts, intent and question, answered by the assistant's own text.
func TestConversationsAreTheAssistantsPrompts(t *testing.T) {
	cs := conversations(t, spec)
	if len(cs) < 4*60 {
		t.Fatalf("%d conversations from 4 stores, want at least 240", len(cs))
	}
	var staff, multi, promo int
	intents := map[string]int{}
	for _, c := range cs {
		m := c.Messages
		if m[0].Role != "system" || !strings.HasPrefix(m[0].Content, "You are the shopping assistant of ") {
			t.Fatalf("first message %+v", m[0])
		}
		if c.Staff != strings.Contains(m[0].Content, "member of staff") {
			t.Fatalf("staff %v but system prompt %q", c.Staff, m[0].Content)
		}
		if len(m) < 3 || len(m)%2 != 1 {
			t.Fatalf("%d messages, want system then user/assistant pairs", len(m))
		}
		for i := 1; i < len(m); i += 2 {
			if m[i].Role != "user" || m[i+1].Role != "assistant" || !strings.HasPrefix(m[i].Content, "Facts:") ||
				!strings.Contains(m[i].Content, "\nCustomer: ") || strings.TrimSpace(m[i+1].Content) == "" {
				t.Fatalf("turn %d: %+v %+v", i, m[i], m[i+1])
			}
			for _, l := range strings.Split(m[i].Content, "\n") {
				if it, ok := strings.CutPrefix(l, "Intent: "); ok {
					intents[it]++
				}
			}
			if strings.Contains(m[i].Content, "% off)") {
				promo++
			}
		}
		if c.Staff {
			staff++
		}
		if len(m) > 3 {
			multi++
		}
	}
	for _, it := range []string{assistant.IntentAvailability, assistant.IntentPrice, assistant.IntentLocation, assistant.IntentFAQ,
		assistant.IntentRecommendation, assistant.IntentComparison, assistant.IntentPromotion, assistant.IntentUnknownItem,
		assistant.IntentGreeting, assistant.IntentThanks, assistant.IntentGoodbye, assistant.IntentOffTopic, assistant.IntentStaff} {
		if intents[it] == 0 {
			t.Errorf("no turn of intent %s (%v)", it, intents)
		}
	}
	if staff == 0 || multi < len(cs)/4 || promo == 0 {
		t.Errorf("%d staff conversations, %d multi-turn of %d, %d turns with a promotion", staff, multi, len(cs), promo)
	}
}

func TestDeterministic(t *testing.T) {
	a, b := conversations(t, spec), conversations(t, spec)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same spec gave different conversations")
	}
	other := conversations(t, Spec{Stores: 4, Seed: 10, Split: synth.SplitTrain})
	if reflect.DeepEqual(a, other) {
		t.Fatal("another seed gave the same conversations")
	}
}

// Training stores use no held-out product family or brand (the evaluation stores use only
// those).
func TestTrainingStoresUseNoHeldOutNames(t *testing.T) {
	sp := Spec{Stores: 40, Seed: 1, Split: synth.SplitTrain}
	for i := range sp.Stores {
		s, _, err := sp.store(i)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range s.Products {
			if synth.HeldOut(p.Family) || (!p.House && synth.HeldOut(p.Brand)) {
				t.Errorf("store %s: product %q (family %q, brand %q) is held out", s.ID, p.Name, p.Family, p.Brand)
			}
		}
	}
}

// Encode marks exactly the assistant's words and the end of each turn, and the token files
// hold what was added.
func TestEncodeAndTokenFiles(t *testing.T) {
	cs := conversations(t, Spec{Stores: 2, Seed: 3, Split: synth.SplitTrain})
	var texts []string
	for _, c := range cs {
		s, _ := Template.Render(c.Messages, false)
		texts = append(texts, s)
	}
	v, err := LearnVocab(texts, 600)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	var tb, mb, db bytes.Buffer
	w := NewTokenWriter(&tb, &mb, &db)
	var all [][]int
	for _, c := range cs {
		ids, mask, err := Encode(tok, c.Messages)
		if err != nil {
			t.Fatal(err)
		}
		full, _ := Template.Render(c.Messages, false)
		if got := tok.Detokenize(ids, false, true); got != full {
			t.Fatalf("tokens decode to\n%q\nwant\n%q", got, full)
		}
		var target []int
		var want strings.Builder
		for _, m := range c.Messages {
			if m.Role == "assistant" {
				want.WriteString(m.Content + endOfTurn)
			}
		}
		for i, id := range ids {
			if mask[i] == 1 {
				target = append(target, id)
			}
		}
		if got := tok.Detokenize(target, false, true); got != want.String() {
			t.Fatalf("targets decode to %q, want %q", got, want.String())
		}
		if err := w.Add(ids, mask); err != nil {
			t.Fatal(err)
		}
		all = append(all, ids)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	docs := make([]uint32, db.Len()/4)
	binary.Read(&db, binary.LittleEndian, docs)
	toks := make([]uint16, tb.Len()/2)
	binary.Read(&tb, binary.LittleEndian, toks)
	if len(docs) != len(all)+1 || int(docs[len(all)]) != len(toks) || mb.Len() != len(toks) {
		t.Fatalf("%d doc offsets for %d conversations, %d tokens, %d mask bytes", len(docs), len(all), len(toks), mb.Len())
	}
	for i, ids := range all {
		for j, id := range ids {
			if int(toks[int(docs[i])+j]) != id {
				t.Fatalf("conversation %d token %d: file has %d, want %d", i, j, toks[int(docs[i])+j], id)
			}
		}
	}
}

// Invented names replace the vocabulary's consistently: the store's name in the system prompt,
// brands and families in the product facts, and the assistant still finds the products asked
// for by their new names.
func TestInventedNames(t *testing.T) {
	plain := Spec{Stores: 3, Seed: 4, Split: synth.SplitTrain}
	invented := plain
	invented.Invent = 100
	for i := range plain.Stores {
		s, _, err := plain.store(i)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := StoreConversations(invented, i)
		if err != nil {
			t.Fatal(err)
		}
		facts := 0
		for _, c := range cs {
			if strings.Contains(c.Messages[0].Content, s.Name) {
				t.Fatalf("store %d: system prompt still names %q", i, s.Name)
			}
			for _, m := range c.Messages[1:] {
				if m.Role != "user" {
					continue
				}
				for _, l := range strings.Split(m.Content, "\n") {
					if !strings.HasPrefix(l, "- ") || !strings.Contains(l, ", SKU ") {
						continue
					}
					facts++
					for _, p := range s.Products {
						if !p.House && p.Brand != "" && strings.Contains(l, p.Brand) {
							t.Errorf("store %d: fact %q still names brand %q", i, l, p.Brand)
						}
					}
				}
			}
		}
		if facts < 50 {
			t.Errorf("store %d: %d product facts in %d conversations: the products are not found by their new names", i, facts, len(cs))
		}
	}
}
