package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"aisle/sync/catalog"
)

// QuestionsSuffix ends the name of a questions file; the store file beside it is
// "<store-id>.json".
const QuestionsSuffix = ".questions.jsonl"

// Set is one store and its questions.
type Set struct {
	Name          string // the file stem: the store ID
	StorePath     string
	QuestionsPath string
	Store         *catalog.StoreFile
	Questions     []Question
}

// ReadQuestions reads a questions file: one JSON object per line; blank lines are skipped.
// Every row is validated ([Question.Validate]) and a conversation may not mix devices.
func ReadQuestions(r io.Reader) ([]Question, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var out []Question
	device := map[string]bool{}
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var q Question
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&q); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if err := q.Validate(); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if q.Conversation != "" {
			if staff, seen := device[q.Conversation]; seen && staff != q.Staff {
				return nil, fmt.Errorf("line %d: conversation %q mixes staff and customer devices", line, q.Conversation)
			}
			device[q.Conversation] = q.Staff
		}
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read questions: %w", err)
	}
	return out, nil
}

// WriteQuestions writes one question per line, with "&", "<" and ">" left as they are.
func WriteQuestions(w io.Writer, qs []Question) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, q := range qs {
		if err := enc.Encode(q); err != nil {
			return err
		}
	}
	return nil
}

// ReadOutputs reads `slm ask --json` output: a stream of JSON objects (one per line or
// pretty-printed).
func ReadOutputs(r io.Reader) ([]Output, error) {
	dec := json.NewDecoder(r)
	var out []Output
	for {
		var o Output
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("output %d: %w", len(out)+1, err)
		}
		out = append(out, o)
	}
}

// LoadSet reads a store file and its questions.
func LoadSet(storePath, questionsPath string) (Set, error) {
	s := Set{Name: strings.TrimSuffix(filepath.Base(storePath), ".json"), StorePath: storePath, QuestionsPath: questionsPath}
	f, err := os.Open(storePath)
	if err != nil {
		return s, err
	}
	defer f.Close()
	s.Store, err = catalog.ParseStoreFile(f)
	if err != nil {
		return s, fmt.Errorf("%s: %s", storePath, catalog.FirstProblem(err))
	}
	qf, err := os.Open(questionsPath)
	if err != nil {
		return s, err
	}
	defer qf.Close()
	s.Questions, err = ReadQuestions(qf)
	if err != nil {
		return s, fmt.Errorf("%s: %w", questionsPath, err)
	}
	return s, nil
}

// LoadDir reads every "<id>.questions.jsonl" of dir with its "<id>.json", sorted by name.
func LoadDir(dir string) ([]Set, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*"+QuestionsSuffix))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no *%s files", dir, QuestionsSuffix)
	}
	sort.Strings(names)
	var sets []Set
	for _, qp := range names {
		sp := strings.TrimSuffix(qp, QuestionsSuffix) + ".json"
		s, err := LoadSet(sp, qp)
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	return sets, nil
}

// WriteStoreFile writes sf as STORE.json (what `slm ask -catalog` reads): catalog.WriteStoreFile.
func WriteStoreFile(w io.Writer, sf *catalog.StoreFile) error { return catalog.WriteStoreFile(w, sf) }
