// Package modelstore keeps downloaded model shards on the device, in one cache of the browser's
// Cache Storage (or any Cache), and hands them out only after checking their SHA-256.
//
// Keys (URL paths, so they read like the server's layout):
//
//	/models/<id>/<revision>/manifest.json   the manifest the shards were downloaded against
//	/models/<id>/<revision>/<NNNN>.bin      shard NNNN, stored only after its hash matched
//	/models/<id>/<revision>/complete        present once every shard was stored: the model is ready
//	/models/ready.json                      the index of complete revisions (ReadyEntry)
//
// A shard that fails its check when loaded is deleted together with the complete marker, so the
// next download fetches exactly that shard again.
package modelstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"aisle/sync/published"
	"aisle/worker/browser/wire"
)

// CacheName is the Cache Storage cache that holds models. The suffix is the layout version:
// activate deletes caches of older layouts.
const CacheName = "aisle-models-v1"

// ErrNotFound is returned by Cache.Get for a missing key.
var ErrNotFound = errors.New("modelstore: not found")

// Cache is a key-value view of one Cache Storage cache. Put must store the value whole or not at
// all; an error whose wire code is wire.CodeQuota means the browser refused to store more.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, data []byte, contentType string) error
	Delete(ctx context.Context, key string) error
	Keys(ctx context.Context) ([]string, error) // URL paths, any order
}

// Blob is a stored value read in pieces, never copied whole into Go memory (in the browser, the
// ArrayBuffer Cache Storage returned), whose SHA-256 is computed where it lies.
type Blob interface {
	io.ReaderAt
	Size() int64
	SHA256(ctx context.Context) ([32]byte, error)
}

// BlobCache is a Cache that can hand out a value as a Blob (ErrNotFound for a missing key).
type BlobCache interface {
	GetBlob(ctx context.Context, key string) (Blob, error)
}

// Hasher returns the SHA-256 of data (the browser's SubtleCrypto is much faster than Go's
// crypto/sha256 compiled to wasm).
type Hasher func(ctx context.Context, data []byte) ([32]byte, error)

// Store is the set of models stored in one Cache.
type Store struct {
	Cache Cache
	Hash  Hasher
}

func prefix(id, rev string) string      { return published.ModelsPrefix + id + "/" + rev + "/" }
func manifestKey(id, rev string) string { return prefix(id, rev) + "manifest.json" }
func completeKey(id, rev string) string { return prefix(id, rev) + "complete" }
func ShardKey(m *published.Manifest, i int) string {
	return published.ModelsPrefix + m.ID + "/" + m.Shards[i].Path
}

// Stored describes one model revision found in the store.
type Stored struct {
	Manifest     *published.Manifest
	Complete     bool
	CompletedAt  time.Time
	ShardsStored []bool // by shard index
	BytesStored  int64
}

// List returns the stored revisions, sorted by ID then revision.
func (s *Store) List(ctx context.Context) ([]Stored, error) {
	keys, err := s.Cache.Keys(ctx)
	if err != nil {
		return nil, err
	}
	have := make(map[string]bool, len(keys))
	for _, k := range keys {
		have[k] = true
	}
	var out []Stored
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k, published.ModelsPrefix)
		if !ok || !strings.HasSuffix(rest, "/manifest.json") || strings.Count(rest, "/") != 2 {
			continue
		}
		m, err := s.manifest(ctx, k)
		if err != nil {
			continue // a damaged manifest: Prune removes it
		}
		st := Stored{Manifest: m, ShardsStored: make([]bool, len(m.Shards))}
		for i, sh := range m.Shards {
			if have[ShardKey(m, i)] {
				st.ShardsStored[i] = true
				st.BytesStored += sh.Size
			}
		}
		if have[completeKey(m.ID, m.Revision)] {
			if b, err := s.Cache.Get(ctx, completeKey(m.ID, m.Revision)); err == nil {
				var mark completeMark
				if json.Unmarshal(b, &mark) == nil {
					st.Complete, st.CompletedAt = true, mark.At
				}
			}
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Manifest, out[j].Manifest
		return a.ID < b.ID || a.ID == b.ID && a.Revision < b.Revision
	})
	return out, nil
}

