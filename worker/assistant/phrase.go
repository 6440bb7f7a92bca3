package assistant

import (
	"context"
	"errors"
	"strings"

	"aisle/worker/assistant/lang"
	"aisle/worker/chat"
	"aisle/worker/engine"
)

// Phraser has a language model phrase the assistant's answers from their facts.
//
// The model's words are held to the facts in two ways. While it generates, every figure it
// begins (price, quantity, aisle, SKU, a number of a name or FAQ answer) must be one of the
// answer's, and it cannot name another product of the store (a mask over the vocabulary, see
// package constrain). When it is done, a text that lacks the key figure of its intent gets the
// deterministic sentence added (so does an answer that something is not carried which does not
// say no); an empty or failed generation is replaced by it. And the words are shown only while
// they read as an answer (proseGate): the first that does not ends the generation and the
// deterministic sentence is added, as it is to an answer cut at the token limit; a repetition
// ends it too.
type Phraser struct {
	E     *engine.Engine
	Store *Store
	// MaxTokens bounds an answer (default 96).
	MaxTokens int
	// Temperature and Seed sample the model's words (0: greedy).
	Temperature float32
	Seed        uint64
	// Unconstrained turns the constraint off (to measure what it prevents); the key-figure
	// check still runs.
	Unconstrained bool
	// Ungated shows the model's words even when they stop reading as an answer (to measure what
	// the gate prevents); an answer cut at the token limit still loses its last words.
	Ungated bool
}

// NewPhraser returns a Phraser for model e and store s.
func NewPhraser(e *engine.Engine, s *Store) *Phraser { return &Phraser{E: e, Store: s} }

// Phrased is a model-phrased answer.
type Phrased struct {
	Text string
	// How the text was made: "model" (the model's words, complete), "model+facts" (the model's
	// words with the facts' sentence added because a key figure was missing), "facts" (the
	// deterministic text) or "facts: REASON" (the model could not phrase this answer).
	How string
	// Generated is what the model wrote that was shown (before any sentence was added).
	Generated string
	// Stopped says why the model's words were cut short: "unreadable" (a word that does not read
	// as an answer: another script, code, run-together words), "repeating" (the model began to
	// repeat itself) or "cut" (the token limit; the last words are dropped, since a figure may
	// be cut short); "" when the model ended its answer itself.
	Stopped string
	// Result is the engine's account of the generation (zero when the model did not run).
	Result engine.Result
}

// Warm has the model evaluate the start that every new conversation with the store shares
// (WarmTokens), so that the first question's prefill begins after it. The app calls it once the
// model and the catalog are loaded, while the customer is still typing; a conversation in
// progress keeps its cache (engine.Prefill).
func (p *Phraser) Warm(ctx context.Context) error {
	toks, err := p.WarmTokens()
	if err != nil || len(toks) == 0 {
		return err
	}
	return p.E.Prefill(ctx, toks)
}

// WarmTokens is the start that every new conversation with the store shares: the system prompt
// and the user turn's opening as the model's template renders them, found as the common start of
// two conversations whose first questions differ (so any template works). It is empty for a model
// that cannot phrase answers.
func (p *Phraser) WarmTokens() ([]int, error) {
	if ok, _ := CanPhrase(p.E); !ok {
		return nil, nil
	}
	var prompts [2][]int
	for i, q := range []string{"1", "2"} {
		msgs := append(p.Store.NewConversation().Messages(), chat.Message{Role: "user", Content: q})
		toks, err := p.E.PromptTokens(engine.Request{Messages: msgs})
		if err != nil {
			return nil, err
		}
		prompts[i] = toks
	}
	n := 0
	for n < len(prompts[0]) && n < len(prompts[1]) && prompts[0][n] == prompts[1][n] {
		n++
	}
	return prompts[0][:n], nil
}

// CanPhrase reports whether model e can phrase answers, and why not: it needs a chat template
// (a model trained on plain text, such as stories260K, would only continue the prompt).
func CanPhrase(e *engine.Engine) (bool, string) {
	if t, _ := e.File.Metadata.String("tokenizer.chat_template"); strings.TrimSpace(t) == "" {
		return false, "the model has no chat template"
	}
	return true, ""
}

// ErrNoRoom means the prompt does not fit the model's context even without earlier turns.
var ErrNoRoom = errors.New("the prompt does not fit the model's context")

