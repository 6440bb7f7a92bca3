// Package rowsplit runs a model's matrix products split by rows across several workers of one
// browser page (model.Share): Go's WebAssembly has no threads, so each worker is a Go instance of
// its own, holding only its rows. The leader (the inference worker, part 0) hands each product
// to the row workers (parts 1..) as a job and gathers their results, over one of two transports:
//
//   - shared memory (a SharedArrayBuffer, on a cross-origin isolated page): the job and the
//     results are copied in and out of it, and the workers wait for each other with
//     Atomics.wait/notify (shared.go);
//   - messages (any page): the job and the results travel by postMessage (messages_js.go).
//
// A job, in bytes (little-endian uint32 words):
//
//	[0, jobHeader)   n (tokens), products, round, rounds, then per product its matrix number
//	                 and the size of its activations
//	then             the activations, product after product (n rows each)
//
// A part's results: per product, n rows of the round's chunk (model.SubBounds) of the part's
// rows, float32. Products whose results would not fit a transport's room go in several rounds,
// each over all tokens, so every row's sum is the one the whole model computes.
//
// The protocol is plain Go, so it runs natively in tests (Memory, goroutines for workers) and in
// the browser (workers_js.go).
package rowsplit

import (
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"

	"aisle/worker/model"
)

const (
	maxProducts = 8
	jobHeader   = 16 + 8*maxProducts
)

// Timeout is how long the leader waits for a row worker that makes no progress before the
// product fails (a worker that was killed, for example for memory, never answers).
var Timeout = 30 * time.Second

// transport carries the leader's jobs to the row workers and their results back.
type transport interface {
	// send hands job to every row worker.
	send(job []byte) error
	// wait returns when every row worker has answered the job sent last, with the first
	// failure a row worker reported or the transport's own.
	wait() error
	// results copies part's results of that job into dst.
	results(part int, dst []byte)
	// room is the most result bytes one part may return for one job (0: no limit).
	room() int
	// stop tells the row workers to exit.
	stop()
}

// Leader is the model.Remote of part 0.
type Leader struct {
	tr    transport
	parts int
	close func()

	// the product in flight: n tokens, its parts' rows in `rounds` chunks, `next` the next one
	n, rounds, next int
	products        []model.RemoteProduct
	buf             []byte
	res             []float32
	failed          error
}

var _ model.Remote = (*Leader)(nil)

func newLeader(tr transport, parts int, close func()) *Leader {
	return &Leader{tr: tr, parts: parts, close: close}
}

// partRows returns rows [lo, hi) of part p of a matrix of rows rows.
func (l *Leader) partRows(rows, p int) (int, int) {
	return model.Share{Part: p, Parts: l.parts}.Bounds(rows)
}

// Post implements model.Remote.
func (l *Leader) Post(n int, products []model.RemoteProduct) error {
	if l.failed != nil {
		return l.failed
	}
	if len(products) > maxProducts {
		return fmt.Errorf("rowsplit: %d products at once (at most %d)", len(products), maxProducts)
	}
	l.n, l.products, l.next = n, products, 0
	// The fewest rounds whose largest chunk of results fits a part's room.
	for l.rounds = 1; l.tr.room() > 0 && l.roundBytes(l.rounds) > l.tr.room(); l.rounds++ {
		if l.rounds > 1<<16 {
			return fmt.Errorf("rowsplit: one row of results does not fit the shared memory")
		}
	}
	return l.postRound()
}

// roundBytes is the most result bytes a part returns in one of `rounds` rounds.
func (l *Leader) roundBytes(rounds int) int {
	most := 0
	for p := 1; p < l.parts; p++ {
		b := 0
		for _, pr := range l.products {
			lo, hi := l.partRows(pr.Rows, p)
			r0, r1 := model.SubBounds(hi-lo, 0, rounds) // the first chunk is the largest
			b += 4 * l.n * (r1 - r0)
		}
		most = max(most, b)
	}
	return most
}

// postRound sends the job of round l.next.
func (l *Leader) postRound() error {
	le := binary.LittleEndian
	b := l.buf[:0]
	b = le.AppendUint32(b, uint32(l.n))
	b = le.AppendUint32(b, uint32(len(l.products)))
	b = le.AppendUint32(b, uint32(l.next))
	b = le.AppendUint32(b, uint32(l.rounds))
	for _, pr := range l.products {
		b = le.AppendUint32(b, uint32(pr.Matrix))
		b = le.AppendUint32(b, uint32(len(pr.Act)))
	}
	b = append(b, make([]byte, jobHeader-len(b))...)
	for _, pr := range l.products {
		b = append(b, pr.Act...)
	}
	l.buf = b
	return l.tr.send(b)
}

