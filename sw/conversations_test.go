package sw

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"aisle/worker/browser/wire"
)

// memConversations is a ConversationStorage in memory; full makes Put fail as a full quota does.
type memConversations struct {
	m    map[string][]byte
	full bool
}

func (s *memConversations) Get(_ context.Context, store string) ([]byte, error) {
	return s.m[store], nil
}

func (s *memConversations) Put(_ context.Context, store string, b []byte) error {
	if s.full {
		return wire.Errorf(wire.CodeQuota, "the browser refused to store more data")
	}
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	if b == nil {
		delete(s.m, store)
	} else {
		s.m[store] = b
	}
	return nil
}

func convDo(t *testing.T, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}

func TestConversations(t *testing.T) {
	storage := &memConversations{}
	clock := time.UnixMilli(1_700_000_000_000)
	app := &App{Conversations: &Conversations{Storage: storage, Now: func() time.Time { clock = clock.Add(time.Second); return clock }}}
	list := func(store string) []Conversation {
		t.Helper()
		rec := convDo(t, app, "GET", "/aisle/conversations?store="+store, "")
		var out struct{ Conversations []Conversation }
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
			t.Fatalf("list: %d %s", rec.Code, rec.Body)
		}
		return out.Conversations
	}
	if got := list("demo"); len(got) != 0 {
		t.Fatalf("empty device lists %v", got)
	}
	first := `{"title":"how much is the baguette?","messages":[{"role":"user","content":"how much is the baguette?"},` +
		`{"role":"assistant","content":"It is €1.25.","answer":{"intent":"price","facts":[{"type":"product","sku":"BAGUETTE"}]}}]}`
	if rec := convDo(t, app, "PUT", "/aisle/conversations/c1?store=demo", first); rec.Code != 200 {
		t.Fatalf("save: %d %s", rec.Code, rec.Body)
	}
	convDo(t, app, "PUT", "/aisle/conversations/c2?store=demo", `{"title":"hello","messages":[{"role":"user","content":"hello"}]}`)
	convDo(t, app, "PUT", "/aisle/conversations/x1?store=other", `{"title":"elsewhere","messages":[]}`)
	got := list("demo")
	if len(got) != 2 || got[0].ID != "c2" || got[1].ID != "c1" || len(got[1].Messages) != 2 ||
		!strings.Contains(string(got[1].Messages[1].Answer), "BAGUETTE") || got[0].Updated <= got[1].Updated {
		t.Fatalf("after two saves: %+v", got)
	}
	// saving c1 again moves it to the top
	convDo(t, app, "PUT", "/aisle/conversations/c1?store=demo", first)
	if got := list("demo"); got[0].ID != "c1" {
		t.Errorf("the last saved is not first: %v", got[0].ID)
	}
	// bad input is refused and loses nothing
	for _, bad := range []struct{ path, body string }{
		{"/aisle/conversations/c3?store=demo", `{"messages":[{"role":"system","content":"x"}]}`},
		{"/aisle/conversations/c3?store=demo", `{"messages":[`},
		{"/aisle/conversations/c3?store=demo", `{"messages":[{"role":"assistant","content":"x","answer":"{"}]}`},
		{"/aisle/conversations/../x?store=demo", `{}`},
		{"/aisle/conversations/c3?store=", `{}`},
		{"/aisle/conversations/c3?store=demo", `{"title":"` + strings.Repeat("x", MaxConversationBytes) + `"}`},
	} {
		if rec := convDo(t, app, "PUT", bad.path, bad.body); rec.Code != 400 {
			t.Errorf("PUT %s %.40s: %d, want 400", bad.path, bad.body, rec.Code)
		}
	}
	storage.full = true
	if rec := convDo(t, app, "PUT", "/aisle/conversations/c4?store=demo", first); rec.Code < 400 || !strings.Contains(rec.Body.String(), string(wire.CodeQuota)) {
		t.Errorf("a full quota: %d %s", rec.Code, rec.Body)
	}
	storage.full = false
	if got := list("demo"); len(got) != 2 {
		t.Errorf("after refused saves: %d conversations, want 2", len(got))
	}
	// delete one, then all; other stores keep theirs
	convDo(t, app, "DELETE", "/aisle/conversations/c2?store=demo", "")
	if got := list("demo"); len(got) != 1 || got[0].ID != "c1" {
		t.Errorf("after deleting c2: %+v", got)
	}
	convDo(t, app, "DELETE", "/aisle/conversations?store=demo", "")
	if got := list("demo"); len(got) != 0 || len(list("other")) != 1 {
		t.Errorf("after deleting all of demo: demo %d, other %d", len(got), len(list("other")))
	}
	// a store keeps its newest MaxConversations
	for i := range MaxConversations + 5 {
		convDo(t, app, "PUT", fmt.Sprintf("/aisle/conversations/n%d?store=demo", i), `{"title":"q","messages":[]}`)
	}
	if got := list("demo"); len(got) != MaxConversations || got[0].ID != fmt.Sprintf("n%d", MaxConversations+4) {
		t.Errorf("kept %d conversations, newest %s", len(got), got[0].ID)
	}
	// a damaged record is reported, not overwritten
	storage.m["demo"] = []byte("{not json")
	if rec := convDo(t, app, "PUT", "/aisle/conversations/c9?store=demo", first); rec.Code < 500 || string(storage.m["demo"]) != "{not json" {
		t.Errorf("save over a damaged record: %d, record %q", rec.Code, storage.m["demo"])
	}
}
