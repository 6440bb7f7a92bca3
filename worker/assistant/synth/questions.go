package synth

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"aisle/worker/assistant/eval"
)

// QuestionSpec says how many questions to generate for a store.
type QuestionSpec struct {
	Seed uint64
	// Counts is the number of stand-alone questions per intent (eval.Intent* names); intents
	// left out get none. Nil means DefaultCounts.
	Counts map[string]int
	// Conversations is the number of multi-turn conversations (2 to 4 turns each).
	Conversations int
}

// DefaultCounts is the per-store mix of the evaluation set: about 120 stand-alone questions.
var DefaultCounts = map[string]int{
	eval.IntentAvailability: 12, eval.IntentPrice: 12, eval.IntentLocation: 11, eval.IntentFAQ: 14,
	eval.IntentRecommendation: 14, eval.IntentComparison: 9, eval.IntentUnknownItem: 12,
	eval.IntentGreeting: 5, eval.IntentThanks: 4, eval.IntentGoodbye: 4, eval.IntentOffTopic: 8,
	eval.IntentStaff: 16,
}

// DefaultQuestionSpec is the evaluation set's mix: DefaultCounts and 16 conversations.
func DefaultQuestionSpec(seed uint64) QuestionSpec {
	return QuestionSpec{Seed: seed, Counts: DefaultCounts, Conversations: 16}
}

// draft is a question before it gets its ID.
type draft struct {
	q     string
	clean string // q before noise: what duplicates are judged on
	exp   eval.Expect
	tags  []string
	staff bool
}

type qgen struct {
	s      *Store
	r      *rng
	words  map[*Product]map[string]bool
	index  map[*Product]int
	seen   map[string]bool
	pools  map[string][]*Product
	rot    map[string]int
	unk    []unknownItem
	unkAt  int
	fields []string
}

type unknownItem struct {
	text string
	near string // the store's category of the same group, if exactly one
}

// Questions generates the store's questions with their expectations. The same store and spec
// always give the same questions.
func (s *Store) Questions(spec QuestionSpec) []eval.Question {
	counts := spec.Counts
	if counts == nil {
		counts = DefaultCounts
	}
	g := &qgen{s: s, r: newRNG(spec.Seed ^ hash64("questions/"+s.ID)), words: map[*Product]map[string]bool{},
		index: map[*Product]int{}, seen: map[string]bool{}, pools: map[string][]*Product{}, rot: map[string]int{}}
	for i, p := range s.Products {
		g.index[p] = i
		ws := map[string]bool{}
		for _, w := range keyWords(p.Name + " " + p.Brand + " " + p.Family + " " + strings.Join(p.Aliases, " ")) {
			ws[w] = true
		}
		g.words[p] = ws
	}
	g.unk = g.unknownItems(g.r.derive("unknown"))

	var units [][]draft
	gens := map[string]func(*rng) []draft{
		eval.IntentAvailability: g.availability, eval.IntentPrice: g.price, eval.IntentLocation: g.location,
		eval.IntentFAQ: g.faq, eval.IntentRecommendation: g.recommendation, eval.IntentComparison: g.comparison,
		eval.IntentUnknownItem: g.unknown, eval.IntentGreeting: g.greeting, eval.IntentThanks: g.thanks,
		eval.IntentGoodbye: g.goodbye, eval.IntentOffTopic: g.offTopic, eval.IntentStaff: g.staffQuestion,
	}
	for _, intent := range eval.Intents {
		gen := gens[intent]
		if gen == nil || counts[intent] == 0 {
			continue
		}
		r := g.r.derive("intent/" + intent)
		for n, tries := 0, 0; n < counts[intent] && tries < counts[intent]*20; tries++ {
			if d := gen(r); d != nil && g.accept(d) {
				units = append(units, d)
				n++
			}
		}
	}
	scripts := []func(*rng) []draft{
		g.convAvailPriceLoc, g.convGreetPriceBigger, g.convLocAvailCheaper, g.convStaff, g.convUnknownThenProduct,
		g.convCustomerStaff, g.convPriceSmaller, g.convAvailPriceLoc, g.convFAQ, g.convStaff, g.convRecThanks,
		g.convLocAvailCheaper, g.convGreetPriceBigger, g.convCustomerStaff, g.convUnknownThenProduct, g.convAvailPriceLoc,
	}
	cr := g.r.derive("conversations")
	for n, tries := 0, 0; n < spec.Conversations && tries < spec.Conversations*20; tries++ {
		script := scripts[(n+tries)%len(scripts)]
		d := script(cr)
		if len(d) < 2 || !g.accept(d) {
			continue
		}
		for i := range d {
			d[i].tags = append(d[i].tags, "conversation")
			if i > 0 {
				d[i].tags = append(d[i].tags, "followup")
			}
		}
		units = append(units, d)
		n++
	}
	shuffle(g.r.derive("order"), units)

	var out []eval.Question
	conv := 0
	for _, u := range units {
		cid := ""
		if len(u) > 1 {
			conv++
			cid = fmt.Sprintf("c%02d", conv)
		}
		for _, d := range u {
			q := eval.Question{ID: fmt.Sprintf("%s.q%03d", s.ID, len(out)+1), Q: d.q, Conversation: cid, Staff: d.staff,
				Expect: d.exp, Tags: dedupe(d.tags)}
			out = append(out, q)
		}
	}
	return out
}