func (s *Store) manifest(ctx context.Context, key string) (*published.Manifest, error) {
	b, err := s.Cache.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	var m published.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("modelstore: %s: %w", key, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("modelstore: %s: %w", key, err)
	}
	if key != manifestKey(m.ID, m.Revision) {
		return nil, fmt.Errorf("modelstore: %s holds %s@%s", key, m.ID, m.Revision)
	}
	return &m, nil
}

// Ready returns the complete revision of model id, or nil when none is complete. With several
// complete revisions (an update finished but the old one is not pruned yet) the newest wins.
func (s *Store) Ready(ctx context.Context, id string) (*Stored, error) {
	list, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var best *Stored
	for i := range list {
		st := &list[i]
		if st.Manifest.ID == id && st.Complete && (best == nil || st.CompletedAt.After(best.CompletedAt)) {
			best = st
		}
	}
	return best, nil
}

// IndexKey holds the index of complete revisions: the service worker checks a request's model
// with one read of it instead of listing the cache (List and Ready stay the truth: a model
// missing from the index is looked up there).
const IndexKey = published.ModelsPrefix + "ready.json"

// IndexEntry is one complete revision in the index.
type IndexEntry struct {
	ID          string    `json:"id"`
	Revision    string    `json:"revision"`
	CompletedAt time.Time `json:"completed_at"`
}

// ReadyEntry returns the newest complete revision of model id (nil: none): from the index with
// one read when it names one, else from Ready, the truth, whose answer it then records in the
// index (a model stored before the index existed, or one two downloads completed at once).
func (s *Store) ReadyEntry(ctx context.Context, id string) (*IndexEntry, error) {
	if entries, ok := s.readIndex(ctx); ok {
		var best *IndexEntry
		for i := range entries {
			if e := &entries[i]; e.ID == id && (best == nil || e.CompletedAt.After(best.CompletedAt)) {
				best = e
			}
		}
		if best != nil {
			return best, nil
		}
	}
	st, err := s.Ready(ctx, id)
	if err != nil || st == nil {
		return nil, err
	}
	e := IndexEntry{ID: id, Revision: st.Manifest.Revision, CompletedAt: st.CompletedAt}
	s.updateIndex(ctx, func(entries []IndexEntry) []IndexEntry {
		entries = slices.DeleteFunc(entries, func(x IndexEntry) bool { return x.ID == id && x.Revision == e.Revision })
		return append(entries, e)
	})
	return &e, nil
}

func (s *Store) readIndex(ctx context.Context) ([]IndexEntry, bool) {
	b, err := s.Cache.Get(ctx, IndexKey)
	if err != nil {
		return nil, false
	}
	var entries []IndexEntry
	if json.Unmarshal(b, &entries) != nil {
		return nil, false
	}
	return entries, true
}

// updateIndex rewrites the index with edit applied. The index is only a shortcut: when it cannot
// be written, it is deleted, so that it never names a revision that is not complete.
func (s *Store) updateIndex(ctx context.Context, edit func([]IndexEntry) []IndexEntry) {
	entries, _ := s.readIndex(ctx)
	b, _ := json.Marshal(edit(entries))
	if s.Cache.Put(ctx, IndexKey, b, "application/json") != nil {
		s.Cache.Delete(ctx, IndexKey)
	}
}

// unindex removes the revisions that drop reports from the index.
func (s *Store) unindex(ctx context.Context, drop func(IndexEntry) bool) {
	s.updateIndex(ctx, func(entries []IndexEntry) []IndexEntry {
		return slices.DeleteFunc(entries, drop)
	})
}

// SaveManifest records the manifest a download works against. It validates m first.
func (s *Store) SaveManifest(ctx context.Context, m *published.Manifest) error {
	if err := m.Validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(m)
	return s.Cache.Put(ctx, manifestKey(m.ID, m.Revision), b, "application/json")
}

