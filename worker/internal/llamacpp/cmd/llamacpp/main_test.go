package main

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"aisle/worker/internal/llamacpp"
)

const stories = "../../../../testdata/models/stories260K.gguf"

func TestGenerateMatchesGolden(t *testing.T) {
	llamacpp.Require(t)
	var out bytes.Buffer
	if err := run(t.Context(), []string{"generate", "-m", stories, "-p", "", "-n", "256"}, &out); err != nil {
		t.Fatal(err)
	}
	var got struct {
		PromptTokens []int  `json:"prompt_tokens"`
		Tokens       []int  `json:"tokens"`
		Text         string `json:"text"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	var golden struct {
		Tokens []int `json:"tokens"`
	}
	b := readFile(t, "../../testdata/stories260K-greedy256.json")
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.PromptTokens, []int{1}) || !slices.Equal(got.Tokens, golden.Tokens) {
		t.Errorf("generate: prompt %v, tokens %v\nwant [1], %v", got.PromptTokens, got.Tokens, golden.Tokens)
	}
	if !strings.HasPrefix(got.Text, "Once upon a time, there was a little girl named Lily.") {
		t.Errorf("text %q", got.Text)
	}
}

func TestTokenizeAndBench(t *testing.T) {
	llamacpp.Require(t)
	var out bytes.Buffer
	if err := run(t.Context(), []string{"tokenize", "-m", "../../../../testdata/vocab/ggml-vocab-llama-spm.gguf", "Hello", "world"}, &out); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "[1,15043,3186]" {
		t.Errorf("tokenize = %s, want [1,15043,3186]", got)
	}
	out.Reset()
	if err := run(t.Context(), []string{"bench", "-m", stories, "-p", "16", "-n", "8", "--threads", "1"}, &out); err != nil {
		t.Fatal(err)
	}
	var bench map[string]any
	if err := json.Unmarshal(out.Bytes(), &bench); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	for _, k := range []string{"prefill_tok_s", "decode_tok_s"} {
		if v, _ := bench[k].(float64); !(v > 0) {
			t.Errorf("%s = %v in %s", k, bench[k], out.String())
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"bogus", "-m", stories}, {"generate"}, {"generate", "-m", stories}, {"bench", "-m", stories, "-p", "x"}} {
		if err := run(t.Context(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
