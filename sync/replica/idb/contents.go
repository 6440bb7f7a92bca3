//go:build js && wasm

package idb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall/js"

	"aisle/sync/catalog"
	"aisle/sync/replica"
	"aisle/sync/wire"
)

// rawDB is a second connection to the replica's database through plain
// syscall/js, for the requests go-indexeddb lacks (getAll). It never
// upgrades the database: Open has done that on the main connection.
type rawDB struct {
	db       js.Value
	onChange js.Func // closes the connection when another one upgrades the database
}

// jsErr turns a JS exception (a panic of syscall/js) in fn into an error.
func jsErr(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = je
				return
			}
			err = fmt.Errorf("%v", r)
		}
	}()
	fn()
	return nil
}

// domError renders a request's or transaction's error property.
func domError(v js.Value) error {
	if e := v.Get("error"); e.Truthy() {
		return fmt.Errorf("%s: %s", e.Get("name").String(), e.Get("message").String())
	}
	return errors.New("IndexedDB request failed")
}

// await blocks until one of the events fires on target, and returns the
// event's name. Call it after issuing every request of a transaction: Go
// blocking here is what lets the event loop run them.
func await(target js.Value, events ...string) string {
	ch := make(chan string, 1)
	fns := make([]js.Func, len(events))
	for i, ev := range events {
		fns[i] = js.FuncOf(func(js.Value, []js.Value) any {
			select {
			case ch <- ev:
			default:
			}
			return nil
		})
		target.Set("on"+ev, fns[i])
	}
	got := <-ch
	for i, ev := range events {
		target.Set("on"+ev, js.Null())
		fns[i].Release()
	}
	return got
}

func openRaw(name string, version uint) (*rawDB, error) {
	var req js.Value
	if err := jsErr(func() { req = js.Global().Get("indexedDB").Call("open", name, version) }); err != nil {
		return nil, err
	}
	// An upgrade here would mean the database vanished since Open (deleted
	// by another tab): refuse to create an empty one.
	up := js.FuncOf(func(js.Value, []js.Value) any {
		_ = jsErr(func() { req.Get("transaction").Call("abort") })
		return nil
	})
	req.Set("onupgradeneeded", up)
	ev := await(req, "success", "error", "blocked")
	req.Set("onupgradeneeded", js.Null())
	up.Release()
	switch ev {
	case "success":
	case "blocked":
		return nil, errors.New("IndexedDB open blocked by another connection")
	default:
		return nil, domError(req)
	}
	r := &rawDB{db: req.Get("result")}
	r.onChange = js.FuncOf(func(js.Value, []js.Value) any {
		r.db.Call("close")
		return nil
	})
	r.db.Set("onversionchange", r.onChange)
	return r, nil
}

func (r *rawDB) close() {
	if r == nil {
		return
	}
	_ = jsErr(func() { r.db.Call("close") })
	r.db.Set("onversionchange", js.Null())
	r.onChange.Release()
}

// rawRecord is the part of a stored entity that Contents reads.
type rawRecord struct {
	ID string `json:"id"`
	J  string `json:"j"`
}

// Contents implements replica.Catalog: one read-only transaction, one
// getAll per object store.
func (s *Storage) Contents(ctx context.Context) (replica.Contents, error) {
	if err := live(ctx); err != nil {
		return replica.Contents{}, err
	}
	names := []any{metaStore}
	for _, k := range wire.Kinds {
		names = append(names, string(k))
	}
	var tx, metaReq js.Value
	reqs := make([]js.Value, len(wire.Kinds))
	keyReqs := make([]js.Value, len(wire.Kinds)) // plain stores: their keys
	err := jsErr(func() {
		tx = s.raw.db.Call("transaction", js.ValueOf(names), "readonly")
		metaReq = tx.Call("objectStore", metaStore).Call("get", metaKey)
		for i, k := range wire.Kinds {
			o := tx.Call("objectStore", string(k))
			reqs[i] = o.Call("getAll")
			if plain(k) {
				keyReqs[i] = o.Call("getAllKeys")
			}
		}
	})
	if err != nil {
		return replica.Contents{}, storageErr(err, "read contents")
	}
	if ev := await(tx, "complete", "error", "abort"); ev != "complete" {
		return replica.Contents{}, storageErr(domError(tx), "read contents")
	}
	raw := ""
	if v := metaReq.Get("result"); v.Type() == js.TypeString {
		raw = v.String()
	}
	meta, err := decodeMeta(raw)
	if err != nil {
		return replica.Contents{}, err
	}
	byKind := map[wire.Kind][]replica.RawEntity{}
	stringify := js.Global().Get("JSON").Get("stringify")
	fields := js.ValueOf([]any{"id", "j"})
	for i, k := range wire.Kinds {
		if plain(k) {
			// Keys and values, each joined into one string: JSON texts
			// and IDs hold no newline.
			es, err := joined(keyReqs[i].Get("result"), reqs[i].Get("result"))
			if err != nil {
				return replica.Contents{}, catalog.Wrap(err, catalog.Internal, "corrupt local %s records", k)
			}
			byKind[k] = es
			continue
		}
		// One string per store: [{"id": ..., "j": "<entity JSON>"}, ...].
		text := stringify.Invoke(reqs[i].Get("result"), fields).String()
		var recs []rawRecord
		if err := json.Unmarshal([]byte(text), &recs); err != nil {
			return replica.Contents{}, catalog.Wrap(err, catalog.Internal, "corrupt local %s records", k)
		}
		es := make([]replica.RawEntity, len(recs))
		for j, r := range recs {
			es[j] = replica.RawEntity{ID: r.ID, Data: json.RawMessage(r.J)}
		}
		byKind[k] = es
	}
	return replica.AssembleContents(meta, byKind)
}

// joined pairs the keys and JSON string values of a plain store, read as
// two newline-joined strings.
func joined(keys, vals js.Value) ([]replica.RawEntity, error) {
	n := keys.Length()
	if vals.Length() != n {
		return nil, fmt.Errorf("%d keys, %d values", n, vals.Length())
	}
	if n == 0 {
		return nil, nil
	}
	ks := strings.Split(keys.Call("join", "\n").String(), "\n")
	vs := strings.Split(vals.Call("join", "\n").String(), "\n")
	if len(ks) != n || len(vs) != n {
		return nil, errors.New("a key or a value holds a newline")
	}
	out := make([]replica.RawEntity, n)
	for i := range out {
		out[i] = replica.RawEntity{ID: ks[i], Data: json.RawMessage(vs[i])}
	}
	return out, nil
}
