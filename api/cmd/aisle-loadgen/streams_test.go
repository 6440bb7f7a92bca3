package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"aisle/api/server"
	"aisle/sync/wire"
)

// TestStreams runs the streams mode with a few devices on SQLite and checks
// correctness, not timing: every stream opened and got its hello, every
// device heard the publish exactly once and applied it, and every replica
// holds the same contents as a reference replica.
func TestStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and a devices' process")
	}
	const n = 200
	res, err := streamsRun(streamsOptions{DB: "sqlite", Streams: n, Pullers: 8, Timeout: time.Minute, Stderr: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if !res.OK() {
		t.Fatalf("errors %d, problems: %q", res.Errors, res.Problems)
	}
	if res.Opened != n || res.HubStreams != n || res.NotifiedCount != n || res.SyncedCount != n {
		t.Errorf("opened %d, hub %d, notified %d, synced %d; want %d each", res.Opened, res.HubStreams, res.NotifiedCount, res.SyncedCount, n)
	}
	if res.Target.Seq != 2 {
		t.Errorf("target checkpoint seq %d, want 2", res.Target.Seq)
	}
	if res.NotifyMaxMs <= 0 || res.AllSyncedMs < res.NotifyP50Ms {
		t.Errorf("implausible times: notified max %.1f ms, all synced %.1f ms", res.NotifyMaxMs, res.AllSyncedMs)
	}
	if res.ServerPerStream.Goroutines < 1 {
		t.Errorf("server goroutines per stream %.2f, want at least 1", res.ServerPerStream.Goroutines)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b))
	return len(b), nil
}

// TestStreamsCatchesDoubles checks that the checks are not vacuous: a
// second checkpoint event after the publish is reported.
func TestStreamsCatchesDoubles(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and a devices' process")
	}
	res, err := streamsRun(streamsOptions{DB: "sqlite", Streams: 20, Pullers: 4, Timeout: time.Minute, Stderr: testWriter{t},
		afterPublish: func(h *server.Hub, cp wire.Checkpoint) {
			cp.Seq++
			h.Broadcast(cp)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Fatalf("a doubled event went unnoticed: %+v", res)
	}
	if !slices.ContainsFunc(res.Problems, func(p string) bool { return strings.Contains(p, "expected exactly 1 each") }) {
		t.Errorf("problems %q do not report the doubled event", res.Problems)
	}
}
