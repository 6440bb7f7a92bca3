package rowsplit

import (
	"encoding/binary"
	"fmt"
	"time"

	"aisle/worker/model"
)

// The shared-memory transport. The memory, in bytes:
//
//	[0, 64)                 control words (int32): seq (the leader's job number), done (parts
//	                        finished with it), failed (the first part that failed, or 0), stop
//	                        (1: row workers exit)
//	[64, 64+jobHeader)      the job's header
//	then ActBytes           its activations
//	then OutBytes per part  part 1's results, part 2's, ...
//	then 1 KiB              the failed part's message

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
	messageSize = 1024
)

// Layout is the shared memory's size and regions, the same for every part.
type Layout struct {
	Parts    int
	ActBytes int // room for one job's activations
	OutBytes int // room for one job's results of one part
}

// LayoutFor sizes the regions for a model of config c split into parts: every product of a
// forward pass fits in one round, except the classifier's over many tokens.
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

// sharedTransport is the leader's side of the shared memory.
type sharedTransport struct {
	mem    Shared
	layout Layout
	seq    int32
}

// NewLeader returns the Remote for a leader whose row workers share mem (see Serve). close (may
// be nil) runs after the row workers were told to stop.
func NewLeader(mem Shared, layout Layout, close func()) *Leader {
	return newLeader(&sharedTransport{mem: mem, layout: layout}, layout.Parts, close)
}

func (t *sharedTransport) room() int { return t.layout.OutBytes }

func (t *sharedTransport) send(job []byte) error {
	if len(job) > jobHeader+t.layout.ActBytes {
		return fmt.Errorf("rowsplit: %d activation bytes do not fit the shared memory (%d)", len(job)-jobHeader, t.layout.ActBytes)
	}
	t.mem.Write(jobStart, job)
	t.mem.Store(wordDone, 0)
	t.seq++
	t.mem.Store(wordSeq, t.seq)
	t.mem.Notify(wordSeq)
	return nil
}

func (t *sharedTransport) wait() error {
	want := int32(t.layout.Parts - 1)
	last := time.Now()
	for {
		d := t.mem.Load(wordDone)
		if d == want {
			return t.failure()
		}
		if spin(t.mem, wordDone, d, leaderSpin) {
			continue
		}
		if t.mem.Wait(wordDone, d, 100*time.Millisecond) {
			last = time.Now()
			continue
		}
		if err := t.failure(); err != nil {
			return err
		}
		if time.Since(last) > Timeout {
			return fmt.Errorf("rowsplit: %d of %d row workers did not answer within %v", want-t.mem.Load(wordDone), want, Timeout)
		}
	}
}

// failure is the failure a row worker recorded (Fail), if any.
func (t *sharedTransport) failure() error {
	p := t.mem.Load(wordFailed)
	if p == 0 {
		return nil
	}
	msg := make([]byte, messageSize)
	t.mem.Read(t.layout.messageStart(), msg)
	n := min(int(binary.LittleEndian.Uint32(msg)), messageSize-4)
	return fmt.Errorf("rowsplit: row worker %d failed: %s", p, msg[4:4+n])
}

func (t *sharedTransport) results(part int, dst []byte) { t.mem.Read(t.layout.outStart(part), dst) }

func (t *sharedTransport) stop() {
	t.mem.Store(wordStop, 1)
	t.seq++
	t.mem.Store(wordSeq, t.seq)
	t.mem.Notify(wordSeq)
}

// Serve answers the leader's jobs in mem with part's rows until the leader stops it.
func Serve(mem Shared, layout Layout, part *model.PartRows) {
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
			return
		}
		err := func() error {
			mem.Read(jobStart, head)
			j, err := decodeJob(head, part)
			if err != nil {
				return err
			}
			if j.acts() > layout.ActBytes || 4*j.outputs(part) > layout.OutBytes {
				return fmt.Errorf("bad job: %d activation bytes, %d results", j.acts(), j.outputs(part))
			}
			acts = grow(acts, j.acts())
			mem.Read(layout.actStart(), acts)
			out = growFloats(out, j.outputs(part))
			if err := j.run(part, acts, out); err != nil {
				return err
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
