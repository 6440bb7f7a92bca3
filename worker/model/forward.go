package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"aisle/worker/gguf"
	"aisle/worker/quant"
)

// MaxBatch is the most prompt tokens one forward pass processes together; longer prompts are
// split into batches of this size (scratch memory grows linearly with it).
const MaxBatch = 64

// ErrContextFull is returned when tokens would run past the session's context length.
var ErrContextFull = errors.New("context full")

// Model is a loaded model on the CPU: configuration, weights (memory-mapped, not copied) and a
// thread pool. It is safe for concurrent use by several Sessions; their forward passes run one at a
// time.
type Model struct {
	Config
	W    *Weights
	pool *Pool
	mu   sync.Mutex // serialises forward passes over the shared pool

	// share and remote, for a model split by rows across workers (see Share): this worker is
	// the leader and holds rows share.Bounds of each split matrix; remote computes the rest.
	share  Share
	remote Remote
	index  map[*Matrix]int // split matrices' numbers (SplitMatrices)
	// remoteErr is the first failure of remote (under mu): the model cannot evaluate again.
	remoteErr error

	// ExactPrefill makes batched (prompt) matrix products add in llama.cpp's own order
	// (quant.MatMulExact), so that a prompt's logits are bit-identical to llama.cpp's on x86 with
	// AVX2 rather than equal to float rounding. It costs prefill speed for the weight types whose
	// fast batched product adds in another order (Q8_0 prefill: about 2.5x slower); decoding is
	// unaffected (its products are always in llama.cpp's order). Set it before the first Eval.
	ExactPrefill bool
}

// Load binds the weights of f and starts a pool of threads (<= 0: one per CPU). The model keeps
// referring to f's memory: close f only after the model is no longer used.
func Load(f *gguf.File, threads int) (*Model, error) {
	c, err := ConfigFromGGUF(f)
	if err != nil {
		return nil, err
	}
	w, err := BindWeights(f, c)
	if err != nil {
		return nil, err
	}
	return &Model{Config: c, W: w, pool: NewPool(threads)}, nil
}

// LoadLeader is Load for the leader of a model split by rows across share.Parts workers
// (share.Part is 0): it binds the leader's rows of each split matrix and every other tensor,
// copied (f may be a file from gguf.OpenLazyShards), and has remote compute the other parts'
// rows. The model closes remote when it is closed.
func LoadLeader(f *gguf.File, threads int, share Share, remote Remote) (*Model, error) {
	if !share.Split() || share.Part != 0 || remote == nil {
		return nil, fmt.Errorf("model: LoadLeader needs part 0 of several and a Remote (share %d of %d)", share.Part, share.Parts)
	}
	c, w, err := bindShare(f, share)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: c, W: w, pool: NewPool(threads), share: share, remote: remote, index: map[*Matrix]int{}}
	for i, mat := range w.SplitMatrices() {
		m.index[mat] = i
	}
	return m, nil
}

// Threads is the number of threads forward passes use.
func (m *Model) Threads() int { return m.pool.Threads() }

// RemoteErr is the failure of the other parts of a split model, if they failed: every later
// evaluation fails too, and the model should be loaded again.
func (m *Model) RemoteErr() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.remoteErr
}

// Share is the part of the model this worker holds (the zero Share: all of it).
func (m *Model) Share() Share { return m.share }

// Close stops the model's threads, and the other parts of a split model.
func (m *Model) Close() {
	m.pool.Close()
	if m.remote != nil {
		m.remote.Close()
	}
}

// Session is one sequence being evaluated: its KV cache and scratch buffers. Not safe for
// concurrent use; use one Session per conversation.
type Session struct {
	m      *Model
	ctxLen int
	pos    int // number of positions held in the KV cache
	// The KV cache, laid out for the attention products as ggml lays out its own: per layer,
	// k is (KVHeads, ctxLen, HeadDim), one head's keys contiguous per position; v is
	// (KVHeads, HeadDim, vStride), transposed, so that one head dimension's values over all
	// positions are contiguous. Rows of v are padded with zeros to vStride = ctxLen rounded up to
	// 64, the granule of the decode-time dot product.
	k, v    [][]float32
	vStride int

	// scratch, sized for MaxBatch tokens: the wave of activations.
	x, xb, xb2 []float32 // (batch, Dim): residual stream, normed input, projection output
	q          []float32 // (batch, QDim)
	kb, vb     []float32 // (batch, KVDim)
	att        []float32 // (batch, QDim) attention output
	hb, hb2    []float32 // (batch, FFNDim)
	scores     []float32 // (threads, vStride): attention scores, then probabilities
	cosSin     []float32 // (batch, RopeDims)
	logits     []float32 // (batch, Vocab) or (Vocab)
	acts       actCache
}

