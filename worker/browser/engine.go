package browser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"aisle/sync/published"
	"aisle/worker/assistant"
	"aisle/worker/browser/modelstore"
	"aisle/worker/browser/wire"
	"aisle/worker/engine"
	"aisle/worker/gguf"
	"aisle/worker/model"
)

// EngineGenerator runs requests on an *engine.Engine (CPU or GPU backend).
type EngineGenerator struct {
	E *engine.Engine
	// Snapshots, when set, keeps the KV cache of each store's conversation start across cold
	// starts (engine.Snapshot), under a key of Model (the model's ID and revision) and the store.
	Snapshots SnapshotStore
	Model     string
	// splitBroken, for a model split across workers, is told when the split fails for good.
	splitBroken func()
}

var _ Breakable = EngineGenerator{}

// Broken implements Breakable: a model split across workers whose row worker failed (the
// failure is reported to the loader, which loads that model whole from then on).
func (g EngineGenerator) Broken() bool {
	if g.E.Model.RemoteErr() == nil {
		return false
	}
	if g.splitBroken != nil {
		g.splitBroken()
	}
	return true
}

// SnapshotStore holds prompt snapshots by key (SnapshotKey): IndexedDB in the browser.
type SnapshotStore interface {
	Get(ctx context.Context, key string) ([]byte, error) // nil when there is none
	// Put keeps snapshot under key; the snapshots it supersedes (Superseded) may go.
	Put(ctx context.Context, key string, snapshot []byte) error
	// ReadAhead starts reading the snapshots of model (ID@revision) and returns at once, so that
	// a Get soon after finds them read: called as the model starts loading (reading a 135M-class
	// model's 16 MB snapshot from IndexedDB takes about 0.4 s).
	ReadAhead(model string)
}

// SnapshotKey is the key of the snapshot of store's conversation start on model (ID@revision):
// "ID@revision|store".
func SnapshotKey(model, store string) string { return model + "|" + store }

// Superseded reports whether key names a snapshot that latest replaces: the same model ID and
// store, another revision (a model update leaves its predecessor's snapshots useless).
func Superseded(key, latest string) bool {
	parse := func(k string) (id, rev, store string, ok bool) {
		model, store, ok1 := strings.Cut(k, "|")
		id, rev, ok2 := strings.Cut(model, "@")
		return id, rev, store, ok1 && ok2
	}
	id, rev, store, ok := parse(key)
	lid, lrev, lstore, lok := parse(latest)
	return ok && lok && id == lid && store == lstore && rev != lrev
}

var _ Generator = EngineGenerator{}

// Close releases the engine's threads and GPU resources.
func (g EngineGenerator) Close() { g.E.Close() }

// Describe names the backend in use: "cpu", "gpu", or "cpu, N workers" for a model split
// across workers.
func (g EngineGenerator) Describe() string {
	if s := g.E.Model.Share(); s.Split() {
		return fmt.Sprintf("%s, %d workers", g.E.Backend, s.Parts)
	}
	return g.E.Backend
}

// EngineRequest converts a wire request to the engine's form.
func EngineRequest(req wire.ChatRequest) engine.Request {
	return engine.Request{Messages: req.Messages, MaxTokens: req.MaxTokens, Temperature: req.Temperature,
		TopP: req.TopP, Seed: req.Seed, Stop: req.Stop}
}

// minRawTokens is the least room a raw chat's answer gets before its prompt is refused.
const minRawTokens = 32

// Generate implements Generator. A chat longer than the context loses its oldest turns
// (engine.FitMessages): the newest message always gets an answer.
func (g EngineGenerator) Generate(ctx context.Context, req wire.ChatRequest, emit func(wire.Delta) error) (wire.Result, error) {
	r := EngineRequest(req)
	want := r.MaxTokens
	if want <= 0 {
		want = minRawTokens
	}
	msgs, room, err := g.E.FitMessages(r.Messages, want, min(want, minRawTokens))
	if err != nil {
		return wire.Result{}, engineError(ctx, err)
	}
	r.Messages = msgs
	if r.MaxTokens > 0 {
		r.MaxTokens = room
	}
	res, err := g.E.Generate(ctx, r, func(d engine.Delta) error {
		return emit(wire.Delta{Text: d.Text, Token: d.Token})
	})
	if err != nil {
		return wire.Result{}, engineError(ctx, err)
	}
	return wire.Result{PromptTokens: len(res.PromptTokens), CompletionTokens: len(res.Tokens),
		FinishReason: res.FinishReason, CachedTokens: res.CachedTokens, PrefillMS: ms(res.PrefillTime)}, nil
}

