package wire

import "testing"

func TestRoundTrip(t *testing.T) {
	msgs := []Msg{
		{Kind: KindChat, Chat: &ChatRequest{Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}, MaxTokens: 3}},
		{Kind: KindDelta, Delta: &Delta{Text: "é", Token: 7}},
		{Kind: KindDone, Done: &Result{PromptTokens: 1, CompletionTokens: 2, FinishReason: "stop"}},
		{Kind: KindError, Error: Errorf(CodeTimeout, "gone")},
		{Kind: KindPing}, {Kind: KindAccepted},
	}
	for _, m := range msgs {
		got, err := Decode(m.Encode())
		if err != nil {
			t.Fatalf("%s: %v", m.Kind, err)
		}
		if got.Encode() != m.Encode() {
			t.Errorf("round trip %s -> %s", m.Encode(), got.Encode())
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, s := range []string{``, `{}`, `{"kind":"chat"}`, `{"kind":"delta"}`, `{"kind":"nope"}`, `[1]`} {
		if _, err := Decode(s); err == nil {
			t.Errorf("Decode(%q) succeeded", s)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"kind":"delta","delta":{"text":"a","token":1}}`)
	f.Add(`{"kind":"error","error":{"code":"x","message":"y"}}`)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Decode(s)
		if err != nil {
			return
		}
		if _, err := Decode(m.Encode()); err != nil {
			t.Fatalf("re-decode of %q: %v", m.Encode(), err)
		}
	})
}
