package modelstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"aisle/sync/published"
	"aisle/worker/browser/wire"
)

func manifest(t *testing.T, id string, shards ...string) (*published.Manifest, [][]byte) {
	t.Helper()
	var all []byte
	var data [][]byte
	for _, s := range shards {
		all = append(all, s...)
		data = append(data, []byte(s))
	}
	sum := sha256.Sum256(all)
	m := &published.Manifest{Format: published.ManifestFormat, ID: id, Architecture: "llama", Size: int64(len(all)), SHA256: hex.EncodeToString(sum[:])}
	m.Revision = m.SHA256[:16]
	var off int64
	for i, s := range shards {
		h := sha256.Sum256([]byte(s))
		m.Shards = append(m.Shards, published.Shard{Path: published.ShardPath(m.Revision, i), Offset: off, Size: int64(len(s)), SHA256: hex.EncodeToString(h[:])})
		off += int64(len(s))
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m, data
}

func store() (*Store, *Memory) {
	mem := &Memory{}
	return &Store{Cache: mem, Hash: SHA256}, mem
}

func TestStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	s, mem := store()
	m, data := manifest(t, "tiny", "hello ", "world")
	if err := s.SaveManifest(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := s.PutShard(ctx, m, 0, []byte("HELLO ")); wire.AsError(err).Code != wire.CodeModelCorrupt {
		t.Errorf("a wrong shard was accepted: %v", err)
	}
	if err := s.PutShard(ctx, m, 0, data[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkComplete(ctx, m, time.Unix(1, 0)); err == nil {
		t.Error("MarkComplete with a missing shard succeeded")
	}
	list, _ := s.List(ctx)
	if len(list) != 1 || list[0].Complete || list[0].BytesStored != 6 || !list[0].ShardsStored[0] || list[0].ShardsStored[1] {
		t.Fatalf("partial: %+v", list)
	}
	if _, _, err := s.Load(ctx, "tiny"); wire.AsError(err).Code != wire.CodeModelMissing {
		t.Errorf("Load of an incomplete model: %v", err)
	}
	s.PutShard(ctx, m, 1, data[1])
	if err := s.MarkComplete(ctx, m, time.Unix(2, 0)); err != nil {
		t.Fatal(err)
	}
	got, shards, err := s.Load(ctx, "tiny")
	if err != nil || got.Revision != m.Revision || string(shards[0])+string(shards[1]) != "hello world" {
		t.Fatalf("Load: %v %q", err, shards)
	}
	// A newer revision replaces the old one after Prune.
	m2, data2 := manifest(t, "tiny", "bye")
	s.SaveManifest(ctx, m2)
	s.PutShard(ctx, m2, 0, data2[0])
	s.MarkComplete(ctx, m2, time.Unix(3, 0))
	if r, _ := s.Ready(ctx, "tiny"); r.Manifest.Revision != m2.Revision {
		t.Errorf("Ready picked %s, want the newer %s", r.Manifest.Revision, m2.Revision)
	}
	if n, err := s.Prune(ctx, "tiny", m2.Revision); err != nil || n != 4 {
		t.Errorf("Prune deleted %d (%v), want 4 entries", n, err)
	}
	keys, _ := mem.Keys(ctx)
	if len(keys) != 4 || !slices.Contains(keys, IndexKey) {
		t.Errorf("after Prune: %q", keys)
	}
	if e, err := s.ReadyEntry(ctx, "tiny"); err != nil || e == nil || e.Revision != m2.Revision {
		t.Errorf("the index after Prune: %+v (%v), want %s", e, err, m2.Revision)
	}
}

// TestReadyIndex: the index of complete revisions answers ReadyEntry with one read, follows
// completion, damage, pruning and clearing, and is rebuilt from the cache when missing; it never
// names a revision that is not complete.
func TestReadyIndex(t *testing.T) {
	ctx := context.Background()
	s, mem := store()
	m, data := manifest(t, "tiny", "hello ", "world")
	s.SaveManifest(ctx, m)
	for i, d := range data {
		s.PutShard(ctx, m, i, d)
	}
	if e, _ := s.ReadyEntry(ctx, "tiny"); e != nil {
		t.Fatalf("an incomplete model is ready: %+v", e)
	}
	s.MarkComplete(ctx, m, time.Unix(5, 0))
	gets := mem.Gets()
	if e, err := s.ReadyEntry(ctx, "tiny"); err != nil || e == nil || e.Revision != m.Revision || !e.CompletedAt.Equal(time.Unix(5, 0)) {
		t.Fatalf("ReadyEntry = %+v, %v", e, err)
	}
	if n := mem.Gets() - gets; n != 1 {
		t.Errorf("ReadyEntry read the cache %d times, want once", n)
	}
	if e, _ := s.ReadyEntry(ctx, "other"); e != nil {
		t.Errorf("another model is ready: %+v", e)
	}
	// Missing (a store from before the index): rebuilt from the cache.
	mem.Delete(ctx, IndexKey)
	if e, _ := s.ReadyEntry(ctx, "tiny"); e == nil || e.Revision != m.Revision {
		t.Fatalf("without an index: %+v", e)
	}
	if _, err := mem.Get(ctx, IndexKey); err != nil {
		t.Errorf("the index was not rebuilt: %v", err)
	}
	// A damaged shard found by Load: no longer ready, in the index too.
	mem.Put(ctx, ShardKey(m, 1), []byte("WORLD"), "")
	if _, _, err := s.Load(ctx, "tiny"); wire.AsError(err).Code != wire.CodeModelCorrupt {
		t.Fatalf("Load of a damaged model: %v", err)
	}
	if entries, _ := s.readIndex(ctx); len(entries) != 0 {
		t.Errorf("the index still names a damaged revision: %+v", entries)
	}
	if e, _ := s.ReadyEntry(ctx, "tiny"); e != nil {
		t.Errorf("a damaged model is ready: %+v", e)
	}
	// Completed again, then cleared.
	s.PutShard(ctx, m, 1, data[1])
	s.MarkComplete(ctx, m, time.Unix(6, 0))
	if n, err := s.Clear(ctx, "tiny"); err != nil || n != 4 {
		t.Errorf("Clear deleted %d (%v), want 4", n, err)
	}
	if e, _ := s.ReadyEntry(ctx, "tiny"); e != nil {
		t.Errorf("a cleared model is ready: %+v", e)
	}
	// An index that cannot be written (quota) is removed; ReadyEntry answers from the cache.
	s.SaveManifest(ctx, m)
	for i, d := range data {
		s.PutShard(ctx, m, i, d)
	}
	mem.Limit = mem.Used() + 40 // the complete marker fits, the index does not
	if err := s.MarkComplete(ctx, m, time.Unix(8, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Get(ctx, IndexKey); err == nil {
		t.Error("an index that could not be written was left")
	}
	if e, _ := s.ReadyEntry(ctx, "tiny"); e == nil || e.Revision != m.Revision {
		t.Errorf("without a writable index: %+v", e)
	}
}

func TestStoreIgnoresDamagedManifests(t *testing.T) {
	ctx := context.Background()
	s, mem := store()
	m, _ := manifest(t, "tiny", "abc")
	b, _ := json.Marshal(m)
	mem.Put(ctx, "/models/tiny/"+m.Revision+"/manifest.json", b[:len(b)/2], "")
	mem.Put(ctx, "/models/other/0000000000000000/manifest.json", b, "") // stored under the wrong key
	list, err := s.List(ctx)
	if err != nil || len(list) != 0 {
		t.Errorf("List = %+v, %v; want nothing", list, err)
	}
}

func TestMemoryQuota(t *testing.T) {
	c := &Memory{Limit: 10}
	ctx := context.Background()
	if err := c.Put(ctx, "a", make([]byte, 8), ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, "b", make([]byte, 3), ""); wire.AsError(err).Code != wire.CodeQuota {
		t.Errorf("over the limit: %v", err)
	}
	if err := c.Put(ctx, "a", make([]byte, 10), ""); err != nil {
		t.Errorf("replacing within the limit: %v", err)
	}
}

// blobMemory is Memory that also hands out values as Blobs, as the browser's Cache does.
type blobMemory struct{ *Memory }

type memBlob struct{ *bytes.Reader }

func (b memBlob) SHA256(context.Context) ([32]byte, error) {
	data := make([]byte, b.Size())
	b.ReadAt(data, 0)
	return sha256.Sum256(data), nil
}

func (c blobMemory) GetBlob(ctx context.Context, key string) (Blob, error) {
	b, err := c.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return memBlob{bytes.NewReader(b)}, nil
}

// TestShardChecked: Shard hands out a stored shard after checking it, from a plain Cache and from
// a BlobCache alike; a damaged or missing shard is reported as damage, deleted with the complete
// marker, and the model leaves the index.
func TestShardChecked(t *testing.T) {
	ctx := context.Background()
	for _, blobs := range []bool{false, true} {
		mem := &Memory{}
		s := &Store{Cache: mem, Hash: SHA256}
		if blobs {
			s.Cache = blobMemory{mem}
		}
		m, data := manifest(t, "tiny", "hello ", "world")
		s.SaveManifest(ctx, m)
		for i, d := range data {
			s.PutShard(ctx, m, i, d)
		}
		s.MarkComplete(ctx, m, time.Unix(1, 0))
		r, err := s.Shard(ctx, m, 1)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 5)
		if _, err := r.ReadAt(got, 0); err != nil || string(got) != "world" {
			t.Errorf("blobs %v: shard 1 reads %q (%v)", blobs, got, err)
		}
		mem.Put(ctx, ShardKey(m, 1), []byte("WORLD"), "")
		if _, err := s.Shard(ctx, m, 1); wire.AsError(err).Code != wire.CodeModelCorrupt {
			t.Errorf("blobs %v: a damaged shard: %v", blobs, err)
		}
		if _, err := mem.Get(ctx, ShardKey(m, 1)); !errors.Is(err, ErrNotFound) {
			t.Errorf("blobs %v: the damaged shard is still stored", blobs)
		}
		if e, _ := s.ReadyEntry(ctx, "tiny"); e != nil {
			t.Errorf("blobs %v: a damaged model is ready: %+v", blobs, e)
		}
		if _, err := s.Shard(ctx, m, 1); wire.AsError(err).Code != wire.CodeModelCorrupt {
			t.Errorf("blobs %v: a missing shard: %v", blobs, err)
		}
	}
}
