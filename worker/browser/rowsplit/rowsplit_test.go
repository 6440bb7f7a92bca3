package rowsplit_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aisle/worker/browser/rowsplit"
	"aisle/worker/gguf"
	"aisle/worker/model"
	"aisle/worker/model/modeltest"
	"aisle/worker/modelgen"
	"aisle/worker/quant"
)

func randomModel(t *testing.T, arch, shape string, typ quant.Type, vocab string) []byte {
	t.Helper()
	vf, err := gguf.Open(filepath.Join("../../testdata/vocab", vocab))
	if err != nil {
		t.Fatal(err)
	}
	defer vf.Close()
	path := filepath.Join(t.TempDir(), "m.gguf")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := modelgen.Write(out, modelgen.Spec{Arch: arch, Shape: modelgen.Shapes[shape], Type: typ, Vocab: vf, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	out.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// lazy opens data as a stored model is opened (modeltest.LazyFile).
func lazy(t *testing.T, data []byte) *gguf.File { return modeltest.LazyFile(t, data, 65_537) }

type splitRun struct {
	m      *model.Model
	layout rowsplit.Layout
}

// startSplit runs a model split across parts: row workers serving in goroutines, the leader here.
// A tiny layout forces products (the classifier over several tokens) into several rounds.
func startSplit(t *testing.T, data []byte, parts int, shrink, viaMessages bool) *splitRun {
	t.Helper()
	f := lazy(t, data)
	c, err := model.ConfigFromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	layout := rowsplit.LayoutFor(c, parts)
	if shrink {
		layout.OutBytes = 4 * (c.Vocab/parts + 64) * 3 // three tokens of classifier per round
	}
	leader, ready := rowsplit.StartLocal(layout, viaMessages, func(int) (*gguf.File, error) { return lazy(t, data), nil })
	if err := ready(); err != nil {
		t.Fatal(err)
	}
	r := &splitRun{layout: layout}
	r.m, err = model.LoadLeader(f, 1, model.Share{Part: 0, Parts: parts}, leader)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSplitThroughSharedMemory: the leader and its row workers, over shared memory or messages,
// give the whole model's logits bit for bit (prompt with every token's logits, and decoding),
// including when the classifier's results go in several rounds; closing stops every row worker.
func TestSplitThroughSharedMemory(t *testing.T) {
	for _, tc := range []struct {
		arch, shape, vocab string
		typ                quant.Type
	}{
		{"llama", "tiny", "ggml-vocab-llama-spm.gguf", quant.Q8_0},
		{"llama", "tiny", "ggml-vocab-llama-spm.gguf", quant.F32},
		{"qwen2", "tiny", "ggml-vocab-qwen2.gguf", quant.Q4_K},
	} {
		data := randomModel(t, tc.arch, tc.shape, tc.typ, tc.vocab)
		f, err := gguf.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := model.Load(f, 1)
		if err != nil {
			t.Fatal(err)
		}
		prompt := []int{1, 50, 7, 300, 2, 9, 11, 13}
		ws := whole.NewSession(64)
		want, _ := ws.Eval(prompt, true)
		want = append([]float32(nil), want...)
		next, _ := ws.Eval([]int{42}, false)
		next = append([]float32(nil), next...)
		whole.Close()
		for _, parts := range []int{2, 4} {
			for _, via := range []string{"shared", "shrunk", "messages"} {
				name := fmt.Sprintf("%s-%s-%d-parts-%s", tc.arch, tc.typ, parts, via)
				r := startSplit(t, data, parts, via == "shrunk", via == "messages")
				s := r.m.NewSession(64)
				got, err := s.Eval(prompt, true)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				modeltest.SameLogits(t, name+" prompt", got, want)
				got, err = s.Eval([]int{42}, false)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				modeltest.SameLogits(t, name+" next", got, next)
				r.m.Close()
			}
		}
	}
}

// TestSplitWorkerFailureAndSilence: a row worker's failure reaches the leader's caller as an error
// with its message, and so does a row worker that never answers (after Timeout); neither hangs.
func TestSplitWorkerFailureAndSilence(t *testing.T) {
	data := randomModel(t, "llama", "tiny", quant.Q8_0, "ggml-vocab-llama-spm.gguf")
	t.Run("fails", func(t *testing.T) {
		f := lazy(t, data)
		c, _ := model.ConfigFromGGUF(f)
		layout := rowsplit.LayoutFor(c, 2)
		mem := rowsplit.NewMemory(layout.Size())
		part, err := model.LoadPart(lazy(t, data), model.Share{Part: 1, Parts: 2})
		if err != nil {
			t.Fatal(err)
		}
		go rowsplit.Serve(mem, layout, part)
		m, err := model.LoadLeader(f, 1, model.Share{Part: 0, Parts: 2}, rowsplit.NewLeader(mem, layout, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		rowsplit.Fail(mem, layout, 1, errors.New("out of memory"))
		_, err = m.NewSession(64).Eval([]int{1, 2}, false)
		if err == nil || !strings.Contains(err.Error(), "row worker 1 failed: out of memory") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("silent", func(t *testing.T) {
		f := lazy(t, data)
		c, _ := model.ConfigFromGGUF(f)
		layout := rowsplit.LayoutFor(c, 2)
		mem := rowsplit.NewMemory(layout.Size()) // no row worker serves it
		m, err := model.LoadLeader(f, 1, model.Share{Part: 0, Parts: 2}, rowsplit.NewLeader(mem, layout, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		old := rowsplit.Timeout
		rowsplit.Timeout = 300 * time.Millisecond
		defer func() { rowsplit.Timeout = old }()
		_, err = m.NewSession(64).Eval([]int{1}, false)
		if err == nil || !strings.Contains(err.Error(), "did not answer") {
			t.Fatalf("err = %v", err)
		}
		// the same over messages: nobody replies
		post := func(int, []byte) error { return nil }
		m, err = model.LoadLeader(lazy(t, data), 1, model.Share{Part: 0, Parts: 2}, rowsplit.NewMessageLeader(2, post, make(chan rowsplit.Reply), nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if _, err = m.NewSession(64).Eval([]int{1}, false); err == nil || !strings.Contains(err.Error(), "did not answer") {
			t.Fatalf("over messages: err = %v", err)
		}
	})
	t.Run("fails over messages", func(t *testing.T) {
		replies := make(chan rowsplit.Reply, 1)
		post := func(p int, job []byte) error {
			replies <- rowsplit.Reply{Part: p, Err: errors.New("out of memory")}
			return nil
		}
		m, err := model.LoadLeader(lazy(t, data), 1, model.Share{Part: 0, Parts: 2}, rowsplit.NewMessageLeader(2, post, replies, nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if _, err = m.NewSession(64).Eval([]int{1}, false); err == nil || !strings.Contains(err.Error(), "row worker 1 failed: out of memory") {
			t.Fatalf("err = %v", err)
		}
	})
}
