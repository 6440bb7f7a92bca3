// Package modeltest is what the tests of the engine's other builds share: the native engine's
// greedy decode of a GGUF file, the reference that the WebAssembly build (pwa's kernel tests,
// worker/model's TestGreedyCasesFile under js/wasm) and the WebGPU path in a browser
// (worker/gpu/browsertest) are held to.
package modeltest

import (
	"math"

	"aisle/worker/gguf"
	"aisle/worker/model"
	"aisle/worker/sample"
)

// GreedyCase is one model's greedy continuation as the native engine decodes it, written as
// JSON for a test that runs in another build.
type GreedyCase struct {
	Model  string `json:"model"`  // GGUF file
	Prompt []int  `json:"prompt"` // evaluated as one batch
	Tokens []int  `json:"tokens"` // the greedy tokens after it, each evaluated alone
	// Margins[i] is how far Tokens[i]'s logit was above the next best, in standard deviations
	// of that step's logits (the banned ones left out).
	Margins []float64 `json:"margins"`
}

// Greedy decodes n greedy tokens after prompt with the native engine, never choosing a token in
// ban.
func Greedy(path string, prompt []int, n int, ban ...int) (GreedyCase, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return GreedyCase{}, err
	}
	defer f.Close()
	m, err := model.Load(f, 0)
	if err != nil {
		return GreedyCase{}, err
	}
	defer m.Close()
	s := m.NewSession(0)
	logits, err := s.Eval(prompt, false)
	if err != nil {
		return GreedyCase{}, err
	}
	c := GreedyCase{Model: path, Prompt: prompt}
	for len(c.Tokens) < n {
		for _, id := range ban {
			logits[id] = float32(math.Inf(-1))
		}
		next := sample.Greedy(logits)
		second, sum, sum2, count := math.Inf(-1), 0.0, 0.0, 0
		for i, v := range logits {
			if math.IsInf(float64(v), -1) {
				continue
			}
			if i != next {
				second = max(second, float64(v))
			}
			sum, sum2, count = sum+float64(v), sum2+float64(v)*float64(v), count+1
		}
		mean := sum / float64(count)
		c.Tokens = append(c.Tokens, next)
		c.Margins = append(c.Margins, (float64(logits[next])-second)/math.Sqrt(sum2/float64(count)-mean*mean))
		if len(c.Tokens) < n {
			if logits, err = s.Eval([]int{next}, false); err != nil {
				return GreedyCase{}, err
			}
		}
	}
	return c, nil
}
