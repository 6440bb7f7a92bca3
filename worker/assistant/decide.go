package assistant

import (
	"maps"
	"slices"
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
	nearCategory   = 0.25 // good enough to offer as the nearest category of an unknown item
	strongFAQ      = 0.5
	faqCosine      = 0.42
	meantScore     = 0.5 // a product meant but not named (word coverage and embedding)
	meantMargin    = 0.06
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

// Conversations holds conversations by ID, for answering a batch of questions where some
// continue earlier ones (`slm ask -questions`, the evaluations).
type Conversations struct {
	s    *Store
	byID map[string]*Conversation
}

// Conversations returns an empty set of conversations with the store's assistant.
func (s *Store) Conversations() *Conversations {
	return &Conversations{s: s, byID: map[string]*Conversation{}}
}

// Get returns the conversation with this ID, started on first use; "" is a new conversation
// each time.
func (cs *Conversations) Get(id string) *Conversation {
	c := cs.byID[id]
	if c == nil || id == "" {
		c = cs.s.NewConversation()
		if id != "" {
			cs.byID[id] = c
		}
	}
	return c
}

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
	p := c.s.parse(question)
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
	cos     *[]float32 // every item's cosine with vec, computed on first use (see cosines)
}

// cosines is every item's cosine with the question's vector, computed once per question.
func (q query) cosines(s *Store) []float32 {
	if *q.cos == nil {
		*q.cos = s.index.cosines(s, q.vec)
	}
	return *q.cos
}

// parse reads a question for this store (catalog words are not typos; staff devices read
// "notes" and "cost" as the staff fields).
func (s *Store) parse(question string) parsed {
	return parse(question, s.index.isTerm, s.Staff)
}

func (s *Store) resolve(p parsed) query {
	q := query{p: p, cos: new([]float32)}
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
	if !p.staff {
		return ""
	}
	// on a staff device "notes" and a bare "cost" are the staff fields ("PH-0101 notes?",
	// "cost?"); "what does it cost" stays the price
	for i, w := range p.words {
		switch w.Norm {
		case "note", "notes":
			return "notes"
		case "cost":
			asked := false
			for k := max(0, i-3); k < i; k++ {
				switch p.words[k].Norm {
				case "does", "do", "did", "will", "would", "much":
					asked = true
				}
			}
			if !asked {
				return "cost"
			}
		}
	}
	return ""
}

