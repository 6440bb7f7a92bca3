package assistant

import (
	"encoding/json"
	"time"

	"testing"

	"aisle/sync/catalog"
	"aisle/worker/assistant/eval"
)

// askDeterministic answers eval rows with the deterministic path, in process, as `slm ask`
// does without -m.
func askDeterministic(sf *catalog.StoreFile, rows []eval.Question, staff bool) ([]eval.Output, error) {
	convs := NewStore(FromStoreFile(sf, staff), time.Now()).Conversations()
	var out []eval.Output
	for _, r := range rows {
		a := convs.Get(r.Conversation).Ask(r.Q)
		// through JSON, as slm prints it
		b, err := json.Marshal(struct {
			Q string `json:"q"`
			Answer
		}{r.Q, a})
		if err != nil {
			return nil, err
		}
		var o eval.Output
		if err := json.Unmarshal(b, &o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// minAccuracy is the share of the evaluation set the deterministic path must answer right.
const minAccuracy = 0.98

// TestEvaluation runs the evaluation set (testdata/eval: generated stores of three kinds and a
// hand-written set) on the deterministic path: any wrong figure or staff leak fails, and so
// does an accuracy under minAccuracy.
func TestEvaluation(t *testing.T) {
	rep := eval.Run(t, "testdata/eval", askDeterministic)
	tot := rep.Total()
	t.Logf("deterministic path: %d/%d correct (%.1f%%), %d wrong figures", tot.Correct, tot.Total, 100*tot.Accuracy(), tot.WrongFigures)
	if acc := tot.Accuracy(); acc < minAccuracy {
		for _, r := range rep.Failures() {
			t.Log(r.Line())
		}
		t.Errorf("accuracy %.3f, want at least %.2f", acc, minAccuracy)
	}
}