// NewSession allocates a session with room for ctxLen positions (<= 0 or larger than the model's
// context length: the model's context length).
func (m *Model) NewSession(ctxLen int) *Session {
	if ctxLen <= 0 || ctxLen > m.ContextLen {
		ctxLen = m.ContextLen
	}
	c := m.Config
	s := &Session{m: m, ctxLen: ctxLen, vStride: (ctxLen + 63) &^ 63}
	s.k = make([][]float32, c.Layers)
	s.v = make([][]float32, c.Layers)
	for l := range s.k {
		s.k[l] = make([]float32, c.KVHeads*ctxLen*c.HeadDim)
		s.v[l] = make([]float32, c.KVHeads*c.HeadDim*s.vStride)
	}
	B := MaxBatch
	s.x = make([]float32, B*c.Dim)
	s.xb = make([]float32, B*c.Dim)
	s.xb2 = make([]float32, B*c.Dim)
	s.q = make([]float32, B*c.QDim())
	s.kb = make([]float32, B*c.KVDim())
	s.vb = make([]float32, B*c.KVDim())
	s.att = make([]float32, B*c.QDim())
	s.hb = make([]float32, B*c.FFNDim)
	s.hb2 = make([]float32, B*c.FFNDim)
	s.scores = make([]float32, m.pool.Threads()*s.vStride)
	s.cosSin = make([]float32, B*c.RopeDims)
	return s
}

// Pos is the number of positions already in the KV cache (the next token's position).
func (s *Session) Pos() int { return s.pos }

// ContextLen is the most positions the session holds.
func (s *Session) ContextLen() int { return s.ctxLen }

// Truncate forgets every position from n on, so a conversation can continue from a shared prefix.
func (s *Session) Truncate(n int) {
	if n >= 0 && n < s.pos {
		s.pos = n
	}
}

// Eval appends tokens at positions Pos().. and returns logits: of the last token (Vocab floats),
// or with all set, of every token ((len(tokens), Vocab) row-major). The returned slice is reused
// by the next call.
func (s *Session) Eval(tokens []int, all bool) (logits []float32, err error) {
	c := s.m.Config
	if len(tokens) == 0 {
		return nil, errors.New("model: no tokens to evaluate")
	}
	if s.pos+len(tokens) > s.ctxLen {
		return nil, fmt.Errorf("%w: %d positions used + %d new > context length %d", ErrContextFull, s.pos, len(tokens), s.ctxLen)
	}
	for _, t := range tokens {
		if t < 0 || t >= c.Vocab {
			return nil, fmt.Errorf("model: token id %d out of range [0, %d)", t, c.Vocab)
		}
	}
	need := c.Vocab
	if all {
		need = len(tokens) * c.Vocab
	}
	if cap(s.logits) < need {
		s.logits = make([]float32, need)
	}
	s.logits = s.logits[:need]

	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.m.remote != nil {
		defer func() {
			if r := recover(); r != nil {
				f, ok := r.(remoteFailure)
				if !ok {
					panic(r)
				}
				err = fmt.Errorf("model: a worker computing part of the model failed: %w", f.err)
				s.m.remoteErr = err
			}
		}()
	}
	for start := 0; start < len(tokens); {
		// Batches of MaxBatch, except that a batch of one token is avoided after a longer one
		// (65 tokens go as 63 + 2): llama.cpp evaluates a prompt in one batch, and a single
		// token would take the matrix-vector path, whose sums are ordered differently.
		size := min(MaxBatch, len(tokens)-start)
		if len(tokens)-start == MaxBatch+1 {
			size = MaxBatch - 1
		}
		var out []float32
		switch {
		case all:
			out = s.logits[start*c.Vocab : (start+size)*c.Vocab]
		case start+size == len(tokens):
			out = s.logits
		}
		s.forward(tokens[start:start+size], out, all)
		start += size
	}
	return s.logits, nil
}

