package assistant

import (
	"math"
	"sort"
	"strings"

	"aisle/worker/assistant/embed"
	"aisle/worker/assistant/lang"
)

// Field weights: how much a matched word counts where it is found.
const (
	fieldName     = 1.0
	fieldBrand    = 0.9
	fieldCategory = 0.6
	fieldDesc     = 0.3
)

// Match qualities of a question word against a catalog word.
const (
	matchExact  = 1.0
	matchFuzzy  = 0.8 // within the typo distance
	matchPrefix = 0.6 // the question word starts the catalog word ("parac" -> "paracetamol")
)

type posting struct {
	item  int32
	field float32 // the best field weight of the term in the item
}

// index is the lexical index over the store's items: a vocabulary of stems with their
// postings and document frequencies, a deletion table for typo-tolerant lookup, and the words
// that a compound can be split into.
type index struct {
	terms    []string           // term id -> stem
	termID   map[string]int32   // stem -> term id
	norms    map[string]int32   // a word's folded form (not stemmed) -> term id, for compounds
	postings [][]posting        // term id -> items containing it
	idf      []float32          // term id -> inverse document frequency
	forms    []form             // the spellings typos are measured against: stems and folded words
	deletes  map[string][]int32 // a form with one letter deleted -> forms
	maxIDF   float32
	itemNorm []float32 // items' vector squared norms
}

func buildIndex(s *Store) *index {
	ix := &index{termID: map[string]int32{}, norms: map[string]int32{}, deletes: map[string][]int32{}}
	term := func(stem string) int32 {
		if id, ok := ix.termID[stem]; ok {
			return id
		}
		id := int32(len(ix.terms))
		ix.terms = append(ix.terms, stem)
		ix.termID[stem] = id
		ix.postings = append(ix.postings, nil)
		return id
	}
	for i, it := range s.Items {
		best := map[int32]float32{}
		addText := func(text string, w float32) {
			for _, word := range lang.Words(text) {
				if lang.IsFunctionWord(word.Norm) && !word.Num {
					continue
				}
				id := term(word.Stem)
				if _, ok := ix.norms[word.Norm]; !ok {
					ix.norms[word.Norm] = id
				}
				if best[id] < w {
					best[id] = w
				}
			}
		}
		addText(it.Name, fieldName)
		addText(it.Brand, fieldBrand)
		addText(it.Category, fieldCategory)
		addText(it.Description, fieldDesc)
		// the category's head noun says what the item is ("plants" of Garden Plants)
		if id, ok := ix.termID[it.heads[1]]; ok && it.heads[1] != "" {
			best[id] = max(best[id], fieldBrand)
		}
		for id, w := range best {
			ix.postings[id] = append(ix.postings[id], posting{item: int32(i), field: w})
		}
	}
	n := float64(len(s.Items))
	ix.idf = make([]float32, len(ix.terms))
	for id, ps := range ix.postings {
		ix.idf[id] = float32(math.Log(1 + n/float64(len(ps))))
		ix.maxIDF = max(ix.maxIDF, ix.idf[id])
	}
	addForm := func(text string, id int32) {
		if len(text) < 3 || isDigits(text) || len(text) > maxWordLen {
			return
		}
		f := int32(len(ix.forms))
		ix.forms = append(ix.forms, form{text, id})
		ix.deletes[text] = appendUnique(ix.deletes[text], f)
		for _, d := range deletions(text) {
			ix.deletes[d] = appendUnique(ix.deletes[d], f)
		}
	}
	for id, t := range ix.terms {
		addForm(t, int32(id))
	}
	for n, id := range ix.norms {
		if n != ix.terms[id] {
			addForm(n, id)
		}
	}
	if ix.maxIDF == 0 {
		ix.maxIDF = 1
	}
	ix.itemNorm = make([]float32, len(s.Items))
	for i, it := range s.Items {
		ix.itemNorm[i] = float32(it.vec.Norm2())
	}
	return ix
}

