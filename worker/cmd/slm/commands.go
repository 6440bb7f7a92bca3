package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"time"

	"aisle/worker/chat"
	"aisle/worker/engine"
	"aisle/worker/gguf"
	_ "aisle/worker/gpu" // registers the WebGPU backend (native builds with cgo)
	"aisle/worker/modelgen"
	"aisle/worker/quant"
	"aisle/worker/tokenizer"
)

// openEngine opens the model file and loads an engine on the chosen backend.
func openEngine(path string, opts engine.Options) (*engine.Engine, func(), error) {
	if path == "" {
		return nil, nil, fmt.Errorf("%w: -m MODEL is required", errUsage)
	}
	f, err := gguf.Open(path)
	if err != nil {
		return nil, nil, err
	}
	e, err := engine.Load(f, opts)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return e, func() { e.Close(); f.Close() }, nil
}

func cmdGenerate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("generate")
	modelPath := fs.String("m", "", "model file (GGUF)")
	prompt := fs.String("p", "", "prompt")
	n := fs.Int("n", 128, "tokens to generate")
	temp := fs.Float64("temp", 0.8, "temperature; 0 is greedy")
	topK := fs.Int("top-k", 40, "top-k (0: off)")
	topP := fs.Float64("top-p", 0.95, "top-p (1: off)")
	minP := fs.Float64("min-p", 0.05, "min-p (0: off)")
	repeat := fs.Float64("repeat-penalty", 1, "repetition penalty (1: off)")
	seed := fs.Uint64("seed", 0, "random seed")
	asChat := fs.Bool("chat", false, "treat the prompt as a user message and apply the chat template")
	ignoreEOS := fs.Bool("ignore-eos", false, "keep generating past end-of-generation tokens")
	asJSON := fs.Bool("json", false, "print one JSON object instead of streaming text")
	backend := fs.String("backend", "auto", "cpu, gpu or auto")
	threads := fs.Int("threads", 0, "CPU threads (0: all)")
	ctxLen := fs.Int("ctx", 0, "context length (0: model's, at most 4096)")
	var stops multiFlag
	fs.Var(&stops, "stop", "stop string (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *n < 0 {
		return fmt.Errorf("%w: -n must not be negative", errUsage)
	}
	e, closeAll, err := openEngine(*modelPath, engine.Options{Threads: *threads, ContextLen: *ctxLen, Backend: *backend})
	if err != nil {
		return err
	}
	defer closeAll()
	req := engine.Request{Prompt: *prompt, MaxTokens: *n, Temperature: float32(*temp), TopK: *topK,
		TopP: float32(*topP), MinP: float32(*minP), RepeatPenalty: float32(*repeat), Seed: *seed,
		Stop: stops, IgnoreEOS: *ignoreEOS}
	if *asChat {
		req.Messages = []chat.Message{{Role: "user", Content: *prompt}}
	}
	if *n == 0 {
		toks, err := e.PromptTokens(req)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, generateJSON{PromptTokens: toks, Tokens: []int{}})
		}
		return nil
	}
	emit := func(d engine.Delta) error {
		if !*asJSON {
			_, err := io.WriteString(stdout, d.Text)
			return err
		}
		return nil
	}
	res, err := e.Generate(ctx, req, emit)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, generateJSON{PromptTokens: res.PromptTokens, Tokens: nonNil(res.Tokens), Text: res.Text,
			PrefillTokS: round(res.PrefillTokPerSec), DecodeTokS: round(res.DecodeTokPerSec), FinishReason: res.FinishReason,
			Backend: e.Backend})
	}
	_, err = fmt.Fprintln(stdout)
	return err
}

type generateJSON struct {
	PromptTokens []int   `json:"prompt_tokens"`
	Tokens       []int   `json:"tokens"`
	Text         string  `json:"text"`
	PrefillTokS  float64 `json:"prefill_tok_s"`
	DecodeTokS   float64 `json:"decode_tok_s"`
	FinishReason string  `json:"finish_reason,omitempty"`
	Backend      string  `json:"backend,omitempty"`
}

func cmdTokenize(args []string, stdout io.Writer) error {
	fs := newFlags("tokenize")
	modelPath := fs.String("m", "", "model file (GGUF)")
	noBOS := fs.Bool("no-bos", false, "do not add BOS even if the model asks for it")
	special := fs.Bool("special", false, "parse special tokens written in the text")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		return fmt.Errorf("%w: -m MODEL is required", errUsage)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: tokenize takes exactly one TEXT argument, got %d", errUsage, fs.NArg())
	}
	f, err := gguf.Open(*modelPath)
	if err != nil {
		return err
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f.Metadata)
	if err != nil {
		return fmt.Errorf("%s: tokenizer: %w", *modelPath, err)
	}
	return writeJSON(stdout, nonNil(tok.Encode(fs.Arg(0), !*noBOS, *special)))
}

