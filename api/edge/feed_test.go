package edge_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"aisle/api/edge"
	"aisle/sync/catalog"
)

// TestFeedBatchesRetriesAndReplays: the whole log in batches of 7 rows,
// through an edge that fails every third ingest; each failed round is
// taken up by the next from where the edge stands, a round run twice
// changes nothing, and the edge then answers as the origin does.
func TestFeedBatchesRetriesAndReplays(t *testing.T) {
	var ingests, failed atomic.Int64
	var failing atomic.Bool
	failing.Store(true)
	flaky := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path == "/_edge/ingest" && ingests.Add(1)%3 == 0 && failing.Load() {
				failed.Add(1)
				http.Error(w, "injected failure", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, req)
		})
	}
	r := newRigOpts(t, rigOpts{wrapEdge: flaky, feed: edge.FeedConfig{BatchRows: 7}, noFeed: true})
	ctx := context.Background()
	rounds := 0
	for ; ; rounds++ {
		err := r.Feeder.Round(ctx)
		if err == nil {
			break
		}
		if !catalog.IsCode(err, catalog.Unavailable) || rounds > 100 {
			t.Fatalf("round %d: %v", rounds, err)
		}
	}
	head, _, err := r.Store.EdgeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var st edge.State
	r.do(r.EdgeURL, "GET", "/_edge/state", testSecret, nil).want(t, 200).JSON(t, &st)
	if st.Log != head || st.Checkpoints["demo"] != 1 || ingests.Load() < head/7 || failed.Load() == 0 {
		t.Fatalf("after %d rounds (%d ingests, %d failed): edge state %+v, origin head %d", rounds, ingests.Load(), failed.Load(), st, head)
	}
	t.Logf("fed in %d rounds: %d ingests, %d failed; log up to %d", rounds+1, ingests.Load(), failed.Load(), head)
	cp := r.checkpoint(t)
	before := r.sameAnswer(t, "GET", fmt.Sprintf("/v1/stores/demo/changes?target=%d&limit=5000", cp.Version), "")
	// Replays: every batch again from the start of the log.
	failing.Store(false)
	for _, after := range []int64{0, head / 2} {
		rows, err := r.Store.EdgeLog(ctx, after, head, edge.MaxBatchRows)
		if err != nil {
			t.Fatal(err)
		}
		r.do(r.EdgeURL, "POST", "/_edge/ingest", testSecret, edge.Batch{After: after, Through: head, Changes: rows}).want(t, 200)
	}
	if err := r.Feeder.Round(ctx); err != nil {
		t.Fatal(err)
	}
	after := r.sameAnswer(t, "GET", fmt.Sprintf("/v1/stores/demo/changes?target=%d&limit=5000", cp.Version), "")
	if string(before.Body) != string(after.Body) {
		t.Fatal("replayed batches changed a page")
	}
}

// TestIngestRefuses: a batch with a gap, or one that breaks its own rules,
// is refused whole.
func TestIngestRefuses(t *testing.T) {
	base := newNativeEdge(t, nil)
	r := &rig{t: t}
	ok := edge.LogRow{Version: 1, Scope: "demo", Kind: "store", ID: "demo", Data: `{"id":"demo"}`}
	cp := []map[string]any{{"store": "demo", "seq": 1, "version": 1, "published_at": "2026-12-07T00:00:00Z", "reason": "manual"}}
	for _, tc := range []struct {
		name string
		body any
		code string
	}{
		{"gap", edge.Batch{After: 5, Through: 6}, "conflict"},
		{"row outside (after, through]", edge.Batch{After: 0, Through: 1, Changes: []edge.LogRow{{Version: 2, Scope: "demo", Kind: "store", ID: "demo", Data: "{}"}}}, "invalid"},
		{"unknown kind", edge.Batch{Through: 1, Changes: []edge.LogRow{{Version: 1, Kind: "secret", ID: "x", Data: "{}"}}}, "invalid"},
		{"tombstone with data", edge.Batch{Through: 1, Changes: []edge.LogRow{{Version: 1, Kind: "store", ID: "x", Deleted: true, Data: "{}"}}}, "invalid"},
		{"data not JSON", edge.Batch{Through: 1, Changes: []edge.LogRow{{Version: 1, Kind: "store", ID: "x", Data: "{"}}}, "invalid"},
		{"checkpoint above the batch", map[string]any{"after": 0, "through": 0, "checkpoints": cp}, "invalid"},
		{"admin credential", edge.Batch{Through: 1, Credentials: []edge.Credential{{Hash: fmt.Sprintf("%064d", 1), ID: "tok_a", Role: "admin", Store: "demo"}}}, "invalid"},
		{"not JSON", "{", "invalid"},
	} {
		a := r.do(base, "POST", "/_edge/ingest", testSecret, tc.body)
		if a.ErrCode() != tc.code {
			t.Errorf("%s: %d %s, want %s", tc.name, a.Status, a.Body, tc.code)
		}
	}
	r.do(base, "POST", "/_edge/ingest", testSecret, edge.Batch{Through: 1, Changes: []edge.LogRow{ok}}).want(t, 200)
	var st edge.State
	r.do(base, "GET", "/_edge/state", testSecret, nil).want(t, 200).JSON(t, &st)
	if st.Log != 1 {
		t.Fatalf("state after one good batch: %+v", st)
	}
}

// TestPanicIsInternal: a handler that panics (here: no database) answers
// 500 with the origin's error body instead of ending the Worker's instance.
func TestPanicIsInternal(t *testing.T) {
	h := &edge.Handler{Edge: &edge.Edge{}, Log: quietLogger()}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/stores/demo/checkpoint", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"code":"internal"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
