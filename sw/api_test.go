package sw

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"aisle/worker/browser/wire"
)

// fakeEngine echoes the last user message back word by word, honouring MaxTokens.
type fakeEngine struct {
	got  wire.ChatRequest
	err  error
	wait chan struct{} // when set, Chat blocks after the first delta until ctx ends
}

func (f *fakeEngine) Chat(ctx context.Context, req wire.ChatRequest, emit func(wire.Delta) error) (wire.Result, error) {
	f.got = req
	if f.err != nil {
		return wire.Result{}, f.err
	}
	words := strings.Fields(req.Messages[len(req.Messages)-1].Content)
	n := 0
	for i, w := range words {
		if n == req.MaxTokens {
			return wire.Result{PromptTokens: 7, CompletionTokens: n, FinishReason: "length", CachedTokens: 3,
				QueuedMS: 1, LoadMS: 20, WarmMS: 5, PrefillMS: 12.5, DecodeMS: 30}, nil
		}
		if i > 0 {
			w = " " + w
		}
		if err := emit(wire.Delta{Text: w, Token: i}); err != nil {
			return wire.Result{}, err
		}
		n++
		if f.wait != nil {
			close(f.wait)
			<-ctx.Done()
			return wire.Result{}, wire.Errorf(wire.CodeCancelled, "cancelled")
		}
	}
	return wire.Result{PromptTokens: 7, CompletionTokens: n, FinishReason: "stop"}, nil
}

type fixedModels []ReadyModel

func (f fixedModels) ReadyModels(context.Context) ([]ReadyModel, error) { return f, nil }
func (f fixedModels) ReadyModel(_ context.Context, id string) (*ReadyModel, error) {
	for i := range f {
		if f[i].ID == id {
			return &f[i], nil
		}
	}
	return nil, nil
}

func newAPI(e Engine) *API {
	return &API{Engine: e, Models: fixedModels{{ID: "tiny", Revision: "0123456789abcdef", Created: time.Unix(1700000000, 0)}},
		Now: func() time.Time { return time.Unix(1800000000, 0) }}
}

func post(t *testing.T, h http.Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestChatBadRequests(t *testing.T) {
	tests := []struct {
		name, body, wantParam string
	}{
		{"not json", `{`, ""},
		{"trailing data", `{"model":"tiny","messages":[{"role":"user","content":"hi"}]} x`, ""},
		{"no model", `{"messages":[{"role":"user","content":"hi"}]}`, "model"},
		{"no messages", `{"model":"tiny","messages":[]}`, "messages"},
		{"bad role", `{"model":"tiny","messages":[{"role":"robot","content":"hi"}]}`, "messages[0].role"},
		{"image part", `{"model":"tiny","messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, "messages[0].content"},
		{"content number", `{"model":"tiny","messages":[{"role":"user","content":5}]}`, "messages[0].content"},
		{"max_tokens 0", `{"model":"tiny","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}`, "max_tokens"},
		{"temperature 3", `{"model":"tiny","temperature":3,"messages":[{"role":"user","content":"hi"}]}`, "temperature"},
		{"top_p 0", `{"model":"tiny","top_p":0,"messages":[{"role":"user","content":"hi"}]}`, "top_p"},
		{"seed fraction", `{"model":"tiny","seed":1.5,"messages":[{"role":"user","content":"hi"}]}`, "seed"},
		{"five stops", `{"model":"tiny","stop":["a","b","c","d","e"],"messages":[{"role":"user","content":"hi"}]}`, "stop"},
		{"stop number", `{"model":"tiny","stop":3,"messages":[{"role":"user","content":"hi"}]}`, "stop"},
		{"n 2", `{"model":"tiny","n":2,"messages":[{"role":"user","content":"hi"}]}`, "n"},
		{"tools", `{"model":"tiny","tools":[{"type":"function"}],"messages":[{"role":"user","content":"hi"}]}`, "tools"},
		{"json mode", `{"model":"tiny","response_format":{"type":"json_object"},"messages":[{"role":"user","content":"hi"}]}`, "response_format"},
		{"logprobs", `{"model":"tiny","logprobs":true,"messages":[{"role":"user","content":"hi"}]}`, "logprobs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := post(t, newAPI(&fakeEngine{}), tt.body)
			if rec.Code != 400 {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
			}
			var e apiError
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("error body is not JSON: %v", err)
			}
			if e.Error.Type != "invalid_request_error" || e.Error.Message == "" {
				t.Errorf("error = %+v", e.Error)
			}
			if gotParam := ""; e.Error.Param != nil {
				gotParam = *e.Error.Param
				if gotParam != tt.wantParam {
					t.Errorf("param %q, want %q", gotParam, tt.wantParam)
				}
			} else if tt.wantParam != "" {
				t.Errorf("param missing, want %q", tt.wantParam)
			}
		})
	}
}

func TestChatWrongContentType(t *testing.T) {
	req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "text/plain")
	rec := httptest.NewRecorder()
	newAPI(&fakeEngine{}).ServeHTTP(rec, req)
	if rec.Code != 400 {
		t.Errorf("status %d, want 400", rec.Code)
	}
}