func cmdBench(args []string, stdout io.Writer) error {
	fs := newFlags("bench")
	modelPath := fs.String("m", "", "model file (GGUF)")
	promptLen := fs.Int("p", 128, "prompt tokens")
	genLen := fs.Int("n", 128, "generated tokens")
	threads := fs.Int("threads", 0, "CPU threads (0: all)")
	backend := fs.String("backend", "cpu", "cpu or gpu")
	ctxLen := fs.Int("ctx", 0, "context length (0: prompt + generated tokens)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *promptLen < 1 || *genLen < 1 {
		return fmt.Errorf("%w: -p and -n must be at least 1", errUsage)
	}
	if *ctxLen == 0 {
		*ctxLen = *promptLen + *genLen + 1
	}
	e, closeAll, err := openEngine(*modelPath, engine.Options{Threads: *threads, ContextLen: *ctxLen, Backend: *backend})
	if err != nil {
		return err
	}
	defer closeAll()
	if *promptLen+*genLen > e.ContextLen() {
		return fmt.Errorf("prompt %d + generated %d tokens exceed the context length %d", *promptLen, *genLen, e.ContextLen())
	}
	// A fixed pseudo-random prompt, as llama-bench uses random tokens.
	rng := rand.New(rand.NewPCG(1, 2))
	prompt := make([]int, *promptLen)
	for i := range prompt {
		prompt[i] = rng.IntN(e.Model.Vocab)
	}
	res, err := e.Generate(context.Background(), engine.Request{PromptTokens: prompt, MaxTokens: *genLen + 1, IgnoreEOS: true},
		func(engine.Delta) error { return nil })
	if err != nil {
		return err
	}
	st, _ := os.Stat(*modelPath)
	return writeJSON(stdout, map[string]any{
		"model": *modelPath, "backend": e.Backend, "backend_reason": e.BackendReason, "threads": e.Model.Threads(),
		"prompt_tokens": *promptLen, "gen_tokens": len(res.Tokens) - 1,
		"prefill_tok_s": round(res.PrefillTokPerSec), "decode_tok_s": round(res.DecodeTokPerSec),
		"model_bytes": st.Size(), "peak_rss_bytes": peakRSS(), "go": runtime.Version(),
	})
}

func cmdGenModel(args []string, stdout io.Writer) error {
	fs := newFlags("gen-model")
	arch := fs.String("arch", "llama", "llama, qwen2 or qwen3")
	shape := fs.String("shape", "tiny", "shape: "+strings.Join(modelgen.ShapeNames(), ", "))
	typName := fs.String("type", "Q8_0", "weight type: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K")
	vocab := fs.String("vocab", "", "GGUF file whose tokenizer to copy (a vocabulary file or a model)")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("o", "", "output file")
	templateFile := fs.String("chat-template", "", "file with a chat template to embed")
	if err := parse(fs, args); err != nil {
		return err
	}
	s, ok := modelgen.Shapes[*shape]
	if !ok {
		return fmt.Errorf("%w: unknown shape %q (%s)", errUsage, *shape, strings.Join(modelgen.ShapeNames(), ", "))
	}
	typ, ok := parseType(*typName)
	if !ok {
		return fmt.Errorf("%w: unknown tensor type %q", errUsage, *typName)
	}
	if *vocab == "" || *out == "" {
		return fmt.Errorf("%w: --vocab and -o are required", errUsage)
	}
	vf, err := gguf.Open(*vocab)
	if err != nil {
		return err
	}
	defer vf.Close()
	spec := modelgen.Spec{Arch: *arch, Shape: s, Type: typ, Vocab: vf, Seed: *seed}
	if *templateFile != "" {
		b, err := os.ReadFile(*templateFile)
		if err != nil {
			return err
		}
		spec.ChatTemplate = string(b)
	}
	start := time.Now()
	if err := writeAtomically(*out, func(f io.Writer) error { return modelgen.Write(f, spec) }); err != nil {
		return err
	}
	st, _ := os.Stat(*out)
	fmt.Fprintf(os.Stderr, "wrote %s (%d bytes) in %s\n", *out, st.Size(), time.Since(start).Round(time.Millisecond))
	return nil
}

func cmdInfo(args []string, stdout io.Writer) error {
	fs := newFlags("info")
	modelPath := fs.String("m", "", "model file (GGUF)")
	if err := parse(fs, args); err != nil {
		return err
	}
	e, closeAll, err := openEngine(*modelPath, engine.Options{})
	if err != nil {
		return err
	}
	defer closeAll()
	c := e.Model.Config
	types := map[string]int{}
	for _, t := range e.File.Tensors {
		types[gguf.TypeName(t.Type)]++
	}
	return writeJSON(stdout, map[string]any{"arch": c.Arch, "name": c.Name, "dim": c.Dim, "layers": c.Layers,
		"heads": c.Heads, "kv_heads": c.KVHeads, "head_dim": c.HeadDim, "ffn": c.FFNDim, "vocab": c.Vocab,
		"context_length": c.ContextLen, "tensor_types": types, "chat_template": string(e.Template.Family), "chat_template_note": e.Template.Unsupported,
		"backend": e.Backend, "backend_reason": e.BackendReason})
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func nonNil(x []int) []int {
	if x == nil {
		return []int{}
	}
	return x
}

func round(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

// peakRSS is the process's peak resident memory in bytes (Linux), or 0 where unknown.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb * 1024
		}
	}
	return 0
}

// parseType maps a ggml type name (case-insensitive) to the weight types gen-model writes.
func parseType(name string) (quant.Type, bool) {
	for _, t := range []quant.Type{quant.F32, quant.F16, quant.BF16, quant.Q8_0, quant.Q4_0, quant.Q4_K, quant.Q5_K, quant.Q6_K} {
		if strings.EqualFold(t.String(), name) {
			return t, true
		}
	}
	return 0, false
}
