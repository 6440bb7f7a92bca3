package training

import (
	_ "embed"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"aisle/sync/catalog"
	"aisle/worker/assistant"
	"aisle/worker/assistant/eval"
	"aisle/worker/assistant/synth"
	"aisle/worker/chat"
)

// ChatTemplate is the bundled model's tokenizer.chat_template: ChatML, with <|im_end|> ending
// every turn (the end-of-turn token that stops generation).
//
//go:embed chat_template.jinja
var ChatTemplate string

// Template renders conversations as the bundled model reads them (the family ChatTemplate
// is detected as).
var Template = chat.For(chat.ChatML)

// Spec says which stores to generate: store i (0 <= i < Stores) is of kind synth.Kinds()[i%n]
// with a seed derived from Seed and i, so any store can be made on its own, in any order.
type Spec struct {
	Stores int
	Seed   uint64
	Split  synth.Split
	// Invent is the percentage of stores whose brands, some product families and the store's
	// name are replaced by invented words and model codes (see invent), so that the model
	// learns to copy names it has never seen rather than recall the vocabulary's.
	Invent int
}

// Conversation is one conversation of the training data: the system prompt, then user and
// assistant turns alternating; every assistant turn is a target.
type Conversation struct {
	Staff    bool // asked on a staff device
	Messages []chat.Message
}

// now is the moment every training store is asked at (promotions run around it).
var now = time.Date(2026, 5, 6, 11, 0, 0, 0, time.UTC)

// StoreConversations generates store i of spec and every conversation asked about it, on
// customer and staff devices.
func StoreConversations(spec Spec, i int) ([]Conversation, error) {
	s, seed, err := spec.store(i)
	if err != nil {
		return nil, err
	}
	if r := rand.New(rand.NewPCG(seed, 0x1a7e)); r.IntN(100) < spec.Invent {
		invent(r, s)
	}
	sf, err := s.StoreFile()
	if err != nil {
		return nil, fmt.Errorf("training: store %d (%s): %w", i, s.ID, err)
	}
	r := rand.New(rand.NewPCG(seed, 0x7a1))
	promos := promotions(r, sf)
	qs := append(s.Questions(synth.DefaultQuestionSpec(seed)), promotionQuestions(r, sf, promos)...)

	var out []Conversation
	for _, staff := range []bool{false, true} {
		d := assistant.FromStoreFile(sf, staff)
		d.Promotions = promos
		store := assistant.NewStore(d, now)
		for _, session := range sessions(r, qs, staff) {
			conv := store.NewConversation()
			var last assistant.Answer
			for _, q := range session {
				last = conv.Ask(q)
			}
			msgs := append(conv.Messages(), chat.Message{Role: "assistant", Content: last.Text})
			out = append(out, Conversation{Staff: staff, Messages: msgs})
		}
	}
	return out, nil
}

// store generates store i of spec and returns it with its seed.
func (spec Spec) store(i int) (*synth.Store, uint64, error) {
	kinds := synth.Kinds()
	seed := spec.Seed<<24 ^ uint64(i)
	s, err := synth.NewStore(synth.StoreSpec{Kind: kinds[i%len(kinds)], Seed: seed, Split: spec.Split})
	if err != nil {
		return nil, 0, fmt.Errorf("training: store %d: %w", i, err)
	}
	return s, seed, nil
}

// sessions groups the questions asked on one kind of device into conversations: synth's
// multi-turn conversations as they are, and the stand-alone questions chained into sessions
// of one to three, as customers ask several things in a row.
func sessions(r *rand.Rand, qs []eval.Question, staff bool) [][]string {
	var out [][]string
	byID := map[string]int{}
	var single []string
	for _, q := range qs {
		if q.Staff != staff {
			continue
		}
		if q.Conversation == "" {
			single = append(single, q.Q)
			continue
		}
		at, ok := byID[q.Conversation]
		if !ok {
			at = len(out)
			byID[q.Conversation] = at
			out = append(out, nil)
		}
		out[at] = append(out[at], q.Q)
	}
	for len(single) > 0 {
		n := min(1+r.IntN(3), len(single))
		out = append(out, single[:n])
		single = single[n:]
	}
	return out
}

var promoTitles = []string{"Spring Sale", "Weekend Deal", "Summer Savings", "Member Offer", "Clearance",
	"Half-Term Special", "Manager's Special", "Flash Sale", "Bank Holiday Offer", "Price Drop"}