func appendUnique(xs []int32, x int32) []int32 {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return s != ""
}

// deletions are the strings one character shorter than w.
func deletions(w string) []string {
	out := make([]string, 0, len(w))
	for i := 0; i < len(w); i++ {
		d := w[:i] + w[i+1:]
		if len(out) == 0 || out[len(out)-1] != d {
			out = append(out, d)
		}
	}
	return out
}

// form is one spelling of a term.
type form struct {
	text string
	term int32
}

// termMatch is one catalog term a question word matches, and how well.
type termMatch struct {
	term    int32
	quality float32
}

// maxWordLen bounds the words looked up with typos: longer ones are not words a customer
// misspelled (and their deletions would be many).
const maxWordLen = 24

// maxTypos is the edit distance a word of n letters may be off by.
func maxTypos(n int) int {
	switch {
	case n >= 8:
		return 2
	case n >= 4:
		return 1
	}
	return 0
}

// lookup finds the catalog terms a question word (its stem and folded form) may mean: the term
// itself, terms within the typo distance, and terms it is a prefix of (5+ letters).
func (ix *index) lookup(stem, norm string) []termMatch {
	if id, ok := ix.termID[stem]; ok {
		return []termMatch{{id, matchExact}}
	}
	if id, ok := ix.norms[norm]; ok {
		return []termMatch{{id, matchExact}}
	}
	if isDigits(stem) {
		return nil
	}
	var out []termMatch
	if known(norm) || len(norm) > maxWordLen {
		return nil // "park" is not a typo of "pack"
	}
	maxd := maxTypos(len(norm))
	seenTerm := map[int32]bool{}
	seenForm := map[int32]bool{}
	try := func(key string) {
		for _, f := range ix.deletes[key] {
			if seenForm[f] {
				continue
			}
			seenForm[f] = true
			fm := ix.forms[f]
			if seenTerm[fm.term] || (len(norm) <= 5 && fm.text[0] != norm[0]) {
				continue // short words keep their first letter
			}
			if d := min(editDistance(stem, fm.text, max(maxd, 1)), editDistance(norm, fm.text, max(maxd, 1))); d <= max(maxd, 1) {
				if maxd == 0 && len(fm.text) != len(norm)+1 {
					continue // a 3-letter word may only have lost a letter ("dsh" -> "dish")
				}
				seenTerm[fm.term] = true
				out = append(out, termMatch{fm.term, matchFuzzy})
			}
		}
	}
	if len(norm) == 3 {
		try(norm) // catalog words one letter longer whose deletion is the word
	} else if maxd > 0 {
		for _, w := range []string{stem, norm} {
			try(w)
			for _, d := range deletions(w) {
				try(d)
				if maxd >= 2 {
					for _, d2 := range deletions(d) {
						try(d2)
					}
				}
			}
		}
	}
	if len(out) == 0 && len(norm) >= 4 && len(norm) <= maxWordLen {
		// a word cut short ("flexi" for "flexible"): every term it starts, when few do
		var pre []termMatch
		for id, t := range ix.terms {
			if len(t) >= len(norm)+2 && strings.HasPrefix(t, norm) {
				pre = append(pre, termMatch{int32(id), matchPrefix})
			}
		}
		if len(pre) <= 3 {
			out = pre
		}
	}
	return out
}