// Collect implements model.Remote: waits for each round, copies its results, posts the next.
func (l *Leader) Collect() error {
	if l.failed != nil {
		return l.failed
	}
	for {
		if err := l.tr.wait(); err != nil {
			l.failed = err
			return err
		}
		l.gather(l.next)
		l.next++
		if l.next >= l.rounds {
			return nil
		}
		if err := l.postRound(); err != nil {
			l.failed = err
			return err
		}
	}
}

// gather copies round k of every part's results into the products' outputs.
func (l *Leader) gather(k int) {
	for p := 1; p < l.parts; p++ {
		total := 0
		for _, pr := range l.products {
			lo, hi := l.partRows(pr.Rows, p)
			r0, r1 := model.SubBounds(hi-lo, k, l.rounds)
			total += l.n * (r1 - r0)
		}
		res := growFloats(l.res, total)
		l.res = res
		l.tr.results(p, floatBytes(res))
		for _, pr := range l.products {
			lo, hi := l.partRows(pr.Rows, p)
			r0, r1 := model.SubBounds(hi-lo, k, l.rounds)
			w := r1 - r0
			for t := range l.n {
				copy(pr.Out[t*pr.Rows+lo+r0:t*pr.Rows+lo+r1], res[t*w:(t+1)*w])
			}
			res = res[l.n*w:]
		}
	}
}

// Close implements model.Remote: tells the row workers to stop.
func (l *Leader) Close() {
	l.tr.stop()
	if l.close != nil {
		l.close()
	}
}

// job is a decoded job header.
type job struct {
	n, count, round, rounds int
	matrix, actBytes        [maxProducts]int
}

// decodeJob checks a job's header against part's matrices.
func decodeJob(head []byte, part *model.PartRows) (job, error) {
	le := binary.LittleEndian
	var j job
	if len(head) < jobHeader {
		return j, fmt.Errorf("bad job: %d bytes", len(head))
	}
	j.n, j.count = int(le.Uint32(head)), int(le.Uint32(head[4:]))
	j.round, j.rounds = int(le.Uint32(head[8:])), int(le.Uint32(head[12:]))
	if j.n < 1 || j.n > model.MaxBatch || j.count > maxProducts || j.round >= j.rounds {
		return j, fmt.Errorf("bad job: %d tokens, %d products, round %d of %d", j.n, j.count, j.round, j.rounds)
	}
	for i := range j.count {
		j.matrix[i], j.actBytes[i] = int(le.Uint32(head[16+8*i:])), int(le.Uint32(head[20+8*i:]))
		if j.matrix[i] >= len(part.Matrices) {
			return j, fmt.Errorf("bad job: no split matrix %d", j.matrix[i])
		}
	}
	return j, nil
}

// acts is the size of the job's activations.
func (j job) acts() int {
	n := 0
	for i := range j.count {
		n += j.actBytes[i]
	}
	return n
}

// outputs is the number of results part returns for the job.
func (j job) outputs(part *model.PartRows) int {
	n := 0
	for i := range j.count {
		lo, hi := part.RowsOf(j.matrix[i])
		r0, r1 := model.SubBounds(hi-lo, j.round, j.rounds)
		n += j.n * (r1 - r0)
	}
	return n
}

// run computes part's results of job j from its activations acts into out (j.outputs long).
func (j job) run(part *model.PartRows, acts []byte, out []float32) error {
	if len(acts) < j.acts() || len(out) < j.outputs(part) {
		return fmt.Errorf("bad job: %d activation bytes, room for %d results", len(acts), len(out))
	}
	for i := range j.count {
		m, size := j.matrix[i], j.actBytes[i]
		lo, hi := part.RowsOf(m)
		r0, r1 := model.SubBounds(hi-lo, j.round, j.rounds)
		if err := part.Compute(m, j.n, acts[:size], out[:j.n*(r1-r0)], r0, r1); err != nil {
			return err
		}
		acts, out = acts[size:], out[j.n*(r1-r0):]
	}
	return nil
}

// Answer computes part's results of a whole job (header and activations, as the leader sends
// it): for a transport that hands row workers jobs one by one.
func Answer(part *model.PartRows, jobBytes []byte) ([]byte, error) {
	j, err := decodeJob(jobBytes, part)
	if err != nil {
		return nil, err
	}
	out := make([]float32, j.outputs(part))
	if err := j.run(part, jobBytes[jobHeader:], out); err != nil {
		return nil, err
	}
	return floatBytes(out), nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

func growFloats(f []float32, n int) []float32 {
	if cap(f) < n {
		return make([]float32, n)
	}
	return f[:n]
}

// floatBytes views f's memory as bytes (little-endian on every target this runs on).
func floatBytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
}
