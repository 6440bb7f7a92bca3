package rowsplit

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"aisle/worker/gguf"
	"aisle/worker/model"
)

// Memory is Shared over this process's memory, with goroutines for workers: the protocol the
// browser runs over a SharedArrayBuffer, for native runs and tests.
type Memory struct {
	mu   sync.Mutex
	cond *sync.Cond
	b    []byte
}

var _ Shared = (*Memory)(nil)

// NewMemory returns size bytes of zeroed shared memory.
func NewMemory(size int) *Memory {
	m := &Memory{b: make([]byte, size)}
	m.cond = sync.NewCond(&m.mu)
	return m
}

func (m *Memory) Write(off int, b []byte) { m.mu.Lock(); copy(m.b[off:], b); m.mu.Unlock() }
func (m *Memory) Read(off int, b []byte)  { m.mu.Lock(); copy(b, m.b[off:]); m.mu.Unlock() }

func (m *Memory) Load(w int) int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int32(binary.LittleEndian.Uint32(m.b[4*w:]))
}

func (m *Memory) Store(w int, v int32) {
	m.mu.Lock()
	binary.LittleEndian.PutUint32(m.b[4*w:], uint32(v))
	m.mu.Unlock()
}

func (m *Memory) Add(w int, v int32) int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := int32(binary.LittleEndian.Uint32(m.b[4*w:]))
	binary.LittleEndian.PutUint32(m.b[4*w:], uint32(old+v))
	return old
}

func (m *Memory) Wait(w int, old int32, timeout time.Duration) bool {
	t := time.AfterFunc(timeout, func() { m.Notify(w) })
	defer t.Stop()
	deadline := time.Now().Add(timeout)
	m.mu.Lock()
	defer m.mu.Unlock()
	for int32(binary.LittleEndian.Uint32(m.b[4*w:])) == old {
		if !time.Now().Before(deadline) {
			return false
		}
		m.cond.Wait()
	}
	return true
}

func (m *Memory) Notify(int) { m.mu.Lock(); m.cond.Broadcast(); m.mu.Unlock() }

// StartLocal is Start with goroutines for row workers, over Memory (or, with viaMessages, over
// channels, as the message transport): each loads its rows from the file open(part) returns (its
// own, as a browser worker reads its own from the model store). ready returns the row workers'
// load errors, if any.
func StartLocal(layout Layout, viaMessages bool, open func(part int) (*gguf.File, error)) (leader *Leader, ready func() error) {
	mem := NewMemory(layout.Size())
	replies := make(chan Reply, layout.Parts)
	jobs := make([]chan []byte, layout.Parts)
	loaded := make(chan error, layout.Parts)
	for p := 1; p < layout.Parts; p++ {
		jobs[p] = make(chan []byte, 1)
		go func() {
			f, err := open(p)
			var part *model.PartRows
			if err == nil {
				part, err = model.LoadPart(f, model.Share{Part: p, Parts: layout.Parts})
			}
			loaded <- err
			switch {
			case err != nil:
			case viaMessages:
				for job := range jobs[p] {
					res, err := Answer(part, job)
					replies <- Reply{Part: p, Results: res, Err: err}
				}
			default:
				Serve(mem, layout, part)
			}
		}()
	}
	ready = func() error {
		var errs []error
		for p := 1; p < layout.Parts; p++ {
			errs = append(errs, <-loaded)
		}
		return errors.Join(errs...)
	}
	if viaMessages {
		post := func(p int, job []byte) error { jobs[p] <- append([]byte(nil), job...); return nil }
		halt := func() {
			for p := 1; p < layout.Parts; p++ {
				close(jobs[p])
			}
		}
		return NewMessageLeader(layout.Parts, post, replies, halt, nil), ready
	}
	return NewLeader(mem, layout, nil), ready
}