// accept keeps a unit whose questions were not asked before (stand-alone ones; follow-ups such
// as "how much is it?" may repeat).
func (g *qgen) accept(d []draft) bool {
	key := d[0].clean
	if key == "" {
		key = d[0].q
	}
	if len(d) > 1 {
		key = "\x00" + key
	}
	if g.seen[key] {
		return false
	}
	for _, x := range d {
		if strings.TrimSpace(x.q) == "" {
			return false
		}
	}
	g.seen[key] = true
	return true
}

func dedupe(tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// next returns the next product of a rotating pool (every product once before any twice)
// for which ok holds, or nil.
func (g *qgen) next(r *rng, pool string, ok func(*Product) bool) *Product {
	ps := g.pools[pool]
	if ps == nil {
		ps = append([]*Product(nil), g.s.Products...)
		shuffle(r, ps)
		g.pools[pool] = ps
	}
	for range ps {
		i := g.rot[pool] % len(ps)
		g.rot[pool]++
		if ok == nil || ok(ps[i]) {
			return ps[i]
		}
	}
	return nil
}

// match returns the store's products a customer's words can denote: every content word of
// text is a word of the product's name, brand, family or aliases.
func (g *qgen) match(text string) []*Product {
	want := keyWords(text)
	if len(want) == 0 {
		return nil
	}
	var out []*Product
	for _, p := range g.s.Products {
		all := true
		for _, w := range want {
			if !g.words[p][w] {
				all = false
				break
			}
		}
		if all {
			out = append(out, p)
		}
	}
	return out
}

func (g *qgen) skus(ps []*Product) []string {
	sorted := append([]*Product(nil), ps...)
	sort.Slice(sorted, func(i, j int) bool { return g.index[sorted[i]] < g.index[sorted[j]] })
	out := make([]string, len(sorted))
	for i, p := range sorted {
		out[i] = p.SKU
	}
	return out
}

// ref is how a customer names a product.
type ref struct {
	text string
	ps   []*Product // every product the words can denote
	tags []string
	code bool // a SKU or a barcode: typed exactly
}

var refForms = []struct {
	name   string
	weight int
}{{"alias", 30}, {"family", 15}, {"full", 12}, {"brand_alias", 10}, {"size", 8}, {"number", 6}, {"brand", 5}, {"sku", 6}, {"barcode", 4}}

// refTo names p in a customer's words, so that at most maxAmbig products fit the words.
func (g *qgen) refTo(r *rng, p *Product, maxAmbig int) (ref, bool) {
	total := 0
	for _, f := range refForms {
		total += f.weight
	}
	nameWords := map[string]bool{}
	for _, w := range keyWords(p.Name) {
		nameWords[w] = true
	}
	para := func(s string) string {
		for _, w := range keyWords(s) {
			if !nameWords[w] {
				return "paraphrase"
			}
		}
		return "partial"
	}
	lower := func(s string) string {
		if r.chance(85) {
			return strings.ToLower(s)
		}
		return s
	}
	for try := 0; try < 16; try++ {
		x := r.intn(total)
		form := ""
		for _, f := range refForms {
			if x < f.weight {
				form = f.name
				break
			}
			x -= f.weight
		}
		var rf ref
		switch form {
		case "alias":
			a := pick(r, p.Aliases)
			rf = ref{text: a, tags: []string{para(a)}}
		case "family":
			rf = ref{text: lower(p.Family), tags: []string{"partial"}}
			if strings.EqualFold(p.Family, p.Name) {
				rf.tags = []string{"full_name"}
			}
		case "full":
			rf = ref{text: lower(p.Name), tags: []string{"full_name"}}
		case "brand_alias":
			if p.Brand == "" {
				continue
			}
			a := pick(r, p.Aliases)
			rf = ref{text: p.Brand + " " + a, tags: []string{"brand", para(a)}}
			if r.chance(60) {
				rf.text = strings.ToLower(rf.text)
			}
		case "brand":
			if p.Brand == "" {
				continue
			}
			rf = ref{text: "the " + p.Brand, tags: []string{"brand_only"}}
			if r.chance(50) {
				rf.text = strings.ToLower(rf.text)
			}
		case "size":
			if p.Size == "" || !strings.ContainsAny(p.Size, "0123456789") {
				continue
			}
			size := p.Size
			if r.chance(50) {
				size = strings.ReplaceAll(size, " ", "")
			}
			a := pick(r, p.Aliases)
			rf = ref{text: strings.ToLower(a + " " + size), tags: []string{"size", para(a)}}
		case "number":
			a := pick(r, p.Aliases)
			ws := strings.Fields(a)
			last := ws[len(ws)-1]
			if st := stem(last); st != last {
				ws[len(ws)-1] = st
				rf = ref{text: strings.Join(ws, " "), tags: []string{"singular", para(a)}}
			} else {
				rf = ref{text: plural(a), tags: []string{"plural", para(a)}}
			}
		case "sku":
			text := p.SKU
			if r.chance(25) {
				text = strings.ToLower(text)
			}
			rf = ref{text: text, ps: []*Product{p}, tags: []string{"sku"}, code: true}
		case "barcode":
			if p.Barcode == "" {
				continue
			}
			rf = ref{text: p.Barcode, ps: []*Product{p}, tags: []string{"barcode"}, code: true}
		}
		if !rf.code {
			rf.ps = g.match(rf.text)
		}
		if !containsP(rf.ps, p) || len(rf.ps) > maxAmbig {
			continue
		}
		if len(rf.ps) > 1 {
			rf.tags = append(rf.tags, "ambiguous")
		}
		if !rf.code && hasAccents(p.Name) && !hasAccents(rf.text) && len(keyWords(rf.text)) > 0 {
			rf.tags = append(rf.tags, "no_accents")
		}
		return rf, true
	}
	// the exact name, else the SKU
	rf := ref{text: strings.ToLower(p.Name), tags: []string{"full_name"}}
	rf.ps = g.match(rf.text)
	if containsP(rf.ps, p) && len(rf.ps) <= maxAmbig {
		if len(rf.ps) > 1 {
			rf.tags = append(rf.tags, "ambiguous")
		}
		return rf, true
	}
	return ref{text: p.SKU, ps: []*Product{p}, tags: []string{"sku"}, code: true}, true
}

func containsP(ps []*Product, p *Product) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

func fillP(t, p string) string {
	q := strings.ReplaceAll(t, "{p}", p)
	for _, dup := range []string{"the the ", "the The "} {
		q = strings.ReplaceAll(q, dup, "the ")
	}
	return q
}

// noise turns a clean question into what a customer types: typos in the product words, chat
// speak, dropped accents, case, punctuation. It returns the tags of what it did.
func (g *qgen) noise(r *rng, q string, targets []string, typoPercent int) (string, []string) {
	var tags []string
	// a typo in a word of the product reference (or of the question when there is none)
	if r.chance(typoPercent) {
		var cands []string
		src := targets
		if len(src) == 0 {
			src = []string{q}
		}
		for _, t := range src {
			for _, w := range strings.FieldsFunc(t, func(c rune) bool { return !unicode.IsLetter(c) }) {
				if len(w) >= 4 && isASCIILetters(w) {
					cands = append(cands, w)
				}
			}
		}
		if len(cands) > 0 {
			w := pick(r, cands)
			if t := typo(r, w); t != w {
				if nq, ok := replaceWord(q, w, t); ok {
					q = nq
					tags = append(tags, "typo")
				}
			}
		}
	}
	if r.chance(16) {
		changed := false
		for _, i := range r.perm(len(chatSpeak)) {
			if nq, ok := replaceWord(q, chatSpeak[i][0], chatSpeak[i][1]); ok {
				q, changed = nq, true
				if r.chance(50) {
					break
				}
			}
		}
		if changed {
			tags = append(tags, "chat_speak")
		}
	}
	if hasAccents(q) && r.chance(75) {
		q = foldAccents(q)
		tags = append(tags, "no_accents")
	}
	if r.chance(20) {
		q = capitalize(q)
	}
	if strings.HasSuffix(q, "?") && r.chance(35) {
		q = strings.TrimRight(q, "?! ")
		tags = append(tags, "no_punct")
	}
	return q, tags
}

func (r *rng) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	shuffle(r, p)
	return p
}

