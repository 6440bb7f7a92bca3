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

// prefixRange is the key range of the string keys that begin with prefix.
func prefixRange(prefix string) js.Value {
	return global.Get("IDBKeyRange").Call("bound", prefix, prefix+"\uffff")
}

// Prune deletes the records whose keys begin with prefix and for which drop is true.
func (r Records) Prune(ctx context.Context, prefix string, drop func(key string) bool) error {
	db, err := r.open(ctx)
	if err != nil {
		return err
	}
	defer db.Call("close")
	keys, err := Await(ctx, settled(db.Call("transaction", r.Store, "readonly").Call("objectStore", r.Store).
		Call("getAllKeys", prefixRange(prefix)), "success", "error"))
	if err != nil {
		return err
	}
	tx := db.Call("transaction", r.Store, "readwrite")
	objects := tx.Call("objectStore", r.Store)
	for i := 0; i < keys.Length(); i++ {
		if k := keys.Index(i); k.Type() == js.TypeString && drop(k.String()) {
			objects.Call("delete", k)
		}
	}
	_, err = Await(ctx, settled(tx, "complete", "abort"))
	return err
}

// ReadAhead is a read of the records whose keys begin with a prefix, started before they are
// needed: IndexedDB reads on its own thread while the worker does other work.
type ReadAhead struct {
	done   chan struct{}
	keys   js.Value // Array of keys, in key order
	values js.Value // Array of the records, in the same order
	err    error
}

// ReadAhead starts reading every record whose key begins with prefix and returns at once.
func (r Records) ReadAhead(prefix string) *ReadAhead {
	a := &ReadAhead{done: make(chan struct{})}
	go func() {
		defer close(a.done)
		ctx := context.Background()
		db, err := r.open(ctx)
		if err != nil {
			a.err = err
			return
		}
		defer db.Call("close")
		objects := db.Call("transaction", r.Store, "readonly").Call("objectStore", r.Store)
		keys := settled(objects.Call("getAllKeys", prefixRange(prefix)), "success", "error")
		values := settled(objects.Call("getAll", prefixRange(prefix)), "success", "error")
		if a.keys, a.err = Await(ctx, keys); a.err == nil {
			a.values, a.err = Await(ctx, values)
		}
	}()
	return a
}

// Take waits for the read and returns the record under key; ok is false when the read found none.
func (a *ReadAhead) Take(ctx context.Context, key string) (record []byte, ok bool, err error) {
	select {
	case <-a.done:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	if a.err != nil {
		return nil, false, a.err
	}
	for i := 0; i < a.keys.Length(); i++ {
		if k := a.keys.Index(i); k.Type() == js.TypeString && k.String() == key {
			return Bytes(a.values.Index(i)), true, nil
		}
	}
	return nil, false, nil
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
