// Command llamacpp runs llama.cpp (the test peer of package llamacpp) from the command line,
// with the same JSON outputs as the engine's `slm`, so that the two can be compared side by
// side and golden files regenerated:
//
//	go run ./worker/internal/llamacpp/cmd/llamacpp info     -m MODEL
//	go run ./worker/internal/llamacpp/cmd/llamacpp tokenize -m MODEL [--no-bos] [--special] TEXT
//	go run ./worker/internal/llamacpp/cmd/llamacpp generate -m MODEL -p PROMPT -n N
//	go run ./worker/internal/llamacpp/cmd/llamacpp bench    -m MODEL [-p 128] [-n 128] [--threads 2] [--runs 1]
//
// generate is greedy (temperature 0) and prints
// {"prompt_tokens":[...],"tokens":[...],"text":"..."}; BOS is added when the model's metadata
// says so. bench prints one JSON line per run with prefill_tok_s and decode_tok_s.
// Common flags: --threads N (default 1; bench: 2), --ctx N, --kv f32|f16, --flash-attn.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"aisle/worker/internal/llamacpp"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "llamacpp:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage: llamacpp info|tokenize|generate|bench -m MODEL [flags]")

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	model := fs.String("m", "", "GGUF model path")
	threads := fs.Int("threads", 0, "llama.cpp threads (default 1; bench: 2)")
	ctxLen := fs.Int("ctx", 0, "context size (default: enough for the request, at least 512)")
	kv := fs.String("kv", "f32", "KV cache type: f32 or f16")
	flash := fs.Bool("flash-attn", false, "use llama.cpp's flash attention")
	prompt := fs.String("p", "", "generate: prompt text; bench: prompt length (default 128)")
	n := fs.Int("n", 0, "tokens to generate (bench default 128)")
	noBOS := fs.Bool("no-bos", false, "tokenize: do not add BOS")
	special := fs.Bool("special", false, "tokenize: parse special-token text")
	runs := fs.Int("runs", 1, "bench: measured runs")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *model == "" {
		return fmt.Errorf("%s: -m MODEL is required", cmd)
	}
	opts := llamacpp.Options{Threads: *threads, ContextSize: *ctxLen, KVCache: llamacpp.KVType(strings.ToUpper(*kv)),
		FlashAttention: *flash, Stderr: io.Discard}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	switch cmd {
	case "info", "tokenize":
		opts.VocabOnly = true
		p, err := llamacpp.Start(ctx, *model, opts)
		if err != nil {
			return err
		}
		defer p.Close()
		if cmd == "info" {
			return enc.Encode(p.Info())
		}
		ids, err := p.Tokenize(strings.Join(fs.Args(), " "), !*noBOS && p.Info().AddBOS, *special)
		if err != nil {
			return err
		}
		return enc.Encode(ids)
	case "generate":
		if *n <= 0 {
			return errors.New("generate: -n must be positive")
		}
		if opts.ContextSize == 0 {
			opts.ContextSize = max(512, len(*prompt)+*n+8)
		}
		p, err := llamacpp.Start(ctx, *model, opts)
		if err != nil {
			return err
		}
		defer p.Close()
		ids, err := p.Tokenize(*prompt, p.Info().AddBOS, false)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return errors.New("generate: empty prompt and the model adds no BOS")
		}
		gen, err := p.Greedy(ids, *n)
		if err != nil {
			return err
		}
		text, err := p.Detokenize(gen)
		if err != nil {
			return err
		}
		return enc.Encode(map[string]any{"prompt_tokens": ids, "tokens": gen, "text": text})
	case "bench":
		pl, gl := 128, *n
		if *prompt != "" {
			if _, err := fmt.Sscan(*prompt, &pl); err != nil || pl < 1 {
				return fmt.Errorf("bench: -p wants a prompt length, got %q", *prompt)
			}
		}
		if gl == 0 {
			gl = 128
		}
		if opts.Threads == 0 {
			opts.Threads = 2
		}
		if opts.ContextSize == 0 {
			opts.ContextSize = max(512, pl+gl+1)
		}
		if *runs < 1 {
			return errors.New("bench: --runs must be at least 1")
		}
		p, err := llamacpp.Start(ctx, *model, opts)
		if err != nil {
			return err
		}
		defer p.Close()
		info := p.Info()
		for range *runs {
			pre, dec, err := p.Bench(pl, gl)
			if err != nil {
				return err
			}
			if err := enc.Encode(map[string]any{
				"engine": "llama.cpp " + info.LlamaCppRelease + " (node-llama-cpp " + info.NodeLlamaCppVersion + ", CPU)",
				"prompt": pl, "gen": gl, "threads": info.Threads, "kv_cache": info.KVCacheKeyType, "flash_attn": info.FlashAttention,
				"prefill_tok_s": round(pre), "decode_tok_s": round(dec),
			}); err != nil {
				return err
			}
		}
		return nil
	}
	return errUsage
}

func round(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
