package assistant

import (
	"sort"
	"strings"
	"unicode/utf8"

	"aisle/worker/assistant/embed"
	"aisle/worker/assistant/lang"
	"aisle/worker/chat"
)

// Thresholds of the decision. Coverage is the weighted share of the question's content words
// that an item's name, brand or category holds; cosines compare embeddings.
const (
	strongCoverage = 0.72 // an item answers a question about a named product
	tieCoverage    = 0.06 // items within this of the best are equally good
	tieName        = 0.2
	strongCategory = 0.7  // the question names a category
	vectorCategory = 0.42 // the question means a category without naming it ("painkillers")
	nearCategory   = 0.25 // good enough to offer as the nearest category of an unknown item
	strongFAQ      = 0.5
	faqCosine      = 0.42
	maxListed      = 3 // products listed in one answer
	recommendFloor = 0.2
)

// MaxQuestion bounds the bytes of a question that are read; the rest is ignored.
const MaxQuestion = 1000

// state is what a conversation remembers from one question to the next.
type state struct {
	items    []*Item
	category *Category
	intent   string
	aspects  []string
	limit    int64
}

// Conversation answers the questions of one customer in order; follow-ups ("how much is it?",
// "and the bigger one?") refer to the previous answers. Not safe for concurrent use; a Store is.
type Conversation struct {
	s     *Store
	st    state
	turns []chat.Message // user and assistant turns as the model sees them (see Messages)
}

// NewConversation starts a conversation with the store's assistant.
func (s *Store) NewConversation() *Conversation { return &Conversation{s: s} }

// Ask answers question. The answer's text is deterministic (see Phrase for a model's words).
func (c *Conversation) Ask(question string) Answer {
	question = strings.TrimSpace(question)
	if len(question) > MaxQuestion {
		cut := MaxQuestion
		for cut > 0 && !utf8.RuneStart(question[cut]) {
			cut--
		}
		question = question[:cut]
	}
	p := parse(question)
	a := c.s.decide(&c.st, p)
	a.Text, a.Key = c.s.compose(a, p)
	if len(a.items) > 0 {
		c.st.items = a.items
		c.st.category = a.category
	} else if a.category != nil {
		c.st.category = a.category
	}
	if len(a.aspects) > 0 {
		c.st.aspects = a.aspects
	}
	if a.limit > 0 {
		c.st.limit = a.limit
	}
	c.st.intent = a.Intent
	if a.Facts == nil {
		a.Facts = []Fact{}
	}
	c.turns = append(c.turns, chat.Message{Role: "user", Content: UserTurn(a, question)},
		chat.Message{Role: "assistant", Content: a.Text})
	return a
}

// Reply records what was said in answer to the last question (a model's words), in place of
// the deterministic text.
func (c *Conversation) Reply(text string) {
	if n := len(c.turns); n > 0 && c.turns[n-1].Role == "assistant" {
		c.turns[n-1].Content = text
	}
}

// query is a question resolved against the store's index.
type query struct {
	p       parsed
	words   []qword
	ranked  []scored
	vec     embed.Vector // of the content words; nil without them
	content string
}

func (s *Store) resolve(p parsed) query {
	q := query{p: p}
	q.words = s.index.prepare(p.content)
	q.ranked = s.index.score(s, q.words)
	var parts []string
	for _, w := range p.content {
		parts = append(parts, p.raw[w.Start:w.End])
	}
	q.content = strings.Join(parts, " ")
	if q.content != "" {
		q.vec = embed.Text(q.content)
	}
	return q
}

// aspects are what a product question asks, in the order the customer asked.
func (p *parsed) aspects() []string {
	type at struct {
		c   cue
		pos int
		as  string
	}
	var xs []at
	for _, x := range []at{{cuePrice, 0, IntentPrice}, {cueLocation, 0, IntentLocation}, {cueAvailability, 0, IntentAvailability}} {
		if p.has(x.c) {
			x.pos = p.firstAt[x.c]
			xs = append(xs, x)
		}
	}
	sort.SliceStable(xs, func(i, j int) bool { return xs[i].pos < xs[j].pos })
	var out []string
	for _, x := range xs {
		out = append(out, x.as)
	}
	return out
}