// editDistance is the optimal-string-alignment distance of a and b, or max+1 once it exceeds
// max.
func editDistance(a, b string, max int) int {
	if a == b {
		return 0
	}
	la, lb := len(a), len(b)
	if la-lb > max || lb-la > max {
		return max + 1
	}
	prev2 := make([]int, lb+1)
	prev := make([]int, lb+1)
	cur := make([]int, lb+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[lb]
}

// qword is a content word (or a phrase with synonyms) of a question, ready to be scored.
type qword struct {
	stem, norm string
	num        bool
	matches    []termMatch
	phrases    []phraseMatch // items holding a synonym phrase ("dish soap" for "washing up liquid")
	weight     float32       // how much the word matters: the idf of what it matches, or high if nothing
}

// phraseMatch is the items holding every word of a phrase, and how good a match that is.
type phraseMatch struct {
	items   []posting
	quality float32
}

// matchSynonym is the quality of a match through the synonym table.
const matchSynonym = 0.9

// prepare looks up the question's content words; adjacent words that form a catalog word
// ("dish washer" -> "dishwasher") are joined, and a word made of two catalog words
// ("toothbrush" when the catalog says "tooth brush") is split.
func (ix *index) prepare(words []lang.Word) []qword { return ix.prepareWith(words, true) }

// prepareWith is prepare, with or without the synonym table (without: words, stems and typos
// only, the lexical baseline the retrieval is measured against).
func (ix *index) prepareWith(words []lang.Word, synonyms bool) []qword {
	var out []qword
	for i := 0; i < len(words); i++ {
		w := words[i]
		// a phrase the synonym table knows, longest first ("washing up liquid", "fries"): each of
		// its words also matches the items holding the phrase or one of its synonyms
		if phrases, n := ix.synonymPhrase(words[i:]); synonyms && n > 0 {
			for k := 0; k < n; k++ {
				q := ix.word(words[i+k])
				q.phrases = phrases
				out = append(out, q)
			}
			i += n - 1
			continue
		}
		if i+1 < len(words) && !w.Num && !words[i+1].Num {
			// two words the catalog writes as one: "dish washer", "mouth wsh" (with a typo)
			joined := w.Norm + words[i+1].Norm
			if id, ok := ix.norms[joined]; ok {
				out = append(out, qword{stem: ix.terms[id], norm: joined, matches: []termMatch{{id, matchExact}}})
				i++
				continue
			}
			if len(joined) >= 7 && len(ix.lookup(w.Stem, w.Norm)) == 0 || len(ix.lookup(words[i+1].Stem, words[i+1].Norm)) == 0 {
				if ms := ix.lookup(lang.Stem(joined), joined); len(ms) > 0 && len(joined) >= 7 {
					out = append(out, qword{stem: lang.Stem(joined), norm: joined, matches: ms})
					i++
					continue
				}
			}
		}
		q := qword{stem: w.Stem, norm: w.Norm, num: w.Num}
		q.matches = ix.lookup(w.Stem, w.Norm)
		if len(q.matches) == 0 && !w.Num && len(w.Norm) >= 7 {
			if a, b, ok := ix.split(w.Norm); ok {
				out = append(out, ix.word(lang.Word{Norm: a, Stem: lang.Stem(a)}), ix.word(lang.Word{Norm: b, Stem: lang.Stem(b)}))
				continue
			}
		}
		out = append(out, q)
	}
	for i := range out {
		out[i].weight = ix.weight(out[i])
	}
	return out
}

// synonymPhrase reads the longest phrase at the start of words that the synonym table knows
// (or is one typo away from, when the catalog has none of its words as written): "washing up
// liquid", "fries", "plug chrgers". It returns the phrase's matches (itself and its synonyms,
// as item sets) and the words it spans; n is 0 when no phrase is known.
func (ix *index) synonymPhrase(words []lang.Word) (phrases []phraseMatch, n int) {
	for n := min(len(words), lang.MaxSynonymWords()); n >= 1; n-- {
		stems := make([]string, n)
		for k := 0; k < n; k++ {
			if words[k].Num {
				stems = nil
				break
			}
			stems[k] = words[k].Stem
		}
		if stems == nil {
			continue
		}
		key := strings.Join(stems, " ")
		syns := lang.Synonyms(key)
		if len(syns) == 0 {
			if fixed := lang.NearestSynonymKey(key, n, ix.fine); fixed != "" {
				key, syns = fixed, lang.Synonyms(fixed)
			}
		}
		if len(syns) == 0 {
			continue
		}
		if ps := ix.phraseItems(strings.Fields(key)); len(ps) > 0 {
			phrases = append(phrases, phraseMatch{ps, matchExact})
		}
		for _, syn := range syns {
			if ps := ix.phraseItems(strings.Fields(syn)); len(ps) > 0 {
				phrases = append(phrases, phraseMatch{ps, matchSynonym})
			}
		}
		if len(phrases) == 0 {
			continue // the catalog has none of it: a shorter phrase may be known
		}
		return phrases, n
	}
	return nil, 0
}

// phraseItems are the items holding every stem of a phrase, each with the lowest field weight
// of its words.
func (ix *index) phraseItems(stems []string) []posting {
	var acc map[int32]float32
	for _, st := range stems {
		id, ok := ix.termID[st]
		if !ok {
			return nil
		}
		next := map[int32]float32{}
		for _, p := range ix.postings[id] {
			if acc == nil {
				next[p.item] = p.field
			} else if f, ok := acc[p.item]; ok {
				next[p.item] = min(f, p.field)
			}
		}
		acc = next
		if len(acc) == 0 {
			return nil
		}
	}
	out := make([]posting, 0, len(acc))
	for it, f := range acc {
		out = append(out, posting{item: it, field: f})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].item < out[j].item })
	return out
}

