// Package engine turns a loaded model into a text generator: it tokenizes prompts or renders chat
// conversations with the model's template, runs the forward pass on a backend, samples, streams
// text as it becomes valid UTF-8, stops on end-of-generation tokens or stop strings, and keeps the
// KV cache of the previous request so a conversation's earlier turns are not evaluated again.
package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"aisle/worker/chat"
	"aisle/worker/gguf"
	"aisle/worker/model"
	"aisle/worker/sample"
	"aisle/worker/tokenizer"
)

// ErrPromptTooLong is returned when a prompt does not fit the context.
var ErrPromptTooLong = errors.New("prompt too long")

// ErrBadRequest wraps errors about invalid request fields.
var ErrBadRequest = errors.New("invalid request")

// Runner evaluates tokens on some backend and keeps their keys and values for later tokens.
// model.Session (CPU) implements it; so does the GPU backend.
type Runner interface {
	// Eval appends tokens at positions Pos().. and returns logits of the last token, or of
	// every token ((len(tokens), vocab) row-major) when all is set.
	Eval(tokens []int, all bool) ([]float32, error)
	Pos() int
	Truncate(n int)
	ContextLen() int
}

var _ Runner = (*model.Session)(nil)

// Options configure Load.
type Options struct {
	Threads    int    // CPU threads; <= 0: one per CPU
	ContextLen int    // positions of the KV cache; <= 0: min(model's context length, 4096)
	Backend    string // "cpu", "gpu" or "" / "auto"
	// Share and Remote split the model by rows across workers (model.LoadLeader): this engine
	// is part 0 and runs on the CPU. f may then come from gguf.OpenLazyShards.
	Share  model.Share
	Remote model.Remote
}

// DefaultContext caps the KV cache when Options.ContextLen is not set.
const DefaultContext = 4096

// Engine generates text with one model. Generate calls are serialised.
type Engine struct {
	File     *gguf.File
	Model    *model.Model
	Tok      *tokenizer.Tokenizer
	Template chat.Template

	// Backend is the backend in use ("cpu" or "gpu") and BackendReason why it was chosen.
	Backend, BackendReason string

	mu      sync.Mutex
	runner  Runner
	history []int // the tokens whose keys and values are in runner, in order
}

// Load prepares an engine for the model in f. f must stay open while the engine is used.
func Load(f *gguf.File, opts Options) (*Engine, error) {
	tok, err := tokenizer.FromGGUF(f.Metadata)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var m *model.Model
	if opts.Share.Split() {
		m, err = model.LoadLeader(f, opts.Threads, opts.Share, opts.Remote)
	} else {
		m, err = model.Load(f, opts.Threads)
	}
	if err != nil {
		return nil, err
	}
	if tok.VocabSize() > m.Vocab {
		m.Close()
		return nil, fmt.Errorf("%w: tokenizer has %d tokens but token_embd has %d rows", model.ErrUnsupported, tok.VocabSize(), m.Vocab)
	}
	ctxLen := opts.ContextLen
	if ctxLen <= 0 {
		ctxLen = min(m.ContextLen, DefaultContext)
	}
	tmplText, _ := f.Metadata.String("tokenizer.chat_template")
	tmpl := chat.Select(tmplText)
	// The template writes the model's own BOS/EOS texts where it writes bos_token/eos_token.
	if tok.BOS() >= 0 {
		tmpl.BOS = tok.Token(tok.BOS())
	}
	if tok.EOS() >= 0 {
		tmpl.EOS = tok.Token(tok.EOS())
	}
	e := &Engine{File: f, Model: m, Tok: tok, Template: tmpl}
	e.runner, e.Backend, e.BackendReason, err = chooseBackend(e, opts, ctxLen)
	if err != nil {
		m.Close()
		return nil, err
	}
	return e, nil
}

// Close releases the engine's threads and backend resources (not the file).
func (e *Engine) Close() {
	if c, ok := e.runner.(interface{ Close() }); ok {
		c.Close()
	}
	e.Model.Close()
}

