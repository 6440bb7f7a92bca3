//go:build js && wasm

package webapi

import (
	"context"
	"sync"
	"syscall/js"
	"time"

	"aisle/worker/browser/wire"
)

// Inbox receives the string messages of a MessagePort without ever blocking the JS callback:
// messages queue without bound until Next takes them.
type Inbox struct {
	port   js.Value
	fn     js.Func
	mu     sync.Mutex
	queue  []string
	notify chan struct{}
}

// Listen starts receiving on port. Close stops it.
func Listen(port js.Value) *Inbox {
	in := &Inbox{port: port, notify: make(chan struct{}, 1)}
	in.fn = js.FuncOf(func(_ js.Value, args []js.Value) any {
		d := args[0].Get("data")
		if d.Type() != js.TypeString {
			return nil
		}
		in.mu.Lock()
		in.queue = append(in.queue, d.String())
		in.mu.Unlock()
		select {
		case in.notify <- struct{}{}:
		default:
		}
		return nil
	})
	port.Set("onmessage", in.fn)
	return in
}

// Next returns the next message, or ok=false when timeout passes first or ctx ends.
func (in *Inbox) Next(ctx context.Context, timeout time.Duration) (msg string, ok bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		in.mu.Lock()
		if len(in.queue) > 0 {
			msg = in.queue[0]
			in.queue = in.queue[1:]
			in.mu.Unlock()
			return msg, true
		}
		in.mu.Unlock()
		select {
		case <-in.notify:
		case <-t.C:
			return "", false
		case <-ctx.Done():
			return "", false
		}
	}
}

// Close stops listening and closes the port.
func (in *Inbox) Close() {
	in.port.Set("onmessage", js.Null())
	in.port.Call("close")
	in.fn.Release()
}

// Post sends a message on port, transferring the given ports.
func Post(port js.Value, m wire.Msg, transfer ...js.Value) {
	if len(transfer) == 0 {
		port.Call("postMessage", m.Encode())
		return
	}
	list := make([]any, len(transfer))
	for i, t := range transfer {
		list[i] = t
	}
	port.Call("postMessage", m.Encode(), list)
}