// engineError maps an engine error to a wire error.
func engineError(ctx context.Context, err error) *wire.Error {
	var we *wire.Error
	switch {
	case errors.As(err, &we):
		return we
	case errors.Is(err, engine.ErrBadRequest), errors.Is(err, engine.ErrPromptTooLong):
		return wire.Errorf(wire.CodeInvalid, "%v", err)
	case ctx.Err() != nil:
		return wire.Errorf(wire.CodeCancelled, "request cancelled")
	}
	return wire.Errorf(wire.CodeInternal, "generation failed: %v", err)
}

// RowSplit splits a model's matrix products by rows across workers (package rowsplit in the
// browser), each holding only its rows.
type RowSplit struct {
	// Parts is how many workers (this one included) should run model m: <= 1 loads it whole.
	Parts func(m *published.Manifest) int
	// Start starts parts-1 row workers for the model in f, stored as revision of model id, and
	// returns the leader's Remote and a function that waits until every row worker is ready.
	Start func(f *gguf.File, parts int, id, revision string) (model.Remote, func(ctx context.Context) error, error)
	// Failed is told why a split load failed; the model is then loaded whole (nil: nothing).
	Failed func(err error)
}

// StoreLoader returns a Server.Load that reads model shards from store (each checked against its
// SHA-256; damaged ones are removed and reported as wire.CodeModelCorrupt) and loads the engine,
// keeping prompt snapshots in snapshots (nil: none). With split (may be nil), a model that
// split.Parts gives several workers is loaded split, each worker reading only its rows from
// the store one shard at a time; if that fails for any reason but damage, it is loaded whole.
func StoreLoader(store *modelstore.Store, snapshots SnapshotStore, opts engine.Options, split *RowSplit) func(ctx context.Context, id string) (Generator, error) {
	var mu sync.Mutex
	wholeOnly := map[string]bool{} // models whose split failed while answering: loaded whole
	return func(ctx context.Context, id string) (Generator, error) {
		st, err := store.Ready(ctx, id)
		if snapshots != nil && err == nil && st != nil {
			snapshots.ReadAhead(id + "@" + st.Manifest.Revision)
		}
		mu.Lock()
		whole := wholeOnly[id]
		mu.Unlock()
		if split != nil && !whole && err == nil && st != nil {
			if parts := split.Parts(st.Manifest); parts > 1 {
				g, err := loadSplit(ctx, store, st.Manifest, parts, opts, split)
				if err == nil {
					g.Snapshots = snapshots
					g.splitBroken = func() {
						mu.Lock()
						defer mu.Unlock()
						if !wholeOnly[id] && split.Failed != nil {
							split.Failed(g.E.Model.RemoteErr())
						}
						wholeOnly[id] = true
					}
					return g, nil
				}
				if we := wire.AsError(err); we.Code == wire.CodeModelCorrupt || ctx.Err() != nil {
					return nil, err
				}
				if split.Failed != nil {
					split.Failed(err)
				}
			}
		}
		m, shards, err := store.Load(ctx, id)
		if err != nil {
			return nil, err
		}
		f, err := gguf.OpenShards(shards)
		if err != nil {
			return nil, wire.Errorf(wire.CodeModelCorrupt, "model %q: %v", id, err)
		}
		e, err := engine.Load(f, opts)
		if err != nil {
			return nil, wire.Errorf(wire.CodeInternal, "model %q cannot run here: %v", id, err)
		}
		return EngineGenerator{E: e, Snapshots: snapshots, Model: id + "@" + m.Revision}, nil
	}
}

// OpenStored opens the stored model of manifest m (a ready revision, from Store.Ready) with its
// shards opened when needed, each checked against its SHA-256 (gguf.OpenLazyShards over
// Store.Shard): for a reader that keeps only part of it. In the browser a shard stays in the
// ArrayBuffer Cache Storage returned; only the pieces read are copied into Go memory. A header that cannot be read is
// wire.CodeModelCorrupt.
func OpenStored(ctx context.Context, store *modelstore.Store, m *published.Manifest) (*gguf.File, error) {
	sizes := make([]uint64, len(m.Shards))
	for i, sh := range m.Shards {
		sizes[i] = uint64(sh.Size)
	}
	f, err := gguf.OpenLazyShards(sizes, func(i int) (io.ReaderAt, error) { return store.Shard(ctx, m, i) })
	if err != nil {
		if we := new(wire.Error); errors.As(err, &we) {
			return nil, we
		}
		return nil, wire.Errorf(wire.CodeModelCorrupt, "model %q: %v", m.ID, err)
	}
	return f, nil
}

