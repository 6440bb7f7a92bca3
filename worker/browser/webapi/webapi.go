//go:build js && wasm

// Package webapi is the thin layer between the Go code of the service worker and inference
// worker and the browser's APIs: promises, Cache Storage, SubtleCrypto, storage estimates and
// MessagePorts. All syscall/js use of the app lives here and in the wasm main packages.
package webapi

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"

	"aisle/worker/browser/wire"
)

var global = js.Global()

// Await waits for a promise. A rejection becomes an error that keeps the JS error's name
// (QuotaExceededError becomes a *wire.Error with code wire.CodeQuota).
func Await(ctx context.Context, p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{v: v}
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, args []js.Value) any {
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{err: JSError(v)}
		return nil
	})
	release := func() { then.Release(); catch.Release() }
	p.Call("then", then, catch)
	select {
	case r := <-ch:
		release()
		return r.v, r.err
	case <-ctx.Done():
		go func() { <-ch; release() }() // the promise still settles later
		return js.Undefined(), ctx.Err()
	}
}

// JSError converts a thrown JS value to an error.
func JSError(v js.Value) error {
	if v.Type() == js.TypeObject {
		name := v.Get("name")
		msg := v.Get("message")
		if name.Type() == js.TypeString && name.String() == "QuotaExceededError" {
			return wire.Errorf(wire.CodeQuota, "the browser refused to store more data: %s", msg.String())
		}
		if name.Type() == js.TypeString && msg.Type() == js.TypeString {
			return fmt.Errorf("%s: %s", name.String(), msg.String())
		}
	}
	if v.Type() == js.TypeUndefined {
		return errors.New("JavaScript error")
	}
	return errors.New(v.Call("toString").String())
}

// Bytes copies a Uint8Array, ArrayBuffer or ArrayBufferView into Go memory.
func Bytes(v js.Value) []byte {
	u8 := global.Get("Uint8Array")
	if !v.InstanceOf(u8) {
		if v.Get("buffer").Truthy() {
			v = u8.New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
		} else {
			v = u8.New(v)
		}
	}
	b := make([]byte, v.Get("byteLength").Int())
	js.CopyBytesToGo(b, v)
	return b
}

// Uint8Array copies b into a new Uint8Array.
func Uint8Array(b []byte) js.Value {
	a := global.Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// SHA256 hashes with SubtleCrypto (a modelstore.Hasher).
func SHA256(ctx context.Context, data []byte) ([32]byte, error) {
	return digest(ctx, Uint8Array(data))
}

// digest is SubtleCrypto's SHA-256 of a JavaScript buffer or view.
func digest(ctx context.Context, v js.Value) ([32]byte, error) {
	var sum [32]byte
	d, err := Await(ctx, global.Get("crypto").Get("subtle").Call("digest", "SHA-256", v))
	if err != nil {
		return sum, err
	}
	copy(sum[:], Bytes(d))
	return sum, nil
}

// Estimate returns navigator.storage.estimate()'s usage and quota.
func Estimate(ctx context.Context) (usage, quota int64, err error) {
	st := global.Get("navigator").Get("storage")
	if !st.Truthy() {
		return -1, -1, errors.New("navigator.storage is not available")
	}
	v, err := Await(ctx, st.Call("estimate"))
	if err != nil {
		return -1, -1, err
	}
	return int64(v.Get("usage").Float()), int64(v.Get("quota").Float()), nil
}

// Free is the quota left, for sw.Downloader.Free.
func Free(ctx context.Context) (int64, error) {
	u, q, err := Estimate(ctx)
	if err != nil {
		return -1, err
	}
	return q - u, nil
}

// ClientGone reports whether the service worker client (a page) with the given ID is gone.
func ClientGone(ctx context.Context, id string) bool {
	clients := global.Get("clients")
	if !clients.Truthy() {
		return false
	}
	c, err := Await(ctx, clients.Call("get", id))
	return err == nil && !c.Truthy()
}
