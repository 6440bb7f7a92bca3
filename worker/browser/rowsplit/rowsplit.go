// Package rowsplit runs a model's matrix products split by rows across several workers of one
// browser page (model.Share): Go's WebAssembly has no threads, so each worker is a Go instance of
// its own, holding only its rows. The leader (the inference worker, part 0) and the row workers
// (parts 1..) exchange each product through one SharedArrayBuffer, which needs a cross-origin
// isolated page, and wait for each other with Atomics.wait/notify.
//
// The shared memory, in bytes (words are little-endian int32):
//
//	[0, 64)            control words: seq (the leader's job number), done (parts finished with
//	                   it), failed (the first part that failed, or 0), stop (1: row workers exit)
//	[64, 64+jobBytes)  the job: n, products, round, rounds, then per product its matrix number
//	                   and activation bytes; then the activations, product after product (n rows
//	                   each)
//	then per part 1..  its results: per product, n rows of the round's chunk of its share's rows
//	                   (model.SubBounds), float32
//	then 1 KiB         the failed part's message
//
// The protocol is plain Go over the Shared interface, so it runs natively in tests over memory
// of the process (package tests) and in the browser over a SharedArrayBuffer (shared_js.go).
package rowsplit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"aisle/worker/model"
)

// Shared is the memory the leader and the row workers share, with atomic words for
// synchronisation. Word i is the int32 at byte 4*i.
type Shared interface {
	Write(off int, b []byte)
	Read(off int, b []byte)
	Load(word int) int32
	Store(word int, v int32)
	Add(word int, v int32) int32
	// Wait blocks while word holds old, at most timeout; it reports whether it was woken or
	// found another value (false: timed out).
	Wait(word int, old int32, timeout time.Duration) bool
	Notify(word int)
}

// Control words.
const (
	wordSeq    = 0
	wordDone   = 1
	wordFailed = 2
	wordStop   = 3
)

const (
	jobStart    = 64
	maxProducts = 8
	jobHeader   = 16 + 8*maxProducts
	messageSize = 1024
)

// Layout is the shared memory's size and regions, the same for every part.
type Layout struct {
	Parts    int
	ActBytes int // room for one round's activations
	OutBytes int // room for one round's results of one part
}

// LayoutFor sizes the regions for a model of config c split into parts: every product of a
// forward pass fits in one round, except the classifier's over many tokens, whose rows are
// delivered in several rounds (each row computed over all tokens, so its sums do not change).
func LayoutFor(c model.Config, parts int) Layout {
	maxCols := max(c.Dim, c.QDim(), c.FFNDim)
	maxRows := max(2*c.FFNDim, c.QDim()+2*c.KVDim(), c.Dim)
	// Activations are at most float32 (F32 weights); quantized formats are smaller.
	return Layout{Parts: parts, ActBytes: model.MaxBatch * 3 * (4*maxCols + 64), OutBytes: model.MaxBatch * 4 * maxRows}
}

func (l Layout) actStart() int         { return jobStart + jobHeader }
func (l Layout) outStart(part int) int { return l.actStart() + l.ActBytes + (part-1)*l.OutBytes }
func (l Layout) messageStart() int     { return l.outStart(l.Parts) }

// Size is the shared memory's size in bytes.
func (l Layout) Size() int { return l.messageStart() + messageSize }

// Spinning before sleeping: during a forward pass products follow each other within
// microseconds, and waking from Atomics.wait costs tens of microseconds, so each side polls for
// this long before it sleeps (a row worker sleeps once the leader stops posting).
const (
	leaderSpin = 2 * time.Millisecond
	workerSpin = 2 * time.Millisecond
)

// spin polls word until it differs from old or d has passed; it reports whether it changed.
func spin(mem Shared, word int, old int32, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for i := 0; ; i++ {
		if mem.Load(word) != old {
			return true
		}
		if i%16 == 15 && time.Now().After(deadline) {
			return false
		}
	}
}

// Timeout is how long the leader waits for a row worker that makes no progress before the
// product fails (a worker that was killed, for example for memory, never answers).
var Timeout = 30 * time.Second

// Leader is the model.Remote of part 0.
type Leader struct {
	mem    Shared
	layout Layout
	rows   func(matrix int) int // a split matrix's rows (its full height)
	close  func()

	// the product in flight: n tokens, its parts' rows in `rounds` chunks, `next` the next one
	n, rounds, next int
	products        []model.RemoteProduct
	seq             int32
	buf             []byte
	res             []float32
	failed          error
}

var _ model.Remote = (*Leader)(nil)

// NewLeader returns the Remote for a leader whose row workers share mem. close (may be nil) runs
// after the row workers were told to stop.
func NewLeader(mem Shared, layout Layout, close func()) *Leader {
	return &Leader{mem: mem, layout: layout, close: close}
}

// partRows returns rows [lo, hi) of part p of a matrix of rows rows.
func (l *Leader) partRows(rows, p int) (int, int) {
	return model.Share{Part: p, Parts: l.layout.Parts}.Bounds(rows)
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
	acts := 0
	for _, pr := range products {
		acts += len(pr.Act)
	}
	if acts > l.layout.ActBytes {
		return fmt.Errorf("rowsplit: %d activation bytes do not fit the shared memory (%d)", acts, l.layout.ActBytes)
	}
	// The fewest rounds whose largest chunk of results fits a part's region.
	for l.rounds = 1; l.roundBytes(l.rounds) > l.layout.OutBytes; l.rounds++ {
		if l.rounds > 1<<16 {
			return fmt.Errorf("rowsplit: one row of results does not fit the shared memory")
		}
	}
	return l.postRound()
}

