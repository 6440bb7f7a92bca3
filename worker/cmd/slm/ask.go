package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"aisle/sync/catalog"
	"aisle/worker/assistant"
	"aisle/worker/engine"
)

// askJSON is one line of `slm ask --json`.
type askJSON struct {
	Q            string           `json:"q"`
	Conversation string           `json:"conversation,omitempty"`
	Intent       string           `json:"intent"`
	Answer       string           `json:"answer"`
	Facts        []assistant.Fact `json:"facts"`
	Phrasing     string           `json:"phrasing,omitempty"` // with -m: how the text was made
}

// questionLine is one line of the -questions file; other keys (expectations) are ignored.
type questionLine struct {
	Q            *string `json:"q"`
	Conversation string  `json:"conversation"`
}

// cmdAsk answers questions about one store:
//
//	slm ask -catalog STORE.json [-m MODEL.gguf] [--staff] [--json] QUESTION
//	slm ask -catalog STORE.json [-m MODEL.gguf] [--staff] -questions FILE.jsonl --json
func cmdAsk(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("ask")
	catalogPath := fs.String("catalog", "", "the store, one STORE.json file")
	modelPath := fs.String("m", "", "a model (GGUF) to phrase the answers; without it the text is composed from the facts")
	staff := fs.Bool("staff", false, "answer as on a staff device (staff fields available)")
	asJSON := fs.Bool("json", false, "print one JSON object per question")
	questions := fs.String("questions", "", "a JSONL file of questions: {\"q\": \"...\", \"conversation\": \"ID\"?} per line")
	noConstraint := fs.Bool("no-constraint", false, "with -m: let the model write any figure (for measuring the constraint)")
	noGate := fs.Bool("no-gate", false, "with -m: show the model's words even when they stop reading as an answer (for measuring)")
	backend := fs.String("backend", "cpu", "with -m: cpu, gpu or auto")
	threads := fs.Int("threads", 0, "with -m: CPU threads (0: all)")
	ctxLen := fs.Int("ctx", 0, "with -m: context length (0: model's, at most 4096)")
	seed := fs.Uint64("seed", 0, "with -m: sampling seed (the answers are greedy unless --temp is set)")
	temp := fs.Float64("temp", 0, "with -m: temperature (0: greedy)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *catalogPath == "" {
		return fmt.Errorf("%w: -catalog STORE.json is required", errUsage)
	}
	var asks []questionLine
	switch {
	case *questions != "" && len(rest) > 0:
		return fmt.Errorf("%w: give either -questions FILE or one QUESTION, not both", errUsage)
	case *questions != "":
		if asks, err = readQuestions(*questions); err != nil {
			return err
		}
	case len(rest) == 0:
		return fmt.Errorf("%w: no question given", errUsage)
	default:
		q := strings.Join(rest, " ")
		if strings.TrimSpace(q) == "" {
			return errors.New("the question is empty")
		}
		asks = []questionLine{{Q: &q}}
	}
	store, err := loadStore(*catalogPath, *staff)
	if err != nil {
		return err
	}
	var phraser *assistant.Phraser
	if *modelPath != "" {
		e, closeAll, err := openEngine(*modelPath, engine.Options{Threads: *threads, ContextLen: *ctxLen, Backend: *backend})
		if err != nil {
			return err
		}
		defer closeAll()
		phraser = assistant.NewPhraser(e, store)
		phraser.Unconstrained = *noConstraint
		phraser.Ungated = *noGate
		phraser.Temperature = float32(*temp)
		phraser.Seed = *seed
	}
	convs := store.Conversations()
	for _, q := range asks {
		conv := convs.Get(q.Conversation)
		a := conv.Ask(*q.Q)
		out := askJSON{Q: *q.Q, Conversation: q.Conversation, Intent: a.Intent, Answer: a.Text, Facts: a.Facts}
		if out.Facts == nil {
			out.Facts = []assistant.Fact{}
		}
		if phraser != nil {
			ph, err := phraser.Phrase(ctx, conv, a, nil)
			if err != nil {
				return err
			}
			out.Answer, out.Phrasing = ph.Text, ph.How
		}
		if *asJSON {
			if err := writeJSON(stdout, out); err != nil {
				return err
			}
		} else {
			fmt.Fprintln(stdout, out.Answer)
		}
	}
	return nil
}

// loadStore reads and indexes a STORE.json file.
func loadStore(path string, staff bool) (*assistant.Store, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, unwrapPathError(err))
	}
	defer f.Close()
	sf, err := catalog.ParseStoreFile(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, catalog.FirstProblem(err))
	}
	return assistant.NewStore(assistant.FromStoreFile(sf, staff), time.Now()), nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readQuestions reads a JSONL file of questions; a bad line is reported with its number.
func readQuestions(path string) ([]questionLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, unwrapPathError(err))
	}
	defer f.Close()
	var out []questionLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var q questionLine
		dec := json.NewDecoder(strings.NewReader(line))
		if err := dec.Decode(&q); err != nil {
			return nil, fmt.Errorf("%s: line %d: not a JSON object: %v", path, n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%s: line %d: more than one JSON value on the line", path, n)
		}
		if q.Q == nil {
			return nil, fmt.Errorf("%s: line %d: q: is required", path, n)
		}
		if strings.TrimSpace(*q.Q) == "" {
			return nil, fmt.Errorf("%s: line %d: q: is empty", path, n)
		}
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no questions in the file", path)
	}
	return out, nil
}