func (ix *index) word(w lang.Word) qword {
	return qword{stem: w.Stem, norm: w.Norm, num: w.Num, matches: ix.lookup(w.Stem, w.Norm)}
}

// split finds a split of w into two catalog words of 3+ letters.
func (ix *index) split(w string) (string, string, bool) {
	for k := 3; k <= len(w)-3; k++ {
		a, b := w[:k], w[k:]
		_, okA := ix.norms[a]
		_, okB := ix.norms[b]
		if okA && okB {
			return a, b, true
		}
	}
	return "", "", false
}

// weight is how informative a question word is: the best idf among its matches; a word that
// matches nothing counts as much as the rarest catalog word (the customer asked for something
// specific that is not here); numbers count half.
func (ix *index) weight(q qword) float32 {
	w := float32(0)
	for _, m := range q.matches {
		w = max(w, ix.idf[m.term])
	}
	for _, p := range q.phrases {
		w = max(w, float32(math.Log(1+float64(len(ix.itemNorm))/float64(len(p.items)))))
	}
	if len(q.matches) == 0 && len(q.phrases) == 0 {
		w = ix.maxIDF
	}
	if q.num {
		w *= 0.5
	}
	if packaging[q.norm] {
		w *= 0.3 // "a bag of the harringtons": the bag says little
	}
	return w
}

// scored is an item's lexical score for a question.
type scored struct {
	item     int
	coverage float32 // weighted share of the question's words found in the item, 0..1
	name     float32 // weighted share of the item's name words the question matched, 0..1
	cos      float32 // cosine of the item's vector with the question's
	score    float32
}

