package browser

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"aisle/sync/published"
	"aisle/worker/browser/modelstore"
	"aisle/worker/browser/rowsplit"
	"aisle/worker/browser/wire"
	"aisle/worker/engine"
	"aisle/worker/gguf"
	"aisle/worker/model"
)

// storeModel puts the GGUF file at path into a model store in memory as model id, cut into
// shards of shardSize bytes, and marks it complete.
func storeModel(t *testing.T, path, id string, shardSize int) (*modelstore.Store, *modelstore.Memory, *published.Manifest) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	m := &published.Manifest{Format: published.ManifestFormat, ID: id, Architecture: "llama", Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	m.Revision = m.SHA256[:16]
	var shards [][]byte
	for off := 0; off < len(data); off += shardSize {
		b := data[off:min(off+shardSize, len(data))]
		h := sha256.Sum256(b)
		m.Shards = append(m.Shards, published.Shard{Path: published.ShardPath(m.Revision, len(shards)), Offset: int64(off), Size: int64(len(b)), SHA256: hex.EncodeToString(h[:])})
		shards = append(shards, b)
	}
	mem := &modelstore.Memory{}
	s := &modelstore.Store{Cache: mem, Hash: modelstore.SHA256}
	ctx := context.Background()
	if err := s.SaveManifest(ctx, m); err != nil {
		t.Fatal(err)
	}
	for i, b := range shards {
		if err := s.PutShard(ctx, m, i, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkComplete(ctx, m, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	return s, mem, m
}

// dyingRemote is a Remote whose row workers stop answering once *dead is set.
type dyingRemote struct {
	model.Remote
	dead *bool
}

func (r dyingRemote) Collect() error {
	if err := r.Remote.Collect(); err != nil || !*r.dead {
		return err
	}
	return errors.New("row worker 2 did not answer")
}

// localSplit is a RowSplit whose row workers are goroutines (rowsplit.StartLocal), each reading
// its rows from store as a browser row worker does. failPart, when not 0, fails to load; dead,
// when set, stops them all answering.
func localSplit(store *modelstore.Store, parts, failPart int, failed *[]error, dead ...*bool) *RowSplit {
	return &RowSplit{
		Parts: func(*published.Manifest) int { return parts },
		Start: func(f *gguf.File, parts int, id, revision string) (model.Remote, func(context.Context) error, error) {
			c, err := model.ConfigFromGGUF(f)
			if err != nil {
				return nil, nil, err
			}
			leader, ready := rowsplit.StartLocal(rowsplit.LayoutFor(c, parts), false, func(part int) (*gguf.File, error) {
				if part == failPart {
					return nil, errors.New("out of memory")
				}
				st, err := store.Ready(context.Background(), id)
				if err != nil || st == nil || st.Manifest.Revision != revision {
					return nil, errors.New("model gone")
				}
				return OpenStored(context.Background(), store, st.Manifest)
			})
			if len(dead) > 0 {
				return dyingRemote{leader, dead[0]}, func(context.Context) error { return ready() }, nil
			}
			return leader, func(context.Context) error { return ready() }, nil
		},
		Failed: func(err error) { *failed = append(*failed, err) },
	}
}

func rawAnswer(t *testing.T, g Generator) string {
	t.Helper()
	req := wire.ChatRequest{Model: "m", MaxTokens: 24, Mode: wire.ModeRaw, Messages: []wire.Message{{Role: "user", Content: "Once upon a time"}}}
	text := ""
	if _, err := g.Generate(context.Background(), req, func(d wire.Delta) error { text += d.Text; return nil }); err != nil {
		t.Fatal(err)
	}
	return text
}

// TestStoreLoaderSplitsTheModel: a model the RowSplit gives 3 workers is loaded split, each
// worker reading its rows from the store, and answers as the whole model does; when a row worker
// cannot load, the model is loaded whole and the failure reported; when the row workers die while
// it answers, the answer fails with the cause, the model reports itself broken, and it is loaded
// whole from then on; a damaged shard is reported as damage (and removed), not worked around.
func TestStoreLoaderSplitsTheModel(t *testing.T) {
	const path = "../assistant/model/aisle-assistant.gguf"
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := engine.Load(f, engine.Options{Threads: 1, Backend: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	want := rawAnswer(t, EngineGenerator{E: e})
	e.Close()
	if want == "" {
		t.Fatal("the whole model answered nothing")
	}

	store, mem, m := storeModel(t, path, "m", 1<<20)
	var failed []error
	load := StoreLoader(store, nil, engine.Options{Threads: 1, Backend: "cpu"}, localSplit(store, 3, 0, &failed))
	loaded, err := load(context.Background(), "m")
	if err != nil {
		t.Fatal(err)
	}
	g := loaded.(EngineGenerator)
	if d := g.Describe(); d != "cpu, 3 workers" || len(failed) > 0 {
		t.Fatalf("loaded as %q (failures %v), want split across 3 workers", d, failed)
	}
	if got := rawAnswer(t, g); got != want {
		t.Errorf("split across 3 workers: %q, want %q", got, want)
	}
	g.Close()

	load = StoreLoader(store, nil, engine.Options{Threads: 1, Backend: "cpu"}, localSplit(store, 3, 2, &failed))
	loaded, err = load(context.Background(), "m")
	if err != nil {
		t.Fatal(err)
	}
	g = loaded.(EngineGenerator)
	if d := g.Describe(); d != "cpu" || len(failed) != 1 {
		t.Fatalf("a row worker that cannot load: loaded as %q, failures %v; want whole, one failure", d, failed)
	}
	if got := rawAnswer(t, g); got != want {
		t.Errorf("loaded whole after the split failed: %q, want %q", got, want)
	}
	g.Close()

	dead := false
	load = StoreLoader(store, nil, engine.Options{Threads: 1, Backend: "cpu"}, localSplit(store, 3, 0, &failed, &dead))
	loaded, err = load(context.Background(), "m")
	if err != nil {
		t.Fatal(err)
	}
	g = loaded.(EngineGenerator)
	if g.Broken() || g.Describe() != "cpu, 3 workers" {
		t.Fatalf("loaded as %q, broken %v", g.Describe(), g.Broken())
	}
	dead = true
	req := wire.ChatRequest{Model: "m", MaxTokens: 8, Mode: wire.ModeRaw, Messages: []wire.Message{{Role: "user", Content: "Once"}}}
	if _, err := g.Generate(context.Background(), req, func(wire.Delta) error { return nil }); err == nil || !strings.Contains(err.Error(), "row worker 2 did not answer") {
		t.Fatalf("an answer while the row workers are dead: %v", err)
	}
	if !g.Broken() || len(failed) != 2 {
		t.Fatalf("broken %v, failures %v: want broken, reported", g.Broken(), failed)
	}
	g.Close()
	loaded, err = load(context.Background(), "m")
	if err != nil {
		t.Fatal(err)
	}
	if d := loaded.(EngineGenerator).Describe(); d != "cpu" {
		t.Errorf("after the split broke: loaded as %q, want whole", d)
	}
	loaded.(EngineGenerator).Close()

	key := modelstore.ShardKey(m, 3)
	b, _ := mem.Get(context.Background(), key)
	b[100] ^= 1
	mem.Put(context.Background(), key, b, "")
	_, err = StoreLoader(store, nil, engine.Options{Threads: 1, Backend: "cpu"}, localSplit(store, 3, 0, &failed))(context.Background(), "m")
	if wire.AsError(err).Code != wire.CodeModelCorrupt {
		t.Fatalf("a damaged shard: %v, want %s", err, wire.CodeModelCorrupt)
	}
	if _, err := mem.Get(context.Background(), key); !errors.Is(err, modelstore.ErrNotFound) {
		t.Errorf("the damaged shard is still stored (%v)", err)
	}
}
