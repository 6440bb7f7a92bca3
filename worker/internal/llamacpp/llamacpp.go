// Package llamacpp drives llama.cpp, the reference implementation the engine is checked
// against, from Go tests and benchmarks.
//
// llama.cpp runs as the npm package node-llama-cpp with its prebuilt CPU binaries, installed
// under deploy/testpeers/node_modules (see NodeModules). Start launches one long-lived node
// process per model, running the embedded script peer.mjs; Go and the script exchange one JSON
// object per line (requests on the child's stdin, responses on an extra pipe, so that llama.cpp's
// logs on stdout/stderr cannot corrupt the protocol).
//
// Numerics. The context is created so that results are deterministic and comparable with an
// engine computing in float32 (see Options): flash attention off, the KV cache in F32 (llama.cpp's
// default would be F16), one sequence, one batch (and ubatch) as large as the context so that a
// prompt is evaluated in a single llama_decode, no context shift (requests that would overflow the
// context are refused), and greedy sampling only (argmax, first index on ties; no repetition
// penalty), which uses no seed. Logits are llama.cpp's float32 output, bit for bit.
//
// Speed. ggml's CPU threads meet at spin barriers after every operation; on a 2-core machine
// that anything else is using, a preempted partner stalls the other thread for a whole time
// slice (measured here: single barriers up to 200 ms under load), so 2-thread figures are only
// meaningful on an otherwise idle machine. Bench reports what it sees; the command
// cmd/llamacpp prints it in the same JSON shape as the engine's `slm bench`.
//
// A Peer is safe for concurrent use; requests are served one at a time.
package llamacpp

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

//go:embed peer.mjs
var peerScript []byte

// KVType is the element type of llama.cpp's KV cache.
type KVType string

// KV cache types llama.cpp accepts for both keys and values on the CPU.
const (
	KVF32 KVType = "F32" // exact float32 keys and values: the default here
	KVF16 KVType = "F16" // llama.cpp's own default: keys, values and (without flash attention) the attention weights rounded to half precision
)

// Options configure a peer. The zero value is valid.
type Options struct {
	// Threads used by llama.cpp for prefill and decode (exactly this many). Default 1: results
	// do not depend on it (every output element is computed by one thread), and on a small
	// shared machine ggml's 2-thread synchronisation costs far more than tiny models compute
	// (stories260K decode: ~0.3 ms/token with 1 thread, ~15 ms with 2). Set it for benchmarks.
	Threads int
	// ContextSize is the context length in tokens; llama.cpp may round it up to a multiple of
	// 256 (Info().ContextSize says what it got). The batch size equals it. Default 512.
	ContextSize int
	// KVCache is the KV cache element type. Default KVF32.
	KVCache KVType
	// FlashAttention turns llama.cpp's flash-attention kernel on. Default off: the plain path
	// (softmax(QK^T)V with separate matrix products) is the one the engine reproduces.
	FlashAttention bool
	// VocabOnly loads only the vocabulary (tokenizer metadata, no weights): Tokenize and
	// Detokenize work, evaluation requests fail. Needed for the vocabulary-only GGUF files.
	VocabOnly bool
	// StartTimeout bounds loading the model; the peer is killed when it passes. Default 60 s.
	StartTimeout time.Duration
	// Stderr, when set, receives the peer's logs (llama.cpp's warnings, node errors) as they
	// come. The last few KiB are kept either way and quoted in errors.
	Stderr io.Writer
}