// score ranks items by how well they cover the question's words, best first; items that match
// no word are left out.
func (ix *index) score(s *Store, qs []qword) []scored {
	var total float32
	for _, q := range qs {
		total += q.weight
	}
	if total == 0 {
		return nil
	}
	acc := map[int32]float32{}
	// extra is what an item misses beyond a word's own weight: a word of the lexicon that names
	// a kind of thing ("dog" of "dog coats") weighs at least half the rarest word when an item
	// lacks it, so "Stress Coat" does not answer "dog coats"
	extra := map[int32]float32{}
	var missing []float32
	for _, q := range qs {
		m := q.weight
		switch {
		case q.num:
			m = max(m, ix.maxIDF) // "iphone 16 cases" are not the iPhone 15's
		case len(lang.Concepts(q.stem)) > 0 && !packaging[q.norm]:
			m = max(m, ix.maxIDF/2)
		}
		missing = append(missing, m-q.weight)
	}
	matchedName := map[int32]map[string]bool{}
	found := make([]map[int32]float32, len(qs)) // per word: the items it matched, and how well
	for qi, q := range qs {
		best := map[int32]float32{}
		for _, m := range q.matches {
			for _, p := range ix.postings[m.term] {
				v := m.quality * p.field
				if v > best[p.item] {
					best[p.item] = v
				}
				if p.field == fieldName {
					if matchedName[p.item] == nil {
						matchedName[p.item] = map[string]bool{}
					}
					matchedName[p.item][ix.terms[m.term]] = true
				}
			}
		}
		for _, pm := range q.phrases {
			for _, p := range pm.items {
				if v := pm.quality * p.field; v > best[p.item] {
					best[p.item] = v
				}
			}
		}
		for it, v := range best {
			acc[it] += q.weight * v
		}
		found[qi] = best
	}
	for qi, best := range found {
		for it := range acc {
			switch {
			case best[it] > 0:
			case packaging[qs[qi].norm]:
				extra[it] -= qs[qi].weight // "a bag of compost": compost that comes otherwise is still compost
			default:
				extra[it] += missing[qi]
			}
		}
	}
	out := make([]scored, 0, len(acc))
	for it, v := range acc {
		sc := scored{item: int(it), coverage: v / max(total+extra[it], 1e-6)}
		var nameW, hitW float32
		for _, st := range s.Items[it].nameStem {
			id, ok := ix.termID[st]
			if !ok {
				continue
			}
			w := ix.idf[id]
			if isDigits(st) {
				w *= 0.3
			}
			nameW += w
			if matchedName[it][st] {
				hitW += w
			}
		}
		if nameW > 0 {
			sc.name = hitW / nameW
		}
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.coverage != b.coverage {
			return a.coverage > b.coverage
		}
		if a.name != b.name {
			return a.name > b.name
		}
		return s.Items[a.item].SKU < s.Items[b.item].SKU
	})
	return out
}

// cosines fills the cosine of every item with v.
func (ix *index) cosines(s *Store, v embed.Vector) []float32 {
	out := make([]float32, len(s.Items))
	qn := float32(v.Norm2())
	if qn == 0 {
		return out
	}
	for i, it := range s.Items {
		if ix.itemNorm[i] == 0 {
			continue
		}
		out[i] = float32(embed.Dot(v, it.vec)) / sqrt32(qn*ix.itemNorm[i])
	}
	return out
}

// isTerm reports whether a folded word is a word of the catalog.
func (ix *index) isTerm(norm string) bool {
	if _, ok := ix.norms[norm]; ok {
		return true
	}
	_, ok := ix.termID[lang.Stem(norm)]
	return ok
}

// named reports whether a stem is a word of some product's name, brand or category (not only
// of a description): in a pet shop "dog" names products, in a pharmacy it does not.
func (ix *index) named(stem string) bool {
	id, ok := ix.termID[stem]
	if !ok {
		return false
	}
	for _, p := range ix.postings[id] {
		if p.field >= fieldCategory {
			return true
		}
	}
	return false
}

// fine reports whether a stem is surely not a typo: a common word or a catalog term.
func (ix *index) fine(stem string) bool {
	_, ok := ix.termID[stem]
	return ok || known(stem)
}

// packaging are words of how a product comes, not of what it is ("a bag of the harringtons").
var packaging = map[string]bool{"bag": true, "bags": true, "pack": true, "packs": true, "packet": true, "box": true,
	"boxes": true, "tin": true, "tins": true, "can": true, "cans": true, "bottle": true, "bottles": true, "jar": true,
	"jars": true, "tub": true, "tube": true, "roll": true, "rolls": true, "sachet": true, "sachets": true, "pot": true,
	"pots": true, "case": true, "carton": true, "one": true, "ones": true, "size": true, "refill": true}
