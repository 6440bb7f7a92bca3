package assistant

import (
	"testing"

	"aisle/worker/assistant/eval"
)

// TestIndependentEvaluation runs the hand-written sets of testdata/eval-independent (stores and
// questions written by someone who never saw this package's code, and never used to tune it):
// a measure of how the assistant does on stores it was not built against. Any wrong figure or
// staff leak fails; the accuracy is reported (README), held to a lower bar than the tuning set.
func TestIndependentEvaluation(t *testing.T) {
	rep := eval.Run(t, "testdata/eval-independent", askDeterministic)
	tot := rep.Total()
	t.Logf("independent sets: %d/%d correct (%.1f%%), %d wrong figures", tot.Correct, tot.Total, 100*tot.Accuracy(), tot.WrongFigures)
	if acc := tot.Accuracy(); acc < minIndependentAccuracy {
		t.Errorf("accuracy %.3f on the independent sets, want at least %.2f", acc, minIndependentAccuracy)
	}
}

// minIndependentAccuracy is the bar on stores the assistant was not tuned on.
const minIndependentAccuracy = 0.80
