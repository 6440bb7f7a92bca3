// Package sw is the app's service worker: an http.Handler tree that answers the page's requests
// offline. It serves the OpenAI-compatible chat API from the on-device model, downloads and
// verifies model shards, precaches the app shell and falls back to an offline page.
//
// Everything here is plain Go that runs under `go test` with httptest; the browser bindings
// (Cache Storage, MessagePorts, fetch) live in aisle/worker/browser/webapi, shared with the
// inference worker, and the wasm entry point with the port to that worker in sw/cmd/sw.
package sw

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"aisle/worker/browser/wire"
)

// Engine runs one generation. emit is called for every piece of text in order; an error from emit
// must stop the generation and be returned. Errors are *wire.Error where the cause is known.
type Engine interface {
	Chat(ctx context.Context, req wire.ChatRequest, emit func(wire.Delta) error) (wire.Result, error)
}

// ReadyModel is a model that is fully stored on the device.
type ReadyModel struct {
	ID       string
	Revision string
	Created  time.Time // when the download finished (zero if unknown)
}

// ModelLister lists the models that can answer offline.
type ModelLister interface {
	ReadyModels(ctx context.Context) ([]ReadyModel, error)
	// ReadyModel returns model id when it is ready (nil when not): asked by every chat request,
	// so it should cost less than listing them all.
	ReadyModel(ctx context.Context, id string) (*ReadyModel, error)
}

// API serves the OpenAI-compatible endpoints:
//
//	POST /v1/chat/completions   stream or not; see parseChatRequest for the accepted fields
//	GET  /v1/models             the models ready offline
//
// Every error is an OpenAI error object ({"error":{"message","type","param","code"}}) with the
// status of errorStatus; malformed requests get 400 before the engine is involved.
type API struct {
	Engine Engine
	Models ModelLister
	Now    func() time.Time // default time.Now
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/chat/completions":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "", "method_not_allowed",
				"use POST for /v1/chat/completions")
			return
		}
		a.chat(w, r)
	case "/v1/models":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET")
			writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "", "method_not_allowed",
				"use GET for /v1/models")
			return
		}
		a.models(w, r)
	default:
		writeError(w, http.StatusNotFound, "invalid_request_error", "", "unknown_url",
			fmt.Sprintf("unknown endpoint %s %s", r.Method, r.URL.Path))
	}
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *API) models(w http.ResponseWriter, r *http.Request) {
	ready, err := a.Models.ReadyModels(r.Context())
	if err != nil {
		writeWireError(w, wire.AsError(err))
		return
	}
	out := modelList{Object: "list", Data: []modelInfo{}}
	for _, m := range ready {
		out.Data = append(out.Data, modelInfo{ID: m.ID, Object: "model", Created: m.Created.Unix(), OwnedBy: "aisle"})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) chat(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "invalid_content_type",
			fmt.Sprintf("Content-Type must be application/json, got %q", ct))
		return
	}
	req, raw, err := parseChatRequest(r.Body)
	if err != nil {
		var inv *invalid
		if errors.As(err, &inv) {
			writeError(w, http.StatusBadRequest, "invalid_request_error", inv.param, "invalid_request", inv.msg)
		} else {
			writeWireError(w, wire.AsError(err))
		}
		return
	}
	model, err := a.Models.ReadyModel(r.Context(), req.Model)
	if err != nil {
		writeWireError(w, wire.AsError(err))
		return
	}
	if model == nil && req.Mode == wire.ModeQuick {
		model = &ReadyModel{ID: req.Model, Revision: "quick"} // no model needed
	}
	if model == nil {
		writeError(w, http.StatusNotFound, "invalid_request_error", "model", wire.CodeModelMissing,
			fmt.Sprintf("The model %q is not downloaded on this device. Open the app online once to download it.", req.Model))
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	id := "chatcmpl-" + randomID()
	created := a.now().Unix()
	fp := "aisle-" + model.Revision
	if raw.Stream {
		a.stream(ctx, w, req, raw, id, created, fp)
		return
	}
	var text strings.Builder
	var answer json.RawMessage
	res, err := a.Engine.Chat(ctx, req, func(d wire.Delta) error {
		if d.Answer != nil {
			answer = d.Answer
		}
		text.WriteString(d.Text)
		return nil
	})
	if err != nil {
		writeWireError(w, wire.AsError(err))
		return
	}
	w.Header().Set("Server-Timing", serverTiming(res))
	writeJSON(w, http.StatusOK, completion{
		ID: id, Object: "chat.completion", Created: created, Model: req.Model, SystemFingerprint: fp,
		Choices: []completionChoice{{Index: 0, Message: messageOut{Role: "assistant", Content: text.String(),
			Aisle: withPhrasing(answer, res.Phrasing)}, FinishReason: res.FinishReason}},
		Usage: usageOf(res), Timings: timingsOf(res),
	})
}