// PutShard stores shard i of m after checking its size and SHA-256. A mismatch stores nothing
// and returns an error with code wire.CodeModelCorrupt.
func (s *Store) PutShard(ctx context.Context, m *published.Manifest, i int, data []byte) error {
	if err := s.check(ctx, m, i, data); err != nil {
		return err
	}
	return s.Cache.Put(ctx, ShardKey(m, i), data, "application/octet-stream")
}

func (s *Store) check(ctx context.Context, m *published.Manifest, i int, data []byte) error {
	sh := m.Shards[i]
	if int64(len(data)) != sh.Size {
		return wire.Errorf(wire.CodeModelCorrupt, "shard %d of %s has %d bytes, want %d", i, m.ID, len(data), sh.Size)
	}
	sum, err := s.Hash(ctx, data)
	if err != nil {
		return fmt.Errorf("modelstore: hash shard %d: %w", i, err)
	}
	return checkSum(m, i, sum)
}

type completeMark struct {
	At time.Time `json:"at"`
}

// MarkComplete declares m ready after checking that every shard is stored.
func (s *Store) MarkComplete(ctx context.Context, m *published.Manifest, at time.Time) error {
	keys, err := s.Cache.Keys(ctx)
	if err != nil {
		return err
	}
	have := make(map[string]bool, len(keys))
	for _, k := range keys {
		have[k] = true
	}
	for i := range m.Shards {
		if !have[ShardKey(m, i)] {
			return fmt.Errorf("modelstore: %s@%s: shard %d is missing", m.ID, m.Revision, i)
		}
	}
	b, _ := json.Marshal(completeMark{At: at.UTC()})
	if err := s.Cache.Put(ctx, completeKey(m.ID, m.Revision), b, "application/json"); err != nil {
		return err
	}
	s.updateIndex(ctx, func(entries []IndexEntry) []IndexEntry {
		entries = slices.DeleteFunc(entries, func(e IndexEntry) bool { return e.ID == m.ID && e.Revision == m.Revision })
		return append(entries, IndexEntry{ID: m.ID, Revision: m.Revision, CompletedAt: at.UTC()})
	})
	return nil
}

// Prune deletes every stored revision of model id except keep, and anything under the models
// prefix that belongs to no readable manifest. It returns the number of deleted entries.
func (s *Store) Prune(ctx context.Context, id, keep string) (int, error) {
	keys, err := s.Cache.Keys(ctx)
	if err != nil {
		return 0, err
	}
	s.unindex(ctx, func(e IndexEntry) bool { return e.ID == id && e.Revision != keep })
	n := 0
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k, published.ModelsPrefix)
		if !ok {
			continue
		}
		parts := strings.SplitN(rest, "/", 3)
		if len(parts) != 3 || parts[0] != id || parts[1] == keep {
			continue
		}
		if err := s.Cache.Delete(ctx, k); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Clear deletes every stored revision of model id (id "": every model, and the index) and
