package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// recorder is a TokenFilter that allows a fixed set of tokens (nil: all), records what it is
// shown, and checks that every token taken was allowed by the mask before it.
type recorder struct {
	allow    func(id int) bool
	accepted []int
	masks    int
	last     []uint32
	t        *testing.T
}

func (f *recorder) Mask(allowed []uint32) {
	f.masks++
	for i := range allowed {
		allowed[i] = 0
	}
	for id := 0; id < 32*len(allowed); id++ {
		if f.allow == nil || f.allow(id) {
			allowed[id/32] |= 1 << (id % 32)
		}
	}
	f.last = append(f.last[:0], allowed...)
}

func (f *recorder) Accept(tok int) {
	if f.last[tok/32]>>(tok%32)&1 == 0 {
		f.t.Errorf("token %d taken, the mask did not allow it", tok)
	}
	f.accepted = append(f.accepted, tok)
}

func sameInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFilterSeesEmittedTokens: the filter's Accept sees exactly the tokens of the result, for
// every stop rule (length, stop string, end of generation, cancel, emit error), and its mask is
// obeyed by every sampler.
func TestFilterSeesEmittedTokens(t *testing.T) {
	e := load(t)
	odd := func(id int) bool { return id%2 == 1 || e.Tok.IsEOG(id) }
	for _, c := range []struct {
		name string
		req  Request
	}{
		{"greedy length", Request{Prompt: "Once upon a time", MaxTokens: 30}},
		{"greedy stop string", Request{Prompt: "Once upon a time", MaxTokens: 100, Stop: []string{"Lily"}}},
		{"temperature", Request{Prompt: "Once upon a time", MaxTokens: 40, Temperature: 1, Seed: 3}},
		{"top-k top-p min-p", Request{Prompt: "Once upon a time", MaxTokens: 40, Temperature: 0.8, TopK: 20, TopP: 0.9, MinP: 0.05, Seed: 4}},
		{"repeat penalty", Request{Prompt: "Once upon a time", MaxTokens: 40, RepeatPenalty: 1.3}},
		{"ignore EOS", Request{Prompt: "The end.", MaxTokens: 40, IgnoreEOS: true, Temperature: 1.5, Seed: 9}},
	} {
		for _, allow := range []func(int) bool{nil, odd} {
			f := &recorder{allow: allow, t: t}
			c.req.Filter = f
			res, _ := collect(t, e, c.req)
			if !sameInts(f.accepted, res.Tokens) {
				t.Errorf("%s: filter accepted %v, result %v", c.name, f.accepted, res.Tokens)
			}
			if f.masks != len(res.Tokens) && f.masks != len(res.Tokens)+1 {
				t.Errorf("%s: %d masks for %d tokens", c.name, f.masks, len(res.Tokens))
			}
			if allow != nil {
				for _, id := range res.Tokens {
					if !allow(id) {
						t.Errorf("%s: token %d is masked", c.name, id)
					}
				}
			}
		}
	}
	// cancel and emit errors: the tokens taken before are exactly those accepted
	f := &recorder{t: t}
	ctx, cancel := context.WithCancel(context.Background())
	var got []int
	_, err := e.Generate(ctx, Request{Prompt: "Once", MaxTokens: 50, Filter: f}, func(d Delta) error {
		if got = append(got, d.Token); len(got) == 4 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || !sameInts(f.accepted, got) {
		t.Errorf("cancel: err %v, accepted %v, emitted %v", err, f.accepted, got)
	}
	f = &recorder{t: t}
	got = nil
	boom := errors.New("boom")
	_, err = e.Generate(context.Background(), Request{Prompt: "Once", MaxTokens: 50, Filter: f}, func(d Delta) error {
		if got = append(got, d.Token); len(got) == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || !sameInts(f.accepted, got) {
		t.Errorf("emit error: err %v, accepted %v, emitted %v", err, f.accepted, got)
	}
}

// TestFilterAllowingAllChangesNothing: a filter that allows every token gives the same tokens as
// no filter, greedy and sampled.
func TestFilterAllowingAllChangesNothing(t *testing.T) {
	e := load(t)
	for _, r := range []Request{{Prompt: "Once upon a time", MaxTokens: 40}, {Prompt: "Once upon a time", MaxTokens: 40, Temperature: 1, TopK: 40, Seed: 5}} {
		want, _ := collect(t, e, r)
		r.Filter = &recorder{t: t}
		got, _ := collect(t, e, r)
		if !sameInts(got.Tokens, want.Tokens) {
			t.Errorf("with a filter allowing all %v, without %v", got.Tokens, want.Tokens)
		}
	}
}

// TestFilterKVReuse: with a filter, a second turn that extends the first still reuses its cache
// and gives the tokens a fresh engine gives.
func TestFilterKVReuse(t *testing.T) {
	e := load(t)
	odd := func(id int) bool { return id%2 == 1 || e.Tok.IsEOG(id) }
	first, _ := collect(t, e, Request{Prompt: "Once upon a time", MaxTokens: 20, Filter: &recorder{allow: odd, t: t}})
	prompt := append(append([]int(nil), first.PromptTokens...), first.Tokens...)
	prompt = append(prompt, e.Tok.Encode(" Then", false, false)...)
	second, _ := collect(t, e, Request{PromptTokens: prompt, MaxTokens: 20, Filter: &recorder{allow: odd, t: t}})
	if second.CachedTokens < len(first.PromptTokens)+len(first.Tokens)-1 {
		t.Errorf("second request reused %d tokens, want >= %d", second.CachedTokens, len(first.PromptTokens)+len(first.Tokens)-1)
	}
	want, _ := collect(t, load(t), Request{PromptTokens: prompt, MaxTokens: 20, Filter: &recorder{allow: odd, t: t}})
	if !sameInts(second.Tokens, want.Tokens) {
		t.Errorf("reused %v, fresh %v", second.Tokens, want.Tokens)
	}
}

// failingRunner fails its n-th Eval.
type failingRunner struct {
	Runner
	n int
}

var errEval = errors.New("eval failed")

func (f *failingRunner) Eval(tokens []int, all bool) ([]float32, error) {
	if f.n--; f.n == 0 {
		return nil, errEval
	}
	return f.Runner.Eval(tokens, all)
}

// TestBackendErrorResetsCache: an error of the backend mid-generation ends it with that error
// and forgets the cache; the next request evaluates its whole prompt and gives the usual tokens.
func TestBackendErrorResetsCache(t *testing.T) {
	e := load(t)
	want, _ := collect(t, e, Request{Prompt: "Once upon a time", MaxTokens: 10})
	runner := e.runner
	e.runner = &failingRunner{Runner: runner, n: 4}
	var got []int
	_, err := e.Generate(context.Background(), Request{Prompt: "Once upon a time", MaxTokens: 10, Filter: &recorder{t: t}},
		func(d Delta) error { got = append(got, d.Token); return nil })
	if !errors.Is(err, errEval) || len(got) != 3 {
		t.Fatalf("err %v after %d tokens, want the runner's error after 3", err, len(got))
	}
	e.runner = runner
	res, _ := collect(t, e, Request{Prompt: "Once upon a time", MaxTokens: 10})
	if res.CachedTokens != 0 || !sameInts(res.Tokens, want.Tokens) {
		t.Errorf("after the error: %d cached tokens, tokens %v, want 0 and %v", res.CachedTokens, res.Tokens, want.Tokens)
	}
}

// TestPrefill: a prefilled start is reused by the next request whose prompt begins with it, which
// then generates what it would have from nothing; a prefill the cache already holds keeps the
// rest of the cache; bad tokens and over-long prompts are refused and change nothing.
func TestPrefill(t *testing.T) {
	e := load(t)
	start := e.Tok.Encode("Once upon a time, there was a", true, false)
	if err := e.Prefill(context.Background(), start); err != nil {
		t.Fatal(err)
	}
	prompt := append(append([]int(nil), start...), e.Tok.Encode(" little dog", false, false)...)
	got, _ := collect(t, e, Request{PromptTokens: prompt, MaxTokens: 16})
	if got.CachedTokens != len(start) {
		t.Errorf("after the prefill, the request reused %d tokens, want %d", got.CachedTokens, len(start))
	}
	want, _ := collect(t, load(t), Request{PromptTokens: prompt, MaxTokens: 16})
	if !sameInts(got.Tokens, want.Tokens) {
		t.Fatalf("after the prefill %v, from nothing %v", got.Tokens, want.Tokens)
	}
	// The cache holds prompt and answer: prefilling its start again keeps all of it.
	if err := e.Prefill(context.Background(), start); err != nil {
		t.Fatal(err)
	}
	follow := append(append(append([]int(nil), prompt...), got.Tokens...), e.Tok.Encode(" Then", false, false)...)
	next, _ := collect(t, e, Request{PromptTokens: follow, MaxTokens: 4})
	if min := len(prompt) + len(got.Tokens) - 1; next.CachedTokens < min {
		t.Errorf("a repeated prefill cut the cache: the follow-up reused %d tokens, want >= %d", next.CachedTokens, min)
	}
	if err := e.Prefill(context.Background(), []int{1, e.Model.Vocab}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("out-of-range token: %v, want ErrBadRequest", err)
	}
	if err := e.Prefill(context.Background(), make([]int, e.ContextLen())); !errors.Is(err, ErrPromptTooLong) {
		t.Errorf("over-long prefill: %v, want ErrPromptTooLong", err)
	}
	again, _ := collect(t, e, Request{PromptTokens: follow, MaxTokens: 4})
	if again.CachedTokens != len(follow)-1 {
		t.Errorf("refused prefills changed the cache: %d tokens reused, want %d", again.CachedTokens, len(follow)-1)
	}
}

// TestFitMessages: a conversation longer than the context keeps its system message and its last
// question and loses its oldest turns, questions with their replies, until the answer fits; one
// whose last message alone does not fit is refused.
func TestFitMessages(t *testing.T) {
	e := load(t)
	msgs := []chat.Message{{Role: "system", Content: "You are a shop assistant."}}
	for i := range 40 {
		msgs = append(msgs, chat.Message{Role: "user", Content: fmt.Sprintf("Question %d: where are the apples?", i)},
			chat.Message{Role: "assistant", Content: fmt.Sprintf("Answer %d: the apples are in aisle 3.", i)})
	}
	msgs = append(msgs, chat.Message{Role: "user", Content: "And the pears?"})
	fit, room, err := e.FitMessages(msgs, 64, 16)
	if err != nil {
		t.Fatal(err)
	}
	toks, _ := e.PromptTokens(Request{Messages: fit})
	if room != 64 || len(toks)+room > e.ContextLen() {
		t.Errorf("room %d with a %d-token prompt in a %d context", room, len(toks), e.ContextLen())
	}
	if len(fit) >= len(msgs) || fit[0] != msgs[0] || fit[len(fit)-1] != msgs[len(msgs)-1] || fit[1].Role != "user" {
		t.Fatalf("kept %d of %d messages: first %+v, second %+v, last %+v", len(fit), len(msgs), fit[0], fit[1], fit[len(fit)-1])
	}
	if kept := msgs[len(msgs)-len(fit)+1:]; !slices.Equal(fit[1:], kept) {
		t.Errorf("kept turns are not the newest ones")
	}
	if _, _, err := e.FitMessages([]chat.Message{{Role: "user", Content: strings.Repeat("apples and pears ", 400)}}, 64, 16); !errors.Is(err, ErrPromptTooLong) {
		t.Errorf("an over-long last message: %v, want ErrPromptTooLong", err)
	}
	if got, room, err := e.FitMessages(msgs[:3], 64, 16); err != nil || len(got) != 3 || room != 64 {
		t.Errorf("a short conversation changed: %d messages, room %d, %v", len(got), room, err)
	}
}
