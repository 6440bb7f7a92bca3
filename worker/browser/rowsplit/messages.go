package rowsplit

import (
	"fmt"
	"time"
)

// The message transport: the leader posts each job to every row worker, which answers with its
// results (Answer). It needs no shared memory, so it works on any page, at the cost of a
// message's latency in each direction per product.

// Reply is a row worker's answer to a job: its results, or why it has none.
type Reply struct {
	Part    int
	Results []byte
	Err     error
}

// messageTransport is the leader's side of the messages.
type messageTransport struct {
	parts   int
	post    func(part int, job []byte) error
	replies <-chan Reply
	got     [][]byte // by part, the last job's results
	halt    func()
}

// NewMessageLeader returns the Remote for a leader that posts jobs to row workers with post and
// receives their replies on replies; halt (may be nil) stops them, close (may be nil) runs after.
func NewMessageLeader(parts int, post func(part int, job []byte) error, replies <-chan Reply, halt, close func()) *Leader {
	return newLeader(&messageTransport{parts: parts, post: post, replies: replies, got: make([][]byte, parts), halt: halt}, parts, close)
}

func (t *messageTransport) room() int { return 0 }

func (t *messageTransport) send(job []byte) error {
	for p := 1; p < t.parts; p++ {
		if err := t.post(p, job); err != nil {
			return fmt.Errorf("rowsplit: posting to row worker %d: %w", p, err)
		}
	}
	return nil
}

func (t *messageTransport) wait() error {
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	var failed error
	for waiting := t.parts - 1; waiting > 0; waiting-- {
		select {
		case r := <-t.replies:
			if r.Err != nil && failed == nil {
				failed = fmt.Errorf("rowsplit: row worker %d failed: %w", r.Part, r.Err)
			}
			if r.Part > 0 && r.Part < t.parts {
				t.got[r.Part] = r.Results
			}
		case <-timer.C:
			return fmt.Errorf("rowsplit: %d of %d row workers did not answer within %v", waiting, t.parts-1, Timeout)
		}
	}
	return failed
}

func (t *messageTransport) results(part int, dst []byte) { copy(dst, t.got[part]) }

func (t *messageTransport) stop() {
	if t.halt != nil {
		t.halt()
	}
}