func (p *parsed) staffField() string {
	switch {
	case p.has(cueStaffBackroom):
		return "backroom"
	case p.has(cueStaffSupplier):
		return "supplier"
	case p.has(cueStaffCost):
		return "cost"
	case p.has(cueStaffNotes):
		return "notes"
	}
	return ""
}

func (p *parsed) relation() string {
	switch {
	case p.has(cueCheaper):
		return "cheaper"
	case p.has(cueDearer):
		return "dearer"
	case p.has(cueBigger):
		return "bigger"
	case p.has(cueSmaller):
		return "smaller"
	case p.has(cueCompare):
		return "compare"
	}
	return ""
}

// decide picks the intent and the facts.
func (s *Store) decide(st *state, p parsed) Answer {
	q := s.resolve(p)
	coded := s.codes(p)
	items, ambiguous := s.named(q, coded)
	asks := len(p.aspects()) > 0 || p.has(cueHave) || p.staffField() != "" || p.relation() != "" || p.pronoun || p.and
	followUp := (len(p.content) == 0 && asks) || p.pronoun || p.and
	if len(items) == 0 && followUp && len(st.items) > 0 && !s.namesSomethingElse(q) {
		items = st.items[:1]
		if len(st.items) > 1 && len(p.content) == 0 && !p.pronoun {
			items = st.items
			ambiguous = len(st.items) > 1 && st.intent != IntentRecommendation && st.intent != IntentComparison
		}
	}
	aspects := p.aspects()
	if len(aspects) == 0 && followUp && len(st.aspects) > 0 && (p.and || len(p.content) > 0 || p.pronoun) &&
		(st.intent == IntentPrice || st.intent == IntentLocation || st.intent == IntentAvailability) {
		aspects = st.aspects
	}

	// social messages without a question in them
	if len(p.content) == 0 && len(coded) == 0 && len(aspects) == 0 && p.staffField() == "" &&
		p.relation() == "" && !p.has(cueRecommend) && !p.has(cuePromotion) && !p.has(cueHave) && p.maxPrice == 0 {
		switch {
		case p.has(cueGoodbye):
			return Answer{Intent: IntentGoodbye, Facts: []Fact{s.storeFact()}}
		case p.has(cueThanks):
			return Answer{Intent: IntentThanks}
		case p.has(cueGreeting):
			return Answer{Intent: IntentGreeting, Facts: []Fact{s.storeFact()}}
		}
	}

	if f := p.staffField(); f != "" {
		target := items
		if len(target) == 0 && len(st.items) > 0 {
			target = st.items[:1]
		}
		return s.staffAnswer(target, f)
	}

	if rel := p.relation(); rel != "" && !(rel == "compare" && len(items) == 0 && len(st.items) == 0) {
		if a, ok := s.compare(st, q, items, rel); ok {
			return a
		}
	}

	faq, faqScore := s.matchFAQ(q)
	cat, catScore, catNamed := s.matchCategory(q)

	if p.has(cuePromotion) && len(coded) == 0 && (len(items) == 0 || ambiguous) {
		return s.promotions(q, cat, catNamed)
	}

	wantsRecommendation := p.has(cueRecommend) || p.maxPrice > 0 || p.minPrice > 0
	if wantsRecommendation && (len(coded) == 0) && (len(items) == 0 || ambiguous || p.maxPrice > 0 || p.has(cueRecommend) && !s.exact(q, items)) {
		if faq != nil && faqScore >= strongFAQ && p.has(cuePolicy) && len(items) == 0 {
			return s.faqAnswer(faq)
		}
		return s.recommend(st, q, cat, catNamed)
	}

	if len(items) > 0 {
		if faq != nil && faqScore >= strongFAQ+0.2 && p.has(cuePolicy) && len(coded) == 0 && len(aspects) == 0 && !s.exact(q, items) {
			return s.faqAnswer(faq)
		}
		return s.productAnswer(items, aspects, ambiguous)
	}

	if faq != nil && (faqScore >= strongFAQ || (p.has(cuePolicy) && faqScore >= strongFAQ*0.6)) {
		return s.faqAnswer(faq)
	}

	if cat != nil && (catNamed || catScore >= vectorCategory) {
		return s.categoryAnswer(cat, aspects, q)
	}

	if len(p.content) == 0 {
		if len(aspects) > 0 || p.has(cueHave) {
			// "how much is it?" with nothing to point at
			in := IntentAvailability
			if len(aspects) > 0 {
				in = aspects[0]
			}
			return Answer{Intent: in, aspects: aspects}
		}
		if p.has(cueOffTopic) {
			return Answer{Intent: IntentOffTopic}
		}
		if faq != nil && faqScore >= strongFAQ*0.6 {
			return s.faqAnswer(faq)
		}
		return Answer{Intent: IntentOffTopic}
	}

	if p.has(cueOffTopic) && !p.has(cueHave) && len(aspects) == 0 {
		return Answer{Intent: IntentOffTopic}
	}
	if faq != nil && faqScore >= strongFAQ*0.7 && p.has(cuePolicy) {
		return s.faqAnswer(faq)
	}
	retail := p.has(cueHave) || len(aspects) > 0 || s.looksRetail(q)
	if !retail {
		return Answer{Intent: IntentOffTopic}
	}
	a := Answer{Intent: IntentUnknownItem, mention: s.mention(q)}
	if cat != nil && catScore >= nearCategory {
		a.category = cat
		a.Facts = []Fact{categoryFact(cat)}
	}
	return a
}