// stream answers with server-sent events: a first chunk with the role, one chunk per delta, a
// last chunk with finish_reason, a usage chunk when stream_options.include_usage is set, and
// "data: [DONE]". Errors after the first byte are sent as one `data: {"error":...}` event.
func (a *API) stream(ctx context.Context, w http.ResponseWriter, req wire.ChatRequest, raw chatRequest, id string, created int64, fp string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	events := newEventWriter(w, cancel)
	defer events.Close(ctx)
	var werr error
	send := func(v any) error {
		if werr != nil {
			return werr
		}
		b, err := json.Marshal(v)
		if err == nil {
			err = events.Data(b)
		}
		if err != nil {
			werr = wire.Errorf(wire.CodeCancelled, "the client went away")
			cancel()
		}
		return werr
	}
	base := chunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model, SystemFingerprint: fp}
	mk := func(d deltaOut, finish *string) chunk {
		c := base
		c.Choices = []chunkChoice{{Index: 0, Delta: d, FinishReason: finish}}
		return c
	}
	// The first chunk names the role and carries the assistant's structured answer, which comes
	// before any text; a raw generation has none, and its first chunk goes out with the first text.
	empty := ""
	started := false
	start := func(answer json.RawMessage) error {
		if started {
			return nil
		}
		started = true
		return send(mk(deltaOut{Role: "assistant", Content: &empty, Aisle: answer}, nil))
	}
	res, err := a.Engine.Chat(ctx, req, func(d wire.Delta) error {
		if err := start(d.Answer); err != nil {
			return err
		}
		if d.Text == "" {
			return nil
		}
		text := d.Text
		return send(mk(deltaOut{Content: &text}, nil))
	})
	if err == nil {
		err = start(nil)
	}
	if err != nil {
		if werr == nil {
			e := wire.AsError(err)
			status := errorStatus(e.Code)
			send(apiError{Error: errorBody(status, "", e.Code, e.Message)})
		}
		return
	}
	finish := res.FinishReason
	if send(mk(deltaOut{}, &finish)) != nil {
		return
	}
	if raw.StreamOptions != nil && raw.StreamOptions.IncludeUsage {
		c := base
		c.Choices = []chunkChoice{}
		c.Usage, c.Timings = usageOf(res), timingsOf(res)
		if send(c) != nil {
			return
		}
	}
	events.Data([]byte("[DONE]"))
}

// withPhrasing adds "phrasing" to the assistant's answer object; nil stays nil.
func withPhrasing(answer json.RawMessage, phrasing string) json.RawMessage {
	if answer == nil || phrasing == "" {
		return answer
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(answer, &m) != nil {
		return answer
	}
	m["phrasing"], _ = json.Marshal(phrasing)
	b, err := json.Marshal(m)
	if err != nil {
		return answer
	}
	return b
}

// serverTiming reports the worker's timings of a generation (milliseconds, wire.Result) in a
// Server-Timing header: queue (waiting for the engine), load (model load for this request, 0 when
// loaded), warm (the store's conversation start put in the cache for this request), prefill (to
// the model's first token) and decode (to the end).
func serverTiming(r wire.Result) string {
	return fmt.Sprintf("queue;dur=%.1f, load;dur=%.1f, warm;dur=%.1f, prefill;dur=%.1f, decode;dur=%.1f",
		r.QueuedMS, r.LoadMS, r.WarmMS, r.PrefillMS, r.DecodeMS)
}

// errorStatus maps a wire error code to its HTTP status (the one place this happens).
func errorStatus(code string) int {
	switch code {
	case wire.CodeInvalid:
		return http.StatusBadRequest
	case wire.CodeModelMissing:
		return http.StatusNotFound
	case wire.CodeModelCorrupt, wire.CodeUnavailable:
		return http.StatusServiceUnavailable
	case wire.CodeTimeout:
		return http.StatusGatewayTimeout
	case wire.CodeQuota:
		return http.StatusInsufficientStorage
	case wire.CodeNetwork:
		return http.StatusBadGateway
	case wire.CodeCancelled:
		return 499
	}
	return http.StatusInternalServerError
}

func errorBody(status int, param, code, msg string) apiErrorBody {
	typ := "server_error"
	switch {
	case status == http.StatusBadRequest || status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		typ = "invalid_request_error"
	case status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		typ = "service_unavailable"
	case status == http.StatusInsufficientStorage:
		typ = "insufficient_storage"
	}
	b := apiErrorBody{Message: msg, Type: typ}
	if param != "" {
		b.Param = &param
	}
	if code != "" {
		b.Code = &code
	}
	return b
}

func writeWireError(w http.ResponseWriter, e *wire.Error) {
	status := errorStatus(e.Code)
	writeJSON(w, status, apiError{Error: errorBody(status, "", e.Code, e.Message)})
}

func writeError(w http.ResponseWriter, status int, typ, param, code, msg string) {
	b := errorBody(status, param, code, msg)
	b.Type = typ
	writeJSON(w, status, apiError{Error: b})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func randomID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
