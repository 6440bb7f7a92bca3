// Package wire defines the messages exchanged between the service worker and the dedicated
// inference worker through MessagePorts. Both ends are Go; every message travels as one JSON
// string (Msg), so the JavaScript in between only moves strings and ports.
//
// Protocol (one MessageChannel per chat request, created by the service worker):
//
//	control port (page hands it to both sides):
//	  SW -> worker  {"kind":"chat","chat":{...}}   + the request's reply port, transferred
//	  SW -> worker  {"kind":"ping"}                + a reply port; the worker answers "pong" on it
//	reply port:
//	  worker -> SW  "accepted" at once, then "beat" at least every BeatInterval while loading or
//	                generating, "delta" per piece of text, and finally "done" or "error"
//	  SW -> worker  "cancel" when the HTTP client went away
//
// A silent reply port means a dead worker: the service worker gives up after AcceptTimeout
// without "accepted" and after SilenceTimeout without any message.
//
// Go compiled to wasm cannot answer while it computes (loading a model, a long prefill): the
// worker's event loop is blocked. Before such a phase the worker posts the plain string
// ControlBusy on its control ports, and ControlIdle after it; while busy the service worker
// waits up to BusyLimit instead of the timeouts above.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"aisle/worker/chat"
)

// Timing contract of the reply port.
const (
	BeatInterval   = 500 * time.Millisecond
	AcceptTimeout  = 3 * time.Second
	SilenceTimeout = 10 * time.Second
	BusyLimit      = 3 * time.Minute
)

// Control-port notices of the worker (plain strings, not Msg).
const (
	ControlBusy = "busy"
	ControlIdle = "idle"
)

// Message kinds.
const (
	KindChat     = "chat"
	KindPing     = "ping"
	KindPong     = "pong"
	KindCancel   = "cancel"
	KindAccepted = "accepted"
	KindBeat     = "beat"
	KindDelta    = "delta"
	KindDone     = "done"
	KindError    = "error"
)

// Msg is one message on a port. Exactly the field named by Kind is set (none for ping, pong,
// cancel, accepted, beat).
type Msg struct {
	Kind  string       `json:"kind"`
	Chat  *ChatRequest `json:"chat,omitempty"`
	Delta *Delta       `json:"delta,omitempty"`
	Done  *Result      `json:"done,omitempty"`
	Error *Error       `json:"error,omitempty"`
	Beat  *Beat        `json:"beat,omitempty"`
}

// Encode returns the JSON form of m.
func (m Msg) Encode() string {
	b, err := json.Marshal(m)
	if err != nil { // only plain fields: cannot happen
		panic(err)
	}
	return string(b)
}

// Decode parses a message and checks that its kind is known and its payload present.
func Decode(s string) (Msg, error) {
	var m Msg
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return Msg{}, fmt.Errorf("wire: %w", err)
	}
	var ok bool
	switch m.Kind {
	case KindPing, KindPong, KindCancel, KindAccepted, KindBeat:
		ok = true
	case KindChat:
		ok = m.Chat != nil
	case KindDelta:
		ok = m.Delta != nil
	case KindDone:
		ok = m.Done != nil
	case KindError:
		ok = m.Error != nil
	}
	if !ok {
		return Msg{}, fmt.Errorf("wire: bad message of kind %q", m.Kind)
	}
	return m, nil
}

// Message is one chat turn: role "system", "user" or "assistant", and its text. It is the chat
// template's own type, so a request's messages reach the engine as they crossed the port.
type Message = chat.Message

// Modes of a chat request (ChatRequest.Mode).
const (
	// ModeAssistant (also ""): the store assistant answers from the store's data; the model
	// phrases the answer under the facts' constraint when it can chat, else the text is composed
	// from the facts.
	ModeAssistant = "assistant"
	// ModeQuick: the store assistant's text composed from the facts, no model (instant, and
	// available before any model is downloaded).
	ModeQuick = "quick"
	// ModeRaw: the model alone on the messages as given, no store (benchmarks, engine tests).
	ModeRaw = "raw"
)

// ChatRequest is a validated generation request. Zero values mean the engine's defaults, except
// Temperature: 0 is greedy decoding.
type ChatRequest struct {
	Mode        string    `json:"mode,omitempty"` // "" (assistant), ModeQuick or ModeRaw
	Model       string    `json:"model"`
	Messages    []Message `json:"messages"`
	MaxTokens   int       `json:"max_tokens,omitempty"`
	Temperature float32   `json:"temperature"`
	TopP        float32   `json:"top_p,omitempty"`
	Seed        uint64    `json:"seed,omitempty"`
	Stop        []string  `json:"stop,omitempty"`
}

// Delta is a piece of generated text.
type Delta struct {
	Text  string `json:"text"`
	Token int    `json:"token"`
	// Answer is set on the first delta of a store assistant's answer only, before any text: the
	// structured answer (the chat API's "aisle" object: {"intent", "facts"}).
	Answer json.RawMessage `json:"answer,omitempty"`
}

// Result ends a successful generation.
type Result struct {
	PromptTokens     int    `json:"prompt_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
	FinishReason     string `json:"finish_reason"` // "stop" or "length"
	// CachedTokens are the prompt tokens whose keys and values were reused rather than evaluated
	// (the conversation's earlier turns, the store's conversation start).
	CachedTokens int `json:"cached_tokens,omitempty"`
	// Phrasing says how an assistant answer's text was made: "model", "model+facts" (the
	// facts' sentence added to the model's words), "facts" (composed from the facts) or
	// "facts: REASON" (a model was asked for but could not phrase this answer); "" in raw mode.
	Phrasing string `json:"phrasing,omitempty"`
	// Timings measured inside the worker, in milliseconds; their sum is the request's time in
	// the worker, and all but DecodeMS its time to the first token.
	QueuedMS  float64 `json:"queued_ms,omitempty"` // waiting for the engine (another answer, the start being warmed), from when the service worker posted the request
	LoadMS    float64 `json:"load_ms"`             // loading the model for this request (0 when already loaded)
	WarmMS    float64 `json:"warm_ms,omitempty"`   // putting the store's conversation start in the cache (restored or evaluated) for this request
	PrefillMS float64 `json:"prefill_ms"`          // from the start of generation to the model's first token
	DecodeMS  float64 `json:"decode_ms"`           // from the first token to the end of the answer
}

// Beat tells the service worker that the worker is alive and what it is doing.
type Beat struct {
	Stage string  `json:"stage"` // "loading", "prefill" or "decode"
	Done  float64 `json:"done,omitempty"`
}

// Error codes. Each maps to one HTTP status in the service worker.
const (
	CodeInvalid      = "invalid_request"    // 400
	CodeModelMissing = "model_not_found"    // 404: not downloaded (or not published)
	CodeModelCorrupt = "model_corrupt"      // 503: a stored shard failed its check and was removed
	CodeUnavailable  = "engine_unavailable" // 503: no inference worker answered
	CodeTimeout      = "worker_timeout"     // 504: the worker stopped answering mid-request
	CodeQuota        = "quota_exceeded"     // 507: the browser refused to store more
	CodeNetwork      = "network_error"      // 502: the model server could not be reached
	CodeCancelled    = "cancelled"          // 499: the client went away
	CodeInternal     = "internal_error"     // 500
)

// Error is a coded error that crosses the port and ends up in an OpenAI-style error object.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError returns err as an *Error, wrapping foreign errors as CodeInternal.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: err.Error()}
}
