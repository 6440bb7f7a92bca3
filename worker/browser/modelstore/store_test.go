package modelstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	if len(keys) != 3 {
		t.Errorf("after Prune: %q", keys)
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
