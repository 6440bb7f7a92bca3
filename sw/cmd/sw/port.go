//go:build js && wasm

package main

import (
	"context"
	"syscall/js"
	"time"

	"aisle/sw"
	"aisle/worker/browser/webapi"
	"aisle/worker/browser/wire"
)

var _ sw.Engine = (*portEngine)(nil)

// portEngine is the service worker's sw.Engine: it forwards each request to the dedicated
// inference worker through the control port that a page handed to the service worker's
// JavaScript (globalThis.aisle: enginePort(), waitPort(ms), dropPort(port)).
type portEngine struct {
	// WaitPort bounds how long a request waits for a page to hand over a port.
	WaitPort time.Duration
}

func (e *portEngine) registry() js.Value { return js.Global().Get("aisle") }

func (e *portEngine) port(ctx context.Context, fresh bool) (js.Value, error) {
	reg := e.registry()
	if !reg.Truthy() {
		return js.Null(), wire.Errorf(wire.CodeUnavailable, "the service worker has no engine registry")
	}
	if !fresh {
		if p := reg.Call("enginePort"); p.Truthy() {
			return p, nil
		}
	}
	wait := e.WaitPort
	if wait <= 0 {
		wait = 8 * time.Second
	}
	p, err := webapi.Await(ctx, reg.Call("waitPort", wait.Milliseconds()))
	if err != nil {
		return js.Null(), err
	}
	if !p.Truthy() {
		return js.Null(), wire.Errorf(wire.CodeUnavailable,
			"The assistant is not running: open the app in a tab (it starts the on-device model), then try again.")
	}
	return p, nil
}

// next waits for a message for timeout, longer while the worker says it is busy (up to
// wire.BusyLimit): Go in the worker cannot answer while it loads a model or prefills.
func (e *portEngine) next(ctx context.Context, in *webapi.Inbox, timeout time.Duration) (string, bool) {
	for {
		msg, ok := in.Next(ctx, timeout)
		if ok || ctx.Err() != nil {
			return msg, ok
		}
		busy := time.Duration(e.registry().Call("busyFor").Float()) * time.Millisecond
		if busy <= 0 || busy > wire.BusyLimit {
			return "", false
		}
	}
}

// Chat implements sw.Engine.
func (e *portEngine) Chat(ctx context.Context, req wire.ChatRequest, emit func(wire.Delta) error) (wire.Result, error) {
	var in *webapi.Inbox
	var reply js.Value
	// posted to accepted: the worker's event loop was busy (a model loading, a start being
	// warmed) and had not read the request; counted as queued
	var posted, accepted time.Time
	// Try the known port; if it does not accept in time, drop it and ask the pages for a new one.
	for attempt := 0; ; attempt++ {
		ctrl, err := e.port(ctx, attempt > 0)
		if err != nil {
			return wire.Result{}, err
		}
		ch := js.Global().Get("MessageChannel").New()
		reply = ch.Get("port1")
		in = webapi.Listen(reply)
		posted = time.Now()
		webapi.Post(ctrl, wire.Msg{Kind: wire.KindChat, Chat: &req}, ch.Get("port2"))
		msg, ok := e.next(ctx, in, wire.AcceptTimeout)
		if ok {
			m, err := wire.Decode(msg)
			if err == nil && m.Kind == wire.KindAccepted {
				accepted = time.Now()
				break
			}
			in.Close()
			if err == nil && m.Kind == wire.KindError {
				return wire.Result{}, m.Error
			}
			return wire.Result{}, wire.Errorf(wire.CodeInternal, "unexpected first message from the worker: %.80s", msg)
		}
		in.Close()
		if ctx.Err() != nil {
			return wire.Result{}, wire.Errorf(wire.CodeCancelled, "request cancelled")
		}
		e.registry().Call("dropPort", ctrl)
		if attempt > 0 {
			return wire.Result{}, wire.Errorf(wire.CodeUnavailable,
				"The on-device model did not respond. Reload the app to restart it.")
		}
	}
	defer in.Close()
	for {
		msg, ok := e.next(ctx, in, wire.SilenceTimeout)
		if !ok {
			if ctx.Err() != nil {
				webapi.Post(reply, wire.Msg{Kind: wire.KindCancel})
				return wire.Result{}, wire.Errorf(wire.CodeCancelled, "request cancelled")
			}
			return wire.Result{}, wire.Errorf(wire.CodeTimeout,
				"The on-device model stopped responding (no sign of life for %v). Reload the app to restart it.", wire.SilenceTimeout)
		}
		m, err := wire.Decode(msg)
		if err != nil {
			return wire.Result{}, wire.Errorf(wire.CodeInternal, "%v", err)
		}
		switch m.Kind {
		case wire.KindBeat:
		case wire.KindDelta:
			if err := emit(*m.Delta); err != nil {
				webapi.Post(reply, wire.Msg{Kind: wire.KindCancel})
				return wire.Result{}, err
			}
		case wire.KindDone:
			res := *m.Done
			res.QueuedMS += float64(accepted.Sub(posted).Microseconds()) / 1000
			return res, nil
		case wire.KindError:
			return wire.Result{}, m.Error
		}
	}
}
