// Command cpubench measures `slm bench` beside llama.cpp (node-llama-cpp's prebuilt CPU build) on
// the same machine with the same threads, alternating the two in one run, on SmolLM2-135M-shaped
// random models in Q8_0 and Q4_K. It prints a Markdown table of medians and ratios for the README.
//
//	go build -o .build/bin/slm ./worker/cmd/slm && go run ./worker/internal/cmd/cpubench --slm .build/bin/slm
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"aisle/worker/gguf"
	"aisle/worker/internal/llamacpp"
	"aisle/worker/modelgen"
	"aisle/worker/quant"
)

func main() {
	slm := flag.String("slm", ".build/bin/slm", "path of the slm binary")
	dir := flag.String("models", ".build/bench", "folder for the generated models")
	vocab := flag.String("vocab", "worker/testdata/vocab/ggml-vocab-starcoder.gguf", "vocabulary (49152 tokens, as SmolLM2)")
	rounds := flag.Int("rounds", 3, "alternating rounds per model")
	threadList := flag.String("threads", "2", "comma-separated thread counts, each run for both engines")
	promptLen := flag.Int("p", 128, "prompt tokens")
	genLen := flag.Int("n", 128, "generated tokens")
	flag.Parse()
	fmt.Printf("| model | threads | engine | prefill tok/s | decode tok/s | prefill vs llama.cpp | decode vs llama.cpp | peak RSS / file size |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|\n")
	for _, ts := range strings.Split(*threadList, ",") {
		threads, err := strconv.Atoi(strings.TrimSpace(ts))
		if err == nil && threads < 1 {
			err = fmt.Errorf("threads must be at least 1")
		}
		if err == nil {
			err = run(*slm, *dir, *vocab, *rounds, threads, *promptLen, *genLen)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpubench:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("\n%d alternating rounds, medians; prompt %d, decode %d; %s\n", *rounds, *promptLen, *genLen, time.Now().UTC().Format("2006-01-02"))
}

type sample struct{ prefill, decode float64 }

func run(slm, dir, vocab string, rounds, threads, promptLen, genLen int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_K} {
		path := filepath.Join(dir, "smollm2-135m-"+typ.String()+".gguf")
		if err := ensureModel(path, vocab, typ); err != nil {
			return err
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		peer, err := llamacpp.Start(context.Background(), path, llamacpp.Options{Threads: threads, ContextSize: 512, KVCache: llamacpp.KVF16})
		if err != nil {
			return err
		}
		var ours, theirs []sample
		var rss int64
		for r := 0; r < rounds; r++ {
			s, peak, err := runSlm(slm, path, threads, promptLen, genLen)
			if err != nil {
				peer.Close()
				return err
			}
			ours = append(ours, s)
			rss = max(rss, peak)
			p, d, err := peer.Bench(promptLen, genLen)
			if err != nil {
				peer.Close()
				return err
			}
			theirs = append(theirs, sample{p, d})
		}
		peer.Close()
		o, t := median(ours), median(theirs)
		name := fmt.Sprintf("SmolLM2-135M shape, %s (%.0f MB)", typ, float64(st.Size())/1e6)
		fmt.Printf("| %s | %d | slm (Go) | %.0f | %.1f | %.2fx | %.2fx | %.2f |\n", name, threads, o.prefill, o.decode, o.prefill/t.prefill, o.decode/t.decode, float64(rss)/float64(st.Size()))
		fmt.Printf("| %s | %d | llama.cpp | %.0f | %.1f | 1.00x | 1.00x | |\n", name, threads, t.prefill, t.decode)
	}
	return nil
}

func ensureModel(path, vocab string, typ quant.Type) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	vf, err := gguf.Open(vocab)
	if err != nil {
		return err
	}
	defer vf.Close()
	var buf bytes.Buffer
	spec := modelgen.Spec{Arch: "llama", Shape: modelgen.Shapes["smollm2-135m"], Type: typ, Vocab: vf, Seed: 1}
	if err := modelgen.Write(&buf, spec); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func runSlm(slm, model string, threads, p, n int) (sample, int64, error) {
	out, err := exec.Command(slm, "bench", "-m", model, "-p", strconv.Itoa(p), "-n", strconv.Itoa(n),
		"--threads", strconv.Itoa(threads), "--backend", "cpu").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return sample{}, 0, fmt.Errorf("slm bench: %s", ee.Stderr)
		}
		return sample{}, 0, err
	}
	var r struct {
		Prefill float64 `json:"prefill_tok_s"`
		Decode  float64 `json:"decode_tok_s"`
		RSS     int64   `json:"peak_rss_bytes"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return sample{}, 0, fmt.Errorf("slm bench output %q: %w", out, err)
	}
	return sample{r.Prefill, r.Decode}, r.RSS, nil
}

func median(xs []sample) sample {
	pick := func(f func(sample) float64) float64 {
		v := make([]float64, len(xs))
		for i, x := range xs {
			v[i] = f(x)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	return sample{pick(func(s sample) float64 { return s.prefill }), pick(func(s sample) float64 { return s.decode })}
}