// forward runs one batch of n tokens at positions s.pos.. and advances s.pos. When out is not nil
// it receives logits: of every token if all, else of the last one.
func (s *Session) forward(tokens []int, out []float32, all bool) {
	m, c, w := s.m, s.m.Config, s.m.W
	n, dim, qdim, kvdim := len(tokens), c.Dim, c.QDim(), c.KVDim()
	x := s.x[:n*dim]

	// token embeddings
	for b, t := range tokens {
		if err := quant.Dequantize(w.Embed.Type, w.Embed.Row(t), x[b*dim:(b+1)*dim]); err != nil {
			panic(err) // rows were validated at load time
		}
	}
	// rotation angles of the batch's positions, shared by every layer
	rd := c.RopeDims
	for b := 0; b < n; b++ {
		ropeTable(s.cosSin[b*rd:(b+1)*rd], s.pos+b, rd, c.RopeBase, c.RopeScale, w.RopeFreqs)
	}

	for l := range w.Layers {
		L := &w.Layers[l]
		// attention rmsnorm
		xb := s.xb[:n*dim]
		for b := 0; b < n; b++ {
			rmsNorm(xb[b*dim:(b+1)*dim], x[b*dim:(b+1)*dim], L.AttnNorm, c.NormEps)
		}
		// qkv matmuls
		q, k, v := s.q[:n*qdim], s.kb[:n*kvdim], s.vb[:n*kvdim]
		s.matmul(xb, n, []proj{{&L.Wq, q}, {&L.Wk, k}, {&L.Wv, v}})
		for b := 0; b < n; b++ {
			qb, kb, vb := q[b*qdim:(b+1)*qdim], k[b*kvdim:(b+1)*kvdim], v[b*kvdim:(b+1)*kvdim]
			if L.Bq != nil {
				add(qb, L.Bq)
				add(kb, L.Bk)
				add(vb, L.Bv)
			}
			cs := s.cosSin[b*rd : (b+1)*rd]
			for h := 0; h < c.Heads; h++ {
				head := qb[h*c.HeadDim : (h+1)*c.HeadDim]
				if L.QNorm != nil {
					rmsNorm(head, head, L.QNorm, c.NormEps)
				}
				rope(head, rd, cs, c.RopeStyle)
			}
			for h := 0; h < c.KVHeads; h++ {
				head := kb[h*c.HeadDim : (h+1)*c.HeadDim]
				if L.KNorm != nil {
					rmsNorm(head, head, L.KNorm, c.NormEps)
				}
				rope(head, rd, cs, c.RopeStyle)
			}
			// into the KV cache: keys as rows, values transposed
			s.store(l, s.pos+b, kb, vb)
		}
		// grouped-query attention, parallel over (token, head)
		s.attention(l, n)
		// output projection and residual connection
		xb2 := s.xb2[:n*dim]
		s.matmul(s.att[:n*qdim], n, []proj{{&L.Wo, xb2}})
		add(x, xb2)

		// ffn rmsnorm
		for b := 0; b < n; b++ {
			rmsNorm(xb[b*dim:(b+1)*dim], x[b*dim:(b+1)*dim], L.FFNNorm, c.NormEps)
		}
		// SwiGLU: down(silu(gate x) * up x), then residual
		hb, hb2 := s.hb[:n*c.FFNDim], s.hb2[:n*c.FFNDim]
		s.matmul(xb, n, []proj{{&L.Wgate, hb}, {&L.Wup, hb2}})
		if c.FFNDim%16 == 0 { // ggml's 16-lane groups start at each row's start: any 64-aligned split keeps them
			m.pool.For(n*c.FFNDim, 64, func(lo, hi int) { swiglu(hb[lo:hi], hb2[lo:hi]) })
		} else {
			f := c.FFNDim
			m.pool.For(n, 1, func(lo, hi int) {
				for b := lo; b < hi; b++ {
					swiglu(hb[b*f:(b+1)*f], hb2[b*f:(b+1)*f])
				}
			})
		}
		s.matmul(hb, n, []proj{{&L.Wdown, xb2}})
		add(x, xb2)
	}
	s.pos += n
	if out == nil {
		return
	}
	// final rmsnorm and classifier, for the tokens whose logits are wanted
	first := n - 1
	if all {
		first = 0
	}
	xb := s.xb[:(n-first)*dim]
	for b := first; b < n; b++ {
		rmsNorm(xb[(b-first)*dim:(b-first+1)*dim], x[b*dim:(b+1)*dim], w.OutNorm, c.NormEps)
	}
	s.matmul(xb, n-first, []proj{{&w.Output, out}})
}

// store writes one position's keys and values (each (KVHeads, HeadDim)) into layer l's cache.
func (s *Session) store(l, pos int, k, v []float32) {
	c := s.m.Config
	hd := c.HeadDim
	for g := 0; g < c.KVHeads; g++ {
		copy(s.k[l][(g*s.ctxLen+pos)*hd:], k[g*hd:(g+1)*hd])
		vg := s.v[l][g*hd*s.vStride:]
		for d, x := range v[g*hd : (g+1)*hd] {
			vg[d*s.vStride+pos] = x
		}
	}
}

