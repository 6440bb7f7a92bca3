package model

import (
	"fmt"

	"aisle/worker/gguf"
	"aisle/worker/quant"
)

// A model's matrix products can be split by rows across several workers (Go's WebAssembly has
// no threads, so a browser's other cores are reached through other workers, each a Go instance
// of its own). Every worker holds only its Share of each weight matrix's rows, so the model is in
// memory once across them:
//
//   - part 0, the leader, also holds every other tensor (embeddings, norms, biases), runs the
//     forward pass and the KV cache, and computes its rows of each product itself;
//   - parts 1.. hold only their rows (Part) and compute them when the leader's Remote asks.
//
// A product's rows are independent of each other, so a split model's logits are bit for bit
// those of the whole model.

// Share names the rows of every split matrix that one worker holds: part Part of Parts.
// The zero Share is the whole model in one worker.
type Share struct{ Part, Parts int }

// shareAlign is the granule of a share's row bounds (as Pool's chunks).
const shareAlign = 16

// Split reports whether the model is spread over more than one worker.
func (s Share) Split() bool { return s.Parts > 1 }

// Bounds returns the rows [lo, hi) of a matrix of rows rows that part s.Part holds.
func (s Share) Bounds(rows int) (lo, hi int) {
	if !s.Split() {
		return 0, rows
	}
	return shareBound(rows, s.Part, s.Parts), shareBound(rows, s.Part+1, s.Parts)
}

func shareBound(rows, i, parts int) int {
	units := (rows + shareAlign - 1) / shareAlign
	return min(rows, units*i/parts*shareAlign)
}

func (s Share) valid() error {
	if s.Parts < 0 || (s.Parts > 0 && (s.Part < 0 || s.Part >= s.Parts)) {
		return fmt.Errorf("model: share %d of %d", s.Part, s.Parts)
	}
	return nil
}

// SplitMatrices lists the matrices whose rows are split, in the order every part numbers them
// (the Matrix field of a RemoteProduct): per layer Wq, Wk, Wv, Wo, Wgate, Wup, Wdown, then
// Output.
func (w *Weights) SplitMatrices() []*Matrix {
	out := make([]*Matrix, 0, 7*len(w.Layers)+1)
	for i := range w.Layers {
		l := &w.Layers[i]
		out = append(out, &l.Wq, &l.Wk, &l.Wv, &l.Wo, &l.Wgate, &l.Wup, &l.Wdown)
	}
	return append(out, &w.Output)
}

// Remote computes the rows of parts 1.. of the leader's matrix products. Post and Collect are
// called in turn, from one goroutine; between them the leader computes its own rows.
type Remote interface {
	// Post hands the other parts one product's input and returns without waiting.
	Post(n int, products []RemoteProduct) error
	// Collect waits until the other parts are done and writes their rows into each product's
	// Out. An error means the product is lost (a worker stopped): the forward pass fails.
	Collect() error
	// Close stops the other parts.
	Close()
}

// RemoteProduct is one matrix's part of a product: n input rows of the matrix's activation
// format (quant.VecDotType) in Act, results into Out, (n, Rows) row-major. The other parts
// write their rows of Out; the leader's are left alone.
type RemoteProduct struct {
	Matrix int // index in SplitMatrices
	Rows   int
	Act    []byte
	Out    []float32
}

// remoteFailure carries a Remote's error out of a forward pass (forward has no error result).
type remoteFailure struct{ err error }

// PartRows is the share of a model that a worker other than the leader holds: its rows of every
// split matrix (each Matrix's Data holds only rows [lo, hi) of Share.Bounds(Rows)).
type PartRows struct {
	Share    Share
	Matrices []Matrix // in SplitMatrices order
}

// LoadPart binds share's rows of every split matrix of f (share.Part >= 1), copied, so that f
// may be a file from gguf.OpenLazyShards whose shards are let go after use.
func LoadPart(f *gguf.File, share Share) (*PartRows, error) {
	if share.Part < 1 {
		return nil, fmt.Errorf("model: LoadPart is for parts 1.., not the leader")
	}
	_, w, err := bindShare(f, share)
	if err != nil {
		return nil, err
	}
	p := &PartRows{Share: share}
	for _, m := range w.SplitMatrices() {
		p.Matrices = append(p.Matrices, *m)
	}
	return p, nil
}

// bindShare reads f's configuration and binds what share holds of its tensors, copied (f may
// be a file from gguf.OpenLazyShards, whose shards are let go after use).
func bindShare(f *gguf.File, share Share) (Config, *Weights, error) {
	if err := share.valid(); err != nil {
		return Config{}, nil, err
	}
	c, err := ConfigFromGGUF(f)
	if err != nil {
		return Config{}, nil, err
	}
	w, err := bindWeights(f, c, share, true)
	return c, w, err
}

// Compute writes rows [lo+r0, lo+r1) of matrix m times n activation rows act into out, (n, r1-r0)
// row-major, where [lo, hi) are the part's rows (RowsOf) and 0 <= r0 <= r1 <= hi-lo. r0 is a
// multiple of 16 (a chunk of SubBounds), so that each row's sum is the one the whole model
// computes.
func (p *PartRows) Compute(m, n int, act []byte, out []float32, r0, r1 int) error {
	if m < 0 || m >= len(p.Matrices) {
		return fmt.Errorf("model: no split matrix %d", m)
	}
	w := &p.Matrices[m]
	lo, hi := p.Share.Bounds(w.Rows)
	rb, err := quant.ActivationBytes(w.Type, w.Cols)
	if err != nil {
		return err
	}
	rows := r1 - r0
	if n < 1 || r0 < 0 || r0 > r1 || r1 > hi-lo || r0%shareAlign != 0 || len(act) < n*rb || len(out) < n*rows {
		return fmt.Errorf("model: product of %s rows [%d, %d) over %d tokens: %d activation bytes, %d outputs", w.Name, r0, r1, n, len(act), len(out))
	}
	if rows == 0 {
		return nil
	}
	data := w.Data[r0*w.RowBytes : r1*w.RowBytes]
	if n == 1 {
		quant.MatVec(w.Type, data, w.Cols, act, out, 0, rows)
	} else {
		quant.MatMul(w.Type, data, w.Cols, act, n, out, rows, 0, rows)
	}
	return nil
}

// SubBounds returns chunk k of `of` of rows [0, rows) (a part's rows, relative to its first),
// chunk boundaries at multiples of 16: for results delivered in rounds.
func SubBounds(rows, k, of int) (lo, hi int) {
	return shareBound(rows, k, of), shareBound(rows, k+1, of)
}

// RowsOf returns the rows [lo, hi) this part holds of split matrix m.
func (p *PartRows) RowsOf(m int) (lo, hi int) { return p.Share.Bounds(p.Matrices[m].Rows) }
