package sw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"

	"aisle/worker/browser/wire"
)

// maxRequestBytes bounds the body of a chat request.
const maxRequestBytes = 1 << 20

// chatRequest is the subset of the OpenAI Chat Completions request that the app honours. Unknown
// fields are ignored, as the OpenAI API does for fields it does not know.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Seed                *float64        `json:"seed"` // a JSON number; checked to be a whole number
	Stop                json.RawMessage `json:"stop"`
	N                   *int            `json:"n"`
	// Features the on-device engine does not offer: refused rather than silently ignored, so a
	// client never mistakes an answer for one that honoured them.
	Tools          []json.RawMessage `json:"tools"`
	ResponseFormat *struct {
		Type string `json:"type"`
	} `json:"response_format"`
	Logprobs *bool `json:"logprobs"`
	// Aisle is this API's extension: {"mode": "assistant" | "quick" | "raw"} (see wire.ChatRequest).
	Aisle *struct {
		Mode string `json:"mode"`
	} `json:"aisle"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// invalid is a 400 error naming the offending parameter.
type invalid struct {
	param, msg string
}

func (e *invalid) Error() string { return e.msg }

func badParam(param, format string, args ...any) error {
	return &invalid{param: param, msg: fmt.Sprintf(format, args...)}
}

// DefaultMaxTokens is the completion length when the request gives none.
const DefaultMaxTokens = 256

// parseChatRequest decodes and validates an OpenAI chat request into the engine's form.
func parseChatRequest(body io.Reader) (wire.ChatRequest, chatRequest, error) {
	var raw chatRequest
	b, err := io.ReadAll(io.LimitReader(body, maxRequestBytes+1))
	if err != nil {
		return wire.ChatRequest{}, raw, badParam("", "could not read the request body: %v", err)
	}
	if len(b) > maxRequestBytes {
		return wire.ChatRequest{}, raw, badParam("", "request body larger than %d bytes", maxRequestBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return wire.ChatRequest{}, raw, badParam("", "request body is not a valid JSON object: %v", err)
	}
	if dec.More() {
		return wire.ChatRequest{}, raw, badParam("", "request body has data after the JSON object")
	}
	out := wire.ChatRequest{Model: raw.Model, Temperature: 1, MaxTokens: DefaultMaxTokens}
	if raw.Model == "" {
		return out, raw, badParam("model", "you must provide a model parameter")
	}
	if len(raw.Messages) == 0 {
		return out, raw, badParam("messages", "messages must be a non-empty array")
	}
	for i, m := range raw.Messages {
		role := m.Role
		switch role {
		case "system", "user", "assistant":
		case "developer":
			role = "system"
		case "":
			return out, raw, badParam(fmt.Sprintf("messages[%d].role", i), "messages[%d] has no role", i)
		default:
			return out, raw, badParam(fmt.Sprintf("messages[%d].role", i),
				"messages[%d].role %q is not supported (use system, developer, user or assistant)", i, m.Role)
		}
		text, err := messageText(m.Content)
		if err != nil {
			return out, raw, badParam(fmt.Sprintf("messages[%d].content", i), "messages[%d].content: %v", i, err)
		}
		out.Messages = append(out.Messages, wire.Message{Role: role, Content: text})
	}
	if raw.N != nil && *raw.N != 1 {
		return out, raw, badParam("n", "n must be 1, got %d", *raw.N)
	}
	if len(raw.Tools) > 0 {
		return out, raw, badParam("tools", "tools (function calling) are not supported by the on-device model")
	}
	if raw.ResponseFormat != nil && raw.ResponseFormat.Type != "" && raw.ResponseFormat.Type != "text" {
		return out, raw, badParam("response_format", "response_format %q is not supported; only \"text\"", raw.ResponseFormat.Type)
	}
	if raw.Logprobs != nil && *raw.Logprobs {
		return out, raw, badParam("logprobs", "logprobs are not supported by the on-device model")
	}
	if raw.MaxCompletionTokens != nil {
		raw.MaxTokens = raw.MaxCompletionTokens
	}
	if raw.MaxTokens != nil {
		if *raw.MaxTokens < 1 || *raw.MaxTokens > 1<<20 {
			return out, raw, badParam("max_tokens", "max_tokens must be between 1 and %d, got %d", 1<<20, *raw.MaxTokens)
		}
		out.MaxTokens = *raw.MaxTokens
	}
	if raw.Temperature != nil {
		if t := *raw.Temperature; !(t >= 0 && t <= 2) {
			return out, raw, badParam("temperature", "temperature must be between 0 and 2, got %v", t)
		}
		out.Temperature = float32(*raw.Temperature)
	}
	if raw.TopP != nil {
		if p := *raw.TopP; !(p > 0 && p <= 1) {
			return out, raw, badParam("top_p", "top_p must be greater than 0 and at most 1, got %v", p)
		}
		out.TopP = float32(*raw.TopP)
	}
	if raw.Seed != nil {
		s := *raw.Seed
		if s != math.Trunc(s) || math.Abs(s) > 1<<53 {
			return out, raw, badParam("seed", "seed must be an integer, got %v", s)
		}
		out.Seed = uint64(int64(s))
	} else {
		// No seed: a fresh one, so that sampling (temperature above 0) differs from request to
		// request, as with OpenAI's API; greedy decoding (temperature 0) does not use it.
		out.Seed = rand.Uint64()
	}
	if raw.Aisle != nil {
		switch raw.Aisle.Mode {
		case "", wire.ModeAssistant:
		case wire.ModeQuick, wire.ModeRaw:
			out.Mode = raw.Aisle.Mode
		default:
			return out, raw, badParam("aisle.mode", "aisle.mode must be \"assistant\", \"quick\" or \"raw\", got %q", raw.Aisle.Mode)
		}
	}
	stop, err := parseStop(raw.Stop)
	if err != nil {
		return out, raw, err
	}
	out.Stop = stop
	return out, raw, nil
}

// messageText accepts a string, null (empty) or an array of {"type":"text","text":...} parts.
func messageText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", errors.New("must be a string or an array of text parts")
	}
	var sb strings.Builder
	for i, p := range parts {
		if p.Type != "text" || p.Text == nil {
			return "", fmt.Errorf("part %d has type %q; only text parts are supported", i, p.Type)
		}
		sb.WriteString(*p.Text)
	}
	return sb.String(), nil
}

func parseStop(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if one == "" {
			return nil, badParam("stop", "stop sequences must not be empty")
		}
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, badParam("stop", "stop must be a string or an array of strings")
	}
	if len(many) > 4 {
		return nil, badParam("stop", "at most 4 stop sequences, got %d", len(many))
	}
	for _, s := range many {
		if s == "" {
			return nil, badParam("stop", "stop sequences must not be empty")
		}
	}
	return many, nil
}

// Response shapes of the OpenAI Chat Completions API.

type completion struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"` // "chat.completion"
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint string             `json:"system_fingerprint"`
	Choices           []completionChoice `json:"choices"`
	Usage             *usage             `json:"usage"`
	Timings           *timings           `json:"timings,omitempty"`
}