// Phrase has the model write the answer to the last question of conv (whose deterministic
// answer is a), streaming the words to emit (nil: not streamed), and records them in conv.
// Errors are the engine's or emit's (a cancelled ctx); a prompt that cannot fit gives the
// deterministic text, not an error.
func (p *Phraser) Phrase(ctx context.Context, conv *Conversation, a Answer, emit func(text string) error) (Phrased, error) {
	if emit == nil {
		emit = func(string) error { return nil }
	}
	deterministic := func(how string) (Phrased, error) {
		if err := emit(a.Text); err != nil {
			return Phrased{}, err
		}
		return Phrased{Text: a.Text, How: how}, nil
	}
	maxNew := p.MaxTokens
	if maxNew <= 0 {
		maxNew = 96
	}
	msgs, maxNew, err := p.fit(conv.Messages(), maxNew)
	if err != nil {
		return deterministic("facts: " + err.Error())
	}
	req := engine.Request{Messages: msgs, MaxTokens: maxNew, Temperature: p.Temperature, Seed: p.Seed}
	if !p.Unconstrained {
		req.Filter = p.Store.Constraint(p.E.Tok, a)
	}
	gate := newProseGate(p.Store, emit)
	gate.off = p.Ungated
	res, err := p.E.Generate(ctx, req, func(d engine.Delta) error { return gate.write(d.Text) })
	if err == nil {
		err = gate.flush(res.FinishReason != "length")
	}
	if err != nil && !errors.Is(err, errStopped) {
		return Phrased{}, err
	}
	gen := gate.text()
	out := Phrased{Generated: gen, Text: gen, How: "model", Stopped: gate.stopped, Result: res}
	switch {
	case strings.TrimSpace(gen) == "":
		if err := emit(a.Text); err != nil {
			return Phrased{}, err
		}
		out.Text, out.How = a.Text, "facts: the model wrote nothing"
		if gate.stopped == stopUnreadable {
			out.How = "facts: the model's words did not read as an answer"
		}
	case !statesKeys(gen, a.Key) || gate.stopped == stopUnreadable || gate.stopped == stopCut ||
		(a.Intent == IntentUnknownItem && !negates(gen)):
		if err := emit(" " + a.Text); err != nil {
			return Phrased{}, err
		}
		out.Text, out.How = gen+" "+a.Text, "model+facts"
	}
	conv.Reply(out.Text)
	return out, nil
}

// minAnswerTokens is the least room an answer gets before the prompt is said not to fit.
const minAnswerTokens = 32

// fit drops the oldest turns until the prompt and the answer fit the context (engine.FitMessages).
func (p *Phraser) fit(msgs []chat.Message, maxNew int) ([]chat.Message, int, error) {
	msgs, room, err := p.E.FitMessages(msgs, maxNew, minAnswerTokens)
	if errors.Is(err, engine.ErrPromptTooLong) {
		return nil, 0, ErrNoRoom
	}
	return msgs, room, err
}

// negates reports whether text says no in some way (an answer that the store does not carry
// something must).
func negates(text string) bool {
	for _, w := range lang.Words(text) {
		switch w.Norm { // Norm drops apostrophes: "don't" is "dont"
		case "no", "not", "nor", "none", "never", "nothing", "sorry", "afraid", "unfortunately",
			"dont", "doesnt", "cant", "cannot", "wont", "isnt", "arent", "havent", "didnt",
			"nicht", "kein", "keine", "keinen", "leider", "nein", "non", "pas":
			return true
		}
	}
	return false
}

// statesKeys reports whether text states every key: a figure as a whole figure word ("4" is not
// stated by "400 mg"), any other key ("out of stock", a supplier) as words of the text; case is
// ignored.
func statesKeys(text string, keys []string) bool {
	lower := strings.ToLower(text)
	figs := map[string]bool{}
	for _, f := range figures(text) {
		figs[strings.ToLower(f)] = true
	}
	for _, k := range keys {
		k = strings.ToLower(k)
		if len(figures(k)) == 1 && figures(k)[0] == k {
			if !figs[k] && !figs[strings.Replace(k, ".", ",", 1)] {
				return false
			}
			continue
		}
		if !strings.Contains(lower, k) {
			return false
		}
	}
	return true
}