// loadSplit loads the model of manifest m as the leader of parts workers: its own rows read from
// the store one shard at a time while the row workers read theirs.
func loadSplit(ctx context.Context, store *modelstore.Store, m *published.Manifest, parts int, opts engine.Options, split *RowSplit) (EngineGenerator, error) {
	f, err := OpenStored(ctx, store, m)
	if err != nil {
		return EngineGenerator{}, err
	}
	remote, ready, err := split.Start(f, parts, m.ID, m.Revision)
	if err != nil {
		return EngineGenerator{}, err
	}
	opts.Share, opts.Remote = model.Share{Part: 0, Parts: parts}, remote
	e, err := engine.Load(f, opts)
	f.Close() // the shard it still holds: everything the engine keeps was copied
	if err != nil {
		remote.Close()
		if we := new(wire.Error); errors.As(err, &we) {
			return EngineGenerator{}, we
		}
		return EngineGenerator{}, err
	}
	if err := ready(ctx); err != nil {
		e.Close() // closes the remote
		return EngineGenerator{}, err
	}
	return EngineGenerator{E: e, Model: m.ID + "@" + m.Revision}, nil
}

var _ AnswerPhraser = EngineGenerator{}

// CanPhrase implements AnswerPhraser: the model needs a chat template.
func (g EngineGenerator) CanPhrase() (bool, string) { return assistant.CanPhrase(g.E) }

var _ Warmer = EngineGenerator{}

// Warm implements Warmer: the store's conversation start (assistant.Phraser.WarmTokens) is
// restored from its snapshot when one was kept for this model and store, else evaluated and its
// snapshot kept. A missing, stale or damaged snapshot only costs the evaluation.
func (g EngineGenerator) Warm(ctx context.Context, st *assistant.Store) (WarmOutcome, error) {
	toks, err := assistant.NewPhraser(g.E, st).WarmTokens()
	if err != nil || len(toks) == 0 || g.E.Holds(toks) {
		return WarmHeld, wireError(ctx, err)
	}
	snapshots := g.Snapshots != nil && g.E.CanSnapshot()
	key := SnapshotKey(g.Model, st.Info.ID)
	if snapshots {
		if snap, err := g.Snapshots.Get(ctx, key); err == nil && snap != nil && g.E.Restore(toks, snap) == nil {
			return WarmRestored, nil
		}
	}
	if err := g.E.Prefill(ctx, toks); err != nil {
		return WarmHeld, wireError(ctx, err)
	}
	if snapshots {
		if snap, err := g.E.Snapshot(toks); err == nil {
			g.Snapshots.Put(ctx, key, snap) // a full quota only means no snapshot next time
		}
	}
	return WarmEvaluated, nil
}

// wireError is engineError for an error that may be nil.
func wireError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	return engineError(ctx, err)
}

// maxAnswerTokens bounds a phrased answer ("one or two sentences").
const maxAnswerTokens = 128

// PhraseAnswer implements AnswerPhraser with assistant.Phraser: the model's words under the
// facts' constraint, the facts' sentence added when a key figure is missing.
func (g EngineGenerator) PhraseAnswer(ctx context.Context, st *assistant.Store, conv *assistant.Conversation, a assistant.Answer,
	req wire.ChatRequest, emit func(text string) error) (wire.Result, error) {
	p := assistant.NewPhraser(g.E, st)
	p.MaxTokens = min(max(req.MaxTokens, 1), maxAnswerTokens)
	p.Temperature, p.Seed = req.Temperature, req.Seed
	ph, err := p.Phrase(ctx, conv, a, emit)
	if err != nil {
		return wire.Result{}, engineError(ctx, err)
	}
	return wire.Result{PromptTokens: len(ph.Result.PromptTokens), CompletionTokens: len(ph.Result.Tokens),
		FinishReason: "stop", Phrasing: ph.How, CachedTokens: ph.Result.CachedTokens, PrefillMS: ms(ph.Result.PrefillTime)}, nil
}