type completionChoice struct {
	Index        int        `json:"index"`
	Message      messageOut `json:"message"`
	Logprobs     *struct{}  `json:"logprobs"`
	FinishReason string     `json:"finish_reason"`
}

type messageOut struct {
	Role    string  `json:"role"`
	Content string  `json:"content"`
	Refusal *string `json:"refusal"`
	// Aisle is the store assistant's structured answer: {"intent", "facts", "phrasing"}.
	Aisle json.RawMessage `json:"aisle,omitempty"`
}

type chunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"` // "chat.completion.chunk"
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	SystemFingerprint string        `json:"system_fingerprint"`
	Choices           []chunkChoice `json:"choices"`
	Usage             *usage        `json:"usage,omitempty"`
	Timings           *timings      `json:"timings,omitempty"` // with Usage
}

type chunkChoice struct {
	Index        int       `json:"index"`
	Delta        deltaOut  `json:"delta"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

type deltaOut struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
	// Aisle, on the first chunk only, is the store assistant's structured answer
	// {"intent", "facts"}, before any text.
	Aisle json.RawMessage `json:"aisle,omitempty"`
}

type usage struct {
	PromptTokens        int                 `json:"prompt_tokens"`
	CompletionTokens    int                 `json:"completion_tokens"`
	TotalTokens         int                 `json:"total_tokens"`
	PromptTokensDetails promptTokensDetails `json:"prompt_tokens_details"`
}

// promptTokensDetails is OpenAI's usage.prompt_tokens_details: cached_tokens are the prompt
// tokens whose keys and values the device reused (earlier turns, the store's conversation start).
type promptTokensDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

func usageOf(res wire.Result) *usage {
	return &usage{PromptTokens: res.PromptTokens, CompletionTokens: res.CompletionTokens,
		TotalTokens: res.PromptTokens + res.CompletionTokens, PromptTokensDetails: promptTokensDetails{CachedTokens: res.CachedTokens}}
}

// timings is the worker's account of a generation, beside usage as llama.cpp's server reports it
// (cache_n, prompt_n, prompt_ms, predicted_n, predicted_ms), with the device's own stages before
// the prompt: queued_ms (waiting for the engine), load_ms (the model loaded for this request) and
// warm_ms (the store's conversation start put in the cache for it). The time to the first token is
// queued_ms + load_ms + warm_ms + prompt_ms.
type timings struct {
	CacheN      int     `json:"cache_n"`
	PromptN     int     `json:"prompt_n"` // tokens evaluated for this request: the prompt's uncached ones
	PromptMS    float64 `json:"prompt_ms"`
	PredictedN  int     `json:"predicted_n"`
	PredictedMS float64 `json:"predicted_ms"`
	QueuedMS    float64 `json:"queued_ms"`
	LoadMS      float64 `json:"load_ms"`
	WarmMS      float64 `json:"warm_ms"`
}

func timingsOf(res wire.Result) *timings {
	return &timings{CacheN: res.CachedTokens, PromptN: res.PromptTokens - res.CachedTokens, PromptMS: res.PrefillMS,
		PredictedN: res.CompletionTokens, PredictedMS: res.DecodeMS, QueuedMS: res.QueuedMS, LoadMS: res.LoadMS, WarmMS: res.WarmMS}
}

// apiError is the OpenAI error object: {"error": {...}}.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

type modelList struct {
	Object string      `json:"object"` // "list"
	Data   []modelInfo `json:"data"`
}

type modelInfo struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "model"
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}
