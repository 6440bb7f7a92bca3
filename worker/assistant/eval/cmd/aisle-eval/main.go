// Command aisle-eval scores `slm ask` on an evaluation directory and prints the Markdown report
// (per intent, per store, per tag, and the failures).
//
//	go run ./worker/assistant/eval/cmd/aisle-eval -slm .build/bin/slm [-m MODEL.gguf] [-slm-args ARGS] [-dir DIR]
//	go run ./worker/assistant/eval/cmd/aisle-eval -outputs OUTDIR [-dir DIR]
//
// With -slm it runs `SLM ask -catalog STORE.json [-m MODEL] [--staff] -questions FILE --json [ARGS]`
// per store and device (the questions file holds only q and conversation); -save OUTDIR keeps
// the outputs as OUTDIR/<store-id>.outputs.jsonl (in question order), which -outputs scores
// again without running anything. The status is 1 on an error and 2 when any answer has a wrong
// figure or a staff leak.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	_ "time/tzdata" // store time zones validate without the system's zoneinfo

	"aisle/worker/assistant/eval"
)

func main() {
	slm := flag.String("slm", "", "the slm command (a path, or a command with arguments such as \"go run ./worker/cmd/slm\")")
	model := flag.String("m", "", "model file passed to slm ask -m (none: slm's own default)")
	slmArgs := flag.String("slm-args", "", "more arguments for slm ask, space-separated (such as \"--no-constraint\")")
	dir := flag.String("dir", "worker/assistant/testdata/eval", "evaluation directory: <store-id>.json and <store-id>.questions.jsonl")
	only := flag.String("store", "", "score only these stores (comma-separated store IDs)")
	outputs := flag.String("outputs", "", "score saved outputs from this directory (<store-id>.outputs.jsonl) instead of running slm")
	save := flag.String("save", "", "write each store's outputs to this directory as <store-id>.outputs.jsonl")
	failures := flag.Int("failures", 50, "list at most this many failures (-1: all)")
	jsonOut := flag.String("json", "", "also write every result as JSON to this file")
	transcripts := flag.String("transcripts", "", "also write the multi-turn conversations as Markdown to this file")
	maxTranscripts := flag.Int("transcripts-max", 20, "write at most this many conversations with -transcripts")
	flag.Parse()
	if (*slm == "") == (*outputs == "") {
		fmt.Fprintln(os.Stderr, "aisle-eval: give exactly one of -slm and -outputs")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := run(ctx, *slm, *model, strings.Fields(*slmArgs), *dir, *only, *outputs, *save)
	if err != nil {
		fmt.Fprintln(os.Stderr, "aisle-eval:", err)
		os.Exit(1)
	}
	fmt.Print(rep.Markdown(*failures))
	if *jsonOut != "" {
		b, err := json.MarshalIndent(rep.Results, "", " ")
		if err == nil {
			err = os.WriteFile(*jsonOut, b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "aisle-eval:", err)
			os.Exit(1)
		}
	}
	if *transcripts != "" {
		if err := os.WriteFile(*transcripts, []byte(rep.Transcripts(*maxTranscripts)), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "aisle-eval:", err)
			os.Exit(1)
		}
	}
	if len(rep.Dangerous()) > 0 {
		os.Exit(2)
	}
}

func run(ctx context.Context, slm, model string, slmArgs []string, dir, only, outputs, save string) (eval.Report, error) {
	sets, err := eval.LoadDir(dir)
	if err != nil {
		return eval.Report{}, err
	}
	if only != "" {
		keep := map[string]bool{}
		for _, s := range strings.Split(only, ",") {
			keep[strings.TrimSpace(s)] = true
		}
		var kept []eval.Set
		for _, s := range sets {
			if keep[s.Name] {
				kept = append(kept, s)
			}
		}
		sets = kept
	}
	var reps []eval.Report
	for _, s := range sets {
		var outs []eval.Output
		if outputs != "" {
			f, err := os.Open(filepath.Join(outputs, s.Name+".outputs.jsonl"))
			if err != nil {
				return eval.Report{}, err
			}
			outs, err = eval.ReadOutputs(f)
			f.Close()
			if err != nil {
				return eval.Report{}, fmt.Errorf("%s: %w", s.Name, err)
			}
		} else {
			outs, err = eval.Ask(s, eval.SLM(ctx, slm, model, slmArgs...))
			if err != nil {
				return eval.Report{}, err
			}
		}
		if save != "" {
			if err := writeOutputs(filepath.Join(save, s.Name+".outputs.jsonl"), outs); err != nil {
				return eval.Report{}, err
			}
		}
		reps = append(reps, eval.Score(s.Store, s.Questions, outs))
	}
	return eval.Merge(reps...), nil
}

func writeOutputs(path string, outs []eval.Output) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	for _, o := range outs {
		if err := enc.Encode(o); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