// exact reports whether the question names items precisely (all its words found in the first
// item's name), so that recommendation words ("a good shampoo") do not override a named product.
func (s *Store) exact(q query, items []*Item) bool {
	return len(items) == 1 && len(q.ranked) > 0 && q.ranked[0].coverage >= 0.95 && q.ranked[0].name >= 0.6
}

// namesSomethingElse reports whether the question's content words name something that is not
// the conversation's subject (so "and bicycles?" is not about the previous product).
func (s *Store) namesSomethingElse(q query) bool {
	for _, w := range q.words {
		if !w.num && len(w.norm) >= 3 {
			return true
		}
	}
	return false
}

// codes finds items named by SKU or barcode anywhere in the question.
func (s *Store) codes(p parsed) []*Item {
	var out []*Item
	add := func(it *Item) {
		for _, x := range out {
			if x == it {
				return
			}
		}
		out = append(out, it)
	}
	// SKUs: tokens of letters, digits and inner separators, tried whole and squashed; also
	// adjacent tokens ("PH 0101").
	toks := codeTokens(p.raw)
	for i, t := range toks {
		if it := s.bySKU[strings.ToUpper(t)]; it != nil {
			add(it)
			continue
		}
		if sq := squash(t); len(sq) >= 3 && hasDigit(sq) {
			if it := s.bySKU[sq]; it != nil {
				add(it)
				continue
			}
		}
		if i+1 < len(toks) {
			if sq := squash(t + toks[i+1]); hasDigit(sq) {
				if it := s.bySKU[sq]; it != nil {
					add(it)
				}
			}
		}
		if bc := digitsOnly(t); len(bc) >= 8 {
			if it := s.byBarcode[bc]; it != nil {
				add(it)
			}
		}
	}
	return out
}

