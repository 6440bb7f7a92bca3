package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aisle/worker/gguf"
	"aisle/worker/quant"
)

const stories = "../../testdata/models/stories260K.gguf"

// slm runs the command in-process and returns stdout and the error.
func slm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, &out)
	return out.String(), err
}

// storiesText is the text stories260K's README quotes for greedy decoding from BOS.
const storiesText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high."

func TestGenerateJSON(t *testing.T) {
	out, err := slm(t, "generate", "-m", stories, "-p", "", "-n", "256", "--temp", "0", "--ignore-eos", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r generateJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	if len(r.PromptTokens) != 1 || r.PromptTokens[0] != 1 {
		t.Errorf("prompt_tokens = %v, want [1] (BOS, as the metadata asks)", r.PromptTokens)
	}
	if len(r.Tokens) != 256 {
		t.Errorf("%d tokens, want 256", len(r.Tokens))
	}
	if !strings.HasPrefix(r.Text, storiesText) {
		t.Errorf("text = %q, want it to start with %q", r.Text, storiesText)
	}
	if r.PrefillTokS <= 0 || r.DecodeTokS <= 0 {
		t.Errorf("speeds %v %v", r.PrefillTokS, r.DecodeTokS)
	}
}

func TestTokenize(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []int
	}{
		{[]string{"Once upon a time"}, []int{1, 403, 407, 261, 378}},
		{[]string{"--no-bos", "Once upon a time"}, []int{403, 407, 261, 378}},
	} {
		out, err := slm(t, append([]string{"tokenize", "-m", stories}, tc.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("tokenize %v = %v, want %v", tc.args, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("tokenize %v = %v, want %v", tc.args, got, tc.want)
			}
		}
	}
}

func TestBench(t *testing.T) {
	out, err := slm(t, "bench", "-m", stories, "-p", "16", "-n", "8", "--threads", "2")
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"prefill_tok_s", "decode_tok_s"} {
		if v, ok := r[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v", k, r[k])
		}
	}
}

// TestBadInput: every kind of bad input ends in one error line naming the problem, never a panic.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(stories)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	truncated := write("truncated.gguf", raw[:len(raw)/2])
	corrupt := append([]byte(nil), raw...)
	copy(corrupt, "GGML")
	corruptPath := write("corrupt.gguf", corrupt)
	// same model, architecture renamed
	f, err := gguf.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	rewrite := func(name string, edit func(w *gguf.Writer)) string {
		w := gguf.NewWriter()
		w.CopyMetadata(f.Metadata, nil)
		edit(w)
		var buf bytes.Buffer
		if _, err := w.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		return write(name, buf.Bytes())
	}
	copyTensors := func(w *gguf.Writer, typeOf func(string) quant.Type) {
		for _, ti := range f.Tensors {
			data, _ := f.TensorData(ti.Name)
			typ := ti.Type
			if typeOf != nil {
				typ = typeOf(ti.Name)
			}
			if typ != ti.Type {
				vals := make([]float32, ti.Elements())
				_ = quant.Dequantize(ti.Type, data, vals)
				data, _ = quant.Quantize(typ, vals)
			}
			if err := w.AddTensor(ti.Name, typ, ti.Shape, data); err != nil {
				t.Fatal(err)
			}
		}
	}
	gpt := rewrite("gpt.gguf", func(w *gguf.Writer) {
		w.SetString("general.architecture", "gptneox")
		copyTensors(w, nil)
	})
	badType := rewrite("badtype.gguf", func(w *gguf.Writer) {
		for _, ti := range f.Tensors {
			data, _ := f.TensorData(ti.Name)
			typ := ti.Type
			if ti.Name == "blk.0.attn_q.weight" {
				typ = quant.Type(20) // IQ4_NL: a valid ggml type the engine does not compute with
				data = make([]byte, 64*64/32*18)
			}
			if err := w.AddTensor(ti.Name, typ, ti.Shape, data); err != nil {
				t.Fatal(err)
			}
		}
	})
	missing := rewrite("missing.gguf", func(w *gguf.Writer) {
		for _, ti := range f.Tensors {
			if ti.Name == "blk.3.ffn_up.weight" {
				continue
			}
			data, _ := f.TensorData(ti.Name)
			_ = w.AddTensor(ti.Name, ti.Type, ti.Shape, data)
		}
	})
	long := strings.Repeat("Once upon a time ", 200) // ~800 tokens > context 512

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"generate", "-m", filepath.Join(dir, "nope.gguf"), "-p", "x"}, "no such file"},
		{"truncated", []string{"generate", "-m", truncated, "-p", "x"}, "truncated"},
		{"corrupt magic", []string{"generate", "-m", corruptPath, "-p", "x"}, "not a GGUF file"},
		{"not a model", []string{"generate", "-m", "main.go", "-p", "x"}, "not a GGUF file"},
		{"architecture", []string{"generate", "-m", gpt, "-p", "x"}, `architecture "gptneox"`},
		{"tensor type", []string{"generate", "-m", badType, "-p", "x"}, "blk.0.attn_q.weight has type IQ4_NL"},
		{"missing tensor", []string{"generate", "-m", missing, "-p", "x"}, "blk.3.ffn_up.weight is missing"},
		{"prompt too long", []string{"generate", "-m", stories, "-p", long, "-n", "4"}, "prompt too long"},
		{"no model", []string{"generate", "-p", "x"}, "-m MODEL is required"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"bad flag", []string{"generate", "--bogus"}, "flag provided but not defined"},
		{"bad temperature", []string{"generate", "-m", stories, "-p", "x", "--temp", "-1"}, "temperature"},
		{"tokenize args", []string{"tokenize", "-m", stories}, "exactly one TEXT"},
		{"gen-model type", []string{"gen-model", "--type", "Q3_K", "--vocab", stories, "-o", filepath.Join(dir, "x")}, "unknown tensor type"},
		{"gen-model shape", []string{"gen-model", "--shape", "huge", "--vocab", stories, "-o", filepath.Join(dir, "x")}, "unknown shape"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := slm(t, tc.args...)
			if err == nil {
				t.Fatalf("no error")
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("panicked: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestGenModelRoundTrip(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.gguf")
	if _, err := slm(t, "gen-model", "--arch", "qwen3", "--shape", "tiny-wide-heads", "--type", "Q4_K",
		"--vocab", "../../testdata/vocab/ggml-vocab-qwen2.gguf", "--seed", "7", "-o", out); err != nil {
		t.Fatal(err)
	}
	js, err := slm(t, "info", "-m", out)
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(js), &info); err != nil {
		t.Fatal(err)
	}
	if info["arch"] != "qwen3" || info["head_dim"] != 128.0 || info["vocab"] != 151936.0 {
		t.Errorf("info = %v", info)
	}
	if _, err := slm(t, "generate", "-m", out, "-p", "hello", "-n", "4", "--temp", "0"); err != nil {
		t.Fatal(err)
	}
}
