package assistant

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aisle/worker/engine"
	"aisle/worker/gguf"
	"aisle/worker/modelgen"
	"aisle/worker/quant"
)

// randomChatModel writes a tiny random-weight llama model with StarCoder's vocabulary and the
// ChatML template, and loads it on the CPU: a model that writes anything at all.
func randomChatModel(t *testing.T) *engine.Engine {
	t.Helper()
	vf, err := gguf.Open("../testdata/vocab/ggml-vocab-starcoder.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer vf.Close()
	tmpl, err := os.ReadFile("../chat/testdata/chatml.jinja")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "random.gguf")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	spec := modelgen.Spec{Arch: "llama", Shape: modelgen.Shapes["tiny"], Type: quant.Q8_0, Vocab: vf, Seed: 7, ChatTemplate: string(tmpl)}
	if err := modelgen.Write(out, spec); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	e, err := engine.Load(f, engine.Options{Backend: "cpu", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// A model that writes nonsense cannot put it in front of a customer: whatever it writes, what
// is shown is the streamed text, it states the answer's key figures, holds no figure outside the
// facts, and the conversation records it.
func TestPhraseRandomModel(t *testing.T) {
	e := randomChatModel(t)
	if ok, why := CanPhrase(e); !ok {
		t.Fatal(why)
	}
	s := mustStore(t, "testdata/eval/corner-pharmacy.json", false)
	hows := map[string]int{}
	for _, unconstrained := range []bool{false, true} {
		for _, q := range []string{"how much is the ibuprofen?", "where are the aa batteries", "when do you open on sunday?", "hello", "do you sell bikes?"} {
			conv := s.NewConversation()
			a := conv.Ask(q)
			p := NewPhraser(e, s)
			p.Unconstrained = unconstrained
			var streamed strings.Builder
			ph, err := p.Phrase(context.Background(), conv, a, func(x string) error { streamed.WriteString(x); return nil })
			if err != nil {
				t.Fatal(err)
			}
			hows[ph.How]++
			t.Logf("%q (unconstrained %v): %s %q", q, unconstrained, ph.How, ph.Text)
			if streamed.String() != ph.Text {
				t.Errorf("%q: streamed %q, answer %q", q, streamed.String(), ph.Text)
			}
			if !statesKeys(ph.Text, a.Key) {
				t.Errorf("%q: %q lacks the key figures %q", q, ph.Text, a.Key)
			}
			shown := a
			shown.Text = ph.Text
			if bad := figuresOutsideFacts(shown); !unconstrained && len(bad) > 0 {
				t.Errorf("%q: %q states %q outside the facts", q, ph.Text, bad)
			}
			g := newProseGate(s, func(string) error { return nil })
			for _, w := range strings.Fields(ph.Generated) {
				if !g.readable(w) {
					t.Errorf("%q: the unreadable word %q was shown (%q)", q, w, ph.Text)
				}
			}
			if last := conv.turns[len(conv.turns)-1]; last.Role != "assistant" || last.Content != ph.Text {
				t.Errorf("%q: the conversation recorded %+v", q, last)
			}
		}
	}
	t.Logf("how the answers were made: %v", hows)
}
