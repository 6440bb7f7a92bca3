//go:build js && wasm

package webapi

import (
	"context"
	"syscall/js"
)

// Records is a table of byte records in IndexedDB: database DB, object store Store, keyed by
// string, each value a Uint8Array. A Put resolves once its transaction has committed; a full
// quota is a wire.CodeQuota error and the previous record stays.
type Records struct{ DB, Store string }

func (r Records) open(ctx context.Context) (js.Value, error) {
	req := global.Get("indexedDB").Call("open", r.DB, 1)
	upgrade := js.FuncOf(func(js.Value, []js.Value) any {
		req.Get("result").Call("createObjectStore", r.Store)
		return nil
	})
	defer upgrade.Release()
	req.Set("onupgradeneeded", upgrade)
	return Await(ctx, settled(req, "success", "error"))
}

// Get returns the record under key, nil when there is none.
func (r Records) Get(ctx context.Context, key string) ([]byte, error) {
	db, err := r.open(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Call("close")
	tx := db.Call("transaction", r.Store, "readonly")
	req := tx.Call("objectStore", r.Store).Call("get", key)
	v, err := Await(ctx, settled(req, "success", "error"))
	if err != nil || v.IsNull() || v.IsUndefined() {
		return nil, err
	}
	return Bytes(v), nil
}

// Put replaces the record under key; nil deletes it.
func (r Records) Put(ctx context.Context, key string, record []byte) error {
	db, err := r.open(ctx)
	if err != nil {
		return err
	}
	defer db.Call("close")
	tx := db.Call("transaction", r.Store, "readwrite")
	objects := tx.Call("objectStore", r.Store)
	if record == nil {
		objects.Call("delete", key)
	} else {
		objects.Call("put", Uint8Array(record), key)
	}
	_, err = Await(ctx, settled(tx, "complete", "abort")) // a failed transaction fires error, then abort
	return err
}

// settled is a promise that resolves with target's result on the ok event and rejects with its
// error on the failure event, each of which fires at most once: an IDBRequest settles with
// success or error, an IDBTransaction with complete or abort.
func settled(target js.Value, ok, fail string) js.Value {
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		var done, failed js.Func
		release := func() { done.Release(); failed.Release() } // allowed while one of them runs
		done = js.FuncOf(func(js.Value, []js.Value) any {
			if r := target.Get("result"); r.IsUndefined() {
				resolve.Invoke(js.Null())
			} else {
				resolve.Invoke(r)
			}
			release()
			return nil
		})
		failed = js.FuncOf(func(js.Value, []js.Value) any {
			e := target.Get("error")
			if e.IsUndefined() || e.IsNull() {
				e = global.Get("Error").New("IndexedDB: the transaction was aborted")
			}
			reject.Invoke(e)
			release()
			return nil
		})
		target.Call("addEventListener", ok, done, map[string]any{"once": true})
		target.Call("addEventListener", fail, failed, map[string]any{"once": true})
		return nil
	})
	defer executor.Release() // the executor runs synchronously inside new Promise
	return global.Get("Promise").New(executor)
}
