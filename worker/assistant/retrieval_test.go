package assistant

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"aisle/worker/assistant/eval"
)

// TestRetrievalBeatsLexical measures, on the evaluation set's paraphrased and need questions
// (those whose expectation names products or a category), how often the right product is among
// the first three retrieved by: words alone (stems and typos), words and the synonym table, and
// the assistant's retrieval (words, synonyms, concepts and embeddings). The full retrieval must
// beat words alone.
func TestRetrievalBeatsLexical(t *testing.T) {
	sets, err := eval.LoadDir("testdata/eval")
	if err != nil {
		t.Fatal(err)
	}
	type tally struct{ n, lexical, synonyms, hybrid int }
	var tot tally
	for _, set := range sets {
		s := NewStore(FromStoreFile(set.Store, false), time.Now())
		for _, q := range set.Questions {
			if q.Staff || q.Conversation != "" || !(hasTag(q, "paraphrase") || hasTag(q, "need")) {
				continue
			}
			if len(q.Expect.SKUs) == 0 && q.Expect.Category == "" {
				continue
			}
			hit := func(items []*Item) int {
				for _, it := range items[:min(3, len(items))] {
					for _, sku := range q.Expect.SKUs {
						if it.SKU == sku {
							return 1
						}
					}
					if len(q.Expect.SKUs) == 0 && strings.EqualFold(it.Category, q.Expect.Category) {
						return 1
					}
				}
				return 0
			}
			p := s.parse(q.Q)
			lex := s.index.score(s, s.index.prepareWith(p.content, false))
			syn := s.index.score(s, s.index.prepareWith(p.content, true))
			var lexItems, synItems, hybItems []*Item
			for _, r := range lex {
				lexItems = append(lexItems, s.Items[r.item])
			}
			for _, r := range syn {
				synItems = append(synItems, s.Items[r.item])
			}
			for _, x := range s.relevant(s.resolve(p)) {
				hybItems = append(hybItems, x.it)
			}
			tot.n++
			tot.lexical += hit(lexItems)
			tot.synonyms += hit(synItems)
			tot.hybrid += hit(hybItems)
			if testing.Verbose() && hit(hybItems) == 0 {
				var top []string
				for _, it := range hybItems[:min(3, len(hybItems))] {
					top = append(top, it.SKU)
				}
				t.Logf("missed: %s %q (want %v %q) got %v", set.Name, q.Q, q.Expect.SKUs, q.Expect.Category, top)
			}
		}
	}
	pct := func(k int) string { return fmt.Sprintf("%d/%d (%.0f%%)", k, tot.n, 100*float64(k)/float64(tot.n)) }
	t.Logf("recall@3 on %d paraphrased and need questions: words alone %s, words and synonyms %s, words, synonyms, concepts and embeddings %s",
		tot.n, pct(tot.lexical), pct(tot.synonyms), pct(tot.hybrid))
	if tot.n < 20 {
		t.Fatalf("only %d questions to measure", tot.n)
	}
	if tot.hybrid <= tot.lexical {
		t.Errorf("the full retrieval (%d) does not beat words alone (%d)", tot.hybrid, tot.lexical)
	}
}

func hasTag(q eval.Question, tag string) bool {
	for _, t := range q.Tags {
		if t == tag {
			return true
		}
	}
	return false
}
