package training

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"aisle/worker/gguf"
	"aisle/worker/model"
	"aisle/worker/modelgen"
	"aisle/worker/quant"
	"aisle/worker/tokenizer"
)

// torchPython returns a python3 that imports torch: Debian's python3-torch in CI (make
// test-deps installs it), where its absence fails the test.
func torchPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import torch, numpy").Run() == nil {
			return py
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no python3 with torch and numpy (Debian: python3-torch; make test-deps installs it)")
	}
	t.Skip("no python3 with torch and numpy (Debian: python3-torch; make test-deps installs it)")
	return ""
}

// The recipe end to end on the CPU: training data written by WriteData, two steps of
// train.py, the weights exported with the project's GGUF writer. The engine's logits on the
// exported F32 model equal PyTorch's (so the network train.py trains is the one the engine
// runs: RoPE layout, norms, grouped-query attention, tied output), and the Q8_0 export is a
// chat model whose end of turn stops generation.
func TestRecipeTrainsWhatTheEngineRuns(t *testing.T) {
	py := torchPython(t)
	dir := t.TempDir()
	data, weights := filepath.Join(dir, "data"), filepath.Join(dir, "weights")
	info, err := WriteData(data, Options{Stores: 3, ValStores: 1, Seed: 5, VocabSize: 700, TokenizerStores: 3, Ctx: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if info.Train.Conversations < 100 || info.Val.Conversations < 30 || info.Train.TargetTokens == 0 {
		t.Fatalf("data: %+v", info)
	}
	cmd := exec.Command(py, "../model/recipe/train.py", "--data", data, "--out", weights, "--device", "cpu", "--seed", "3",
		"--steps", "2", "--batch", "1", "--dim", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--ffn", "96",
		"--eval-every", "100", "--init-std", "0.3", "--dump-logits", filepath.Join(weights, "logits.json"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("train.py: %v\n%s", err, out)
	}
	var dump struct {
		Tokens []int       `json:"tokens"`
		Logits [][]float32 `json:"logits"`
	}
	b, err := os.ReadFile(filepath.Join(weights, "logits.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dump); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(weights, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := modelgen.ParseSafetensors(raw)
	if err != nil {
		t.Fatal(err)
	}
	vocab, err := gguf.Open(filepath.Join(data, "vocab.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer vocab.Close()
	export := func(typ quant.Type) *gguf.File {
		var buf bytes.Buffer
		if err := modelgen.Export(&buf, st, modelgen.ExportOptions{Type: typ, Vocab: vocab}); err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Parse(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return f
	}

	m, err := model.Load(export(quant.F32), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got, err := m.NewSession(len(dump.Tokens)).Eval(dump.Tokens, true)
	if err != nil {
		t.Fatal(err)
	}
	n := len(dump.Logits[0])
	var worst, scale float64
	for i, row := range dump.Logits {
		for j, want := range row {
			scale = max(scale, math.Abs(float64(want)))
			worst = max(worst, math.Abs(float64(got[i*n+j]-want)))
		}
	}
	t.Logf("%d positions: largest logit %.3f, largest difference from PyTorch %.2e", len(dump.Logits), scale, worst)
	if scale < 1 || worst > 1e-3*scale {
		t.Fatalf("engine logits differ from PyTorch's by up to %.3g (largest logit %.3g)", worst, scale)
	}

	q := export(quant.Q8_0)
	if tmpl, _ := q.Metadata.String("tokenizer.chat_template"); tmpl != ChatTemplate {
		t.Fatalf("chat template %q", tmpl)
	}
	v, err := tokenizer.VocabFromGGUF(q.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	if end, _ := tok.ID(endOfTurn); !tok.IsEOG(end) || tok.AddBOS() {
		t.Fatalf("%s is not an end of generation (or BOS is added)", endOfTurn)
	}
}