func (o Options) withDefaults() (Options, error) {
	if o.Threads == 0 {
		o.Threads = 1
	}
	if o.ContextSize == 0 {
		o.ContextSize = 512
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.KVCache == "" {
		o.KVCache = KVF32
	}
	switch {
	case o.Threads < 0 || o.Threads > 1024:
		return o, fmt.Errorf("llamacpp: threads %d out of range", o.Threads)
	case o.ContextSize < 0 || o.ContextSize > 1<<20:
		return o, fmt.Errorf("llamacpp: context size %d out of range", o.ContextSize)
	case o.KVCache != KVF32 && o.KVCache != KVF16:
		return o, fmt.Errorf("llamacpp: KV cache type %q not supported (want F32 or F16)", o.KVCache)
	}
	return o, nil
}

// Info describes the loaded model and the context llama.cpp actually created.
type Info struct {
	Arch      string `json:"arch"`      // general.architecture
	VocabSize int    `json:"vocabSize"` // number of tokens in the vocabulary
	// Special token ids, -1 when the model has none.
	BOS int `json:"bos"`
	EOS int `json:"eos"`
	EOT int `json:"eot"`
	// AddBOS/AddEOS: whether llama.cpp adds BOS/EOS when tokenizing with add_special.
	AddBOS bool `json:"addBos"`
	AddEOS bool `json:"addEos"`
	// Context parameters (zero when VocabOnly).
	ContextSize      int    `json:"contextSize"`
	BatchSize        int    `json:"batchSize"`
	Threads          int    `json:"threads"`
	FlashAttention   bool   `json:"flashAttention"`
	KVCacheKeyType   string `json:"kvCacheKeyType"`
	KVCacheValueType string `json:"kvCacheValueType"`
	// Versions and the CPU features llama.cpp was built with and detected.
	LlamaCppRelease     string `json:"llamaCppRelease"`
	NodeLlamaCppVersion string `json:"nodeLlamaCppVersion"`
	SystemInfo          string `json:"systemInfo"`
}

// Peer is a running llama.cpp peer holding one model.
type Peer struct {
	info   Info
	cmd    *exec.Cmd
	tmp    string
	stdin  io.WriteCloser
	resp   *bufio.Reader
	respR  *os.File
	stderr *tailBuffer
	waited chan struct{} // closed once the process has been reaped
	werr   error         // the process's exit error, valid after waited is closed

	mu     sync.Mutex // serialises requests; guards nextID, closed and broken
	nextID int
	closed bool
	broken error
}

// Start launches node with the peer script and loads model (a GGUF path). ctx bounds the
// whole life of the process: cancelling it kills the peer. Start returns once the model is
// loaded (about a second plus load time) or with an error quoting the peer's stderr.
func Start(ctx context.Context, model string, opts Options) (*Peer, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := Available(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(model)
	if err != nil {
		return nil, fmt.Errorf("llamacpp: model path: %w", err)
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("llamacpp: model: %w", err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("llamacpp: model %s is a directory", abs)
	}
	// node-llama-cpp parses the GGUF header in JavaScript before llama.cpp sees it, and absurd
	// counts make it loop for minutes eating memory: refuse those here.
	if err := checkHeader(abs); err != nil {
		return nil, err
	}
	nodeBin, _ := NodeBinary()
	nm, err := NodeModules()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "llamacpp-peer-")
	if err != nil {
		return nil, fmt.Errorf("llamacpp: %w", err)
	}
	script := filepath.Join(tmp, "peer.mjs")
	if err := os.WriteFile(script, peerScript, 0o600); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("llamacpp: %w", err)
	}
	cfg, err := json.Marshal(map[string]any{
		"model": abs, "threads": opts.Threads, "contextSize": opts.ContextSize,
		"kvCacheType": string(opts.KVCache), "flashAttention": opts.FlashAttention, "vocabOnly": opts.VocabOnly,
	})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("llamacpp: %w", err)
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("llamacpp: %w", err)
	}
	p := &Peer{tmp: tmp, respR: respR, resp: bufio.NewReaderSize(respR, 1<<20), stderr: &tailBuffer{max: 8 << 10}, waited: make(chan struct{})}
	cmd := exec.CommandContext(ctx, nodeBin, script, nm, string(cfg))
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "NODE_LLAMA_CPP_SKIP_DOWNLOAD=true")
	cmd.ExtraFiles = []*os.File{respW} // fd 3 in the child
	var logs io.Writer = p.stderr
	if opts.Stderr != nil {
		logs = io.MultiWriter(p.stderr, opts.Stderr)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = sysProcAttr()
	p.stdin, err = cmd.StdinPipe()
	if err != nil {
		respR.Close()
		respW.Close()
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("llamacpp: %w", err)
	}
	if err := cmd.Start(); err != nil {
		respR.Close()
		respW.Close()
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("llamacpp: start node: %w", err)
	}
	respW.Close() // the child holds its own copy; EOF on respR now means the child is gone
	p.cmd = cmd
	go func() { p.werr = cmd.Wait(); close(p.waited) }()

	var hello struct {
		ID    int    `json:"id"`
		Error string `json:"error"`
		Info  *Info  `json:"info"`
	}
	helloErr := make(chan error, 1)
	go func() { helloErr <- p.readResponse(&hello) }()
	timer := time.NewTimer(opts.StartTimeout)
	defer timer.Stop()
	select {
	case err := <-helloErr:
		if err != nil {
			p.Close()
			return nil, p.failure("start", err)
		}
	case <-timer.C:
		cmd.Process.Kill()
		p.Close()
		return nil, p.failure("start", fmt.Errorf("model not loaded within %v", opts.StartTimeout))
	case <-ctx.Done():
		p.Close()
		return nil, p.failure("start", ctx.Err())
	}
	if hello.Error != "" || hello.Info == nil {
		p.Close()
		return nil, p.failure("load "+abs, errors.New(firstLine(hello.Error)))
	}
	p.info = *hello.Info
	return p, nil
}

// Info returns what the peer reported at start-up.
func (p *Peer) Info() Info { return p.info }

