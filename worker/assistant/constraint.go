package assistant

import (
	"sort"
	"strings"

	"aisle/worker/assistant/embed"
	"aisle/worker/assistant/lang"
	"aisle/worker/constrain"
	"aisle/worker/tokenizer"
)

// maxForbidden bounds the product names an answer forbids (the closest ones in a large store).
const maxForbidden = 400

// Rules are what a model may state in an answer: the figures of its facts (as the deterministic
// text writes them, and with a decimal comma), and not the name of a product of the store that
// is not among its facts.
func (s *Store) Rules(a Answer) constrain.Rules {
	var r constrain.Rules
	seen := map[string]bool{}
	for _, f := range FactFigures(a) {
		for _, v := range []string{f, strings.Replace(f, ".", ",", 1)} {
			if !seen[v] {
				seen[v] = true
				r.Figures = append(r.Figures, v)
			}
		}
	}
	// names of the facts' products may be said, in whole or in part
	allowed := map[string]bool{}
	var heads [][]string
	for _, it := range a.items {
		h := nameHead(it.Name)
		heads = append(heads, h)
		allowed[strings.Join(h, " ")] = true
	}
	for _, f := range a.Facts {
		if f.Type == "product" {
			h := nameHead(f.Name)
			heads = append(heads, h)
			allowed[strings.Join(h, " ")] = true
		}
	}
	for _, it := range s.forbiddenCandidates(a) {
		h := nameHead(it.Name)
		key := strings.Join(h, " ")
		if len(h) == 0 || allowed[key] || seen["name:"+key] || overlapsAny(h, heads) {
			continue
		}
		seen["name:"+key] = true
		r.Forbidden = append(r.Forbidden, h)
	}
	return r
}

// Constraint is the per-token filter that holds a model's words to the answer's rules.
func (s *Store) Constraint(tok *tokenizer.Tokenizer, a Answer) *constrain.State {
	return constrain.NewState(constrain.Prepare(tok), s.Rules(a))
}

// nameHead is the part of a product name a customer would call it by: the folded words before
// the first figure or comma ("Ibuprofen 400 mg, 20 tablets" -> ["ibuprofen"]).
func nameHead(name string) []string {
	if i := strings.IndexByte(name, ','); i >= 0 {
		name = name[:i]
	}
	var out []string
	for _, w := range lang.Words(name) {
		if w.Num {
			break
		}
		out = append(out, w.Norm)
	}
	return out
}

// overlapsAny reports whether h and one of heads share a word sequence at their start ("whole
// milk" and "whole milk half gallon"): forbidding h would forbid words of an allowed name.
func overlapsAny(h []string, heads [][]string) bool {
	for _, o := range heads {
		n := min(len(h), len(o))
		if n == 0 {
			continue
		}
		same := true
		for i := 0; i < n; i++ {
			if h[i] != o[i] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

// forbiddenCandidates are the products whose names the model must not say for answer a: every
// other product of a small store, the nearest ones of a large one (the facts' categories first,
// then by embedding).
func (s *Store) forbiddenCandidates(a Answer) []*Item {
	inFacts := map[string]bool{}
	for _, f := range a.Facts {
		if f.Type == "product" {
			inFacts[f.SKU] = true
		}
	}
	if len(s.Items) <= maxForbidden {
		var out []*Item
		for _, it := range s.Items {
			if !inFacts[it.SKU] {
				out = append(out, it)
			}
		}
		return out
	}
	cats := map[string]bool{}
	var probe embed.Vector
	for _, it := range a.items {
		cats[strings.ToLower(it.Category)] = true
		if probe == nil {
			probe = it.vec
		}
	}
	type cand struct {
		it    *Item
		score float32
	}
	var cs []cand
	for _, it := range s.Items {
		if inFacts[it.SKU] {
			continue
		}
		sc := float32(0)
		if cats[strings.ToLower(it.Category)] {
			sc = 2
		}
		if probe != nil {
			sc += embed.Cosine(probe, it.vec)
		}
		cs = append(cs, cand{it, sc})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].score > cs[j].score })
	var out []*Item
	for _, c := range cs[:min(len(cs), maxForbidden)] {
		out = append(out, c.it)
	}
	return out
}