// attention sets s.att (n, QDim) for the n new tokens of layer l, each query head attending to
// the cached positions 0..its own (causal), with grouped-query heads sharing a KV head. It is
// llama.cpp's attention without flash attention, over an F32 cache, in ggml's float order:
//
//	kq[t]  = dot(k[t], q) * scale           ggml_vec_dot_f32 (q is a strided view: no GEMM)
//	p      = softmax(kq), past positions    ggml_v_expf, float64 sum of 16-lane partial sums
//	out[d] = Σₜ v[d][t] * p[t]              decode: ggml_vec_dot_f32 over the positions;
//	                                        n >= 2: llamafile tinyBLAS (16-lane FMA, one per output)
//
// The (token, head) pairs run in parallel.
func (s *Session) attention(l, n int) {
	c := s.m.Config
	qdim, hd := c.QDim(), c.HeadDim
	group := c.Heads / c.KVHeads
	scale := 1 / float32(math.Sqrt(float64(hd))) // 1.0f/sqrtf(head_dim)
	s.m.pool.ForParts(n*c.Heads, 1, func(part, lo, hi int) {
		probs := s.scores[part*s.vStride : (part+1)*s.vStride]
		for job := lo; job < hi; job++ {
			b, h := job/c.Heads, job%c.Heads
			g := h / group
			live := s.pos + b + 1                             // positions 0..pos+b
			kg := s.k[l][g*s.ctxLen*hd : (g+1)*s.ctxLen*hd]   // (ctxLen, hd)
			vg := s.v[l][g*hd*s.vStride : (g+1)*hd*s.vStride] // (hd, vStride)
			q := s.q[b*qdim+h*hd : b*qdim+(h+1)*hd]
			out := s.att[b*qdim+h*hd : b*qdim+(h+1)*hd]

			// scores and probabilities; ggml's row is n_kv (a multiple of 256) long, with masked
			// entries that come out as exact zeros, so padding to 16 or 64 changes no sum.
			dotRows(probs[:live], kg, hd, q, hd)
			for t := range live {
				probs[t] *= scale
			}
			n16 := (live + 15) &^ 15
			softmax(probs, live, n16)
			if n == 1 {
				n64 := (live + 63) &^ 63
				clear(probs[n16:n64])
				dotRows(out, vg, s.vStride, probs, n64)
				continue
			}
			var o4 [4]float32
			d := 0
			for ; d+4 <= hd; d += 4 {
				dot16x4(&o4, vg[d*s.vStride:], s.vStride, probs, n16)
				copy(out[d:d+4], o4[:])
			}
			for ; d < hd; d++ {
				out[d] = dot16(vg[d*s.vStride:d*s.vStride+n16], probs)
			}
		}
	})
}

// proj is one matrix product of a fused group: out (n, m.Rows) = in (n, m.Cols) Wᵀ.
type proj struct {
	m   *Matrix
	out []float32
}

// matmul runs the products of projs (which share their input) in one parallel loop over all their
// rows. The input rows are first converted to each weight type's activation format, as llama.cpp
// does (for example Q8_0 for Q8_0/Q4_0 weights, Q8_K for K-quants).
//
// A split model (LoadLeader) posts the other parts' rows to its Remote first, computes its own
// share's rows, then collects theirs.
func (s *Session) matmul(in []float32, n int, projs []proj) {
	cols := projs[0].m.Cols
	acts := make([][]byte, len(projs))
	rows := make([]int, len(projs)) // rows computed here: all, or the leader's share
	total := 0
	s.acts.reset()
	for i, p := range projs {
		acts[i] = s.acts.get(p.m.Type, in, n, cols, s.m.pool)
		_, rows[i] = s.m.share.Bounds(p.m.Rows)
		total += rows[i]
	}
	if r := s.m.remote; r != nil {
		remote := make([]RemoteProduct, len(projs))
		for i, p := range projs {
			remote[i] = RemoteProduct{Matrix: s.m.index[p.m], Rows: p.m.Rows, Act: acts[i], Out: p.out}
		}
		if err := r.Post(n, remote); err != nil {
			panic(remoteFailure{err})
		}
		defer func() {
			if err := r.Collect(); err != nil {
				panic(remoteFailure{err})
			}
		}()
	}
	s.m.pool.For(total, 16, func(lo, hi int) {
		base := 0
		for i, p := range projs {
			r0, r1 := max(lo-base, 0), min(hi-base, rows[i])
			if r0 < r1 {
				switch {
				case n == 1:
					quant.MatVec(p.m.Type, p.m.Data, p.m.Cols, acts[i], p.out, r0, r1)
				case s.m.ExactPrefill:
					quant.MatMulExact(p.m.Type, p.m.Data, p.m.Cols, acts[i], n, p.out, p.m.Rows, r0, r1)
				default:
					quant.MatMul(p.m.Type, p.m.Data, p.m.Cols, acts[i], n, p.out, p.m.Rows, r0, r1)
				}
			}
			base += rows[i]
		}
	})
}

