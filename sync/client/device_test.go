package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"aisle/sync/wire"
)

// TestDeviceHeader: the device ID travels as wire.HeaderDevice on every
// sync request (checkpoint, changes, events), and not at all without one.
func TestDeviceHeader(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Path] = r.Header.Get(wire.HeaderDevice)
		mu.Unlock()
		switch r.URL.Path {
		case "/v1/stores/s1/events":
			w.Header().Set("Content-Type", "text/event-stream")
			b, _ := json.Marshal(wire.Event{})
			w.Write([]byte("event: hello\ndata: " + string(b) + "\n\n"))
		case "/v1/stores/s1/changes":
			json.NewEncoder(w).Encode(wire.Page{})
		default:
			json.NewEncoder(w).Encode(wire.Checkpoint{})
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	id := wire.NewDeviceID()
	for _, dev := range []string{id, ""} {
		c := &Client{BaseURL: srv.URL, Device: dev}
		if _, err := c.Checkpoint(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Changes(ctx, wire.ChangesRequest{Store: "s1", Target: 1}); err != nil {
			t.Fatal(err)
		}
		_ = c.Watch(ctx, "s1", func(wire.Event) {})
		mu.Lock()
		for _, p := range []string{"/v1/stores/s1/checkpoint", "/v1/stores/s1/changes", "/v1/stores/s1/events"} {
			if v, ok := got[p]; !ok || v != dev {
				t.Errorf("device %q: %s carried %q (requested: %v)", dev, p, v, ok)
			}
		}
		clear(got)
		mu.Unlock()
	}
}