func codeTokens(raw string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		t := strings.Trim(b.String(), ".,:/-_#")
		if t != "" {
			out = append(out, t)
		}
		b.Reset()
	}
	for _, r := range raw {
		switch {
		case r < 128 && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune(".-_/#", r)):
			b.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

func digitsOnly(s string) string {
	if strings.Trim(s, "0123456789 -") != "" {
		return ""
	}
	return strings.NewReplacer(" ", "", "-", "").Replace(s)
}

// named returns the items the question names: by code, else the best lexical matches. ambiguous
// is true when several items fit equally well.
func (s *Store) named(q query, coded []*Item) ([]*Item, bool) {
	if len(coded) > 0 {
		return coded, false
	}
	if len(q.ranked) == 0 {
		return nil, false
	}
	top := q.ranked[0]
	if top.coverage < strongCoverage {
		return nil, false
	}
	var cands []scored
	for _, r := range q.ranked {
		if r.coverage < top.coverage-tieCoverage || r.name < top.name-tieName {
			continue
		}
		cands = append(cands, r)
	}
	// sizes asked for narrow the choice
	if len(q.p.sizes) > 0 {
		var fit []scored
		for _, c := range cands {
			if sizeFits(s.Items[c.item], q.p.sizes) {
				fit = append(fit, c)
			}
		}
		if len(fit) > 0 {
			cands = fit
		}
	}
	if len(cands) > 1 {
		// break ties by meaning, then prefer what is on the shelf
		cos := s.index.cosines(s, q.vec)
		sort.SliceStable(cands, func(i, j int) bool {
			a, b := cands[i], cands[j]
			if a.coverage != b.coverage {
				return a.coverage > b.coverage
			}
			if a.name != b.name {
				return a.name > b.name
			}
			return cos[a.item] > cos[b.item]
		})
		// one clearly closer in name wins outright
		if cands[0].name-cands[1].name >= 0.15 && cands[0].coverage >= cands[1].coverage {
			cands = cands[:1]
		}
	}
	out := make([]*Item, 0, min(len(cands), maxListed))
	for _, c := range cands[:min(len(cands), maxListed)] {
		out = append(out, s.Items[c.item])
	}
	return out, len(cands) > 1
}

func sizeFits(it *Item, want []Size) bool {
	for _, w := range want {
		for _, have := range sizes(it.Name) {
			if have.Dim == w.Dim && have.Value > 0 && abs(have.Value-w.Value)/have.Value < 0.02 {
				return true
			}
		}
	}
	return false
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// looksRetail reports whether content words that matched nothing still look like something a
// shop sells (a word of the concept lexicon, or a plural noun after a retail verb).
func (s *Store) looksRetail(q query) bool {
	for _, w := range q.p.content {
		if len(lang.Concepts(w.Stem)) > 0 {
			return true
		}
	}
	return len(q.p.content) <= 3
}

// mention is what the customer called the thing, as written, from its first content word to
// its last, with an article or possessive just before it: "bicycles", "a sore throat".
func (s *Store) mention(q query) string {
	c := q.p.content
	if len(c) == 0 {
		return ""
	}
	start, end := c[0].Start, c[len(c)-1].End
	for i, w := range q.p.words {
		if w.Start == c[0].Start && i > 0 {
			switch prev := q.p.words[i-1]; prev.Norm {
			case "a", "an", "my", "your", "our", "some":
				start = prev.Start
			}
		}
	}
	return strings.TrimSpace(q.p.raw[start:end])
}

// matchFAQ finds the FAQ closest to the question: word overlap (question and tags) and
// embedding cosine.
func (s *Store) matchFAQ(q query) (*FAQEntry, float32) {
	if len(s.FAQs) == 0 {
		return nil, 0
	}
	words := lang.Words(q.p.raw)
	var best *FAQEntry
	var bestScore float32
	qn := float32(0)
	if q.vec != nil {
		qn = float32(q.vec.Norm2())
	}
	fullVec := embed.Text(q.p.raw)
	for _, f := range s.FAQs {
		var hit, total float32
		for _, w := range words {
			if lang.IsFunctionWord(w.Norm) || w.Num {
				continue
			}
			wt := float32(1)
			if len(lang.Concepts(w.Stem)) > 0 {
				wt = 1.5
			}
			total += wt
			for _, fs := range f.stem {
				if fs == w.Stem || (len(fs) >= 5 && editDistance(fs, w.Stem, 1) <= 1) {
					hit += wt
					break
				}
			}
		}
		lex := float32(0)
		if total > 0 {
			lex = hit / total
		}
		cos := embed.Cosine(fullVec, f.vec)
		if qn > 0 {
			cos = max(cos, embed.Cosine(q.vec, f.vec))
		}
		score := max(lex, cos/faqCosine*strongFAQ)
		if f.Own {
			score *= 1.15
		} else if s.overridden(f) {
			continue // the store answers this topic itself
		}
		if score > bestScore {
			best, bestScore = f, score
		}
	}
	return best, bestScore
}

// matchCategory finds the category the question names or means. named is true when the
// question's words are the category's name.
func (s *Store) matchCategory(q query) (*Category, float32, bool) {
	if len(s.Categories) == 0 || len(q.p.content) == 0 {
		return nil, 0, false
	}
	var best *Category
	var bestScore float32
	named := false
	qn := float32(q.vec.Norm2())
	for _, c := range s.Categories {
		// named: every content word is a word of the category's name (or a typo of one)
		all := true
		for _, w := range q.p.content {
			found := false
			for _, cs := range c.stems {
				if cs == w.Stem || (len(cs) >= 4 && editDistance(cs, w.Stem, maxTypos(len(cs))) <= maxTypos(len(cs))) {
					found = true
					break
				}
			}
			if !found {
				all = false
				break
			}
		}
		var cos float32
		if qn > 0 {
			cos = embed.Cosine(q.vec, c.vec)
		}
		score := cos
		if all {
			score = 1 + cos
		}
		if score > bestScore {
			best, bestScore, named = c, score, all
		}
	}
	if named {
		return best, 1, true
	}
	return best, bestScore, false
}

func (s *Store) storeFact() Fact {
	f := Fact{Type: "store", Name: s.Info.Name}
	if h := s.hoursFAQ(); h != nil {
		f.Hours = h.Answer
	}
	return f
}

// hoursFAQ is the FAQ about opening hours, if the store has one.
func (s *Store) hoursFAQ() *FAQEntry {
	for _, f := range s.FAQs {
		for _, t := range f.Tags {
			if t == "hours" || t == "opening hours" || t == "opening-hours" {
				return f
			}
		}
	}
	for _, f := range s.FAQs {
		ws := lang.Stems(f.Question)
		for _, w := range ws {
			if w == "open" || w == "hour" || w == "clos" {
				return f
			}
		}
	}
	return nil
}

func (s *Store) faqAnswer(f *FAQEntry) Answer {
	return Answer{Intent: IntentFAQ, faq: f, Facts: []Fact{faqFact(f)}}
}

// productAnswer answers price, availability and location questions about named items.
func (s *Store) productAnswer(items []*Item, aspects []string, ambiguous bool) Answer {
	if len(aspects) == 0 {
		aspects = []string{IntentAvailability}
	}
	a := Answer{Intent: aspects[0], items: items, aspects: aspects, ambiguous: ambiguous}
	for _, it := range items {
		a.Facts = append(a.Facts, productFact(it))
	}
	// out of stock: offer what the shelf has instead, when it is close
	if len(items) == 1 && items[0].Quantity == 0 && aspects[0] == IntentAvailability {
		if alt := s.alternative(items[0]); alt != nil {
			a.Facts = append(a.Facts, productFact(alt))
			a.ref = alt
		}
	}
	return a
}

// alternative is an in-stock item of the same family or category, the most similar one.
func (s *Store) alternative(it *Item) *Item {
	var best *Item
	var bestCos float32 = 0.45
	for _, o := range s.Items {
		if o == it || o.Quantity == 0 || !strings.EqualFold(o.Category, it.Category) {
			continue
		}
		c := embed.Cosine(it.vec, o.vec)
		if o.family == it.family {
			c += 0.3
		}
		if c > bestCos {
			best, bestCos = o, c
		}
	}
	return best
}

// categoryAnswer answers "do you have pain relief?" and "where is the cheese?" with the
// category's aisles and a few of its products (in stock first).
func (s *Store) categoryAnswer(c *Category, aspects []string, q query) Answer {
	in := IntentAvailability
	if len(aspects) > 0 {
		in = aspects[0]
	}
	a := Answer{Intent: in, category: c, aspects: aspects}
	a.Facts = append(a.Facts, categoryFact(c))
	picks := s.best(c.Items, q, 0, 0)
	if in == IntentPrice && len(c.Items) > 1 {
		// the price range: the cheapest and the dearest
		lo, hi := c.Items[0], c.Items[0]
		for _, it := range c.Items {
			if effectivePrice(it) < effectivePrice(lo) {
				lo = it
			}
			if effectivePrice(it) > effectivePrice(hi) {
				hi = it
			}
		}
		picks = []*Item{lo, hi}
	}
	for _, it := range picks {
		a.items = append(a.items, it)
		a.Facts = append(a.Facts, productFact(it))
	}
	return a
}

// best ranks items for a question by meaning and words, in stock first, within a price range,
// and returns up to maxListed.
func (s *Store) best(items []*Item, q query, minPrice, maxPrice int64) []*Item {
	type cand struct {
		it    *Item
		score float32
	}
	cov := map[*Item]float32{}
	for _, r := range q.ranked {
		cov[s.Items[r.item]] = r.coverage
	}
	var cs []cand
	for _, it := range items {
		price := effectivePrice(it)
		if (maxPrice > 0 && price > maxPrice) || (minPrice > 0 && price < minPrice) {
			continue
		}
		score := 0.45 * cov[it]
		if q.vec != nil {
			score += 0.55 * embed.Cosine(q.vec, it.vec)
		}
		cs = append(cs, cand{it, score})
	}
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if (a.it.Quantity > 0) != (b.it.Quantity > 0) {
			return a.it.Quantity > 0
		}
		if a.score != b.score {
			return a.score > b.score
		}
		return a.it.SKU < b.it.SKU
	})
	var out []*Item
	for _, c := range cs {
		if len(out) == maxListed {
			break
		}
		out = append(out, c.it)
	}
	return out
}

