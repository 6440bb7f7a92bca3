package synth

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"aisle/worker/assistant/eval"
)

//go:generate go run ./cmd/aisle-synth evalset -out ../testdata/eval

// SetStore is one store of a generated set: what to generate and which questions to ask.
type SetStore struct {
	Store     StoreSpec
	Questions QuestionSpec
}

// EvalSet is the committed evaluation set (worker/assistant/testdata/eval): three held-out
// stores of the kinds the assistant must serve first. Changing it, the vocabularies or the
// generator changes the files: run `go generate ./worker/assistant/synth` and commit them
// (TestEvalSetUpToDate fails until then).
var EvalSet = []SetStore{
	{Store: StoreSpec{Kind: "grocery", Seed: 11, Split: SplitEval, Products: 56, Currency: "GBP", SKUStyle: "dash", AisleStyle: "aisle"},
		Questions: DefaultQuestionSpec(1)},
	{Store: StoreSpec{Kind: "hardware", Seed: 22, Split: SplitEval, Products: 52, Currency: "USD", SKUStyle: "descriptive", AisleStyle: "letternum"},
		Questions: DefaultQuestionSpec(2)},
	{Store: StoreSpec{Kind: "pharmacy", Seed: 33, Split: SplitEval, Products: 52, Currency: "CHF", SKUStyle: "numeric", AisleStyle: "bay"},
		Questions: DefaultQuestionSpec(3)},
}

// Generated is one generated store with its questions.
type Generated struct {
	Store     *Store
	Questions []eval.Question
}

// Generate makes every store of a set with its questions.
func Generate(set []SetStore) ([]Generated, error) {
	var out []Generated
	ids := map[string]bool{}
	for _, ss := range set {
		s, err := NewStore(ss.Store)
		if err != nil {
			return nil, err
		}
		if ids[s.ID] {
			return nil, fmt.Errorf("synth: two stores of the set are called %s", s.ID)
		}
		ids[s.ID] = true
		out = append(out, Generated{Store: s, Questions: s.Questions(ss.Questions)})
	}
	return out, nil
}

// Files renders generated stores as an evaluation directory's files: "<store-id>.json" and
// "<store-id>.questions.jsonl".
func Files(gen []Generated) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, g := range gen {
		files[g.Store.ID+".json"] = g.Store.JSON()
		var b bytes.Buffer
		if err := eval.WriteQuestions(&b, g.Questions); err != nil {
			return nil, err
		}
		files[g.Store.ID+eval.QuestionsSuffix] = b.Bytes()
	}
	return files, nil
}

// EvalSetFiles returns the files of [EvalSet], by name.
func EvalSetFiles() (map[string][]byte, error) {
	gen, err := Generate(EvalSet)
	if err != nil {
		return nil, err
	}
	return Files(gen)
}

// WriteFiles writes files into dir, in name order.
func WriteFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}