// actCache converts an input batch to activation formats, once per format per matmul call
// (projections of different weight types may need different formats).
type actCache struct {
	bufs map[quant.Type][]byte
	done map[quant.Type]bool
}

func (a *actCache) reset() { clear(a.done) }

func (a *actCache) get(wt quant.Type, in []float32, n, cols int, pool *Pool) []byte {
	at := quant.VecDotType(wt)
	if a.bufs == nil {
		a.bufs, a.done = map[quant.Type][]byte{}, map[quant.Type]bool{}
	}
	rb, _ := at.RowBytes(cols)
	buf := a.bufs[at]
	if cap(buf) < n*rb {
		buf = make([]byte, MaxBatch*rb)
		a.bufs[at] = buf
	}
	buf = buf[:n*rb]
	if !a.done[at] {
		pool.For(n, 1, func(lo, hi int) {
			for b := lo; b < hi; b++ {
				quant.QuantizeActivations(wt, in[b*cols:(b+1)*cols], buf[b*rb:(b+1)*rb])
			}
		})
		a.done[at] = true
	}
	return buf
}

// KVBytes is the size of SaveKV's output for n positions.
func (s *Session) KVBytes(n int) int {
	c := s.m.Config
	return 4 * 2 * c.Layers * c.KVHeads * c.HeadDim * n
}

// SaveKV returns the keys and values of positions [0, n) (n <= Pos()): per layer, per KV head,
// the n key rows of HeadDim floats, then the HeadDim value rows of n floats; float32
// little-endian. RestoreKV puts them back into a session of the same model.
func (s *Session) SaveKV(n int) ([]byte, error) {
	if n < 0 || n > s.pos {
		return nil, fmt.Errorf("model: save %d positions of %d", n, s.pos)
	}
	c := s.m.Config
	hd := c.HeadDim
	out := make([]byte, 0, s.KVBytes(n))
	for l := 0; l < c.Layers; l++ {
		for g := 0; g < c.KVHeads; g++ {
			out = appendFloats(out, s.k[l][g*s.ctxLen*hd:(g*s.ctxLen+n)*hd])
			vg := s.v[l][g*hd*s.vStride:]
			for d := 0; d < hd; d++ {
				out = appendFloats(out, vg[d*s.vStride:d*s.vStride+n])
			}
		}
	}
	return out, nil
}

// RestoreKV loads SaveKV's output for n positions and sets Pos() to n: what the session held
// after those positions is forgotten.
func (s *Session) RestoreKV(n int, b []byte) error {
	if n < 0 || n > s.ctxLen {
		return fmt.Errorf("model: restore %d positions into a context of %d", n, s.ctxLen)
	}
	if len(b) != s.KVBytes(n) {
		return fmt.Errorf("model: %d bytes of keys and values for %d positions, want %d", len(b), n, s.KVBytes(n))
	}
	c := s.m.Config
	hd := c.HeadDim
	for l := 0; l < c.Layers; l++ {
		for g := 0; g < c.KVHeads; g++ {
			b = readFloats(s.k[l][g*s.ctxLen*hd:(g*s.ctxLen+n)*hd], b)
			vg := s.v[l][g*hd*s.vStride:]
			for d := 0; d < hd; d++ {
				b = readFloats(vg[d*s.vStride:d*s.vStride+n], b)
			}
		}
	}
	s.pos = n
	return nil
}

// nativeLittleEndian: float32s sit in memory as SaveKV writes them (little-endian), so they are
// copied as bytes; true on every target the app ships on (amd64, arm64, wasm).
var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// floatBytes is x's memory as bytes.
func floatBytes(x []float32) []byte {
	if len(x) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x))
}

func appendFloats(b []byte, x []float32) []byte {
	if nativeLittleEndian {
		return append(b, floatBytes(x)...)
	}
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func readFloats(dst []float32, b []byte) []byte {
	if nativeLittleEndian {
		return b[copy(floatBytes(dst), b[:4*len(dst)]):]
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return b[4*len(dst):]
}
