//go:build js && wasm

package webapi

import (
	"context"
	"syscall/js"
)

// instance is this Go instance's binding object from the shim (globalThis.context.binding at
// start-up); functions in its onExit array run when the instance exits, even by a panic.
var instance = func() js.Value {
	if c := global.Get("context"); c.Truthy() {
		return c.Get("binding")
	}
	return js.Undefined()
}()

// onExit registers f to run when this Go instance exits; the returned func unregisters it.
func onExit(f js.Value) {
	if !instance.Truthy() {
		return
	}
	list := instance.Get("onExit")
	if !list.Truthy() {
		list = global.Get("Array").New()
		instance.Set("onExit", list)
	}
	list.Call("push", f)
}

// Lock takes the Web Locks API lock name (shared by every tab, worker and service worker
// instance of the origin) and returns its release. It waits until the lock is free or ctx ends.
// The lock is also released when this Go instance exits. Without navigator.locks it returns at
// once.
func Lock(ctx context.Context, name string) (release func(), err error) {
	locks := global.Get("navigator").Get("locks")
	if !locks.Truthy() {
		return func() {}, nil
	}
	granted := make(chan struct{}, 1)
	var resolve js.Value
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve = args[0]
		return nil
	})
	// The lock is held until the promise this callback returns settles.
	cb := js.FuncOf(func(_ js.Value, _ []js.Value) any {
		p := global.Get("Promise").New(executor)
		granted <- struct{}{}
		return p
	})
	ac := global.Get("AbortController").New()
	done := locks.Call("request", name, js.ValueOf(map[string]any{"signal": ac.Get("signal")}), cb)
	// A rejection (the abort below) must not surface as an unhandled one.
	noop := js.FuncOf(func(js.Value, []js.Value) any { return nil })
	done.Call("catch", noop)
	select {
	case <-granted:
		onExit(resolve) // released if this instance dies while holding it
		return func() {
			resolve.Invoke()
			cb.Release()
			executor.Release()
			noop.Release()
		}, nil
	case <-ctx.Done():
		ac.Call("abort")
		return nil, ctx.Err()
	}
}