func TestChatUnknownModel(t *testing.T) {
	rec := post(t, newAPI(&fakeEngine{}), `{"model":"big","messages":[{"role":"user","content":"hi"}]}`)
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "model_not_found") {
		t.Errorf("got %d %s, want 404 model_not_found", rec.Code, rec.Body)
	}
}

func TestChatNonStreaming(t *testing.T) {
	f := &fakeEngine{}
	rec := post(t, newAPI(f), `{"model":"tiny","messages":[{"role":"developer","content":"be brief"},
		{"role":"user","content":[{"type":"text","text":"one two "},{"type":"text","text":"three"}]}],
		"max_tokens":2,"temperature":0,"top_p":0.5,"seed":42,"stop":"END","unknown_field":true,
		"tools":[],"response_format":{"type":"text"},"logprobs":false}`)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var c completion
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	if st := rec.Header().Get("Server-Timing"); st != "queue;dur=1.0, load;dur=20.0, warm;dur=5.0, prefill;dur=12.5, decode;dur=30.0" {
		t.Errorf("Server-Timing %q", st)
	}
	if c.Timings == nil || *c.Timings != (timings{CacheN: 3, PromptN: 4, PromptMS: 12.5, PredictedN: 2, PredictedMS: 30, QueuedMS: 1, LoadMS: 20, WarmMS: 5}) {
		t.Errorf("timings %+v", c.Timings)
	}
	if c.Object != "chat.completion" || !strings.HasPrefix(c.ID, "chatcmpl-") || c.Model != "tiny" || c.Created != 1800000000 {
		t.Errorf("envelope = %+v", c)
	}
	if got := c.Choices[0]; got.Message.Content != "one two" || got.Message.Role != "assistant" || got.FinishReason != "length" {
		t.Errorf("choice = %+v", got)
	}
	if *c.Usage != (usage{PromptTokens: 7, CompletionTokens: 2, TotalTokens: 9, PromptTokensDetails: promptTokensDetails{CachedTokens: 3}}) {
		t.Errorf("usage = %+v", *c.Usage)
	}
	want := wire.ChatRequest{Model: "tiny", MaxTokens: 2, Temperature: 0, TopP: 0.5, Seed: 42, Stop: []string{"END"},
		Messages: []wire.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "one two three"}}}
	gotJSON, _ := json.Marshal(f.got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("engine got %s\nwant %s", gotJSON, wantJSON)
	}
}

// readSSE returns the data lines of an event stream.
func readSSE(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		} else if sc.Text() != "" {
			t.Fatalf("unexpected line %q", sc.Text())
		}
	}
	return out
}

