package edge_test

import "testing"

// The scenarios against a native edge: edge.Handler on SQLite over
// httptest, fed by a real origin. workerd_test.go runs them on the Worker.

func TestNativeSameAnswers(t *testing.T) { testSameAnswers(t, newRig(t, nil)) }

func TestNativeClientSync(t *testing.T) { testClientSync(t, newRig(t, nil)) }

func TestNativeNoStaffLeak(t *testing.T) { testNoStaffLeak(t, newRig(t, nil)) }

func TestNativePushThenEdge(t *testing.T) { testPushThenEdge(t, newRig(t, nil)) }