// Close ends the peer process and removes its temporary files. It is idempotent.
func (p *Peer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if p.cmd == nil {
		p.respR.Close()
		return os.RemoveAll(p.tmp)
	}
	p.stdin.Close() // the script ends its request loop and disposes of llama.cpp
	select {
	case <-p.waited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.waited
	}
	p.respR.Close()
	return os.RemoveAll(p.tmp)
}

// call sends one request and decodes the response into out (a pointer to a struct whose
// fields match the op's result); the response's "error" becomes a Go error.
func (p *Peer) call(op string, req map[string]any, out any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("llamacpp: %s: peer closed", op)
	}
	if p.broken != nil {
		return p.broken
	}
	p.nextID++
	id := p.nextID
	req["id"], req["op"] = id, op
	line, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("llamacpp: %s: encode request: %w", op, err)
	}
	if _, err := p.stdin.Write(append(line, '\n')); err != nil {
		p.broken = p.failure(op, err)
		return p.broken
	}
	var raw json.RawMessage
	if err := p.readResponse(&raw); err != nil {
		p.broken = p.failure(op, err)
		return p.broken
	}
	var head struct {
		ID    int     `json:"id"`
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		p.broken = fmt.Errorf("llamacpp: %s: bad response: %w", op, err)
		return p.broken
	}
	if head.ID != id {
		p.broken = fmt.Errorf("llamacpp: %s: response id %d, want %d: protocol out of step", op, head.ID, id)
		return p.broken
	}
	if head.Error != nil {
		return fmt.Errorf("llamacpp: %s: %s", op, strings.TrimSpace(*head.Error))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("llamacpp: %s: decode response: %w", op, err)
	}
	return nil
}

func (p *Peer) readResponse(out any) error {
	line, err := p.resp.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("peer exited")
		}
		return err
	}
	return json.Unmarshal(line, out)
}

// failure wraps err with the peer's exit status and the tail of its logs.
func (p *Peer) failure(op string, err error) error {
	status := ""
	select {
	case <-p.waited:
		if p.werr != nil {
			status = " (" + p.werr.Error() + ")"
		}
	case <-time.After(2 * time.Second):
	}
	tail := strings.TrimSpace(p.stderr.String())
	if tail == "" {
		return fmt.Errorf("llamacpp: %s: %w%s", op, err, status)
	}
	return fmt.Errorf("llamacpp: %s: %w%s; peer log tail:\n%s", op, err, status, tail)
}

// Tokenize tokenizes text exactly as llama.cpp does (llama_tokenize with add_special=false).
// parseSpecial makes the text of special/control tokens (e.g. "<|im_end|>") map to those
// tokens; otherwise it is tokenized as plain text. addBOS prepends the BOS token when the
// vocabulary has one (an error otherwise); whether a model wants it is Info().AddBOS.
// text must be valid UTF-8.
func (p *Peer) Tokenize(text string, addBOS, parseSpecial bool) ([]int, error) {
	if !utf8.ValidString(text) {
		return nil, errors.New("llamacpp: tokenize: text is not valid UTF-8")
	}
	var r struct {
		IDs []int `json:"ids"`
	}
	if err := p.call("tokenize", map[string]any{"text": text, "special": parseSpecial}, &r); err != nil {
		return nil, err
	}
	ids := r.IDs
	if ids == nil {
		ids = []int{}
	}
	if addBOS {
		if p.info.BOS < 0 {
			return nil, errors.New("llamacpp: tokenize: the vocabulary has no BOS token")
		}
		ids = append([]int{p.info.BOS}, ids...)
	}
	return ids, nil
}

// Detokenize turns ids into text as llama_detokenize does with remove_special=false and
// unparse_special=false: control tokens (BOS, EOS, ...) produce no text. Byte sequences that
// are not valid UTF-8 (a token holding part of a character) come back as U+FFFD, as node's
// string conversion makes them.
func (p *Peer) Detokenize(ids []int) (string, error) {
	if err := p.checkIDs("detokenize", ids); err != nil {
		return "", err
	}
	var r struct {
		Text string `json:"text"`
	}
	if err := p.call("detokenize", map[string]any{"ids": ids, "special": false}, &r); err != nil {
		return "", err
	}
	return r.Text, nil
}

// Greedy evaluates promptIDs from an empty KV cache in one batch, then generates exactly n
// tokens by argmax, feeding each back; end-of-generation tokens are generated and fed back
// like any other (the raw greedy stream). len(promptIDs)+n-1 must fit the context.
func (p *Peer) Greedy(promptIDs []int, n int) ([]int, error) {
	return p.greedy(promptIDs, n, false)
}

// GreedyUntilEOG is Greedy that stops after the first end-of-generation token (EOS, EOT, ...),
// which is included in the result; at most n tokens.
func (p *Peer) GreedyUntilEOG(promptIDs []int, n int) ([]int, error) {
	return p.greedy(promptIDs, n, true)
}

