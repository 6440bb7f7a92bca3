//go:build js && wasm

// Command wasm is the browser side of the GPU backend's browser test: run in a dedicated Worker
// (testdata/worker.js), it fetches a model as shards, opens it with gguf.OpenShards, decodes
// greedily on the GPU (navigator.gpu through the same Go code as the native backend) and on the
// CPU path, and posts both token sequences and their speeds to the page.
//
// The worker sets globalThis.aisleTest = {shards: [URL...], n: tokens, p: prompt tokens for the
// prefill measurement, cpu: whether to decode on the CPU path too} before starting Go.
package main

import (
	"errors"
	"fmt"
	"runtime"
	"syscall/js"
	"time"

	"aisle/worker/gguf"
	"aisle/worker/gpu"
	"aisle/worker/model"
	"aisle/worker/sample"
)

func main() {
	res, err := run()
	if err != nil {
		res = map[string]any{"error": err.Error()}
	}
	js.Global().Call("postMessage", js.ValueOf(res))
}

// await blocks until the promise p settles. Called from main's goroutine, never from a callback.
func await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, args []js.Value) any { ch <- result{v: args[0]}; return nil })
	fail := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{err: errors.New(args[0].Call("toString").String())}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	p.Call("then", ok, fail)
	r := <-ch
	return r.v, r.err
}

func fetchBytes(url string) ([]byte, error) {
	resp, err := await(js.Global().Call("fetch", url))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	if !resp.Get("ok").Bool() {
		return nil, fmt.Errorf("fetch %s: HTTP %d", url, resp.Get("status").Int())
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	arr := js.Global().Get("Uint8Array").New(buf)
	b := make([]byte, arr.Length())
	js.CopyBytesToGo(b, arr)
	return b, nil
}

func ints(v []int) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

func run() (map[string]any, error) {
	cfg := js.Global().Get("aisleTest")
	if !cfg.Truthy() {
		return nil, errors.New("globalThis.aisleTest is not set")
	}
	n := cfg.Get("n").Int()
	urls := cfg.Get("shards")
	var shards [][]byte
	for i := 0; i < urls.Length(); i++ {
		b, err := fetchBytes(urls.Index(i).String())
		if err != nil {
			return nil, err
		}
		shards = append(shards, b)
	}
	f, err := gguf.OpenShards(shards)
	if err != nil {
		return nil, err
	}
	m, err := model.Load(f, 1)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	prompt := []int{1} // BOS

	// CPU path (WebAssembly, one thread), unless turned off (a 135M-class model decodes slowly
	// there)
	var cpuToks []int
	var cpuSecs float64
	if cfg.Get("cpu").Bool() {
		s := m.NewSession(0)
		start := time.Now()
		logits, err := s.Eval(prompt, false)
		if err != nil {
			return nil, err
		}
		for len(cpuToks) < n {
			next := sample.Greedy(logits)
			cpuToks = append(cpuToks, next)
			if len(cpuToks) < n {
				if logits, err = s.Eval([]int{next}, false); err != nil {
					return nil, err
				}
			}
		}
		cpuSecs = time.Since(start).Seconds()
	}

	// GPU path (WebGPU), greedy sampling on the GPU
	d, err := gpu.Open(gpu.Options{})
	if err != nil {
		return nil, err
	}
	defer d.Destroy()
	r, err := gpu.NewRunner(d, m, 0, gpu.RunnerOptions{})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	start := time.Now()
	var gpuToks []int
	var ballast []byte
	var ballastTime time.Duration
	if err := r.Decode(prompt, n, func(tok int) bool {
		gpuToks = append(gpuToks, tok)
		if len(gpuToks) == n/2 {
			// grow the wasm memory in the middle of the generation (a 135M-class model's own
			// allocations do it after some hundred tokens): writes to GPU buffers must not hold a
			// view of the memory from before
			t := time.Now()
			ballast = make([]byte, 64<<20)
			for i := range ballast {
				ballast[i] = byte(i)
			}
			ballastTime = time.Since(t)
		}
		return true
	}); err != nil {
		return nil, err
	}
	gpuSecs := (time.Since(start) - ballastTime).Seconds()
	runtime.KeepAlive(ballast)

	// the same decode with other numbers of steps in flight (Runner.SetDecodeAhead), which must
	// give the same tokens (on a software adapter, whose speed means nothing, only the first 8)
	byAhead := map[string]any{}
	nAhead := n
	if d.Software {
		nAhead = min(n, 8)
	}
	for _, ahead := range []int{1, 2, gpu.DefaultDecodeAhead, 5} {
		r.SetDecodeAhead(ahead)
		r.Truncate(0)
		var toks []int
		start := time.Now()
		if err := r.Decode(prompt, nAhead, func(tok int) bool { toks = append(toks, tok); return true }); err != nil {
			return nil, err
		}
		byAhead[fmt.Sprint(ahead)] = float64(nAhead) / time.Since(start).Seconds()
		if fmt.Sprint(toks) != fmt.Sprint(gpuToks[:nAhead]) {
			return nil, fmt.Errorf("decode %d steps ahead gave other tokens than %d ahead", ahead, gpu.DefaultDecodeAhead)
		}
	}
	r.SetDecodeAhead(gpu.DefaultDecodeAhead)

	// prefill: a prompt of p tokens (BOS and the generated ones) evaluated from an empty cache
	p := min(max(cfg.Get("p").Int(), 1), len(gpuToks)+1, r.ContextLen()-1)
	r.Truncate(0)
	start = time.Now()
	if _, err := r.Eval(append([]int{1}, gpuToks[:p-1]...), false); err != nil {
		return nil, err
	}
	prefillSecs := time.Since(start).Seconds()
	perDispatch, roundTrip, err := d.DispatchCost(2000)
	if err != nil {
		return nil, err
	}
	encode, err := r.EncodeCost(51)
	if err != nil {
		return nil, err
	}
	// what the adapter offers, read beside the engine: the device must have asked for it
	ad, err := await(js.Global().Get("navigator").Get("gpu").Call("requestAdapter"))
	if err != nil {
		return nil, err
	}
	limits := ad.Get("limits")
	return map[string]any{
		"prefillTokens":   p,
		"prefillTokPerS":  float64(p) / prefillSecs,
		"dispatchUS":      float64(perDispatch.Nanoseconds()) / 1000,
		"roundTripUS":     float64(roundTrip.Nanoseconds()) / 1000,
		"encodeUS":        float64(encode.Nanoseconds()) / 1000,
		"adapter":         d.Adapter,
		"software":        d.Software,
		"maxBinding":      float64(d.MaxBinding),
		"adapterBinding":  limits.Get("maxStorageBufferBindingSize").Float(),
		"adapterBuffer":   limits.Get("maxBufferSize").Float(),
		"gpu":             ints(gpuToks),
		"cpu":             ints(cpuToks),
		"gpuTokPerS":      float64(n) / gpuSecs,
		"decodeAhead":     gpu.DefaultDecodeAhead,
		"gpuTokPerSAhead": byAhead,
		"cpuTokPerS":      float64(len(cpuToks)) / max(cpuSecs, 1e-9),
		"dispatches":      r.Dispatches(),
		"weightBytes":     float64(r.WeightBytes()),
	}, nil
}
