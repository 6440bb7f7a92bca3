package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"aisle/worker/chat"
	"aisle/worker/gguf"
	"aisle/worker/tokenizer"
)

const stories = "../testdata/models/stories260K.gguf"

func load(t *testing.T) *Engine {
	t.Helper()
	f, err := gguf.Open(stories)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Load(f, Options{Threads: 2, Backend: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(); f.Close() })
	return e
}

func collect(t *testing.T, e *Engine, r Request) (Result, string) {
	t.Helper()
	var streamed strings.Builder
	res, err := e.Generate(context.Background(), r, func(d Delta) error {
		streamed.WriteString(d.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, streamed.String()
}

func TestStreamedTextEqualsResult(t *testing.T) {
	e := load(t)
	res, streamed := collect(t, e, Request{Prompt: "Once upon a time", MaxTokens: 60})
	if streamed != res.Text {
		t.Errorf("streamed %q != result %q", streamed, res.Text)
	}
	if want := tokenizer.ValidUTF8(e.Tok.Decode(res.Tokens)); want != res.Text {
		t.Errorf("text %q != decode of tokens %q", res.Text, want)
	}
	if !strings.HasPrefix(res.Text, ", there was a little girl named Lily") {
		t.Errorf("greedy continuation %q", res.Text)
	}
	if res.FinishReason != "length" || len(res.Tokens) != 60 {
		t.Errorf("finish %q after %d tokens", res.FinishReason, len(res.Tokens))
	}
}

func TestStopStrings(t *testing.T) {
	e := load(t)
	res, streamed := collect(t, e, Request{Prompt: "Once upon a time", MaxTokens: 100, Stop: []string{"Lily"}})
	if res.FinishReason != "stop" {
		t.Errorf("finish reason %q, want stop", res.FinishReason)
	}
	if res.Text != ", there was a little girl named " || streamed != res.Text {
		t.Errorf("text %q streamed %q, want the text before the stop string", res.Text, streamed)
	}
}

// TestKVReuse: a second turn that extends the first reuses its cache and gives the same tokens
// as a fresh engine evaluating everything.
func TestKVReuse(t *testing.T) {
	e := load(t)
	first, _ := collect(t, e, Request{Prompt: "Once upon a time", MaxTokens: 20})
	if first.CachedTokens != 0 {
		t.Errorf("first request reused %d tokens", first.CachedTokens)
	}
	prompt := append(append([]int(nil), first.PromptTokens...), first.Tokens...)
	prompt = append(prompt, e.Tok.Encode(" Then", false, false)...)
	second, _ := collect(t, e, Request{PromptTokens: prompt, MaxTokens: 20})
	if second.CachedTokens < len(first.PromptTokens)+len(first.Tokens)-1 {
		t.Errorf("second request reused %d tokens, want >= %d", second.CachedTokens, len(first.PromptTokens)+len(first.Tokens)-1)
	}
	fresh := load(t)
	want, _ := collect(t, fresh, Request{PromptTokens: prompt, MaxTokens: 20})
	if len(want.Tokens) != len(second.Tokens) {
		t.Fatalf("reused %v, fresh %v", second.Tokens, want.Tokens)
	}
	for i := range want.Tokens {
		if want.Tokens[i] != second.Tokens[i] {
			t.Fatalf("reused %v, fresh %v", second.Tokens, want.Tokens)
		}
	}
	// A different prompt shares only BOS: the cache is cut back, not reused wrongly.
	third, _ := collect(t, e, Request{Prompt: "The dog", MaxTokens: 5})
	if third.CachedTokens != 1 {
		t.Errorf("unrelated prompt reused %d tokens, want 1 (BOS)", third.CachedTokens)
	}
}

func TestChatMessages(t *testing.T) {
	e := load(t)
	msgs := []chat.Message{{Role: "user", Content: "Hi"}}
	toks, err := e.PromptTokens(Request{Messages: msgs})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := e.Template.Render(msgs, true)
	if got := e.Tok.Decode(toks); !strings.Contains(got, "Hi") || len(toks) < 3 || !strings.HasSuffix(text, "assistant\n") {
		t.Errorf("prompt %q from %q", got, text)
	}
	if _, err := e.PromptTokens(Request{Messages: []chat.Message{{Role: "wizard", Content: "x"}}}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("bad role: %v", err)
	}
}

func TestCancel(t *testing.T) {
	e := load(t)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := e.Generate(ctx, Request{Prompt: "Once", MaxTokens: 200}, func(Delta) error {
		if n++; n == 5 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 5 {
		t.Errorf("after cancel: err %v, %d tokens", err, n)
	}
	// the engine stays usable
	if res, _ := collect(t, e, Request{Prompt: "Once", MaxTokens: 3}); len(res.Tokens) != 3 {
		t.Errorf("after cancel: %d tokens", len(res.Tokens))
	}
}

func TestTextStreamHoldsBackStopPrefixes(t *testing.T) {
	e := load(t)
	ts := newTextStream(e.Tok, []string{"END"})
	ts.pending = "abcE"
	out, stopped := ts.release()
	if out != "abc" || stopped {
		t.Errorf("release = %q %v, want abc held E", out, stopped)
	}
	ts.pending += "ND tail"
	out, stopped = ts.release()
	if out != "" || !stopped {
		t.Errorf("release = %q %v, want stop", out, stopped)
	}
}