func isASCIILetters(s string) bool {
	for _, c := range s {
		if c > unicode.MaxASCII || !unicode.IsLetter(c) {
			return false
		}
	}
	return true
}

// typo makes one keyboard mistake in w: two letters swapped, one dropped, one doubled or one
// replaced by a neighbouring key.
func typo(r *rng, w string) string {
	b := []byte(w)
	n := len(b)
	switch r.intn(4) {
	case 0:
		i := r.between(1, n-2)
		if b[i] == b[i+1] {
			return w
		}
		b[i], b[i+1] = b[i+1], b[i]
	case 1:
		i := r.between(1, n-1)
		b = append(b[:i:i], b[i+1:]...)
	case 2:
		i := r.between(1, n-1)
		b = append(b[:i+1:i+1], b[i:]...)
	default:
		i := r.between(1, n-1)
		c := b[i] | 0x20
		if nb, ok := neighbours[c]; ok {
			b[i] = nb[r.intn(len(nb))]
		}
	}
	return string(b)
}

// replaceWord replaces the first whole-word, case-insensitive occurrence of old in s.
func replaceWord(s, old, repl string) (string, bool) {
	ls, lo := strings.ToLower(s), strings.ToLower(old)
	for from := 0; ; {
		i := strings.Index(ls[from:], lo)
		if i < 0 {
			return s, false
		}
		i += from
		j := i + len(lo)
		before := i == 0 || !isWordByte(ls[i-1])
		after := j == len(ls) || !isWordByte(ls[j])
		if before && after {
			return s[:i] + repl + s[j:], true
		}
		from = i + 1
	}
}

