//go:build cgo

// Command gpubench measures the WebGPU backend on this machine's GPU: copy bandwidth, dispatch
// cost, and prefill and greedy decode speed of a model, next to the memory-bandwidth bound.
//
//	gpubench [-shape smollm2-135m] [-type Q8_0] [-arch llama] [-vocab FILE] [-m MODEL.gguf]
//	         [-p 128] [-n 128] [-ctx 2048] [-reps 3] [-cpu]
//
// Without -m it writes a random-weight model of the named shape and type (package modelgen) to a
// temporary file first. Results go to stdout as a table and, with -json FILE, as JSON.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"aisle/worker/gguf"
	"aisle/worker/gpu"
	"aisle/worker/model"
	"aisle/worker/modelgen"
	"aisle/worker/quant"
	"aisle/worker/sample"
)

type result struct {
	Adapter          string  `json:"adapter"`
	Model            string  `json:"model"`
	WeightMiB        float64 `json:"weight_mib"`
	CopyGBps         float64 `json:"copy_gb_per_s"`
	DispatchUs       float64 `json:"dispatch_us"`
	RoundTripUs      float64 `json:"submit_readback_us"`
	Dispatches       int     `json:"dispatches_per_token"`
	EncodeUs         float64 `json:"encode_us_per_token"`
	Prompt           int     `json:"prompt_tokens"`
	Gen              int     `json:"gen_tokens"`
	Ctx              int     `json:"ctx"`
	PrefillTokS      float64 `json:"prefill_tok_per_s"`
	DecodeTokS       float64 `json:"decode_tok_per_s"`
	DecodeSyncTokS   float64 `json:"decode_sync_tok_per_s"`
	DecodeAhead      int     `json:"decode_ahead"`
	DecodeAhead1TokS float64 `json:"decode_ahead1_tok_per_s"`
	BytesPerToken    float64 `json:"bytes_per_token"`
	BoundTokS        float64 `json:"bandwidth_bound_tok_per_s"`
	OverheadMsPerTok float64 `json:"dispatch_overhead_ms_per_token"`
	CPUPrefillTokS   float64 `json:"cpu_prefill_tok_per_s,omitempty"`
	CPUDecodeTokS    float64 `json:"cpu_decode_tok_per_s,omitempty"`
	TokensMatchCPU   *bool   `json:"tokens_match_cpu,omitempty"`
}

func main() {
	shape := flag.String("shape", "smollm2-135m", "model shape: "+strings.Join(modelgen.ShapeNames(), ", "))
	typName := flag.String("type", "Q8_0", "weight type of the generated model")
	arch := flag.String("arch", "llama", "architecture of the generated model: llama, qwen2, qwen3")
	vocab := flag.String("vocab", "worker/testdata/vocab/ggml-vocab-gpt-2.gguf", "vocabulary GGUF for the generated model")
	modelPath := flag.String("m", "", "a GGUF model to use instead of generating one")
	prompt := flag.Int("p", 128, "prompt tokens")
	gen := flag.Int("n", 128, "generated tokens")
	ctxLen := flag.Int("ctx", 2048, "context length (KV cache positions)")
	reps := flag.Int("reps", 3, "repetitions (the median is reported)")
	cpu := flag.Bool("cpu", false, "also run the CPU path and compare greedy tokens")
	profile := flag.Bool("profile", false, "time each kind of kernel of a decode step")
	jsonOut := flag.String("json", "", "write the result as JSON to this file")
	keep := flag.Bool("keep", false, "keep the generated model file (its path is printed)")
	ahead := flag.Int("ahead", gpu.DefaultDecodeAhead, "steps the pipelined decode keeps submitted beyond the token being read")
	vec4s := flag.Int("vec4s", 0, "vec4s of a row per invocation of a decode matrix-vector product (gpu.RunnerOptions.MatvecVec4s; 0: the engine's default)")
	flag.Parse()
	if err := run(*shape, *typName, *arch, *vocab, *modelPath, *prompt, *gen, *ctxLen, *reps, *ahead, *vec4s, *cpu, *profile, *keep, *jsonOut); err != nil {
		fmt.Fprintln(os.Stderr, "gpubench:", err)
		os.Exit(1)
	}
}

