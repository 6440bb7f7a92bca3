package browser

import (
	"context"
	"fmt"
	"testing"

	"aisle/worker/browser/wire"
	"aisle/worker/engine"
	"aisle/worker/gguf"
)

// TestRawChatLongerThanTheContext: a raw chat of many turns, far longer than stories260K's 512
// positions, is answered: its oldest turns leave the prompt.
func TestRawChatLongerThanTheContext(t *testing.T) {
	f, err := gguf.Open("../testdata/models/stories260K.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := engine.Load(f, engine.Options{Threads: 1, Backend: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	req := wire.ChatRequest{Model: "stories", MaxTokens: 16, Mode: wire.ModeRaw}
	for i := range 12 {
		req.Messages = append(req.Messages, wire.Message{Role: "user", Content: fmt.Sprintf("Tell me story number %d about a dog and a cat who lived in a big house.", i)},
			wire.Message{Role: "assistant", Content: "Once upon a time there was a dog and a cat. They lived in a big house with a garden and they were happy."})
	}
	req.Messages = append(req.Messages, wire.Message{Role: "user", Content: "And then?"})
	res, err := EngineGenerator{E: e}.Generate(context.Background(), req, func(wire.Delta) error { return nil })
	if err != nil {
		t.Fatalf("a 25-message chat: %v", err)
	}
	if res.PromptTokens+res.CompletionTokens > e.ContextLen() || res.CompletionTokens == 0 {
		t.Errorf("prompt %d + answer %d tokens in a %d context", res.PromptTokens, res.CompletionTokens, e.ContextLen())
	}
}