func isWordByte(c byte) bool {
	return c == '\'' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// finish applies noise to a draft.
func (g *qgen) finish(r *rng, d *draft, rf *ref) {
	var targets []string
	typo := 14
	if rf != nil {
		if rf.code {
			typo = 0
		} else {
			targets = []string{rf.text}
			typo = 24
		}
		d.tags = append(d.tags, rf.tags...)
	}
	d.clean = d.q
	q, tags := g.noise(r, d.q, targets, typo)
	d.q = q
	d.tags = append(d.tags, tags...)
}

func stockTags(p *Product) []string {
	switch eval.StockState(p.Stock) {
	case eval.StockOut:
		return []string{"out_of_stock"}
	case eval.StockFew:
		return []string{"few_left"}
	}
	return nil
}

// productQuestion asks about one product with an intent's templates.
func (g *qgen) productQuestion(r *rng, intent string, ts []tmpl, maxAmbig int, p *Product) []draft {
	if p == nil {
		return nil
	}
	rf, ok := g.refTo(r, p, maxAmbig)
	if !ok {
		return nil
	}
	exp := eval.Expect{Intent: intent, SKUs: g.skus(rf.ps)}
	t := pick(r, ts)
	if rf.code {
		t = pick(r, codeTmpls[intent])
		if r.chance(40) {
			t = pick(r, bareCodeTmpls)
			exp.IntentsOK = otherProductIntents(intent)
			t.tags = append(t.tags, "bare_code")
		}
	}
	d := draft{q: fillP(t.text, rf.text), exp: exp, tags: append([]string(nil), t.tags...)}
	if intent == eval.IntentAvailability {
		d.tags = append(d.tags, stockTags(p)...)
	}
	g.finish(r, &d, &rf)
	return []draft{d}
}

// otherProductIntents: a bare code asks for any of availability, price and location.
func otherProductIntents(intent string) []string {
	var out []string
	for _, i := range []string{eval.IntentAvailability, eval.IntentPrice, eval.IntentLocation} {
		if i != intent {
			out = append(out, i)
		}
	}
	return out
}

func (g *qgen) availability(r *rng) []draft {
	return g.productQuestion(r, eval.IntentAvailability, availTmpls, 3, g.next(r, "availability", nil))
}

func (g *qgen) price(r *rng) []draft {
	return g.productQuestion(r, eval.IntentPrice, priceTmpls, 3, g.next(r, "price", nil))
}

func (g *qgen) location(r *rng) []draft {
	return g.productQuestion(r, eval.IntentLocation, locTmpls, 3, g.next(r, "location", func(p *Product) bool { return p.Aisle != "" }))
}

// askFAQ phrases a question on an FAQ's topic.
func (g *qgen) askFAQ(r *rng, f *FAQ) string {
	asks := faqTopics[f.Topic].Asks
	k := "faq/" + f.Topic
	a := asks[(g.rot[k]+r.intn(2))%len(asks)]
	g.rot[k] += 1 + r.intn(2)
	return a
}

func (g *qgen) faq(r *rng) []draft {
	f := g.s.FAQs[g.rot["faq"]%len(g.s.FAQs)]
	g.rot["faq"]++
	d := draft{q: g.askFAQ(r, f), exp: eval.Expect{Intent: eval.IntentFAQ, FAQ: f.ID}, tags: []string{"faq"}}
	g.finish(r, &d, nil)
	return []draft{d}
}

// needSet returns, for every need the store can meet, the products that meet it.
func (g *qgen) needSet() (needs []string, by map[string][]*Product) {
	by = map[string][]*Product{}
	for _, p := range g.s.Products {
		for _, n := range p.Needs {
			by[n] = append(by[n], p)
		}
	}
	for _, c := range g.s.cats {
		for _, n := range c.Needs {
			for _, p := range g.s.Products {
				if p.cat == c && !containsP(by[n], p) {
					by[n] = append(by[n], p)
				}
			}
		}
	}
	for n := range by {
		needs = append(needs, n)
	}
	sort.Strings(needs)
	return needs, by
}

func sameCategory(ps []*Product) string {
	if len(ps) == 0 {
		return ""
	}
	for _, p := range ps[1:] {
		if p.Category != ps[0].Category {
			return ""
		}
	}
	return ps[0].Category
}

var roundLimits = []int64{2, 3, 5, 8, 10, 15, 20, 25, 30, 40, 50, 60, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 2500, 5000}

// limitFor picks a round price limit (major units) with some of ps at or under it and some over.
func limitFor(r *rng, ps []*Product, needOver bool) (int64, bool) {
	var ok []int64
	for _, l := range roundLimits {
		under, over := 0, 0
		for _, p := range ps {
			if p.Price <= l*100 {
				under++
			} else {
				over++
			}
		}
		if under > 0 && (over > 0 || !needOver) {
			ok = append(ok, l)
		}
	}
	if len(ok) == 0 {
		return 0, false
	}
	if !needOver {
		ok = ok[:min(len(ok), 3)]
	}
	return pick(r, ok), true
}

// moneyWords writes a limit as a customer types it: "30", "30 euros", "€30", "30€".
func (g *qgen) moneyWords(r *rng, l int64) string {
	n := strconv.FormatInt(l, 10)
	c := g.s.cur
	switch r.intn(5) {
	case 0, 1:
		return n
	case 2:
		w := pick(r, c.Words)
		if len([]rune(w)) == 1 {
			if r.chance(50) {
				return w + n
			}
			return n + w
		}
		return n + " " + w
	case 3:
		return n + " " + strings.ToLower(c.Code)
	}
	if c.Symbol == "€" || c.Symbol == "£" || c.Symbol == "$" {
		return c.Symbol + n
	}
	return n + " " + pick(r, c.Words)
}

func (g *qgen) recommendation(r *rng) []draft {
	var d draft
	switch g.rot["rec"] % 7 {
	case 0, 3, 5: // by need
		g.rot["rec"]++
		needs, by := g.needSet()
		if len(needs) == 0 {
			return nil
		}
		n := needs[g.rot["recneed"]%len(needs)]
		g.rot["recneed"] += 1 + r.intn(3)
		ts := needOtherTmpls
		switch {
		case strings.HasPrefix(n, "for "):
			ts = needForTmpls
		case strings.HasPrefix(n, "to "):
			ts = needToTmpls
		}
		t := pick(r, ts)
		ps := by[n]
		d = draft{q: strings.ReplaceAll(t.text, "{n}", n), exp: eval.Expect{Intent: eval.IntentRecommendation,
			SKUs: g.skus(ps), Category: sameCategory(ps)}, tags: append([]string{"need"}, t.tags...)}
	case 1, 4: // by category
		g.rot["rec"]++
		c := g.s.cats[g.rot["reccat"]%len(g.s.cats)]
		g.rot["reccat"]++
		t := pick(r, recCatTmpls)
		d = draft{q: strings.ReplaceAll(t.text, "{c}", pick(r, c.Terms)), exp: eval.Expect{Intent: eval.IntentRecommendation,
			Category: c.Name}, tags: append([]string{"category"}, t.tags...)}
	case 2: // category under a price
		g.rot["rec"]++
		c := g.s.cats[g.rot["recprice"]%len(g.s.cats)]
		g.rot["recprice"]++
		var ps []*Product
		for _, p := range g.s.Products {
			if p.cat == c {
				ps = append(ps, p)
			}
		}
		l, ok := limitFor(r, ps, true)
		if !ok {
			return nil
		}
		t := pick(r, recPriceTmpls)
		q := strings.NewReplacer("{c}", pick(r, c.Terms), "{m}", g.moneyWords(r, l)).Replace(t.text)
		d = draft{q: q, exp: eval.Expect{Intent: eval.IntentRecommendation, Category: c.Name, MaxPrice: float64(l)},
			tags: append([]string{"price_limit"}, t.tags...)}
	default: // a gift under a price
		g.rot["rec"]++
		var gifts []*Product
		for _, p := range g.s.Products {
			if p.Gift {
				gifts = append(gifts, p)
			}
		}
		l, ok := limitFor(r, gifts, false)
		if !ok {
			return nil
		}
		t := pick(r, giftTmpls)
		d = draft{q: strings.ReplaceAll(t.text, "{m}", g.moneyWords(r, l)), exp: eval.Expect{Intent: eval.IntentRecommendation,
			MaxPrice: float64(l)}, tags: append([]string{"gift", "price_limit"}, t.tags...)}
	}
	g.finish(r, &d, nil)
	return []draft{d}
}

// cheaper returns the products of p's category that cost less.
func (g *qgen) cheaper(p *Product) []*Product {
	var out []*Product
	for _, q := range g.s.Products {
		if q.Category == p.Category && q.Price < p.Price && q.Currency == p.Currency {
			out = append(out, q)
		}
	}
	return out
}

// sized returns the products of p's family that are bigger (dir > 0) or smaller (dir < 0).
func (g *qgen) sized(p *Product, dir int) []*Product {
	if !p.Sized {
		return nil
	}
	var out []*Product
	for _, q := range g.s.Products {
		if q.fam == p.fam && ((dir > 0 && q.Variant > p.Variant) || (dir < 0 && q.Variant < p.Variant)) {
			out = append(out, q)
		}
	}
	return out
}

func (g *qgen) comparison(r *rng) []draft {
	var d draft
	var refs []*ref
	kind := g.rot["cmp"] % 4
	g.rot["cmp"]++
	switch kind {
	case 0: // which is cheaper, A or B?
		a := g.next(r, "cmp-two", func(p *Product) bool { return len(g.cheaper(p)) > 0 })
		if a == nil {
			return nil
		}
		b := pick(r, g.cheaper(a)) // b is the cheaper one
		ra, ok1 := g.refTo(r, a, 1)
		rb, ok2 := g.refTo(r, b, 1)
		if !ok1 || !ok2 || ra.code || rb.code {
			return nil
		}
		t := pick(r, cmpTwoTmpls)
		x, y := ra.text, rb.text
		if r.chance(50) {
			x, y = y, x
		}
		d = draft{q: strings.NewReplacer("{a}", x, "{b}", y).Replace(t.text), exp: eval.Expect{Intent: eval.IntentComparison,
			SKUs: []string{b.SKU}, Relation: eval.RelCheaperThan + ":" + a.SKU}, tags: append([]string{"two_products"}, t.tags...)}
		refs = []*ref{&ra, &rb}
	case 1: // anything cheaper than P?
		p := g.next(r, "cmp-cheaper", func(p *Product) bool { return len(g.cheaper(p)) > 0 })
		if p == nil {
			return nil
		}
		rp, ok := g.refTo(r, p, 1)
		if !ok {
			return nil
		}
		t := pick(r, cmpCheaperTmpls)
		d = draft{q: fillP(t.text, rp.text), exp: eval.Expect{Intent: eval.IntentComparison, SKUs: g.skus(g.cheaper(p)),
			Category: p.Category, Relation: eval.RelCheaperThan + ":" + p.SKU}, tags: append([]string{"cheaper"}, t.tags...)}
		refs = []*ref{&rp}
	default: // bigger / smaller
		dir, ts, rel, tag := 1, cmpBiggerTmpls, eval.RelBiggerThan, "bigger"
		if kind == 3 {
			dir, ts, rel, tag = -1, cmpSmallerTmpls, eval.RelSmallerThan, "smaller"
		}
		p := g.next(r, "cmp-"+tag, func(p *Product) bool { return len(g.sized(p, dir)) > 0 })
		if p == nil {
			return nil
		}
		rp, ok := g.refTo(r, p, 1)
		if !ok {
			return nil
		}
		t := pick(r, ts)
		d = draft{q: fillP(t.text, rp.text), exp: eval.Expect{Intent: eval.IntentComparison, SKUs: g.skus(g.sized(p, dir)),
			Relation: rel + ":" + p.SKU}, tags: append([]string{tag}, t.tags...)}
		refs = []*ref{&rp}
	}
	var targets []string
	for _, rf := range refs {
		d.tags = append(d.tags, rf.tags...)
		if !rf.code {
			targets = append(targets, rf.text)
		}
	}
	d.clean = d.q
	q, tags := g.noise(r, d.q, targets, 20)
	d.q, d.tags = q, append(d.tags, tags...)
	return []draft{d}
}

// unknownItems lists things the store does not carry: products of other kinds (of the
// store's split) whose words match none of the store's products.
func (g *qgen) unknownItems(r *rng) []unknownItem {
	var out []unknownItem
	seen := map[string]bool{}
	for _, kn := range Kinds() {
		if kn == g.s.Kind {
			continue
		}
		for _, c := range kinds[kn].Cats {
			if c.Titles {
				continue
			}
			for _, f := range c.Fams {
				if !g.s.Spec.Split.Allows(f.Name) {
					continue
				}
				text := f.Aliases[0]
				if len(keyWords(text)) == 0 || seen[text] || len(g.match(text)) > 0 || g.carriesWord(text) {
					continue
				}
				seen[text] = true
				near := ""
				n := 0
				for _, sc := range g.s.cats {
					if sc.Group == c.Group {
						near, n = sc.Name, n+1
					}
				}
				if n != 1 {
					near = ""
				}
				out = append(out, unknownItem{text: text, near: near})
			}
		}
	}
	shuffle(r, out)
	// those with a nearest category first, so that the set holds enough of them
	sort.SliceStable(out, func(i, j int) bool { return out[i].near != "" && out[j].near == "" })
	var withNear, without []unknownItem
	for _, u := range out {
		if u.near != "" {
			withNear = append(withNear, u)
		} else {
			without = append(without, u)
		}
	}
	var mixed []unknownItem
	for len(withNear) > 0 || len(without) > 0 {
		if len(withNear) > 0 {
			mixed, withNear = append(mixed, withNear[0]), withNear[1:]
		}
		for i := 0; i < 2 && len(without) > 0; i++ {
			mixed, without = append(mixed, without[0]), without[1:]
		}
	}
	return mixed
}

// carriesWord reports whether the item's head word (its last content word) names a product
// the store carries, so that "dog shampoo" is not asked in a store that sells shampoo.
func (g *qgen) carriesWord(text string) bool {
	ws := keyWords(text)
	head := ws[len(ws)-1]
	for _, p := range g.s.Products {
		if g.words[p][head] {
			return true
		}
	}
	return false
}

func (g *qgen) unknown(r *rng) []draft {
	if len(g.unk) == 0 {
		return nil
	}
	u := g.unk[g.unkAt%len(g.unk)]
	g.unkAt++
	t := pick(r, unknownTmpls)
	d := draft{q: strings.ReplaceAll(t.text, "{x}", u.text), exp: eval.Expect{Intent: eval.IntentUnknownItem, Item: u.text, Category: u.near},
		tags: append([]string{"unknown"}, t.tags...)}
	if u.near != "" {
		d.tags = append(d.tags, "near_category")
	}
	d.clean = d.q
	q, tags := g.noise(r, d.q, []string{u.text}, 15)
	d.q, d.tags = q, append(d.tags, tags...)
	return []draft{d}
}

func (g *qgen) fromList(r *rng, key string, xs []string, intent string, ok []string, tag string) []draft {
	i := g.rot[key]
	if i == 0 {
		g.rot[key+"/off"] = r.intn(len(xs))
	}
	g.rot[key]++
	d := draft{q: xs[(i+g.rot[key+"/off"])%len(xs)], exp: eval.Expect{Intent: intent, IntentsOK: ok}, tags: []string{tag}}
	g.finish(r, &d, nil)
	return []draft{d}
}

func (g *qgen) greeting(r *rng) []draft {
	return g.fromList(r, "greeting", greetings, eval.IntentGreeting, nil, "smalltalk")
}

func (g *qgen) thanks(r *rng) []draft {
	if r.chance(25) {
		return g.fromList(r, "thanksbye", thanksBye, eval.IntentThanks, []string{eval.IntentGoodbye}, "smalltalk")
	}
	return g.fromList(r, "thanks", thanks, eval.IntentThanks, nil, "smalltalk")
}

func (g *qgen) goodbye(r *rng) []draft {
	return g.fromList(r, "goodbye", goodbyes, eval.IntentGoodbye, nil, "smalltalk")
}

func (g *qgen) offTopic(r *rng) []draft {
	return g.fromList(r, "offtopic", offTopic, eval.IntentOffTopic, nil, "off_topic")
}

// hasField reports whether p's staff data holds the field.
func hasField(p *Product, field string) bool {
	if p.Staff == nil {
		return false
	}
	switch field {
	case eval.StaffBackroom:
		return true
	case eval.StaffSupplier:
		return p.Staff.Supplier != ""
	case eval.StaffCost:
		return p.Staff.Cost > 0
	case eval.StaffNotes:
		return p.Staff.Notes != ""
	}
	return false
}

var staffFieldCycle = []string{eval.StaffBackroom, eval.StaffSupplier, eval.StaffCost, eval.StaffBackroom, eval.StaffNotes, eval.StaffCost, eval.StaffSupplier}

func (g *qgen) staffQuestion(r *rng) []draft {
	n := g.rot["staff"]
	g.rot["staff"]++
	field := staffFieldCycle[(n/2)%len(staffFieldCycle)]
	onStaff := n%2 == 0
	p := g.next(r, "staff/"+field, func(p *Product) bool { return hasField(p, field) })
	if p == nil {
		return nil
	}
	rf, ok := g.refTo(r, p, 2)
	if !ok {
		return nil
	}
	ts := staffTmpls[field]
	dev := "staff_device"
	if !onStaff {
		ts, dev = customerStaffTmpls[field], "customer_device"
	}
	t := pick(r, ts)
	// every product the words fit must hold the field, so that any of them is a right answer
	for _, q := range rf.ps {
		if !hasField(q, field) {
			return nil
		}
	}
	d := draft{q: fillP(t.text, rf.text), staff: onStaff, exp: eval.Expect{Intent: eval.IntentStaff, StaffField: field,
		SKUs: g.skus(rf.ps)}, tags: append([]string{dev, "staff_" + field}, t.tags...)}
	g.finish(r, &d, &rf)
	return []draft{d}
}

// follow makes a follow-up turn from a template.
func (g *qgen) follow(r *rng, ts []tmpl, exp eval.Expect, staff bool, tags ...string) draft {
	t := pick(r, ts)
	d := draft{q: t.text, exp: exp, staff: staff, tags: append(append([]string{"pronoun"}, tags...), t.tags...)}
	q, nt := g.noise(r, d.q, nil, 8)
	d.q, d.tags = q, append(d.tags, nt...)
	return d
}

// firstTurn asks about p, named unambiguously.
func (g *qgen) firstTurn(r *rng, intent string, ts []tmpl, p *Product, staff bool) (draft, bool) {
	rf, ok := g.refTo(r, p, 1)
	if !ok || rf.code {
		return draft{}, false
	}
	t := pick(r, ts)
	d := draft{q: fillP(t.text, rf.text), staff: staff, exp: eval.Expect{Intent: intent, SKUs: []string{p.SKU}}, tags: append([]string(nil), t.tags...)}
	g.finish(r, &d, &rf)
	return d, true
}

func (g *qgen) convAvailPriceLoc(r *rng) []draft {
	p := g.next(r, "conv", func(p *Product) bool { return p.Aisle != "" })
	if p == nil {
		return nil
	}
	d1, ok := g.firstTurn(r, eval.IntentAvailability, availTmpls, p, false)
	if !ok {
		return nil
	}
	out := []draft{d1,
		g.follow(r, itPrice, eval.Expect{Intent: eval.IntentPrice, SKUs: []string{p.SKU}}, false),
		g.follow(r, itLocation, eval.Expect{Intent: eval.IntentLocation, SKUs: []string{p.SKU}}, false)}
	if r.chance(40) {
		out[1], out[2] = out[2], out[1]
	}
	if r.chance(50) {
		out = append(out, g.thanks(r)...)
	}
	return out
}

func (g *qgen) convGreetPriceBigger(r *rng) []draft {
	p := g.next(r, "conv-bigger", func(p *Product) bool { return len(g.sized(p, 1)) > 0 })
	if p == nil {
		return nil
	}
	d1, ok := g.firstTurn(r, eval.IntentPrice, priceTmpls, p, false)
	if !ok {
		return nil
	}
	bigger := g.sized(p, 1)
	out := append(g.greeting(r), d1,
		g.follow(r, itBigger, eval.Expect{Intent: eval.IntentComparison, IntentsOK: []string{eval.IntentPrice}, SKUs: g.skus(bigger),
			Relation: eval.RelBiggerThan + ":" + p.SKU}, false, "bigger"))
	if len(bigger) == 1 && bigger[0].Aisle != "" && r.chance(50) {
		out = append(out, g.follow(r, itLocation, eval.Expect{Intent: eval.IntentLocation, SKUs: []string{bigger[0].SKU}}, false))
	} else {
		out = append(out, g.goodbye(r)...)
	}
	return out
}

func (g *qgen) convLocAvailCheaper(r *rng) []draft {
	p := g.next(r, "conv-cheaper", func(p *Product) bool { return p.Aisle != "" && len(g.cheaper(p)) > 0 })
	if p == nil {
		return nil
	}
	d1, ok := g.firstTurn(r, eval.IntentLocation, locTmpls, p, false)
	if !ok {
		return nil
	}
	return []draft{d1,
		g.follow(r, itAvail, eval.Expect{Intent: eval.IntentAvailability, SKUs: []string{p.SKU}}, false, stockTags(p)...),
		g.follow(r, itCheaper, eval.Expect{Intent: eval.IntentComparison, IntentsOK: []string{eval.IntentAvailability},
			SKUs: g.skus(g.cheaper(p)), Category: p.Category, Relation: eval.RelCheaperThan + ":" + p.SKU}, false, "cheaper")}
}

func (g *qgen) convPriceSmaller(r *rng) []draft {
	p := g.next(r, "conv-smaller", func(p *Product) bool { return len(g.sized(p, -1)) > 0 })
	if p == nil {
		return nil
	}
	d1, ok := g.firstTurn(r, eval.IntentPrice, priceTmpls, p, false)
	if !ok {
		return nil
	}
	smaller := g.sized(p, -1)
	out := []draft{d1, g.follow(r, itSmaller, eval.Expect{Intent: eval.IntentComparison, IntentsOK: []string{eval.IntentPrice},
		SKUs: g.skus(smaller), Relation: eval.RelSmallerThan + ":" + p.SKU}, false, "smaller")}
	if len(smaller) == 1 {
		out = append(out, g.follow(r, itPrice, eval.Expect{Intent: eval.IntentPrice, SKUs: []string{smaller[0].SKU}}, false))
	}
	return out
}

func (g *qgen) convUnknownThenProduct(r *rng) []draft {
	u := g.unknown(r)
	p := g.next(r, "conv", nil)
	if u == nil || p == nil {
		return nil
	}
	rf, ok := g.refTo(r, p, 1)
	if !ok || rf.code {
		return nil
	}
	t := pick(r, nextProduct)
	d2 := draft{q: fillP(t.text, rf.text), exp: eval.Expect{Intent: eval.IntentAvailability, SKUs: []string{p.SKU}}, tags: stockTags(p)}
	g.finish(r, &d2, &rf)
	return append(u, d2, g.follow(r, itPrice, eval.Expect{Intent: eval.IntentPrice, SKUs: []string{p.SKU}}, false))
}

func (g *qgen) convStaff(r *rng) []draft {
	p := g.next(r, "conv-staff", func(p *Product) bool {
		return hasField(p, eval.StaffSupplier) && hasField(p, eval.StaffCost)
	})
	if p == nil {
		return nil
	}
	fields := []string{eval.StaffBackroom, eval.StaffSupplier, eval.StaffCost}
	if hasField(p, eval.StaffNotes) {
		fields = append(fields, eval.StaffNotes)
	}
	shuffle(r, fields)
	rf, ok := g.refTo(r, p, 1)
	if !ok {
		return nil
	}
	t := pick(r, staffTmpls[fields[0]])
	d1 := draft{q: fillP(t.text, rf.text), staff: true, exp: eval.Expect{Intent: eval.IntentStaff, StaffField: fields[0], SKUs: []string{p.SKU}},
		tags: append([]string{"staff_device", "staff_" + fields[0]}, t.tags...)}
	g.finish(r, &d1, &rf)
	out := []draft{d1}
	for _, f := range fields[1:min(len(fields), 3)] {
		out = append(out, g.follow(r, itStaff[f], eval.Expect{Intent: eval.IntentStaff, StaffField: f, SKUs: []string{p.SKU}}, true,
			"staff_device", "staff_"+f))
	}
	if r.chance(50) {
		out = append(out, g.follow(r, itPrice, eval.Expect{Intent: eval.IntentPrice, SKUs: []string{p.SKU}}, true, "staff_device"))
	}
	return out
}

func (g *qgen) convCustomerStaff(r *rng) []draft {
	p := g.next(r, "conv-cstaff", func(p *Product) bool { return p.Staff != nil })
	if p == nil {
		return nil
	}
	d1, ok := g.firstTurn(r, eval.IntentAvailability, availTmpls, p, false)
	if !ok {
		return nil
	}
	d1.tags = append(d1.tags, stockTags(p)...)
	var fields []string
	for _, f := range []string{eval.StaffBackroom, eval.StaffSupplier, eval.StaffCost, eval.StaffNotes} {
		if hasField(p, f) {
			fields = append(fields, f)
		}
	}
	f := pick(r, fields)
	out := []draft{d1, g.follow(r, itCustomerStaff[f], eval.Expect{Intent: eval.IntentStaff, StaffField: f, SKUs: []string{p.SKU}}, false,
		"customer_device", "staff_"+f)}
	if r.chance(50) {
		out = append(out, g.thanks(r)...)
	}
	return out
}

func (g *qgen) convFAQ(r *rng) []draft {
	if len(g.s.FAQs) < 2 {
		return nil
	}
	i := r.intn(len(g.s.FAQs))
	j := (i + 1 + r.intn(len(g.s.FAQs)-1)) % len(g.s.FAQs)
	f1, f2 := g.s.FAQs[i], g.s.FAQs[j]
	d1 := draft{q: g.askFAQ(r, f1), exp: eval.Expect{Intent: eval.IntentFAQ, FAQ: f1.ID}, tags: []string{"faq"}}
	g.finish(r, &d1, nil)
	t := pick(r, andFAQ)
	d2 := draft{q: strings.ReplaceAll(t.text, "{f}", g.askFAQ(r, f2)), exp: eval.Expect{Intent: eval.IntentFAQ, FAQ: f2.ID}, tags: []string{"faq"}}
	g.finish(r, &d2, nil)
	return append([]draft{d1, d2}, g.thanks(r)...)
}

func (g *qgen) convRecThanks(r *rng) []draft {
	d := g.recommendation(r)
	if d == nil {
		return nil
	}
	return append(d, g.fromList(r, "thanksbye", thanksBye, eval.IntentThanks, []string{eval.IntentGoodbye}, "smalltalk")...)
}