func parseType(name string) (quant.Type, error) {
	for _, t := range []quant.Type{quant.F32, quant.F16, quant.BF16, quant.Q8_0, quant.Q4_0, quant.Q4_K, quant.Q5_K, quant.Q6_K} {
		if strings.EqualFold(t.String(), name) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown type %q", name)
}

func generate(shape, typName, arch, vocab string) (string, error) {
	typ, err := parseType(typName)
	if err != nil {
		return "", err
	}
	s, ok := modelgen.Shapes[shape]
	if !ok {
		return "", fmt.Errorf("unknown shape %q", shape)
	}
	vf, err := gguf.Open(vocab)
	if err != nil {
		return "", err
	}
	defer vf.Close()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("gpubench-%s-%s-%s.gguf", arch, shape, typ))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	start := time.Now()
	if err := modelgen.Write(f, modelgen.Spec{Arch: arch, Shape: s, Type: typ, Vocab: vf, Seed: 1}); err != nil {
		f.Close()
		return "", err
	}
	fmt.Fprintf(os.Stderr, "generated %s in %.1fs\n", path, time.Since(start).Seconds())
	return path, f.Close()
}

func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

func run(shape, typName, arch, vocab, modelPath string, nPrompt, nGen, ctxLen, reps, ahead, vec4s int, cpu, profile, keep bool, jsonOut string) error {
	d, err := gpu.Open(gpu.Options{})
	if err != nil {
		return err
	}
	defer d.Destroy()
	res := result{Adapter: d.Adapter, Prompt: nPrompt, Gen: nGen, Ctx: ctxLen}
	fmt.Printf("adapter: %s; binding limit %d MiB, buffer limit %d MiB\n", d.Adapter, d.Limits.MaxStorageBufferBindingSize>>20, d.Limits.MaxBufferSize>>20)

	bw, err := d.CopyBandwidth(min(d.MaxBinding, 512<<20), 20)
	if err != nil {
		return fmt.Errorf("copy bandwidth: %w", err)
	}
	res.CopyGBps = bw / 1e9
	per, rt, err := d.DispatchCost(2000)
	if err != nil {
		return fmt.Errorf("dispatch cost: %w", err)
	}
	res.DispatchUs, res.RoundTripUs = per.Seconds()*1e6, rt.Seconds()*1e6
	fmt.Printf("copy bandwidth %.0f GB/s (read+write); dependent dispatch %.2f us; submit+readback %.0f us\n", res.CopyGBps, res.DispatchUs, res.RoundTripUs)

	if modelPath == "" {
		if modelPath, err = generate(shape, typName, arch, vocab); err != nil {
			return err
		}
		if !keep {
			defer os.Remove(modelPath)
		}
	}
	f, err := gguf.Open(modelPath)
	if err != nil {
		return err
	}
	defer f.Close()
	m, err := model.Load(f, 0)
	if err != nil {
		return err
	}
	defer m.Close()
	res.Model = fmt.Sprintf("%s %s (dim %d, %d layers, vocab %d)", m.Arch, filepath.Base(modelPath), m.Dim, m.Layers, m.Vocab)
	start := time.Now()
	r, err := gpu.NewRunner(d, m, ctxLen, gpu.RunnerOptions{MatvecVec4s: vec4s})
	if err != nil {
		return err
	}
	defer r.Close()
	res.WeightMiB = float64(r.WeightBytes()) / (1 << 20)
	res.Dispatches = r.Dispatches()
	fmt.Printf("model: %s; %.0f MiB of weights uploaded in %.1fs; %d dispatches per decode step\n", res.Model, res.WeightMiB, time.Since(start).Seconds(), res.Dispatches)

	rng := rand.New(rand.NewPCG(3, 4))
	promptToks := make([]int, nPrompt)
	for i := range promptToks {
		promptToks[i] = rng.IntN(m.Vocab)
	}
	res.DecodeAhead = max(ahead, 1)
	var prefill, decode, decodeSync, decode1 []float64
	var gpuToks []int
	for rep := 0; rep <= reps; rep++ { // rep 0 warms up
		r.Truncate(0)
		t0 := time.Now()
		next, err := r.Greedy(promptToks)
		if err != nil {
			return err
		}
		tp := time.Since(t0)
		toks := []int{next}
		t1 := time.Now()
		for len(toks) < nGen {
			if next, err = r.Greedy([]int{next}); err != nil {
				return err
			}
			toks = append(toks, next)
		}
		td := time.Since(t1)
		if rep > 0 {
			prefill = append(prefill, float64(nPrompt)/tp.Seconds())
		}
		// the pipelined decode loop (Runner.Decode): the steps after step k are queued before
		// token k is read, res.DecodeAhead of them, and beside it the same with one
		for _, a := range []int{res.DecodeAhead, 1} {
			r.SetDecodeAhead(a)
			r.Truncate(nPrompt)
			var piped []int
			t2 := time.Now()
			if err := r.Decode([]int{toks[0]}, nGen-1, func(tok int) bool { piped = append(piped, tok); return true }); err != nil {
				return err
			}
			tq := time.Since(t2)
			if rep > 0 && a == res.DecodeAhead {
				decode = append(decode, float64(nGen-1)/tq.Seconds())
			} else if rep > 0 {
				decode1 = append(decode1, float64(nGen-1)/tq.Seconds())
			}
			for i, tok := range piped {
				if tok != toks[i+1] {
					return fmt.Errorf("pipelined decode (%d ahead) token %d = %d, step by step %d", a, i+1, tok, toks[i+1])
				}
			}
		}
		if rep > 0 {
			decodeSync = append(decodeSync, float64(nGen-1)/td.Seconds())
		}
		gpuToks = toks
	}
	res.PrefillTokS, res.DecodeTokS, res.DecodeSyncTokS = median(prefill), median(decode), median(decodeSync)
	res.DecodeAhead1TokS = median(decode1)
	enc, err := r.EncodeCost(51)
	if err != nil {
		return err
	}
	res.EncodeUs = enc.Seconds() * 1e6

	// bytes a decode step must read: every weight once, plus the KV cache up to the average position
	c := m.Config
	avgPos := float64(nPrompt) + float64(nGen)/2
	res.BytesPerToken = float64(r.WeightBytes()) + avgPos*float64(c.Layers*2*c.KVDim()*4)
	res.BoundTokS = bw / res.BytesPerToken
	res.OverheadMsPerTok = (res.RoundTripUs + float64(res.Dispatches)*res.DispatchUs) / 1000
	fmt.Printf("prefill %d tokens: %.0f tok/s; decode %d tokens: %.1f tok/s (%.3f ms/token) pipelined %d steps ahead, %.1f tok/s 1 ahead, %.1f tok/s one step at a time\n",
		nPrompt, res.PrefillTokS, nGen, res.DecodeTokS, 1000/res.DecodeTokS, res.DecodeAhead, res.DecodeAhead1TokS, res.DecodeSyncTokS)
	fmt.Printf("bandwidth bound: %.1f MB per token / %.0f GB/s = %.0f tok/s; dispatch overhead %.3f ms/token (%d x %.2f us + %.0f us)\n",
		res.BytesPerToken/1e6, res.CopyGBps, res.BoundTokS, res.OverheadMsPerTok, res.Dispatches, res.DispatchUs, res.RoundTripUs)
	fmt.Printf("recording a decode step on the host: %.1f us\n", res.EncodeUs)

	if profile {
		prof, err := r.Profile(20)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(prof))
		var total time.Duration
		for k, v := range prof {
			names = append(names, k)
			total += v
		}
		sort.Slice(names, func(i, j int) bool { return prof[names[i]] > prof[names[j]] })
		fmt.Printf("decode step by kernel at position %d (sum %.3f ms):\n", r.Pos(), total.Seconds()*1000)
		for _, k := range names {
			fmt.Printf("  %8.1f us  %s\n", prof[k].Seconds()*1e6, k)
		}
	}
	if cpu {
		s := m.NewSession(ctxLen)
		t0 := time.Now()
		logits, err := s.Eval(promptToks, false)
		if err != nil {
			return err
		}
		res.CPUPrefillTokS = float64(nPrompt) / time.Since(t0).Seconds()
		toks := []int{sample.Greedy(logits)}
		t1 := time.Now()
		for len(toks) < nGen {
			if logits, err = s.Eval(toks[len(toks)-1:], false); err != nil {
				return err
			}
			toks = append(toks, sample.Greedy(logits))
		}
		res.CPUDecodeTokS = float64(nGen-1) / time.Since(t1).Seconds()
		same := 0
		for same < len(toks) && toks[same] == gpuToks[same] {
			same++
		}
		match := same == len(toks)
		res.TokensMatchCPU = &match
		fmt.Printf("CPU (%d threads): prefill %.0f tok/s, decode %.1f tok/s; greedy tokens equal for the first %d of %d\n", m.Threads(), res.CPUPrefillTokS, res.CPUDecodeTokS, same, len(toks))
	}
	if jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		return os.WriteFile(jsonOut, append(b, '\n'), 0o644)
	}
	return nil
}