// returns the number of deleted entries.
func (s *Store) Clear(ctx context.Context, id string) (int, error) {
	keys, err := s.Cache.Keys(ctx)
	if err != nil {
		return 0, err
	}
	if id != "" {
		s.unindex(ctx, func(e IndexEntry) bool { return e.ID == id })
	}
	n := 0
	for _, k := range keys {
		if id == "" && strings.HasPrefix(k, published.ModelsPrefix) || strings.HasPrefix(k, published.ModelsPrefix+id+"/") {
			if err := s.Cache.Delete(ctx, k); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Corrupt lists the shards of a Load that failed their check (and were deleted).
type Corrupt struct {
	Model  string
	Shards []int
}

// Load returns the shards of the ready revision of model id, each checked against its SHA-256.
// Damaged shards are deleted along with the complete marker and reported as a *wire.Error with
// code wire.CodeModelCorrupt; a missing model is wire.CodeModelMissing.
func (s *Store) Load(ctx context.Context, id string) (*published.Manifest, [][]byte, error) {
	st, err := s.Ready(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if st == nil {
		return nil, nil, wire.Errorf(wire.CodeModelMissing, "model %q is not stored on this device", id)
	}
	m := st.Manifest
	shards := make([][]byte, len(m.Shards))
	var bad []int
	for i := range m.Shards {
		b, err := s.Cache.Get(ctx, ShardKey(m, i))
		if errors.Is(err, ErrNotFound) {
			bad = append(bad, i)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if err := s.check(ctx, m, i, b); err != nil {
			if wire.AsError(err).Code != wire.CodeModelCorrupt {
				return nil, nil, err
			}
			bad = append(bad, i)
			continue
		}
		shards[i] = b
	}
	if len(bad) > 0 {
		return nil, nil, s.removeDamaged(ctx, m, bad)
	}
	return m, shards, nil
}

// Shard returns shard i of the ready revision m (from Ready), checked against its SHA-256: for a
// reader that loads a model one shard at a time and keeps only parts of it. From a BlobCache the
// shard is not copied into Go memory, only the pieces read from it. A damaged or missing shard is
// handled as Load does: deleted with the complete marker, reported with wire.CodeModelCorrupt.
func (s *Store) Shard(ctx context.Context, m *published.Manifest, i int) (io.ReaderAt, error) {
	if i < 0 || i >= len(m.Shards) {
		return nil, fmt.Errorf("modelstore: model %q has no shard %d", m.ID, i)
	}
	var shard io.ReaderAt
	var err error
	if bc, ok := s.Cache.(BlobCache); ok {
		var b Blob
		if b, err = bc.GetBlob(ctx, ShardKey(m, i)); err == nil {
			shard, err = b, s.checkBlob(ctx, m, i, b)
		}
	} else {
		var b []byte
		if b, err = s.Cache.Get(ctx, ShardKey(m, i)); err == nil {
			shard, err = bytes.NewReader(b), s.check(ctx, m, i, b)
		}
	}
	switch {
	case errors.Is(err, ErrNotFound), err != nil && wire.AsError(err).Code == wire.CodeModelCorrupt:
		return nil, s.removeDamaged(ctx, m, []int{i})
	case err != nil:
		return nil, err
	}
	return shard, nil
}

// checkBlob is check for a Blob.
func (s *Store) checkBlob(ctx context.Context, m *published.Manifest, i int, b Blob) error {
	sh := m.Shards[i]
	if b.Size() != sh.Size {
		return wire.Errorf(wire.CodeModelCorrupt, "shard %d of %s has %d bytes, want %d", i, m.ID, b.Size(), sh.Size)
	}
	sum, err := b.SHA256(ctx)
	if err != nil {
		return fmt.Errorf("modelstore: hash shard %d: %w", i, err)
	}
	return checkSum(m, i, sum)
}

// checkSum compares a shard's SHA-256 with the manifest's.
func checkSum(m *published.Manifest, i int, sum [32]byte) error {
	if got, want := hex.EncodeToString(sum[:]), m.Shards[i].SHA256; got != want {
		return wire.Errorf(wire.CodeModelCorrupt, "shard %d of %s has SHA-256 %s…, want %s…", i, m.ID, got[:12], want[:12])
	}
	return nil
}

// removeDamaged deletes the shards bad of m and its complete marker, and returns the error that
// says so (wire.CodeModelCorrupt), or the error of a delete that failed.
func (s *Store) removeDamaged(ctx context.Context, m *published.Manifest, bad []int) error {
	s.unindex(ctx, func(e IndexEntry) bool { return e.ID == m.ID && e.Revision == m.Revision })
	for _, i := range bad {
		if err := s.Cache.Delete(ctx, ShardKey(m, i)); err != nil {
			return err
		}
	}
	if err := s.Cache.Delete(ctx, completeKey(m.ID, m.Revision)); err != nil {
		return err
	}
	return wire.Errorf(wire.CodeModelCorrupt,
		"%d stored piece(s) of model %q were damaged and have been removed (shards %v); they will be downloaded again when the device is online",
		len(bad), m.ID, bad)
}