// ContextLen is the number of positions a conversation can hold.
func (e *Engine) ContextLen() int { return e.runner.ContextLen() }

// Request is one generation. Exactly one of Messages and Prompt is used: Messages are rendered
// with the model's chat template; Prompt is tokenized as is (with BOS if the model wants it).
type Request struct {
	Messages []chat.Message
	Prompt   string
	// PromptTokens, when not nil, is used as the prompt verbatim (no BOS added).
	PromptTokens []int

	MaxTokens     int // <= 0: until the context is full
	Temperature   float32
	TopK          int
	TopP, MinP    float32
	RepeatPenalty float32
	Seed          uint64
	Stop          []string // stop strings; the text stops before the first one
	IgnoreEOS     bool     // keep generating past end-of-generation tokens
	// Filter, when not nil, restricts every token to those its mask allows (see TokenFilter),
	// on every backend and with every sampler. A filter holds the state of one generation.
	Filter TokenFilter
}

// Delta is a piece of streamed output: Text is valid UTF-8 (possibly empty while a multi-byte
// character or a possible stop string is held back); Token is the sampled id.
type Delta struct {
	Text  string
	Token int
}

// Result summarises a finished generation.
type Result struct {
	PromptTokens     []int
	Tokens           []int // generated ids, in order
	Text             string
	CachedTokens     int    // prompt tokens whose keys and values were reused from the last request
	FinishReason     string // "stop" (end token or stop string) or "length"
	PrefillTokPerSec float64
	DecodeTokPerSec  float64
	// PrefillTime is the time from the request's start to the first token: evaluating the
	// prompt's uncached tokens (0 when no token came).
	PrefillTime time.Duration
}

// Params returns the sampling parameters of r.
func (r Request) Params() sample.Params {
	return sample.Params{Temperature: r.Temperature, TopK: r.TopK, TopP: r.TopP, MinP: r.MinP,
		RepeatPenalty: r.RepeatPenalty, Seed: r.Seed}
}

// PromptTokens returns the token ids r's prompt evaluates to.
func (e *Engine) PromptTokens(r Request) ([]int, error) {
	switch {
	case r.PromptTokens != nil:
		return r.PromptTokens, nil
	case len(r.Messages) > 0:
		text, err := e.Template.Render(r.Messages, true)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		// The template writes BOS itself when it has one; add it only when it does not.
		addBOS := !e.Template.EmitsBOS()
		return e.Tok.Encode(text, addBOS, true), nil
	default:
		return e.Tok.Encode(r.Prompt, true, false), nil
	}
}

// FitMessages drops the oldest turns of a chat (never its leading system messages or its last
// message) until its prompt and maxNew new tokens fit the context; with no turn left to drop it
// shortens the room for new tokens, down to minNew. It returns the messages that fit and the room
// for new tokens, or ErrPromptTooLong when even the last message leaves less than minNew. A long
// conversation thus never fails: its newest question always gets an answer.
func (e *Engine) FitMessages(msgs []chat.Message, maxNew, minNew int) ([]chat.Message, int, error) {
	head := 0
	for head < len(msgs)-1 && msgs[head].Role == "system" {
		head++
	}
	for {
		toks, err := e.PromptTokens(Request{Messages: msgs})
		if err != nil {
			return nil, 0, err
		}
		room := e.ContextLen() - len(toks)
		if room >= maxNew {
			return msgs, maxNew, nil
		}
		if len(msgs)-head <= 1 {
			if room >= minNew {
				return msgs, room, nil
			}
			return nil, 0, fmt.Errorf("%w: the last message alone is %d tokens, the context holds %d", ErrPromptTooLong, len(toks), e.ContextLen())
		}
		// drop the oldest turn after the system messages, with its reply when it is a question
		drop := 1
		if msgs[head].Role == "user" && len(msgs)-head > 2 && msgs[head+1].Role == "assistant" {
			drop = 2
		}
		msgs = append(msgs[:head:head], msgs[head+drop:]...)
	}
}

