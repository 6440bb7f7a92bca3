package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aisle/worker/assistant/training"
	"aisle/worker/gguf"
	"aisle/worker/modelgen"
)

// TestExport exports a safetensors file of a learned vocabulary's size to GGUF, and the model
// generates.
func TestExport(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	var texts []string
	for i := range 400 {
		texts = append(texts, fmt.Sprintf("<|im_start|>user\nhow much are the apples %d?<|im_end|>\n<|im_start|>assistant\nThey cost €%d.%02d each.<|im_end|>\n", i, r.IntN(20), r.IntN(100)))
	}
	v, err := training.LearnVocab(texts, 280)
	if err != nil {
		t.Fatal(err)
	}
	vocab := filepath.Join(dir, "vocab.gguf")
	if err := training.WriteVocab(vocab, v); err != nil {
		t.Fatal(err)
	}
	vf, err := gguf.Open(vocab)
	if err != nil {
		t.Fatal(err)
	}
	defer vf.Close()
	tokens, _ := vf.Metadata.Strings("tokenizer.ggml.tokens")
	eos, _ := vf.Metadata.Uint32("tokenizer.ggml.eos_token_id")
	if len(tokens) != 280 || tokens[eos] != "<|im_end|>" || !vf.Metadata.Has("tokenizer.chat_template") {
		t.Fatalf("vocabulary: %d tokens, eos %q", len(tokens), tokens[eos])
	}
	out, err := slm(t, "tokenize", "-m", vocab, "--special", "<|im_start|>user\n€12")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	if err := json.Unmarshal([]byte(out), &ids); err != nil || ids[0] != 1 || len(ids) < 4 {
		t.Fatalf("tokenize = %s (%v)", out, err)
	}

	// Weights of the trained vocabulary's size, as the training script writes them.
	st := &modelgen.Safetensors{Tensors: map[string]modelgen.SafeTensor{}, Metadata: map[string]string{"arch": "llama",
		"context_length": "128", "head_count": "2", "head_count_kv": "1", "rope_freq_base": "10000", "rms_norm_eps": "1e-5", "name": "cli-test"}}
	for _, ts := range modelgen.Layout("llama", modelgen.Shape{Dim: 32, Layers: 1, Heads: 2, KVHeads: 1, HeadDim: 16, FFNDim: 64, TiedOutput: true}, len(tokens)) {
		vals := make([]float32, ts.Rows*ts.Cols)
		for i := range vals {
			vals[i] = float32(ts.Mean + r.NormFloat64()*max(ts.Std, ts.Spread))
		}
		shape := []int{ts.Rows, ts.Cols}
		if !ts.Matrix {
			shape = shape[1:]
		}
		st.Tensors[ts.Name] = modelgen.BF16Tensor(shape, vals)
	}
	var sbuf bytes.Buffer
	if err := modelgen.WriteSafetensors(&sbuf, st); err != nil {
		t.Fatal(err)
	}
	weights := filepath.Join(dir, "w.safetensors")
	write(t, weights, sbuf.Bytes())
	model := filepath.Join(dir, "model.gguf")
	if _, err := slm(t, "export", "-weights", weights, "-vocab", vocab, "-o", model); err != nil {
		t.Fatal(err)
	}
	js, err := slm(t, "info", "-m", model)
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(js), &info); err != nil {
		t.Fatal(err)
	}
	if info["name"] != "cli-test" || info["dim"] != 32.0 || info["vocab"] != 280.0 || info["chat_template"] != "chatml" ||
		info["tensor_types"].(map[string]any)["Q8_0"] != 8.0 {
		t.Errorf("info = %v", info)
	}
	if _, err := slm(t, "generate", "-m", model, "-p", "apples", "--chat", "-n", "4", "--temp", "0", "--backend", "cpu"); err != nil {
		t.Fatal(err)
	}

	// Bad input: one line naming the problem.
	truncated := filepath.Join(dir, "truncated.safetensors")
	write(t, truncated, sbuf.Bytes()[:sbuf.Len()-10])
	gpt2Vocab := "../../testdata/vocab/ggml-vocab-gpt-2.gguf"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "-weights", weights, "-vocab", vocab}, "-weights, -vocab and -o are required"},
		{[]string{"export", "-weights", truncated, "-vocab", vocab, "-o", model}, "truncated"},
		{[]string{"export", "-weights", weights, "-vocab", gpt2Vocab, "-o", model}, "280 rows, the vocabulary 50257 tokens"},
		{[]string{"export", "-weights", weights, "-vocab", vocab, "-type", "Q3_K", "-o", model}, "unknown tensor type"},
	} {
		_, err := slm(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("slm %v: error %v, want one mentioning %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(model + ".partial"); err == nil {
		t.Error("a failed export left a partial file")
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