func (p *parsed) relation() string {
	switch {
	case p.has(cueBig) && len(p.aspects()) == 0:
		return "bigger" // "and the large?", "got a large pack?"
	case p.has(cueSmall) && len(p.aspects()) == 0:
		return "smaller"
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

// listing reports a question for the store's options: "what skin care do you have",
// "which cheeses do you sell", "list your hand tools".
func (p *parsed) listing() bool {
	if len(p.words) == 0 || len(p.aspects()) > 0 {
		return false
	}
	first := p.words[0].Norm
	return (first == "what" || first == "which" || first == "whats") && p.has(cueHave)
}

// social reports a message that only greets, thanks or says goodbye, and which.
func (p *parsed) social() string {
	switch {
	case p.has(cueGoodbye):
		return IntentGoodbye
	case p.has(cueThanks):
		return IntentThanks
	case p.has(cueGreeting):
		return IntentGreeting
	}
	return ""
}

// asksSomething reports whether the message holds a question about products or the store.
func (p *parsed) asksSomething() bool {
	return len(p.aspects()) > 0 || p.staffField() != "" || p.relation() != "" || p.has(cueRecommend) ||
		p.has(cuePromotion) || p.has(cueCheap) || p.maxPrice > 0 || p.minPrice > 0 || p.has(cuePolicy)
}

// decide picks the intent and the facts.
func (s *Store) decide(st *state, p parsed) Answer {
	q := s.resolve(p)
	coded := s.codes(p)
	items, ambiguous := s.named(q, coded)
	if pick := s.sizeOfFocus(st, p); pick != nil {
		items, ambiguous = []*Item{pick}, false // "how much is the 1m one", "and the 10l in the back?"
	}
	aspects := p.aspects()
	staffField := p.staffField()
	rel := p.relation()
	if (p.has(cueBig) || p.has(cueSmall)) && !p.has(cueBigger) && !p.has(cueSmaller) && len(items) > 0 && namesSize(items) {
		rel = "" // "large eggs": the size word is the product's name
	}
	social := p.social()

	// what the message points back at: "how much is it?", "and the bigger one?"
	refers := len(aspects) > 0 || p.has(cueHave) || staffField != "" || rel != "" || p.pronoun || p.and
	followUp := (len(p.content) == 0 && refers) || p.pronoun || p.and
	if len(items) == 0 && followUp && len(st.items) > 0 && !s.namesSomethingElse(q) {
		items = st.items[:1]
		if len(st.items) > 1 && len(p.content) == 0 && !p.pronoun {
			items = st.items
			ambiguous = st.intent != IntentRecommendation && st.intent != IntentComparison
		}
	}
	switch {
	case len(aspects) > 0:
	case p.has(cueHave):
		aspects = []string{IntentAvailability}
	case followUp && len(st.aspects) > 0 && (st.intent == IntentPrice || st.intent == IntentLocation || st.intent == IntentAvailability):
		aspects = st.aspects
	}

	fm := s.matchFAQ(q)
	faq, faqScore, faqLex := fm.faq, fm.score, fm.lex
	faqFull := faqLex >= 0.85
	if s.offTopic(p, q, items) && faqLex < 0.8 {
		return Answer{Intent: IntentOffTopic}
	}

	// greetings, thanks and goodbyes that ask nothing
	if social != "" && len(coded) == 0 && !p.asksSomething() && (len(p.content) == 0 || !s.meaningful(q)) {
		return s.socialAnswer(social)
	}

	// "how much is the big can": the size picked among the products meant
	if (p.has(cueBig) || p.has(cueSmall)) && len(aspects) > 0 {
		pool := items
		if len(pool) == 1 {
			pool = s.family(pool[0])
		}
		if len(pool) > 1 {
			pick := pool[0]
			for _, it := range pool {
				if it.size.Dim == pick.size.Dim && (p.has(cueBig) && it.size.Value > pick.size.Value ||
					p.has(cueSmall) && it.size.Value < pick.size.Value) {
					pick = it
				}
			}
			items, ambiguous = []*Item{pick}, false
		}
	}

	if staffField != "" {
		target := items
		if len(target) == 0 && len(st.items) > 0 && !s.namesSomethingElse(q) {
			target = st.items[:1]
		}
		return s.staffAnswer(target, staffField)
	}

	// a question on a store policy ("do you do delivery? the big bags are heavy", "can i get a
	// refund") with no product named
	if faq != nil && fm.policy && (faqLex >= 0.3 || faqScore >= strongFAQ || fm.lexAll >= 0.4) && len(coded) == 0 && (len(items) == 0 || ambiguous) &&
		(len(aspects) == 0 || faqLex >= 0.6) {
		return s.faqAnswer(faq)
	}

	if rel != "" && !(p.maxPrice > 0 && rel == "cheaper") && !(rel == "compare" && len(items) == 0 && len(st.items) == 0) {
		if a, ok := s.compare(st, q, items, rel); ok {
			return a
		}
	}

	cat, catNamed := s.namedCategory(q)

	if p.has(cuePromotion) && len(coded) == 0 && (len(items) == 0 || ambiguous) {
		if faq != nil && faqScore >= strongFAQ && !s.anyPromotion() && aboutOffers(faq) {
			return s.faqAnswer(faq) // "student discount?"
		}
		return s.promotions(q, cat, catNamed)
	}

	strongRec := p.has(cueRecommend) || p.has(cueCheap) || p.maxPrice > 0 || p.minPrice > 0 || p.listing()
	weakRec := len(items) == 0 && (p.something() || s.forNeed(q) || p.problem())
	if (strongRec || weakRec) && len(coded) == 0 && (len(items) == 0 || ambiguous || p.maxPrice > 0 || p.listing() || !s.exact(q, items)) {
		if faq != nil && (faqFull || (s.policyOnly(p) && faqScore >= strongFAQ*0.7) || (!strongRec && faqLex >= 0.5)) {
			return s.faqAnswer(faq)
		}
		if a, ok := s.notCarried(q); ok {
			return a // "frozen mice for my snake": the thing itself is not carried
		}
		return s.recommend(st, q, cat, catNamed)
	}

	if len(items) > 0 {
		if faq != nil && (faqFull || s.policyOnly(p) && faqScore >= strongFAQ*0.7) && len(coded) == 0 && !s.exact(q, items) {
			return s.faqAnswer(faq)
		}
		return s.productAnswer(items, aspects, ambiguous)
	}

	// a question about a thing ("where are the card games?") takes an FAQ only on its words
	if faq != nil && (faqFull || faqScore >= strongFAQ && (len(aspects) == 0 || faqLex >= 0.6)) {
		return s.faqAnswer(faq)
	}

	if catNamed {
		return s.categoryAnswer(cat, aspects, q)
	}

	if len(p.content) == 0 {
		switch {
		case len(aspects) > 0 || p.has(cueHave):
			// "how much is it?" with nothing to point at
			in := IntentAvailability
			if len(aspects) > 0 {
				in = aspects[0]
			}
			return Answer{Intent: in, aspects: aspects}
		case social != "":
			return s.socialAnswer(social)
		case faq != nil && faqScore >= strongFAQ*0.6:
			return s.faqAnswer(faq)
		}
		return Answer{Intent: IntentOffTopic}
	}

	// a product the words do not name but mean ("painkillers 50 tablets", "fries 1 kg")
	if it, ok := s.meant(q); ok && (len(aspects) > 0 || p.has(cueHave)) {
		return s.productAnswer([]*Item{it}, aspects, false)
	}
	// the store's answers to things that are not products ("step free access?")
	if faq != nil && faqScore >= strongFAQ*0.7 && fm.lexAll >= 0.4 && (p.has(cuePolicy) || !s.productSeeking(p)) && (len(aspects) == 0 || faqLex >= 0.6) {
		return s.faqAnswer(faq)
	}
	if social != "" && !s.meaningful(q) {
		return s.socialAnswer(social)
	}
	if !s.productSeeking(p) && !s.looksRetail(q) {
		return Answer{Intent: IntentOffTopic}
	}
	a := Answer{Intent: IntentUnknownItem, mention: s.thing(q)}
	if c := s.nearestCategory(q); c != nil {
		a.category = c
		a.Facts = []Fact{categoryFact(c)}
	}
	return a
}

// socialAnswer answers a greeting, thanks or goodbye.
func (s *Store) socialAnswer(intent string) Answer {
	switch intent {
	case IntentThanks:
		return Answer{Intent: IntentThanks}
	}
	return Answer{Intent: intent, Facts: []Fact{s.storeFact()}}
}

// policyOnly reports whether every content word of the question is a word of store policies
// and services ("is there a bathroom?", "do you sell bags?").
func (s *Store) policyOnly(p parsed) bool {
	if len(p.content) == 0 {
		return false
	}
	for _, w := range p.content {
		if !policyWords[w.Norm] && !policyWords[w.Stem] {
			return false
		}
	}
	return true
}

// productSeeking reports whether the message asks for a product (to have, its price, where
// it is), as opposed to a question about anything else.
func (s *Store) productSeeking(p parsed) bool {
	return len(p.aspects()) > 0 || p.has(cueHave) || p.has(cueRecommend)
}

// meaningful reports whether the question's content words mean something in this store: a
// catalog word, a word of the lexicon, or an FAQ's.
func (s *Store) meaningful(q query) bool {
	for _, w := range q.words {
		if len(w.matches) > 0 || len(w.phrases) > 0 {
			return true
		}
	}
	for _, w := range q.p.content {
		if len(lang.Concepts(w.Stem)) > 0 {
			return true
		}
	}
	return false
}

// offTopic reports a message about something else than the store: an off-topic cue with
// nothing of the store named, or arithmetic.
func (s *Store) offTopic(p parsed, q query, items []*Item) bool {
	if strings.ContainsAny(p.raw, "+*=") && hasDigit(p.raw) && len(items) == 0 {
		return true // "what's 2+2"
	}
	if !p.has(cueOffTopic) || len(items) > 0 || len(s.codes(p)) > 0 {
		return false
	}
	// "something to play music": a verb of use asks for a product; "a good restaurant" does not
	if p.has(cueRecommend) {
		for _, w := range p.words {
			if cueOfWord[w.Norm] == cueOffTopic && !offTopicVerbs[w.Norm] {
				return true
			}
		}
		return false
	}
	return true
}

// offTopicVerbs are the off-topic cue words that may also say what a product is for.
var offTopicVerbs = map[string]bool{"play": true, "sing": true, "write": true, "draw": true}

// anyPromotion reports whether a promotion runs on any item now.
func (s *Store) anyPromotion() bool {
	for _, it := range s.Items {
		if it.Promotion != nil {
			return true
		}
	}
	return false
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
		if !w.num && len(w.norm) >= 3 && !(q.p.staff && staffWords[w.norm]) {
			return true
		}
	}
	return false
}

// staffWords are the words a staff device reads as staff fields (see parsed.staffField).
var staffWords = map[string]bool{"note": true, "notes": true, "cost": true}

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
		cos := q.cosines(s)
		sort.SliceStable(cands, func(i, j int) bool {
			a, b := cands[i], cands[j]
			if a.coverage != b.coverage {
				return a.coverage > b.coverage
			}
			if wa, wb := whatItIs(s.Items[a.item], q.p.content), whatItIs(s.Items[b.item], q.p.content); wa != wb {
				return wa > wb // "tvs": the TVs before the TV remote
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
		for _, have := range sizesOf(it.nameWords) {
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

// faqMatch is the FAQ closest to a question and how close.
type faqMatch struct {
	faq    *FAQEntry
	score  float32 // for ranking: words of its question and tags, a little of its answer, embedding
	lex    float32 // the share of the question's words its question and tags hold (0..1)
	lexAll float32 // the same with its answer's words at half weight
	// policy is true when a word of store policy in the question ("refund", "delivery") is the
	// FAQ's: then the FAQ answers even a question that also names a product
	policy bool
}

// matchFAQ finds the FAQ closest to the question. Its question and tags decide (lex); its answer
// only helps to rank FAQs that are otherwise as close ("order online and pick up": click and
// collect, not delivery). Near lex 1 the FAQ wins over a product that shares one word ("do you
// price match?").
func (s *Store) matchFAQ(q query) faqMatch {
	var best faqMatch
	if len(s.FAQs) == 0 {
		return best
	}
	type qw struct {
		w      lang.Word
		imp    float32
		policy bool
	}
	var words []qw
	content := 0 // words that are not cue words: a question of cue words alone ("what's the price")
	ws := q.p.words
	for i, w := range ws {
		if lang.IsFunctionWord(w.Norm) || w.Num || len(w.Norm) < 2 {
			continue
		}
		imp := float32(1)
		inPhrase := (i+1 < len(ws) && policyPhrases[w.Norm+" "+ws[i+1].Norm]) || (i > 0 && policyPhrases[ws[i-1].Norm+" "+w.Norm])
		// a policy word that names the store's products ("dog" in a pet shop) is not one alone
		policy := inPhrase || policyWords[w.Norm] && !s.index.named(w.Stem)
		switch c := q.p.cueAt[i]; {
		case policy:
		case c == cueHave || c == cueGeneric:
			imp = 0 // "have", "please": no topic
		case c >= 0 && c != cuePolicy && c != cueOffTopic:
			imp = 0.5 // read as asking ("how much", "where"), not as the topic
		case len(lang.Concepts(w.Stem)) > 0:
			imp = 1.5
		case !known(w.Norm) && len(s.index.lookup(w.Stem, w.Norm)) == 0 && !wordLike(w.Norm):
			imp = 0 // a word of nothing ("brng"): no evidence either way
		}
		if imp == 0 {
			continue
		}
		if imp >= 1 {
			content++
		}
		words = append(words, qw{w, imp, policy})
		if i+1 < len(ws) && (!ws[i+1].Num && !lang.IsFunctionWord(ws[i+1].Norm) || ws[i+1].Norm == "up") { // "pick up" -> "pickup"
			j := lang.Word{Norm: w.Norm + ws[i+1].Norm, Stem: lang.Stem(w.Norm + ws[i+1].Norm)}
			words = append(words, qw{j, 0, false})
		}
	}
	if content == 0 {
		return best
	}
	fullVec := embed.Text(q.p.raw)
	for _, f := range s.FAQs {
		if !f.Own && s.overridden(f) {
			continue // the store answers this topic itself
		}
		var hitQ, hitA, total float32
		policy := false
		for _, x := range words {
			if x.imp == 0 { // a joined pair ("pick up" -> "pickup") only adds when the FAQ has it as such
				if f.hasStem(x.w.Stem) || f.hasStem(x.w.Norm) {
					hitQ += 2
				}
				continue
			}
			mq, ma := f.wordMatch(x.w)
			total += x.imp
			hitQ += mq * x.imp
			hitA += max(0, ma-mq) * x.imp
			policy = policy || (x.policy && mq >= 0.7)
		}
		lex := min(hitQ/total, 1)
		cos := embed.Cosine(fullVec, f.vec)
		if q.vec != nil {
			cos = max(cos, embed.Cosine(q.vec, f.vec))
		}
		score := max(lex+0.3*min(hitA/total, 1), cos/faqCosine*strongFAQ)
		if f.Own {
			score *= 1.1
		}
		if score > best.score {
			best = faqMatch{f, score, lex, min((hitQ+hitA)/total, 1), policy}
		}
	}
	return best
}

// aboutOffers reports whether an FAQ's question or tags speak of offers or discounts (so it
// answers "any deals?"; the delivery FAQ that names dog food does not answer "offers on dog food").
func aboutOffers(f *FAQEntry) bool {
	for _, w := range cuePhrases[cuePromotion] {
		if !strings.Contains(w, " ") && f.hasStem(lang.Stem(w)) {
			return true
		}
	}
	return false
}

// wordLike reports whether a word we do not know looks like a real word ("muzzles"): 5 letters
// or more with a vowel, and so says the question is about something an FAQ may not hold.
func wordLike(norm string) bool {
	return len(norm) >= 5 && strings.ContainsAny(norm, "aeiouy") && !hasDigit(norm)
}

// wordMatch is how well a question word matches the FAQ's question and tags (q), and its answer
// (a, at half weight): 1 for the word, a little less through a typo or a shortened word.
func (f *FAQEntry) wordMatch(w lang.Word) (q, a float32) {
	match := func(stems []string) float32 {
		best := float32(0)
		for _, fs := range stems {
			switch {
			case fs == w.Stem || fs == w.Norm:
				return 1
			case policyWords[w.Norm] && len(w.Stem) >= 3 && len(fs) > len(w.Stem) && strings.HasPrefix(fs, w.Stem):
				best = max(best, 0.9) // "pay" and "payment", "park" and "parking"
			case len(fs) >= 5 && len(w.Stem) >= 5 && abs(float64(len(fs)-len(w.Stem))) <= 4 &&
				(strings.HasPrefix(fs, w.Stem) || strings.HasPrefix(w.Stem, fs)):
				best = max(best, 0.9) // "access" and "accessible"
			case len(fs) >= 5 && editDistance(fs, w.Stem, 1) <= 1:
				best = max(best, 0.8)
			}
		}
		return best
	}
	q = match(f.stem)
	if q < 0.7 && policyWords[w.Norm] {
		// a policy word of the FAQ's topic: "bathroom" for the toilets, "close" for the hours
		for _, c := range lang.Concepts(w.Stem) {
			if f.concepts[c] {
				q = 0.7
				break
			}
		}
	}
	return q, max(q, 0.5*match(f.answerStem))
}

// hasStem reports whether the FAQ's question or tags hold the stem.
func (f *FAQEntry) hasStem(st string) bool {
	for _, fs := range f.stem {
		if fs == st {
			return true
		}
	}
	return false
}

// namedCategory is the category the question names ("what skin care do you have", "cheeses?"):
// every content word is a word of its name, or its whole name is there with one other word.
func (s *Store) namedCategory(q query) (*Category, bool) {
	content := q.p.content
	if len(content) == 0 {
		return nil, false
	}
	is := func(cs, w string) bool {
		return cs == w || (len(cs) >= 4 && editDistance(cs, w, maxTypos(len(cs))) <= maxTypos(len(cs)))
	}
	var best, kind *Category
	var bestShare float32
	for _, c := range s.Categories {
		var name []string
		for _, st := range c.stems {
			if !lang.IsFunctionWord(st) {
				name = append(name, st)
			}
		}
		inName, found := 0, 0
		for _, w := range content {
			for _, cs := range name {
				if is(cs, w.Stem) {
					inName++
					break
				}
			}
		}
		for _, cs := range name {
			for _, w := range content {
				if is(cs, w.Stem) {
					found++
					break
				}
			}
		}
		if inName == len(content) {
			// of the categories the words name, the one they name most of ("tv": TVs, not TV
			// Accessories)
			if share := float32(found) / float32(max(len(name), 1)); share > bestShare {
				best, bestShare = c, share
			}
			continue
		}
		if kind == nil && found == len(name) && len(content)-inName == 1 {
			// the whole name and one more word: a kind within it ("bird food"), when its products
			// have that word; "bird cages" is not the Birds category if it has no cage
			for _, w := range content {
				inCat := false
				for _, cs := range name {
					inCat = inCat || is(cs, w.Stem)
				}
				if !inCat && s.categoryHas(c, w) {
					kind = c
				}
			}
		}
	}
	if best == nil {
		best = kind
	}
	return best, best != nil
}

// nearestCategory is the category closest to something the store does not carry: that of the
// products sharing its words ("aaa batteries" near "AA Batteries"), else the one sharing most of
// its concepts, else the closest by embedding; nil when nothing is close.
func (s *Store) nearestCategory(q query) *Category {
	byName := func(name string) *Category {
		for _, c := range s.Categories {
			if strings.EqualFold(c.Name, name) {
				return c
			}
		}
		return nil
	}
	qc := map[uint16]float32{}
	for i, w := range q.p.content {
		for _, c := range lang.Concepts(w.Stem) {
			qc[c] = max(qc[c], 1)
		}
		if i > 0 {
			for _, c := range lang.Concepts(q.p.content[i-1].Stem + " " + w.Stem) {
				qc[c] = 1.5
			}
		}
	}
	// Summed in concept order: a map's order changes from one call to the next, and a float sum
	// in another order can break a tie the other way (the same question would name another
	// category).
	ids := slices.Sorted(maps.Keys(qc))
	var best *Category
	var bestScore float32
	for _, c := range s.Categories {
		var score float32
		for _, id := range ids {
			score += qc[id] * c.concepts[id]
		}
		if score > bestScore {
			best, bestScore = c, score
		}
	}
	if best != nil && bestScore >= 1 {
		return best
	}
	// products sharing the thing's head noun (its last word): "aaa batteries" near "AA Batteries"
	if len(q.ranked) > 0 && len(q.words) > 0 && q.ranked[0].coverage >= 0.3 {
		head := q.words[len(q.words)-1]
		it := s.Items[q.ranked[0].item]
		for _, st := range it.allStem {
			for _, m := range head.matches {
				if s.index.terms[m.term] == st {
					if c := byName(it.Category); c != nil {
						return c
					}
				}
			}
		}
	}
	if best != nil && bestScore >= 0.5 {
		return best
	}
	best, bestScore = nil, 0
	for _, c := range s.Categories {
		if q.vec == nil {
			break
		}
		if cos := embed.Cosine(q.vec, c.vec); cos > bestScore {
			best, bestScore = c, cos
		}
	}
	if bestScore >= nearCategory {
		return best
	}
	return nil
}

// meant is the product a question means without naming it in the catalog's words: the best of
// word coverage and embedding together, when it stands clearly above the next.
func (s *Store) meant(q query) (*Item, bool) {
	if q.vec == nil || len(s.Items) == 0 {
		return nil, false
	}
	for _, w := range q.words {
		if !w.num && len(w.matches) == 0 && len(w.phrases) == 0 && len(w.norm) >= 3 {
			return nil, false // a word of something this store does not have ("aaa", "gel")
		}
	}
	cos := q.cosines(s)
	cov := make([]float32, len(s.Items))
	for _, r := range q.ranked {
		cov[r.item] = r.coverage
	}
	bi, si := -1, -1
	score := func(i int) float32 {
		sc := 0.6*cos[i] + 0.5*cov[i]
		if len(q.p.sizes) > 0 && sizeFits(s.Items[i], q.p.sizes) {
			sc += 0.15
		}
		return sc
	}
	var bs, ss float32
	for i := range s.Items {
		sc := score(i)
		switch {
		case sc > bs:
			si, ss = bi, bs
			bi, bs = i, sc
		case sc > ss:
			si, ss = i, sc
		}
	}
	_ = si
	if bi >= 0 && bs >= meantScore && bs-ss >= meantMargin {
		return s.Items[bi], true
	}
	return nil, false
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
	picks := s.best(c.Items, q, nil, 0, 0, false)
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

// scoredItem is an item with its relevance to a question.
type scoredItem struct {
	it    *Item
	score float32
}

// best ranks items for a question, in stock first, within a price range, and returns up to
// maxListed. rel gives each item's relevance (nil: by the question's words and embedding);
// cheap ranks by price among the relevant.
func (s *Store) best(items []*Item, q query, rel map[*Item]float32, minPrice, maxPrice int64, cheap bool) []*Item {
	if rel == nil {
		rel = map[*Item]float32{}
		for _, x := range s.scoreItems(q, items) {
			rel[x.it] = x.score
		}
	}
	var cs []scoredItem
	for _, it := range items {
		price := effectivePrice(it)
		if (maxPrice > 0 && price > maxPrice) || (minPrice > 0 && price < minPrice) {
			continue
		}
		cs = append(cs, scoredItem{it, rel[it]})
	}
	// the most relevant first; among the nearly as relevant, what is on the shelf (and with
	// "cheap", the cheapest)
	var top float32
	for _, c := range cs {
		top = max(top, c.score)
	}
	near := func(c scoredItem) bool { return c.score >= 0.85*top }
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if near(a) != near(b) {
			return near(a)
		}
		if (a.it.Quantity > 0) != (b.it.Quantity > 0) {
			return a.it.Quantity > 0
		}
		if cheap && near(a) && effectivePrice(a.it) != effectivePrice(b.it) {
			return effectivePrice(a.it) < effectivePrice(b.it)
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

// recommend suggests products for a need, a category or a budget: the most relevant, from one
// category (the most relevant product's), in stock first.
func (s *Store) recommend(st *state, q query, cat *Category, catNamed bool) Answer {
	a := Answer{Intent: IntentRecommendation, limit: q.p.maxPrice, mention: s.need(q), purpose: purpose(q.p)}
	var pool []*Item
	var rel map[*Item]float32
	switch {
	case catNamed:
		pool, a.category = cat.Items, cat
	case len(q.p.content) == 0 && st.category != nil:
		// "anything under 10?" after talking about a category
		pool, a.category = st.category.Items, st.category
	case len(q.p.content) == 0 && len(st.items) > 0:
		pool = sameCategory(s, st.items[0])
	case len(q.p.content) == 0:
		pool = s.Items
	default:
		rel = map[*Item]float32{}
		for _, x := range s.relevant(q) {
			pool = append(pool, x.it)
			rel[x.it] = x.score
		}
	}
	cheap := q.p.has(cueCheap) || q.p.has(cueCheaper)
	picks := s.best(pool, q, rel, q.p.minPrice, q.p.maxPrice, cheap)
	if len(picks) > 1 && !catNamed {
		// one category: the most relevant product's
		var same []*Item
		for _, it := range pool {
			if strings.EqualFold(it.Category, picks[0].Category) {
				same = append(same, it)
			}
		}
		picks = s.best(same, q, rel, q.p.minPrice, q.p.maxPrice, cheap)
	}
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
		a.Intent, a.forNeed = IntentUnknownItem, true
		if c := s.nearestCategory(q); c != nil {
			a.category = c
			a.Facts = []Fact{categoryFact(c)}
		}
		return a
	}
	for _, it := range picks {
		a.items = append(a.items, it)
		a.Facts = append(a.Facts, productFact(it))
	}
	return a
}

// need is what a recommendation is for, as the customer wrote it, to repeat in the answer:
// the words after the last "for" when they end the question ("a sore throat"), else the words
// naming what is asked for when they are a short run of content words ("garden gloves"). A
// problem described ("my dog keeps scratching") or a longer phrase is not repeated: "For my
// phone dies by lunchtime every" does not read.
func (s *Store) need(q query) string {
	ws := q.p.words
	for i := len(ws) - 2; i >= 0; i-- {
		if ws[i].Norm == "for" {
			rest := strings.TrimRight(strings.TrimSpace(q.p.raw[ws[i+1].Start:]), "?!. ")
			if rest != "" && safeMention(rest) == rest && len(strings.Fields(rest)) <= 5 {
				return rest
			}
			break
		}
	}
	if q.p.problem() {
		return ""
	}
	return s.thing(q)
}

// thing is the mention when it reads as the name of a thing: up to four words, all of them
// content words ("garden gloves", "a rabbit hutch"); "" for anything longer or with other
// words in it ("college do i get anything off"), which an answer does not repeat.
func (s *Store) thing(q query) string {
	c := q.p.content
	if len(c) == 0 || len(c) > 4 {
		return ""
	}
	inside := 0 // the question's words from the first content word to the last
	for _, w := range q.p.words {
		if w.Start >= c[0].Start && w.End <= c[len(c)-1].End {
			inside++
		}
	}
	if inside != len(c) {
		return ""
	}
	return s.mention(q)
}

// scoreItems scores items by the question's words and embedding (for ranking a given pool).
func (s *Store) scoreItems(q query, items []*Item) []scoredItem {
	cov := map[*Item]float32{}
	for _, r := range q.ranked {
		cov[s.Items[r.item]] = r.coverage
	}
	out := make([]scoredItem, 0, len(items))
	for _, it := range items {
		sc := 0.45 * cov[it]
		if q.vec != nil {
			sc += 0.55 * embed.Cosine(q.vec, it.vec)
		}
		out = append(out, scoredItem{it, sc})
	}
	return out
}

// relevant are the items that fit the question's content, with their relevance: the ones its
// words name best, the ones sharing its concepts ("a beach holiday": sun care), and the
// closest by embedding; what the words say an item is counts over what they say it has.
func (s *Store) relevant(q query) []scoredItem {
	lex := map[*Item]float32{}
	if len(q.ranked) > 0 && q.ranked[0].coverage >= 0.5 {
		top := q.ranked[0].coverage
		for _, r := range q.ranked {
			if r.coverage >= 0.8*top {
				lex[s.Items[r.item]] = r.coverage
			}
		}
	}
	// the question's words and word pairs with concepts; an item scores each one whose concepts
	// it shares, a word of many concepts less than a specific one
	type unit struct {
		concepts []uint16
		weight   float32
	}
	var units []unit
	for i, w := range q.p.content {
		if cs := lang.Concepts(w.Stem); len(cs) > 0 {
			units = append(units, unit{cs, 1 / sqrt32(float32(len(cs)))})
		}
		if i > 0 {
			if cs := lang.Concepts(q.p.content[i-1].Stem + " " + w.Stem); len(cs) > 0 {
				units = append(units, unit{cs, 1.5})
			}
		}
	}
	con := map[*Item]float32{}
	var topCon float32
	for _, it := range s.Items {
		var sc float32
		for _, u := range units {
			var w float32
			for _, c := range u.concepts {
				w = max(w, it.concepts[c])
			}
			sc += u.weight * w
		}
		if sc > 0 {
			con[it] = sc
			topCon = max(topCon, sc)
		}
	}
	var cos []float32
	if q.vec != nil {
		cos = q.cosines(s)
	}
	var out []scoredItem
	for i, it := range s.Items {
		l, c := lex[it], float32(0)
		if topCon > 0 && con[it] >= 0.6*topCon {
			c = con[it] / topCon
		}
		v := float32(0)
		if cos != nil {
			v = cos[i]
		}
		if l == 0 && c == 0 && v < 0.5 {
			continue
		}
		out = append(out, scoredItem{it, 0.5*l*l + 0.4*c + 0.3*v + 0.2*whatItIs(it, q.p.content)})
	}
	if len(out) == 0 && cos != nil {
		// nothing by words or concepts: the closest by embedding
		var top float32
		for _, v := range cos {
			top = max(top, v)
		}
		for i, it := range s.Items {
			if top >= recommendFloor && cos[i] >= 0.75*top {
				out = append(out, scoredItem{it, cos[i]})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	return out
}

// whatItIs is the share of the question's content words that say what the item is (its name's
// head noun or its category's): "tv" is what a Smart TV is, not what a TV remote is.
func whatItIs(it *Item, content []lang.Word) float32 {
	if len(content) == 0 {
		return 0
	}
	hits := 0
	for _, w := range content {
		if w.Stem == it.heads[0] || w.Stem == it.heads[1] {
			hits++
		}
	}
	return float32(hits) / float32(len(content))
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
		best := pool[0].it
		for _, x := range pool {
			if x.score >= 0.8*pool[0].score && better(rel, x.it, best) {
				best = x.it
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
	p := s.parse(text)
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

// family are the items of it's family (sizes of one product), it included.
func (s *Store) family(it *Item) []*Item {
	var out []*Item
	for _, o := range s.Items {
		if o.family == it.family {
			out = append(out, o)
		}
	}
	return out
}

// namesSize reports whether every item's name holds a size word ("Large Eggs").
func namesSize(items []*Item) bool {
	for _, it := range items {
		if labelSize(it.nameWords).Dim == "" && !containsWord(it.nameWords, "big") {
			return false
		}
	}
	return true
}

func containsWord(ws []lang.Word, norm string) bool {
	for _, w := range ws {
		if w.Norm == norm {
			return true
		}
	}
	return false
}

// forNeed reports a request for a product by its use: "X for Y" where X is a product the store
// has ("a plant for a dark bathroom", "batteries for my car key").
func (s *Store) forNeed(q query) bool {
	head, rest := q.p.splitFor()
	return head != "" && rest != "" && s.carries(head)
}

// carries reports whether the store has products whose words fit text ("plant", "cat food").
func (s *Store) carries(text string) bool {
	p := s.parse(text)
	if len(p.content) == 0 {
		return false
	}
	r := s.index.score(s, s.index.prepare(p.content))
	return len(r) > 0 && r[0].coverage >= 0.6
}

// notCarried answers "X for Y" when X is a definite thing the store does not have ("frozen mice
// for my corn snake"): not a recommendation of something else for Y.
func (s *Store) notCarried(q query) (Answer, bool) {
	head, rest := q.p.splitFor()
	if head == "" || rest == "" || s.carries(head) {
		return Answer{}, false
	}
	hp := s.parse(head)
	if len(hp.content) == 0 || hp.something() {
		return Answer{}, false
	}
	hq := s.resolve(hp)
	if len(hq.words) == 0 {
		return Answer{}, false
	}
	// the thing is its last word ("frozen mice"); "lost the plug" names a plug the store may have
	w := hq.words[len(hq.words)-1]
	if len(w.matches) > 0 || len(w.phrases) > 0 || w.num || len(w.norm) < 3 {
		return Answer{}, false
	}
	a := Answer{Intent: IntentUnknownItem, mention: s.thing(hq)}
	if c := s.nearestCategory(hq); c != nil {
		a.category = c
		a.Facts = []Fact{categoryFact(c)}
	}
	return a, true
}

// categoryHas reports whether a product of c has word w (or a typo of it) in its name.
func (s *Store) categoryHas(c *Category, w lang.Word) bool {
	for _, it := range c.Items {
		for _, st := range it.nameStem {
			if st == w.Stem || (len(st) >= 4 && editDistance(st, w.Stem, maxTypos(len(st))) <= maxTypos(len(st))) {
				return true
			}
		}
	}
	return false
}

// sizeOfFocus is the product of the conversation's families that a question naming only a size
// means ("the 1m one", "and the 10l?"); nil when the question names more or nothing fits.
func (s *Store) sizeOfFocus(st *state, p parsed) *Item {
	if len(st.items) == 0 || len(p.sizes) == 0 {
		return nil
	}
	for _, w := range p.content {
		if !w.Num && !packaging[w.Norm] {
			return nil
		}
	}
	for _, focus := range st.items {
		for _, it := range s.family(focus) {
			if sizeFits(it, p.sizes) {
				return it
			}
		}
	}
	return nil
}