func effectivePrice(it *Item) int64 {
	if it.Promotion != nil {
		return discounted(it.Price, it.Promotion.DiscountPercent)
	}
	return it.Price
}

// recommend suggests products for a need, a category or a budget.
func (s *Store) recommend(st *state, q query, cat *Category, catNamed bool) Answer {
	a := Answer{Intent: IntentRecommendation, limit: q.p.maxPrice, mention: s.mention(q), purpose: purpose(q.p)}
	pool := s.Items
	switch {
	case catNamed:
		pool = cat.Items
		a.category = cat
	case len(q.p.content) == 0 && st.category != nil:
		// "anything under 10?" after talking about a category
		pool = st.category.Items
		a.category = st.category
	case len(q.p.content) == 0 && len(st.items) > 0:
		pool = sameCategory(s, st.items[0])
	case len(q.p.content) > 0:
		pool = s.relevant(q)
	}
	picks := s.best(pool, q, q.p.minPrice, q.p.maxPrice)
	if len(picks) == 0 && q.p.maxPrice > 0 && len(pool) > 0 {
		// nothing under the limit: say so and name the cheapest
		cheapest := pool[0]
		for _, it := range pool {
			if effectivePrice(it) < effectivePrice(cheapest) {
				cheapest = it
			}
		}
		a.ref = cheapest
		a.Facts = append(a.Facts, productFact(cheapest))
		a.items = []*Item{cheapest}
		return a
	}
	if len(picks) == 0 {
		a.Intent = IntentUnknownItem
		if cat != nil {
			a.category = cat
			a.Facts = []Fact{categoryFact(cat)}
		}
		return a
	}
	for _, it := range picks {
		a.items = append(a.items, it)
		a.Facts = append(a.Facts, productFact(it))
	}
	return a
}

