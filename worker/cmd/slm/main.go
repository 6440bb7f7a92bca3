// Command slm runs the inference engine from the command line. Scripts depend on its interface:
//
//	slm generate -m MODEL -p PROMPT -n N [--temp T] [--seed S] [--json]
//	slm tokenize -m MODEL [--no-bos] TEXT
//	slm bench -m MODEL [-p 128] [-n 128] [--threads N] [--backend cpu|gpu]
//	slm gen-model --arch llama|qwen2|qwen3 --shape NAME --type T --vocab VOCAB.gguf --seed S -o OUT
//	slm export -weights W.safetensors -vocab VOCAB.gguf [-type Q8_0] [-name NAME] [-chat-template FILE] -o MODEL.gguf
//	slm ask -catalog STORE.json [-m MODEL.gguf] [--staff] [--json] QUESTION
//	slm ask -catalog STORE.json [-m MODEL.gguf] [--staff] -questions FILE.jsonl --json
//
// On bad input it prints one line naming the problem to stderr and exits with status 1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

const usage = `usage:
  slm generate -m MODEL -p PROMPT -n N [--temp T] [--top-k K] [--top-p P] [--min-p P] [--seed S] [--chat] [--ignore-eos] [--backend cpu|gpu|auto] [--threads N] [--ctx N] [--json]
  slm tokenize -m MODEL [--no-bos] [--special] TEXT
  slm bench -m MODEL [-p 128] [-n 128] [--threads N] [--backend cpu|gpu] [--ctx N]
  slm gen-model --arch llama|qwen2|qwen3 --shape NAME --type T --vocab VOCAB.gguf [--seed S] -o OUT
  slm export -weights W.safetensors -vocab VOCAB.gguf [-type Q8_0] [-name NAME] [-chat-template FILE] -o MODEL.gguf
  slm info -m MODEL
  slm ask -catalog STORE.json [-m MODEL.gguf] [--staff] [--json] [--no-constraint] [--no-gate] QUESTION
  slm ask -catalog STORE.json [-m MODEL.gguf] [--staff] -questions FILE.jsonl --json`

// errUsage marks errors about the command line itself.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "slm: "+oneLine(err.Error()))
		if errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, usage)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	defer func() {
		// Last line of defence: a bug must still end in one line and a non-zero status.
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	if len(args) == 0 {
		return fmt.Errorf("%w: no command given", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "generate":
		return cmdGenerate(ctx, rest, stdout)
	case "tokenize":
		return cmdTokenize(rest, stdout)
	case "bench":
		return cmdBench(rest, stdout)
	case "gen-model":
		return cmdGenModel(rest, stdout)
	case "export":
		return cmdExport(rest, stdout)
	case "info":
		return cmdInfo(rest, stdout)
	case "ask":
		return cmdAsk(ctx, rest, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseInterleaved parses flags that may come before, between and after the positional
// arguments ("ask -catalog S.json how much is it --json") and returns the positional ones.
// "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
