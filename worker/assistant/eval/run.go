package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"aisle/sync/catalog"
)

// AskFunc answers rows of questions of one store on one kind of device (staff or customer), in
// order, one Output per row: a row with a Conversation continues the earlier rows of that
// conversation. The rows carry only ID, Q, Conversation and Staff: never the expectation.
type AskFunc func(store *catalog.StoreFile, rows []Question, staff bool) ([]Output, error)

// Ask asks every question of set: the customer rows in one call and the staff rows in another,
// each in file order, and returns the outputs in question order.
func Ask(set Set, ask AskFunc) ([]Output, error) {
	out := make([]Output, len(set.Questions))
	for _, staff := range []bool{false, true} {
		var rows []Question
		var at []int
		for i, q := range set.Questions {
			if q.Staff == staff {
				rows = append(rows, Question{ID: q.ID, Q: q.Q, Conversation: q.Conversation, Staff: q.Staff})
				at = append(at, i)
			}
		}
		if len(rows) == 0 {
			continue
		}
		outs, err := ask(set.Store, rows, staff)
		if err != nil {
			return nil, fmt.Errorf("%s (staff %v): %w", set.Name, staff, err)
		}
		if len(outs) != len(rows) {
			return nil, fmt.Errorf("%s (staff %v): %d outputs for %d questions", set.Name, staff, len(outs), len(rows))
		}
		for j, o := range outs {
			out[at[j]] = o
		}
	}
	return out, nil
}

// Evaluate asks and scores every set.
func Evaluate(sets []Set, ask AskFunc) (Report, error) {
	var reps []Report
	for _, s := range sets {
		outs, err := Ask(s, ask)
		if err != nil {
			return Report{}, err
		}
		reps = append(reps, Score(s.Store, s.Questions, outs))
	}
	return Merge(reps...), nil
}

// Run is the assistant's test entry point: it asks every set of dir (see [LoadDir]) through
// ask, logs the Markdown report, fails the test for every answer with a wrong figure or a
// staff leak, and returns the report so the caller can hold accuracy to its own bar, e.g.
//
//	rep := eval.Run(t, "testdata/eval", ask)
//	if acc := rep.Total().Accuracy(); acc < 0.9 { t.Errorf("accuracy %.3f", acc) }
func Run(t testing.TB, dir string, ask AskFunc) Report {
	t.Helper()
	sets, err := LoadDir(dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	rep, err := Evaluate(sets, ask)
	if err != nil {
		t.Fatalf("ask: %v", err)
	}
	t.Logf("evaluation of %s:\n%s", dir, rep.Markdown(200))
	for _, r := range rep.Dangerous() {
		t.Errorf("%s", r.Line())
	}
	return rep
}

// SLM returns an AskFunc that runs the CLI:
//
//	BIN ask -catalog STORE.json [-m MODEL] [--staff] -questions FILE --json [extra...]
//
// with the store written to a temporary STORE.json and the rows (q and conversation only) to a
// temporary questions file. bin may hold arguments ("go run ./worker/cmd/slm").
func SLM(ctx context.Context, bin, model string, extra ...string) AskFunc {
	return func(store *catalog.StoreFile, rows []Question, staff bool) ([]Output, error) {
		dir, err := os.MkdirTemp("", "aisle-eval-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		storePath, qPath := filepath.Join(dir, "STORE.json"), filepath.Join(dir, "questions.jsonl")
		var sb bytes.Buffer
		if err := WriteStoreFile(&sb, store); err != nil {
			return nil, err
		}
		if err := os.WriteFile(storePath, sb.Bytes(), 0o644); err != nil {
			return nil, err
		}
		var qb bytes.Buffer
		enc := json.NewEncoder(&qb)
		enc.SetEscapeHTML(false)
		for _, r := range rows {
			line := struct {
				Q            string `json:"q"`
				Conversation string `json:"conversation,omitempty"`
			}{r.Q, r.Conversation}
			if err := enc.Encode(line); err != nil {
				return nil, err
			}
		}
		if err := os.WriteFile(qPath, qb.Bytes(), 0o644); err != nil {
			return nil, err
		}
		argv := strings.Fields(bin)
		if len(argv) == 0 {
			return nil, fmt.Errorf("no slm command")
		}
		args := append(argv[1:], "ask", "-catalog", storePath)
		if model != "" {
			args = append(args, "-m", model)
		}
		if staff {
			args = append(args, "--staff")
		}
		args = append(args, "-questions", qPath, "--json")
		args = append(args, extra...)
		cmd := exec.CommandContext(ctx, argv[0], args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s: %v: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(stderr.String()))
		}
		outs, err := ReadOutputs(&stdout)
		if err != nil {
			return nil, fmt.Errorf("slm output: %w", err)
		}
		return outs, nil
	}
}