func (p *Peer) greedy(promptIDs []int, n int, stopAtEOG bool) ([]int, error) {
	if err := p.checkSequence("greedy", promptIDs, n); err != nil {
		return nil, err
	}
	var r struct {
		IDs []int `json:"ids"`
	}
	if err := p.call("greedy", map[string]any{"ids": promptIDs, "n": n, "stopAtEog": stopAtEOG}, &r); err != nil {
		return nil, err
	}
	if len(r.IDs) == 0 || len(r.IDs) > n {
		return nil, fmt.Errorf("llamacpp: greedy: got %d tokens, want 1..%d", len(r.IDs), n)
	}
	return r.IDs, nil
}

// Logits evaluates ids from an empty KV cache in one batch and returns llama.cpp's logits at
// every position: out[i] (length VocabSize) scores the token that follows ids[:i+1].
func (p *Peer) Logits(ids []int) ([][]float32, error) {
	if err := p.checkSequence("logits", ids, 0); err != nil {
		return nil, err
	}
	var r struct {
		Logits []string `json:"logits"`
	}
	if err := p.call("logits", map[string]any{"ids": ids}, &r); err != nil {
		return nil, err
	}
	if len(r.Logits) != len(ids) {
		return nil, fmt.Errorf("llamacpp: logits: got %d rows, want %d", len(r.Logits), len(ids))
	}
	out := make([][]float32, len(ids))
	for i, s := range r.Logits {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("llamacpp: logits: row %d: %w", i, err)
		}
		if len(b) != 4*p.info.VocabSize {
			return nil, fmt.Errorf("llamacpp: logits: row %d has %d bytes, want %d", i, len(b), 4*p.info.VocabSize)
		}
		row := make([]float32, p.info.VocabSize)
		for j := range row {
			row[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
		}
		out[i] = row
	}
	return out, nil
}

// Bench measures llama.cpp's speed on this peer's context (same threads): a prompt of
// promptLen tokens evaluated in one batch (prefill, including sampling the first token), then
// genLen greedy decode steps of one token each. One short warm-up run precedes the measured
// one. The prompt is a fixed, deterministic sequence of ids.
func (p *Peer) Bench(promptLen, genLen int) (prefillTokS, decodeTokS float64, err error) {
	if promptLen < 1 || genLen < 1 {
		return 0, 0, fmt.Errorf("llamacpp: bench: prompt %d and generation %d must both be at least 1", promptLen, genLen)
	}
	if p.info.VocabSize < 1 {
		return 0, 0, errors.New("llamacpp: bench: empty vocabulary")
	}
	prompt := make([]int, promptLen)
	for i := range prompt {
		prompt[i] = (i*7919 + 13) % p.info.VocabSize
	}
	if err := p.checkSequence("bench", prompt, genLen+1); err != nil {
		return 0, 0, err
	}
	var r struct {
		PrefillNs float64 `json:"prefillNs"`
		DecodeNs  float64 `json:"decodeNs"`
	}
	if err := p.call("bench", map[string]any{"ids": prompt, "n": genLen}, &r); err != nil {
		return 0, 0, err
	}
	if r.PrefillNs <= 0 || r.DecodeNs <= 0 {
		return 0, 0, fmt.Errorf("llamacpp: bench: bad timings %v ns, %v ns", r.PrefillNs, r.DecodeNs)
	}
	return float64(promptLen) / (r.PrefillNs / 1e9), float64(genLen) / (r.DecodeNs / 1e9), nil
}

func (p *Peer) checkIDs(op string, ids []int) error {
	for i, id := range ids {
		if id < 0 || id >= p.info.VocabSize {
			return fmt.Errorf("llamacpp: %s: token %d at position %d outside the vocabulary [0,%d)", op, id, i, p.info.VocabSize)
		}
	}
	return nil
}

// checkSequence refuses what llama.cpp would answer with a context shift or a crash: an empty
// sequence, ids outside the vocabulary, or more tokens than the context holds.
func (p *Peer) checkSequence(op string, ids []int, n int) error {
	if p.info.ContextSize == 0 {
		return fmt.Errorf("llamacpp: %s: the model was loaded vocabulary-only", op)
	}
	if len(ids) == 0 {
		return fmt.Errorf("llamacpp: %s: empty token sequence", op)
	}
	if n < 0 {
		return fmt.Errorf("llamacpp: %s: negative token count %d", op, n)
	}
	if op == "greedy" && n == 0 {
		return fmt.Errorf("llamacpp: %s: n must be at least 1", op)
	}
	if total := len(ids) + max(n-1, 0); total > p.info.ContextSize || len(ids) > p.info.BatchSize {
		return fmt.Errorf("llamacpp: %s: %d tokens do not fit the context of %d (batch %d)", op, total, p.info.ContextSize, p.info.BatchSize)
	}
	return p.checkIDs(op, ids)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, b...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
