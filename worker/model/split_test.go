package model_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"aisle/worker/gguf"
	"aisle/worker/model"
	"aisle/worker/model/modeltest"
	"aisle/worker/quant"
)

// goRemote is a model.Remote whose parts run in goroutines of this process: the same PartRows
// the browser's row workers run, without the transport.
type goRemote struct {
	parts   []*model.PartRows
	pending chan error
	fail    error // when set, every Collect fails with it
}

func (r *goRemote) Post(n int, products []model.RemoteProduct) error {
	r.pending = make(chan error, len(r.parts))
	for _, p := range r.parts {
		go func() {
			var err error
			for _, pr := range products {
				lo, hi := p.RowsOf(pr.Matrix)
				buf := make([]float32, n*(hi-lo))
				if err = p.Compute(pr.Matrix, n, pr.Act, buf, 0, hi-lo); err != nil {
					break
				}
				for b := range n {
					copy(pr.Out[b*pr.Rows+lo:b*pr.Rows+hi], buf[b*(hi-lo):(b+1)*(hi-lo)])
				}
			}
			r.pending <- err
		}()
	}
	return nil
}

func (r *goRemote) Collect() error {
	var errs []error
	for range r.parts {
		errs = append(errs, <-r.pending)
	}
	if r.fail != nil {
		return r.fail
	}
	return errors.Join(errs...)
}

func (r *goRemote) Close() {}

// lazyFile opens path as a stored model is opened (modeltest.LazyFile).
func lazyFile(t *testing.T, path string, shardSize int) *gguf.File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return modeltest.LazyFile(t, data, shardSize)
}

// loadWhole loads the model at path in one piece; it is closed when the test ends.
func loadWhole(t *testing.T, path string) *model.Model {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m, err := model.Load(f, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// splitModel loads path split across parts workers: the leader and parts-1 goRemote parts, each
// from its own lazily read copy of the file.
func splitModel(t *testing.T, path string, parts int) (*model.Model, *goRemote, []*gguf.File) {
	t.Helper()
	const shardSize = 100_003
	r := &goRemote{}
	var files []*gguf.File
	for p := 1; p < parts; p++ {
		f := lazyFile(t, path, shardSize)
		pr, err := model.LoadPart(f, model.Share{Part: p, Parts: parts})
		if err != nil {
			t.Fatal(err)
		}
		r.parts = append(r.parts, pr)
		files = append(files, f)
	}
	f := lazyFile(t, path, shardSize)
	m, err := model.LoadLeader(f, 2, model.Share{Part: 0, Parts: parts}, r)
	if err != nil {
		t.Fatal(err)
	}
	return m, r, append(files, f)
}

// TestSplitModelMatchesWhole: a model split by rows across 2, 3 or 5 workers, each reading its
// rows from lazily loaded shards, gives bit for bit the whole model's logits, for a prompt
// (batched products, logits of every token) and decoding (matrix-vector products), on every
// architecture and tensor type; every worker loads each shard once.
func TestSplitModelMatchesWhole(t *testing.T) {
	cases := []struct{ arch, shape, vocab string }{
		{"llama", "tiny", "ggml-vocab-llama-spm.gguf"},
		{"qwen2", "tiny", "ggml-vocab-qwen2.gguf"},
		{"qwen3", "tiny-wide-heads", "ggml-vocab-qwen2.gguf"},
	}
	for _, c := range cases {
		for _, typ := range allTypes {
			if c.arch != "llama" && typ != quant.Q8_0 && typ != quant.Q4_K {
				continue // the qwen vocabularies make these models large; llama covers every type
			}
			t.Run(fmt.Sprintf("%s-%s", c.arch, typ), func(t *testing.T) {
				path := writeRandomModel(t, c.arch, c.shape, typ, c.vocab)
				whole := loadWhole(t, path)
				prompt := []int{1, 17, 230, 41, 5, 99, 300, 12, 7}
				ws := whole.NewSession(64)
				want, err := ws.Eval(prompt, true)
				if err != nil {
					t.Fatal(err)
				}
				want = append([]float32(nil), want...)
				wantNext := make([][]float32, 4)
				for i := range wantNext {
					l, err := ws.Eval([]int{100 + i}, false)
					if err != nil {
						t.Fatal(err)
					}
					wantNext[i] = append([]float32(nil), l...)
				}
				for _, parts := range []int{2, 3, 5} {
					m, _, _ := splitModel(t, path, parts)
					s := m.NewSession(64)
					got, err := s.Eval(prompt, true)
					if err != nil {
						t.Fatal(err)
					}
					modeltest.SameLogits(t, fmt.Sprintf("%d parts, prompt", parts), got, want)
					for i := range wantNext {
						got, err := s.Eval([]int{100 + i}, false)
						if err != nil {
							t.Fatal(err)
						}
						modeltest.SameLogits(t, fmt.Sprintf("%d parts, token %d", parts, i), got, wantNext[i])
					}
					m.Close()
				}
			})
		}
	}
}

// TestSplitModelWorkerFails: a part that fails turns the evaluation into an error naming the
// cause, not a hang or a crash.
func TestSplitModelWorkerFails(t *testing.T) {
	path := writeRandomModel(t, "llama", "tiny", quant.Q8_0, "ggml-vocab-llama-spm.gguf")
	m, r, _ := splitModel(t, path, 2)
	defer m.Close()
	r.fail = errors.New("row worker 1 stopped answering")
	_, err := m.NewSession(64).Eval([]int{1, 2, 3}, false)
	if err == nil || !strings.Contains(err.Error(), "row worker 1 stopped answering") {
		t.Fatalf("err = %v, want the worker's failure", err)
	}
}

// TestLoadPartChecksItsShare: nonsense shares are refused.
func TestLoadPartChecksItsShare(t *testing.T) {
	path := writeRandomModel(t, "llama", "tiny", quant.Q8_0, "ggml-vocab-llama-spm.gguf")
	f := lazyFile(t, path, 1<<20)
	for _, s := range []model.Share{{Part: 0, Parts: 2}, {Part: 2, Parts: 2}, {Part: -1, Parts: 2}} {
		if _, err := model.LoadPart(f, s); err == nil {
			t.Errorf("LoadPart(%+v) succeeded", s)
		}
	}
	if _, err := model.LoadLeader(f, 1, model.Share{Part: 0, Parts: 2}, nil); err == nil {
		t.Error("LoadLeader without a Remote succeeded")
	}
}

// TestSplitHoldsEachRowOnce: across the leader and its parts, every row of every split matrix is
// held exactly once (no second copy of the model); the leader alone holds the embeddings and
// norms, and the parts nothing else.
func TestSplitHoldsEachRowOnce(t *testing.T) {
	path := writeRandomModel(t, "llama", "tiny", quant.Q8_0, "ggml-vocab-llama-spm.gguf")
	whole := loadWhole(t, path)
	m, r, _ := splitModel(t, path, 3)
	defer m.Close()
	for i, full := range whole.W.SplitMatrices() {
		lead := m.W.SplitMatrices()[i]
		held := len(lead.Data)
		for _, p := range r.parts {
			held += len(p.Matrices[i].Data)
		}
		if held != len(full.Data) {
			t.Errorf("%s: %d bytes held across the parts, the matrix has %d", full.Name, held, len(full.Data))
		}
	}
	if len(m.W.Embed.Data) != len(whole.W.Embed.Data) || len(m.W.Layers[0].AttnNorm) == 0 {
		t.Error("the leader does not hold the embeddings and norms")
	}
}