func TestChatStreaming(t *testing.T) {
	rec := post(t, newAPI(&fakeEngine{}), `{"model":"tiny","stream":true,"stream_options":{"include_usage":true},
		"messages":[{"role":"user","content":"hello there"}]}`)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	events := readSSE(t, rec.Body.String())
	if len(events) != 6 || events[5] != "[DONE]" {
		t.Fatalf("events = %q", events)
	}
	var chunks []chunk
	for _, e := range events[:5] {
		var c chunk
		if err := json.Unmarshal([]byte(e), &c); err != nil {
			t.Fatalf("%q: %v", e, err)
		}
		if c.Object != "chat.completion.chunk" {
			t.Errorf("object %q", c.Object)
		}
		chunks = append(chunks, c)
	}
	if chunks[0].Choices[0].Delta.Role != "assistant" {
		t.Errorf("first chunk has no role: %s", events[0])
	}
	if got := *chunks[1].Choices[0].Delta.Content + *chunks[2].Choices[0].Delta.Content; got != "hello there" {
		t.Errorf("text %q", got)
	}
	if fr := chunks[3].Choices[0].FinishReason; fr == nil || *fr != "stop" {
		t.Errorf("finish chunk: %s", events[3])
	}
	if len(chunks[4].Choices) != 0 || chunks[4].Usage == nil || chunks[4].Usage.TotalTokens != 9 ||
		chunks[4].Timings == nil || chunks[4].Timings.PredictedN != 2 {
		t.Errorf("usage chunk: %s", events[4])
	}
	for _, c := range chunks[:4] {
		if c.Timings != nil {
			t.Errorf("timings before the usage chunk: %+v", c)
		}
	}
	for _, c := range chunks[1:] {
		if c.ID != chunks[0].ID {
			t.Errorf("ids differ")
		}
	}
}

func TestChatStreamingEngineError(t *testing.T) {
	rec := post(t, newAPI(&fakeEngine{err: wire.Errorf(wire.CodeTimeout, "worker gone")}),
		`{"model":"tiny","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	// The role chunk waits for the worker's first word (it carries the structured answer), so
	// an engine that fails at once sends the error event alone.
	events := readSSE(t, rec.Body.String())
	if len(events) != 1 || !strings.Contains(events[0], `"code":"worker_timeout"`) {
		t.Errorf("events = %q", events)
	}
}

// answerEngine answers like the store assistant: the structured answer first, then the text.
type answerEngine struct{ got wire.ChatRequest }

func (f *answerEngine) Chat(ctx context.Context, req wire.ChatRequest, emit func(wire.Delta) error) (wire.Result, error) {
	f.got = req
	if err := emit(wire.Delta{Answer: json.RawMessage(`{"intent":"price","facts":[{"type":"product","sku":"A1","price":2.49}]}`), Token: -1}); err != nil {
		return wire.Result{}, err
	}
	if err := emit(wire.Delta{Text: "It costs 2.49.", Token: -1}); err != nil {
		return wire.Result{}, err
	}
	return wire.Result{PromptTokens: 0, CompletionTokens: 0, FinishReason: "stop", Phrasing: "facts"}, nil
}

// The structured answer is on the assistant message, and on the first chunk when streaming;
// the quick mode needs no downloaded model.
func TestChatAisleObject(t *testing.T) {
	f := &answerEngine{}
	rec := post(t, newAPI(f), `{"model":"tiny","messages":[{"role":"user","content":"how much is A1"}]}`)
	var c struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
				Aisle   struct {
					Intent   string            `json:"intent"`
					Facts    []json.RawMessage `json:"facts"`
					Phrasing string            `json:"phrasing"`
				} `json:"aisle"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil || len(c.Choices) != 1 {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	m := c.Choices[0].Message
	if m.Content != "It costs 2.49." || m.Aisle.Intent != "price" || len(m.Aisle.Facts) != 1 || m.Aisle.Phrasing != "facts" {
		t.Errorf("message = %+v", m)
	}
	if f.got.Mode != "" {
		t.Errorf("mode %q, want the assistant's (empty)", f.got.Mode)
	}

	rec = post(t, newAPI(f), `{"model":"tiny","stream":true,"messages":[{"role":"user","content":"how much is A1"}]}`)
	events := readSSE(t, rec.Body.String())
	if len(events) < 3 || !strings.Contains(events[0], `"role":"assistant"`) || !strings.Contains(events[0], `"aisle":{"intent":"price"`) ||
		strings.Contains(events[1], `"aisle"`) {
		t.Errorf("events = %q", events)
	}

	rec = post(t, newAPI(f), `{"model":"not-downloaded","aisle":{"mode":"quick"},"messages":[{"role":"user","content":"how much is A1"}]}`)
	if rec.Code != 200 || f.got.Mode != wire.ModeQuick {
		t.Errorf("quick mode without a model: %d %s (mode %q)", rec.Code, rec.Body, f.got.Mode)
	}
	rec = post(t, newAPI(f), `{"model":"tiny","aisle":{"mode":"fast"},"messages":[{"role":"user","content":"x"}]}`)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "aisle.mode") {
		t.Errorf("bad mode: %d %s", rec.Code, rec.Body)
	}
}

func TestChatEngineErrorStatus(t *testing.T) {
	tests := []struct {
		code   string
		status int
	}{
		{wire.CodeUnavailable, 503}, {wire.CodeTimeout, 504}, {wire.CodeModelCorrupt, 503},
		{wire.CodeInvalid, 400}, {wire.CodeInternal, 500},
	}
	for _, tt := range tests {
		rec := post(t, newAPI(&fakeEngine{err: wire.Errorf(tt.code, "x")}), `{"model":"tiny","messages":[{"role":"user","content":"hi"}]}`)
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), `"code":"`+tt.code+`"`) {
			t.Errorf("%s: got %d %s, want %d", tt.code, rec.Code, rec.Body, tt.status)
		}
	}
}