// relevant are the items that fit the question's content: its words or its meaning.
func (s *Store) relevant(q query) []*Item {
	var out []*Item
	seen := map[*Item]bool{}
	for _, r := range q.ranked {
		if r.coverage >= 0.5 {
			it := s.Items[r.item]
			out = append(out, it)
			seen[it] = true
		}
	}
	if q.vec == nil {
		return out
	}
	cos := s.index.cosines(s, q.vec)
	type c struct {
		it  *Item
		cos float32
	}
	var cs []c
	for i, it := range s.Items {
		if !seen[it] && cos[i] >= recommendFloor {
			cs = append(cs, c{it, cos[i]})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].cos > cs[j].cos })
	if len(out) > 0 {
		// words found products: meaning only adds close ones
		for _, x := range cs {
			if x.cos >= 0.5 {
				out = append(out, x.it)
			}
		}
		return out
	}
	for _, x := range cs {
		if x.cos >= cs[0].cos*0.75 {
			out = append(out, x.it)
		}
	}
	return out
}

func sameCategory(s *Store, it *Item) []*Item {
	var out []*Item
	for _, o := range s.Items {
		if strings.EqualFold(o.Category, it.Category) {
			out = append(out, o)
		}
	}
	return out
}

// compare answers cheaper / dearer / bigger / smaller questions about a product, and "which is
// cheaper, X or Y?".
func (s *Store) compare(st *state, q query, items []*Item, rel string) (Answer, bool) {
	// "which is cheaper, X or Y": two products named
	if two := s.twoNamed(q); len(two) == 2 && (rel == "cheaper" || rel == "dearer" || rel == "compare" || rel == "bigger" || rel == "smaller") {
		a := Answer{Intent: IntentComparison, relation: "which_" + rel}
		x, y := two[0], two[1]
		if better(rel, y, x) {
			x, y = y, x
		}
		a.items = []*Item{x, y}
		a.ref = y
		a.Facts = []Fact{productFact(x), productFact(y)}
		return a, true
	}
	var ref *Item
	switch {
	case len(items) == 1:
		ref = items[0]
	case len(items) > 1 && len(q.p.content) > 0:
		ref = items[0]
	case len(st.items) > 0:
		ref = st.items[0]
	}
	if ref == nil {
		if len(q.p.content) == 0 || rel == "compare" {
			return Answer{}, false
		}
		// "a cheaper drill?" with no drill before: the cheapest (or biggest) that fits
		pool := s.relevant(q)
		if len(pool) == 0 {
			return Answer{}, false
		}
		best := pool[0]
		for _, it := range pool {
			if better(rel, it, best) {
				best = it
			}
		}
		a := Answer{Intent: IntentComparison, relation: rel + "_of", items: []*Item{best}, mention: s.mention(q)}
		a.Facts = []Fact{productFact(best)}
		return a, true
	}
	if rel == "compare" {
		rel = "cheaper" // "an alternative to X": a similar product, the cheaper side first
		if alt := s.alternative(ref); alt != nil {
			a := Answer{Intent: IntentComparison, relation: "alternative", items: []*Item{alt}, ref: ref}
			a.Facts = []Fact{productFact(alt), productFact(ref)}
			return a, true
		}
	}
	var cands []*Item
	for _, it := range s.Items {
		if it == ref || !better(rel, it, ref) {
			continue
		}
		switch rel {
		case "bigger", "smaller":
			if it.family == ref.family && it.size.Dim == ref.size.Dim && ref.size.Dim != "" {
				cands = append(cands, it)
			}
		default:
			if strings.EqualFold(it.Category, ref.Category) {
				cands = append(cands, it)
			}
		}
	}
	if (rel == "bigger" || rel == "smaller") && len(cands) == 0 {
		// no size of the same family: the same kind of product in another size
		for _, it := range s.Items {
			if it != ref && strings.EqualFold(it.Category, ref.Category) && it.size.Dim == ref.size.Dim &&
				ref.size.Dim != "" && better(rel, it, ref) && embed.Cosine(it.vec, ref.vec) >= 0.6 {
				cands = append(cands, it)
			}
		}
	}
	a := Answer{Intent: IntentComparison, relation: rel, ref: ref}
	if len(cands) == 0 {
		a.items = []*Item{ref}
		a.Facts = []Fact{productFact(ref)}
		return a, true
	}
	// the closest step: most similar, then nearest in price or size
	sort.SliceStable(cands, func(i, j int) bool {
		ci, cj := embed.Cosine(cands[i].vec, ref.vec), embed.Cosine(cands[j].vec, ref.vec)
		if cands[i].family == ref.family {
			ci += 0.3
		}
		if cands[j].family == ref.family {
			cj += 0.3
		}
		if d := ci - cj; d > 0.05 || d < -0.05 {
			return ci > cj
		}
		return closer(rel, cands[i], cands[j], ref)
	})
	pick := cands[0]
	a.items = []*Item{pick, ref}
	a.Facts = []Fact{productFact(pick), productFact(ref)}
	return a, true
}