// roundBytes is the most result bytes a part writes in one of `rounds` rounds.
func (l *Leader) roundBytes(rounds int) int {
	most := 0
	for p := 1; p < l.layout.Parts; p++ {
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

// postRound writes the job of round l.next and wakes the row workers.
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
	l.mem.Write(jobStart, b)
	l.mem.Store(wordDone, 0)
	l.seq++
	l.mem.Store(wordSeq, l.seq)
	l.mem.Notify(wordSeq)
	return nil
}

// Collect implements model.Remote: waits for each round, copies its results, posts the next.
func (l *Leader) Collect() error {
	if l.failed != nil {
		return l.failed
	}
	for {
		if err := l.await(); err != nil {
			l.failed = err
			return err
		}
		l.gather(l.next)
		l.next++
		if l.next >= l.rounds {
			return nil
		}
		if err := l.postRound(); err != nil {
			return err
		}
	}
}

// await waits until every row worker is done with the current round.
func (l *Leader) await() error {
	want := int32(l.layout.Parts - 1)
	last := time.Now()
	for {
		d := l.mem.Load(wordDone)
		if d == want {
			return l.checkFailed()
		}
		if spin(l.mem, wordDone, d, leaderSpin) {
			continue
		}
		if l.mem.Wait(wordDone, d, 100*time.Millisecond) {
			last = time.Now()
			continue
		}
		if err := l.checkFailed(); err != nil {
			return err
		}
		if time.Since(last) > Timeout {
			return fmt.Errorf("rowsplit: %d of %d row workers did not answer within %v", want-l.mem.Load(wordDone), want, Timeout)
		}
	}
}

func (l *Leader) checkFailed() error {
	p := l.mem.Load(wordFailed)
	if p == 0 {
		return nil
	}
	msg := make([]byte, messageSize)
	l.mem.Read(l.layout.messageStart(), msg)
	n := int(binary.LittleEndian.Uint32(msg))
	if n > messageSize-4 {
		n = messageSize - 4
	}
	return fmt.Errorf("rowsplit: row worker %d failed: %s", p, msg[4:4+n])
}

// gather copies round k of every part's results into the products' outputs.
func (l *Leader) gather(k int) {
	for p := 1; p < l.layout.Parts; p++ {
		total := 0
		for _, pr := range l.products {
			lo, hi := l.partRows(pr.Rows, p)
			r0, r1 := model.SubBounds(hi-lo, k, l.rounds)
			total += l.n * (r1 - r0)
		}
		res := growFloats(l.res, total)
		l.res = res
		l.mem.Read(l.layout.outStart(p), floatBytes(res))
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
	l.mem.Store(wordStop, 1)
	l.seq++
	l.mem.Store(wordSeq, l.seq)
	l.mem.Notify(wordSeq)
	if l.close != nil {
		l.close()
	}
}

// Serve answers the leader's jobs with part's rows until the leader stops it. It returns nil
// when told to stop.
func Serve(mem Shared, layout Layout, part *model.PartRows) error {
	p := part.Share.Part
	var seq int32
	head := make([]byte, jobHeader)
	var acts []byte
	var out []float32
	for {
		for !spin(mem, wordSeq, seq, workerSpin) && mem.Load(wordSeq) == seq {
			mem.Wait(wordSeq, seq, time.Second)
		}
		seq = mem.Load(wordSeq)
		if mem.Load(wordStop) != 0 {
			return nil
		}
		err := func() error {
			mem.Read(jobStart, head)
			le := binary.LittleEndian
			n, count := int(le.Uint32(head)), int(le.Uint32(head[4:]))
			round, rounds := int(le.Uint32(head[8:])), int(le.Uint32(head[12:]))
			if n < 1 || n > model.MaxBatch || count > maxProducts || round >= rounds {
				return fmt.Errorf("bad job: %d tokens, %d products, round %d of %d", n, count, round, rounds)
			}
			total, outs := 0, 0
			for j := range count {
				m := int(le.Uint32(head[16+8*j:]))
				if m >= len(part.Matrices) {
					return fmt.Errorf("bad job: no split matrix %d", m)
				}
				lo, hi := part.RowsOf(m)
				r0, r1 := model.SubBounds(hi-lo, round, rounds)
				total += int(le.Uint32(head[20+8*j:]))
				outs += n * (r1 - r0)
			}
			if total > layout.ActBytes || 4*outs > layout.OutBytes {
				return fmt.Errorf("bad job: %d activation bytes, %d results", total, outs)
			}
			acts = grow(acts, total)
			mem.Read(layout.actStart(), acts)
			out = growFloats(out, outs)
			a, o := acts, out
			for j := range count {
				m, size := int(le.Uint32(head[16+8*j:])), int(le.Uint32(head[20+8*j:]))
				lo, hi := part.RowsOf(m)
				r0, r1 := model.SubBounds(hi-lo, round, rounds)
				if err := part.Compute(m, n, a[:size], o[:n*(r1-r0)], r0, r1); err != nil {
					return err
				}
				a, o = a[size:], o[n*(r1-r0):]
			}
			mem.Write(layout.outStart(p), floatBytes(out))
			return nil
		}()
		if err != nil {
			Fail(mem, layout, p, err)
		}
		mem.Add(wordDone, 1)
		mem.Notify(wordDone)
	}
}

// Fail records that part failed with err, for the leader to report.
func Fail(mem Shared, layout Layout, part int, err error) {
	msg := err.Error()
	if len(msg) > messageSize-4 {
		msg = msg[:messageSize-4]
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(msg)))
	mem.Write(layout.messageStart(), append(b, msg...))
	mem.Store(wordFailed, int32(part))
}

// ErrNotIsolated is returned where the page is not cross-origin isolated (no SharedArrayBuffer).
var ErrNotIsolated = errors.New("rowsplit: the page is not cross-origin isolated (no SharedArrayBuffer)")

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