// Generate runs r, calling emit for each sampled token. It stops at MaxTokens, an
// end-of-generation token, a stop string, a full context, a cancelled ctx, or an error from emit
// (see generate: the loop every backend shares).
func (e *Engine) Generate(ctx context.Context, r Request, emit func(Delta) error) (Result, error) {
	var res Result
	params := r.Params()
	if err := params.Validate(); err != nil {
		return res, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	prompt, err := e.PromptTokens(r)
	if err != nil {
		return res, err
	}
	res.PromptTokens = prompt
	e.mu.Lock()
	defer e.mu.Unlock()
	ctxLen := e.runner.ContextLen()
	if len(prompt) == 0 {
		return res, fmt.Errorf("%w: empty prompt", ErrBadRequest)
	}
	if len(prompt) >= ctxLen {
		return res, fmt.Errorf("%w: the prompt is %d tokens, the context holds %d", ErrPromptTooLong, len(prompt), ctxLen)
	}
	for _, id := range prompt {
		if id < 0 || id >= e.Model.Vocab {
			return res, fmt.Errorf("%w: token id %d out of range", ErrBadRequest, id)
		}
	}

	// Reuse the cached prefix; at least one token must be evaluated to get logits.
	keep := commonPrefix(e.history, prompt)
	if keep == len(prompt) {
		keep--
	}
	e.runner.Truncate(keep)
	e.history = e.history[:keep]
	res.CachedTokens = keep

	stops := r.Stop
	if len(r.Messages) > 0 {
		// the end-of-turn texts of the template, in case the model spells them out
		stops = append(append([]string(nil), stops...), e.Template.Stops()...)
	}
	out := newTextStream(e.Tok, stops)
	// each generated token but the last is evaluated: the context bounds the count
	limit := ctxLen - len(prompt) + 1
	if r.MaxTokens > 0 {
		limit = min(limit, r.MaxTokens)
	}
	res.FinishReason = "length"

	start := time.Now()
	var src tokenSource
	if dev, ok := e.runner.(DeviceSampler); ok && samplesOnDevice(params) {
		if err := dev.SetSampling(max(r.Temperature, 0), r.Seed); err != nil {
			return res, err
		}
		ts, err := dev.StartDecode(prompt[keep:], limit, r.Filter != nil)
		if err != nil {
			e.resetCache()
			return res, err
		}
		src = deviceSource{ts}
	} else {
		sampler := sample.New(params)
		for _, id := range prompt {
			sampler.Accept(id)
		}
		src = &hostSource{runner: e.runner, sampler: sampler, pending: prompt[keep:]}
	}
	if err := e.generate(ctx, src, r, prompt, start, limit, out, emit, &res); err != nil {
		return res, err
	}
	if rest := out.flush(); rest != "" {
		if err := emit(Delta{Text: rest, Token: -1}); err != nil {
			return res, err
		}
	}
	res.Text = out.text.String()
	return res, nil
}

// Prefill evaluates tokens into the KV cache without generating, so that the next request whose
// prompt starts with them evaluates only the rest: the start that every conversation shares,
// evaluated while the user is still typing. When the cache already starts with tokens it is
// left as it is (a conversation in progress keeps its turns).
func (e *Engine) Prefill(ctx context.Context, tokens []int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(tokens) >= e.runner.ContextLen() {
		return fmt.Errorf("%w: the prompt is %d tokens, the context holds %d", ErrPromptTooLong, len(tokens), e.runner.ContextLen())
	}
	for _, id := range tokens {
		if id < 0 || id >= e.Model.Vocab {
			return fmt.Errorf("%w: token id %d out of range", ErrBadRequest, id)
		}
	}
	if e.holds(tokens) {
		return nil
	}
	keep := commonPrefix(e.history, tokens)
	e.runner.Truncate(keep)
	e.history = e.history[:keep]
	if _, err := e.runner.Eval(tokens[keep:], false); err != nil {
		e.resetCache()
		return err
	}
	e.history = append(e.history, tokens[keep:]...)
	return nil
}

// TokenFilter restricts the tokens a generation may take (Request.Filter): a constraint such as
// *constrain.State. The engine calls Mask before each token is chosen and Accept with each token
// taken, on every backend and with every sampler.
type TokenFilter interface {
	// Mask sets bit i of allowed (allowed[i/32]>>(i%32)&1) for each token i that may come next
	// and clears the others; allowed covers the model's whole vocabulary. It must leave at least
	// one bit set.
	Mask(allowed []uint32)
	// Accept records the token taken: every token of Result.Tokens, in order (an end-of-generation
	// token that stops the generation is not taken).
	Accept(tok int)
}

// tokenSource produces the tokens of one generation on some backend.
type tokenSource interface {
	// next returns the next token, chosen among those allowed (nil: all) from the logits after
	// the prompt (first call) or after the token the previous call returned.
	next(allowed []uint32) (int, error)
	// stop ends the generation: the last token returned is not evaluated.
	stop()
}

// generate is the generation loop of every backend: it takes tokens from src, one at a time,
// under r.Filter's mask, and applies the stop rules: end-of-generation tokens (unless IgnoreEOS),
// stop strings, the token limit (MaxTokens or a full context), a cancelled ctx, an error from emit.
func (e *Engine) generate(ctx context.Context, src tokenSource, r Request, prompt []int, start time.Time, limit int, out *textStream, emit func(Delta) error, res *Result) error {
	var allowed []uint32
	if r.Filter != nil {
		allowed = make([]uint32, (e.Model.Vocab+31)/32)
	}
	var seq []int // every token src returned
	srcErr := false
	var firstAt time.Time
	defer func() {
		src.stop()
		// in the cache now: the prompt, then every token returned but the last, as far as the
		// backend got (the host evaluates the prompt with the first token)
		done := append(prompt[:len(prompt):len(prompt)], seq[:max(len(seq)-1, 0)]...)
		if pos := e.runner.Pos(); srcErr || pos > len(done) || pos < res.CachedTokens {
			e.resetCache()
		} else {
			e.history = append(e.history[:0], done[:pos]...)
		}
		if !firstAt.IsZero() {
			res.PrefillTime = firstAt.Sub(start)
			res.PrefillTokPerSec = float64(len(prompt)-res.CachedTokens) / res.PrefillTime.Seconds()
			if n := len(seq) - 1; n > 0 {
				res.DecodeTokPerSec = float64(n) / time.Since(firstAt).Seconds()
			}
		}
	}()
	for len(res.Tokens) < limit {
		if err := ctx.Err(); err != nil {
			return err
		}
		var mask []uint32
		if r.Filter != nil {
			r.Filter.Mask(allowed)
			mask = allowed
		}
		next, err := src.next(mask)
		if err != nil {
			srcErr = true
			return err
		}
		if firstAt.IsZero() {
			firstAt = time.Now()
		}
		seq = append(seq, next)
		if !r.IgnoreEOS && e.Tok.IsEOG(next) {
			res.FinishReason = "stop"
			return nil
		}
		if r.Filter != nil {
			r.Filter.Accept(next)
		}
		res.Tokens = append(res.Tokens, next)
		text, stopped := out.add(next)
		if err := emit(Delta{Text: text, Token: next}); err != nil {
			return err
		}
		if stopped {
			res.FinishReason = "stop"
			return nil
		}
	}
	return nil
}

// hostSource samples on the host from logits the runner returns (the CPU backend, and the GPU
// backend when the sampler needs more than temperature).
type hostSource struct {
	runner  Runner
	sampler *sample.Sampler
	pending []int // to evaluate before the next token: the prompt's new tokens, then the last token
	last    [1]int
}

func (h *hostSource) next(allowed []uint32) (int, error) {
	logits, err := h.runner.Eval(h.pending, false)
	if err != nil {
		return 0, err
	}
	if allowed != nil {
		sample.Mask(logits, allowed)
	}
	tok := h.sampler.Sample(logits)
	h.sampler.Accept(tok)
	h.last[0] = tok
	h.pending = h.last[:]
	return tok, nil
}

func (h *hostSource) stop() {}

// DeviceSampler is a runner that chooses tokens on its device and reads back only their ids (the
// GPU backend), pipelined: the forward pass of the next token is queued before the current
// token is read back.
type DeviceSampler interface {
	// SetSampling sets greedy decoding (temperature 0) or sampling at a temperature, seeded.
	SetSampling(temperature float32, seed uint64) error
	// StartDecode evaluates tokens (appended at Pos()) and prepares to generate at most n tokens.
	// With masked, every call of the stream's Next passes the mask of allowed tokens.
	StartDecode(tokens []int, n int, masked bool) (TokenStream, error)
}

// TokenStream is a generation in progress on a DeviceSampler.
type TokenStream interface {
	// Next returns the next token, chosen among those allowed (nil unless masked).
	Next(allowed []uint32) (int, error)
	// Stop ends the generation; afterwards Pos() counts the prompt and every token returned but
	// the last.
	Stop()
}

// samplesOnDevice reports whether p needs nothing but temperature sampling (or greedy), which a
// DeviceSampler does itself.
func samplesOnDevice(p sample.Params) bool {
	noPenalty := p.RepeatPenalty == 0 || p.RepeatPenalty == 1
	if p.Temperature <= 0 {
		return noPenalty
	}
	return noPenalty && p.TopK == 0 && (p.TopP == 0 || p.TopP >= 1) && p.MinP == 0
}

// deviceSource takes tokens from a device's stream.
type deviceSource struct{ ts TokenStream }

func (d deviceSource) next(allowed []uint32) (int, error) { return d.ts.Next(allowed) }
func (d deviceSource) stop()                              { d.ts.Stop() }

// resetCache forgets the KV cache after a failure, so the next request starts clean.
func (e *Engine) resetCache() {
	e.history = e.history[:0]
	e.runner.Truncate(0)
}

func commonPrefix(a, b []int) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// textStream turns sampled ids into text: it holds back incomplete UTF-8 and any tail that might
// be the start of a stop string, and reports when a stop string is complete.
type textStream struct {
	dec     *tokenizer.StreamDecoder
	stops   []string
	pending string          // decoded but not yet emitted
	text    strings.Builder // everything emitted
	stopped bool
}

func newTextStream(tok *tokenizer.Tokenizer, stops []string) *textStream {
	var s []string
	for _, x := range stops {
		if x != "" {
			s = append(s, x)
		}
	}
	return &textStream{dec: tok.NewStreamDecoder(), stops: s}
}

// add decodes id and returns the text that can be emitted now, and whether a stop string ended
// the output.
func (t *textStream) add(id int) (string, bool) {
	if t.stopped {
		return "", true
	}
	// ValidUTF8 replaces bytes that can never form a character (a model may emit byte tokens
	// that do not combine), as browsers and node do; incomplete sequences are held by dec.
	t.pending += tokenizer.ValidUTF8(t.dec.Add(id))
	return t.release()
}

func (t *textStream) release() (string, bool) {
	cut, hold := len(t.pending), 0
	for _, s := range t.stops {
		if i := strings.Index(t.pending, s); i >= 0 && i < cut {
			cut = i
			t.stopped = true
		}
	}
	if !t.stopped {
		// hold back the longest tail that is a proper prefix of a stop string
		for _, s := range t.stops {
			for k := min(len(s)-1, len(t.pending)); k > hold; k-- {
				if strings.HasSuffix(t.pending, s[:k]) {
					hold = k
					break
				}
			}
		}
		cut = len(t.pending) - hold
	}
	out := t.pending[:cut]
	t.pending = t.pending[cut:]
	if t.stopped {
		t.pending = ""
	}
	t.text.WriteString(out)
	return out, t.stopped
}

// flush returns what is still held back at the end of generation.
func (t *textStream) flush() string {
	if t.stopped {
		return ""
	}
	t.pending += tokenizer.ValidUTF8(t.dec.Flush())
	out := t.pending
	t.pending = ""
	t.text.WriteString(out)
	return out
}