// better reports whether x is further than y in the direction of rel.
func better(rel string, x, y *Item) bool {
	switch rel {
	case "cheaper":
		return effectivePrice(x) < effectivePrice(y)
	case "dearer":
		return effectivePrice(x) > effectivePrice(y)
	case "bigger":
		return x.size.Dim == y.size.Dim && x.size.Value > y.size.Value
	case "smaller":
		return x.size.Dim == y.size.Dim && x.size.Value < y.size.Value && x.size.Value > 0
	}
	return effectivePrice(x) < effectivePrice(y)
}

// closer reports whether x is a smaller step from ref than y.
func closer(rel string, x, y, ref *Item) bool {
	switch rel {
	case "bigger", "smaller":
		return abs(x.size.Value-ref.size.Value) < abs(y.size.Value-ref.size.Value)
	}
	dx, dy := effectivePrice(x)-effectivePrice(ref), effectivePrice(y)-effectivePrice(ref)
	if dx < 0 {
		dx = -dx
	}
	if dy < 0 {
		dy = -dy
	}
	return dx < dy
}

// twoNamed finds two distinct products named on either side of "or", "vs" or "and".
func (s *Store) twoNamed(q query) []*Item {
	ws := q.p.words
	tried := 0
	for i, w := range ws {
		if w.Norm != "or" && w.Norm != "vs" && w.Norm != "versus" && w.Norm != "and" {
			continue
		}
		if tried++; tried > 3 {
			break
		}
		left := s.namedIn(q.p.raw[:w.Start])
		right := s.namedIn(q.p.raw[w.End:])
		_ = i
		if left != nil && right != nil && left != right {
			return []*Item{left, right}
		}
	}
	return nil
}