// promotions puts up to three promotions on random products of every other store (synth's
// stores have none), running around now.
func promotions(r *rand.Rand, sf *catalog.StoreFile) []catalog.Promotion {
	if r.IntN(2) == 0 || len(sf.Products) == 0 {
		return nil
	}
	percents := []int{10, 15, 20, 25, 30, 40, 50}
	var out []catalog.Promotion
	for n := 1 + r.IntN(3); len(out) < n; {
		p := sf.Products[r.IntN(len(sf.Products))]
		out = append(out, catalog.Promotion{ID: fmt.Sprintf("%s.promo-%d", sf.Store.ID, len(out)+1), Store: sf.Store.ID,
			Title: promoTitles[r.IntN(len(promoTitles))], SKUs: []string{p.SKU}, DiscountPercent: percents[r.IntN(len(percents))],
			Starts: now.AddDate(0, 0, -3-r.IntN(10)), Ends: now.AddDate(0, 0, 2+r.IntN(14))})
	}
	return out
}

var promoAsks = []string{"any offers on at the moment?", "what's on sale this week?", "got any deals?",
	"are there any discounts today?", "any special offers?", "whats on promotion", "do you have anything reduced?",
	"Are there any deals right now?"}

var promoProductAsks = []string{"is the %s on offer?", "any discount on %s?", "is %s on sale?", "%s any deals?"}

// promotionQuestions asks about offers: one or two general questions, and about a promoted
// product by name.
func promotionQuestions(r *rand.Rand, sf *catalog.StoreFile, promos []catalog.Promotion) []eval.Question {
	var out []eval.Question
	for n := 1 + r.IntN(2); n > 0; n-- {
		out = append(out, eval.Question{Q: promoAsks[r.IntN(len(promoAsks))]})
	}
	for _, p := range promos {
		for _, rec := range sf.Products {
			if rec.SKU == p.SKUs[0] {
				out = append(out, eval.Question{Q: fmt.Sprintf(promoProductAsks[r.IntN(len(promoProductAsks))], rec.Name)})
			}
		}
	}
	return out
}

var syllables = strings.Fields("ka lo mi zen tor vi bra qu el ix on ar sto fle dru pa ne ri so ve lu gar mon tes cal dor fin har jo kel")

// inventedWord is a pronounceable word that is no vocabulary entry: "Kalomi", "Zentor".
func inventedWord(r *rand.Rand) string {
	var b strings.Builder
	for n := 2 + r.IntN(2); n > 0; n-- {
		b.WriteString(syllables[r.IntN(len(syllables))])
	}
	w := b.String()
	return strings.ToUpper(w[:1]) + w[1:]
}

// modelCode is a product code as electronics and tools carry them: "XR-200", "Q7", "WH-1000XM5".
func modelCode(r *rand.Rand) string {
	letters := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('A' + r.IntN(26))
		}
		return string(b)
	}
	switch r.IntN(3) {
	case 0:
		return fmt.Sprintf("%s-%d", letters(1+r.IntN(2)), 10*(1+r.IntN(99)))
	case 1:
		return fmt.Sprintf("%s%d", letters(1), 1+r.IntN(9))
	}
	return fmt.Sprintf("%s-%d%s%d", letters(2), 100*(1+r.IntN(20)), letters(2), 1+r.IntN(9))
}

// invent renames a store's brands (all but its house brand), about a third of its product
// families (an invented word or a model code in front of the family's last word) and the first
// word of its name, consistently in every product name, before its questions are asked.
func invent(r *rand.Rand, s *synth.Store) {
	brands, families := map[string]string{}, map[string]string{}
	for _, p := range s.Products {
		if p.Brand != "" && !p.House {
			if _, ok := brands[p.Brand]; !ok {
				brands[p.Brand] = inventedWord(r)
			}
		}
		if _, ok := families[p.Family]; !ok {
			families[p.Family] = p.Family
			if ws := strings.Fields(p.Family); r.IntN(3) == 0 {
				front := inventedWord(r)
				if r.IntN(2) == 0 {
					front = modelCode(r)
				}
				families[p.Family] = front + " " + ws[len(ws)-1]
			}
		}
	}
	for _, p := range s.Products {
		if nb, ok := brands[p.Brand]; ok {
			p.Name = strings.ReplaceAll(p.Name, p.Brand, nb)
			p.Brand = nb
		}
		if nf := families[p.Family]; nf != p.Family {
			p.Name = strings.ReplaceAll(p.Name, p.Family, nf)
			p.Family = nf
		}
	}
	if ws := strings.Fields(s.Name); len(ws) > 1 {
		s.Name = inventedWord(r) + " " + strings.Join(ws[1:], " ")
	}
}
