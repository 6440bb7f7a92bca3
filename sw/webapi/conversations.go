//go:build js && wasm

package webapi

import (
	"context"
	"syscall/js"
)

// Conversations is sw.ConversationStorage in IndexedDB: database "aisle-conversations", object
// store "by-store", one record (a JSON string) per store ID. A save resolves once its transaction
// has committed; a full quota is a wire.CodeQuota error and the previous record stays.
type Conversations struct{}

const (
	conversationsDB    = "aisle-conversations"
	conversationsStore = "by-store"
)

func (Conversations) open(ctx context.Context) (js.Value, error) {
	req := global.Get("indexedDB").Call("open", conversationsDB, 1)
	upgrade := js.FuncOf(func(js.Value, []js.Value) any {
		req.Get("result").Call("createObjectStore", conversationsStore)
		return nil
	})
	defer upgrade.Release()
	req.Set("onupgradeneeded", upgrade)
	return Await(ctx, settled(req, "success", "error"))
}

// Get implements sw.ConversationStorage.
func (c Conversations) Get(ctx context.Context, store string) ([]byte, error) {
	db, err := c.open(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Call("close")
	tx := db.Call("transaction", conversationsStore, "readonly")
	req := tx.Call("objectStore", conversationsStore).Call("get", store)
	if _, err := Await(ctx, settled(req, "success", "error")); err != nil {
		return nil, err
	}
	if v := req.Get("result"); v.Type() == js.TypeString {
		return []byte(v.String()), nil
	}
	return nil, nil
}

// Put implements sw.ConversationStorage.
func (c Conversations) Put(ctx context.Context, store string, record []byte) error {
	db, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Call("close")
	tx := db.Call("transaction", conversationsStore, "readwrite")
	objects := tx.Call("objectStore", conversationsStore)
	if record == nil {
		objects.Call("delete", store)
	} else {
		objects.Call("put", string(record), store)
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