func (s *Store) namedIn(text string) *Item {
	p := parse(text)
	q := s.resolve(p)
	items, _ := s.named(q, s.codes(p))
	if len(items) == 0 {
		return nil
	}
	return items[0]
}

// staffAnswer answers back-room, supplier, cost and notes questions; a customer device refuses.
func (s *Store) staffAnswer(items []*Item, field string) Answer {
	a := Answer{Intent: IntentStaff, staffField: field, items: items}
	if !s.Staff {
		a.refused = true
	}
	for _, it := range items[:min(len(items), 1)] {
		a.Facts = append(a.Facts, productFact(it))
	}
	return a
}

// promotions lists the promotions running now, on the category or products asked about.
func (s *Store) promotions(q query, cat *Category, catNamed bool) Answer {
	a := Answer{Intent: IntentPromotion}
	pool := s.Items
	if catNamed {
		pool = cat.Items
		a.category = cat
	}
	for _, it := range pool {
		if it.Promotion != nil && len(a.items) < maxListed {
			a.items = append(a.items, it)
			a.Facts = append(a.Facts, productFact(it))
		}
	}
	return a
}

// purpose is what a recommendation is for when the customer says "something to measure a
// wall": the words after "to", without figures; "" otherwise.
func purpose(p parsed) string {
	for i, w := range p.words {
		if w.Norm != "to" || i == 0 || i+1 >= len(p.words) {
			continue
		}
		switch p.words[i-1].Norm {
		case "something", "anything", "thing", "stuff", "tool", "product", "need", "want", "me":
		default:
			continue
		}
		rest := strings.TrimRight(strings.TrimSpace(p.raw[p.words[i+1].Start:]), "?!. ")
		if rest != "" && safeMention(rest) == rest && len(strings.Fields(rest)) <= 8 {
			return rest
		}
	}
	return ""
}

// overridden reports whether a chain-wide FAQ shares a tag with one of the store's own: the
// store's answer is the one that holds here.
func (s *Store) overridden(f *FAQEntry) bool {
	for _, o := range s.FAQs {
		if !o.Own {
			continue
		}
		for _, t := range o.Tags {
			for _, u := range f.Tags {
				if t == u {
					return true
				}
			}
		}
	}
	return false
}