func TestChatStreamClientGone(t *testing.T) {
	f := &fakeEngine{wait: make(chan struct{})}
	srv := httptest.NewServer(newAPI(f))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"tiny","stream":true,"messages":[{"role":"user","content":"a b c"}]}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	<-f.wait
	cancel()
	resp.Body.Close()
	// The engine returns once the request context is cancelled; the test times out otherwise.
}

func TestModels(t *testing.T) {
	rec := httptest.NewRecorder()
	newAPI(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/models", nil))
	want := `{"object":"list","data":[{"id":"tiny","object":"model","created":1700000000,"owned_by":"aisle"}]}`
	if strings.TrimSpace(rec.Body.String()) != want {
		t.Errorf("got %s\nwant %s", rec.Body, want)
	}
	rec = httptest.NewRecorder()
	newAPI(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/nothing", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Errorf("unknown endpoint: %d %s", rec.Code, rec.Body)
	}
}

func FuzzParseChatRequest(f *testing.F) {
	f.Add(`{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stop":["a"],"seed":3}`)
	f.Add(`{"model":"x","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}],"max_tokens":-1}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		req, _, err := parseChatRequest(strings.NewReader(body))
		if err != nil {
			return
		}
		if req.Model == "" || len(req.Messages) == 0 || req.MaxTokens < 1 || req.Temperature < 0 || req.Temperature > 2 || len(req.Stop) > 4 {
			t.Fatalf("accepted invalid request %+v from %q", req, body)
		}
	})
}

// TestChatRequestSeed: a request without a seed gets a fresh one (sampling differs from request
// to request); a given seed is kept (the same seed repeats).
func TestChatRequestSeed(t *testing.T) {
	parse := func(body string) uint64 {
		t.Helper()
		req, _, err := parseChatRequest(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return req.Seed
	}
	const noSeed = `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"temperature":0.7}`
	seen := map[uint64]bool{}
	for range 8 {
		seen[parse(noSeed)] = true
	}
	if len(seen) < 8 {
		t.Errorf("8 requests without a seed got %d distinct seeds", len(seen))
	}
	if got := parse(`{"model":"tiny","messages":[{"role":"user","content":"hi"}],"seed":42}`); got != 42 {
		t.Errorf("seed 42 became %d", got)
	}
}
