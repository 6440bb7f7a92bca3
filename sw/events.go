package sw

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// eventWriter writes server-sent events from its own goroutine, so a producer (the engine, the
// downloader) never blocks on a client that stopped reading: in a service worker a page that
// navigated away may leave the response stream open and unread. Send queues without bound; a
// failed write cancels the request through cancel.
type eventWriter struct {
	mu        sync.Mutex
	queue     []string
	closed    bool
	abandoned bool // Close gave up on the client: write nothing more
	err       error
	notify    chan struct{}
	done      chan struct{}
	writing   chan struct{} // held (one slot) while a write is in progress
}

func newEventWriter(w http.ResponseWriter, cancel context.CancelFunc) *eventWriter {
	e := &eventWriter{notify: make(chan struct{}, 1), done: make(chan struct{}), writing: make(chan struct{}, 1)}
	flusher, _ := w.(http.Flusher)
	go func() {
		defer close(e.done)
		for {
			e.mu.Lock()
			batch, closed := e.queue, e.closed
			e.queue = nil
			e.mu.Unlock()
			if len(batch) > 0 {
				e.writing <- struct{}{}
				e.mu.Lock()
				abandoned := e.abandoned
				e.mu.Unlock()
				if abandoned {
					return // the handler has returned: w must not be touched
				}
				var err error
				for _, s := range batch {
					if _, err = io.WriteString(w, s); err != nil {
						break
					}
				}
				if err == nil && flusher != nil {
					flusher.Flush()
				}
				<-e.writing
				if err != nil {
					e.mu.Lock()
					e.err = err
					e.mu.Unlock()
					cancel()
					return
				}
			}
			if closed && len(batch) == 0 {
				return
			}
			if len(batch) == 0 {
				<-e.notify
			}
		}
	}()
	return e
}

// Data queues one event `data: <payload>`. It fails once a write failed (the client is gone).
func (e *eventWriter) Data(payload []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return e.err
	}
	e.queue = append(e.queue, fmt.Sprintf("data: %s\n\n", payload))
	e.signal()
	return nil
}

func (e *eventWriter) signal() {
	select {
	case e.notify <- struct{}{}:
	default:
	}
}

// Close ends the stream: it waits until the queue is written, or until ctx ends (a client that
// went away), whichever comes first.
func (e *eventWriter) Close(ctx context.Context) {
	e.mu.Lock()
	e.closed = true
	e.signal()
	e.mu.Unlock()
	select {
	case <-e.done:
		return
	case <-ctx.Done():
	}
	// The client went away. Wait briefly for a write in progress (a native server finishes it at
	// once), then forbid further writes; a write that blocks longer (an unread stream in the
	// browser) is abandoned: the bridge closes the stream when the handler returns.
	select {
	case e.writing <- struct{}{}:
	case <-time.After(250 * time.Millisecond):
	}
	e.mu.Lock()
	e.abandoned = true
	e.mu.Unlock()
}
