package sw

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"aisle/sync/catalog"
	"aisle/worker/browser/wire"
)

// Conversations keeps the customer's conversations with the store assistant on the device: they
// survive reloads and restarts and never leave it (the service worker answers these requests
// itself):
//
//	GET    /aisle/conversations?store=ID        {"conversations": [Conversation...]}, newest first
//	PUT    /aisle/conversations/CID?store=ID    save one (body: {"title", "messages"}); 200 with it
//	DELETE /aisle/conversations/CID?store=ID    delete one
//	DELETE /aisle/conversations?store=ID        delete all of the store's
//
// A store keeps its MaxConversations newest conversations.
type Conversations struct {
	Storage ConversationStorage
	Now     func() time.Time // default time.Now
}

// ConversationStorage holds one record per store (JSON of its conversations): IndexedDB in the
// browser (webapi.Conversations).
type ConversationStorage interface {
	// Get returns the store's record, nil when it has none.
	Get(ctx context.Context, store string) ([]byte, error)
	// Put replaces the store's record (nil deletes it).
	Put(ctx context.Context, store string, record []byte) error
}

// Conversation is one conversation with the store assistant.
type Conversation struct {
	ID       string                `json:"id"`
	Title    string                `json:"title"`   // its first question, as the page shows it in the list
	Updated  int64                 `json:"updated"` // Unix ms of the last save
	Messages []ConversationMessage `json:"messages"`
}

// ConversationMessage is one turn: the customer's question or the assistant's answer, with the
// answer's structured facts (the page's cards) as the chat endpoint sent them.
type ConversationMessage struct {
	Role    string          `json:"role"` // "user" or "assistant"
	Content string          `json:"content"`
	Answer  json.RawMessage `json:"answer,omitempty"`
}

// Limits of what is kept.
const (
	MaxConversations        = 50
	MaxConversationMessages = 400
	MaxConversationBytes    = 1 << 20 // one conversation's JSON
)

func (c *Conversations) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Conversations) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	store := r.URL.Query().Get("store")
	if !catalog.ValidID(store) {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "store", wire.CodeInvalid, fmt.Sprintf("invalid store id %q", store))
		return
	}
	id, one := strings.CutPrefix(r.URL.Path, "/aisle/conversations/")
	if one && !validConversationID(id) {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "id", wire.CodeInvalid, fmt.Sprintf("invalid conversation id %q", id))
		return
	}
	ctx := r.Context()
	list, err := c.load(ctx, store)
	if err != nil {
		writeWireError(w, wire.AsError(err))
		return
	}
	switch {
	case r.Method == http.MethodGet && !one:
		writeJSON(w, http.StatusOK, map[string]any{"conversations": list})
	case r.Method == http.MethodPut && one:
		var in Conversation
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxConversationBytes+1))
		if err == nil && len(body) > MaxConversationBytes {
			err = fmt.Errorf("a conversation is at most %d bytes", MaxConversationBytes)
		}
		if err == nil {
			err = json.Unmarshal(body, &in)
		}
		if err == nil {
			err = checkConversation(in)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", wire.CodeInvalid, "conversation: "+err.Error())
			return
		}
		in.ID, in.Updated = id, c.now().UnixMilli()
		list = slices.DeleteFunc(list, func(x Conversation) bool { return x.ID == id })
		list = append([]Conversation{in}, list...)
		if err := c.save(ctx, store, list); err != nil {
			writeWireError(w, wire.AsError(err))
			return
		}
		writeJSON(w, http.StatusOK, in)
	case r.Method == http.MethodDelete:
		if one {
			list = slices.DeleteFunc(list, func(x Conversation) bool { return x.ID == id })
		} else {
			list = nil
		}
		if err := c.save(ctx, store, list); err != nil {
			writeWireError(w, wire.AsError(err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "deleted"})
	default:
		w.Header().Set("Allow", "GET, PUT, DELETE")
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "", wire.CodeInvalid, r.Method+" is not allowed here")
	}
}

// load returns the store's conversations, newest first. A damaged record is an error, not an
// empty list: a save would otherwise overwrite what may still be read by a fixed version.
func (c *Conversations) load(ctx context.Context, store string) ([]Conversation, error) {
	b, err := c.Storage.Get(ctx, store)
	if err != nil || b == nil {
		return nil, err
	}
	var list []Conversation
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, wire.Errorf(wire.CodeInternal, "the stored conversations of %s cannot be read: %v", store, err)
	}
	slices.SortStableFunc(list, func(a, b Conversation) int { return cmp.Compare(b.Updated, a.Updated) })
	return list, nil
}

func (c *Conversations) save(ctx context.Context, store string, list []Conversation) error {
	if len(list) > MaxConversations {
		list = list[:MaxConversations]
	}
	if len(list) == 0 {
		return c.Storage.Put(ctx, store, nil)
	}
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return c.Storage.Put(ctx, store, b)
}

func validConversationID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func checkConversation(c Conversation) error {
	if len(c.Messages) > MaxConversationMessages {
		return fmt.Errorf("%d messages, at most %d are kept", len(c.Messages), MaxConversationMessages)
	}
	for i, m := range c.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Errorf("messages[%d].role %q: want user or assistant", i, m.Role)
		}
		if a := bytes.TrimSpace(m.Answer); len(a) > 0 && a[0] != '{' && string(a) != "null" {
			return fmt.Errorf("messages[%d].answer: want the answer's object", i)
		}
	}
	if len(c.Title) > 200 {
		return fmt.Errorf("a title of %d bytes, at most 200", len(c.Title))
	}
	return nil
}
