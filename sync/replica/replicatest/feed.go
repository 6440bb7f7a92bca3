// Package replicatest holds a reference implementation of the server side
// of the sync protocol, in memory, for tests of clients: the same log,
// checkpoint, compaction, horizon and paging rules the SQL stores of
// aisle/api implement, written as plainly as possible.
package replicatest

import (
	"context"
	"encoding/json"
	"sort"
	gosync "sync"
	"time"

	"aisle/sync/catalog"
	"aisle/sync/replica"
	"aisle/sync/wire"
)

type entry struct {
	scope string // store ID, or "" for chain-wide entities
	wire.Change
}

// Feed is an in-memory sync log. Safe for concurrent use.
type Feed struct {
	mu          gosync.Mutex
	version     int64
	horizon     int64
	log         []entry
	checkpoints map[string][]wire.Checkpoint
}

// NewFeed returns an empty feed.
func NewFeed() *Feed { return &Feed{checkpoints: map[string][]wire.Checkpoint{}} }

// Put appends an upsert of kind/id in scope ("" = every store).
func (f *Feed) Put(scope string, kind wire.Kind, id string, data any) int64 {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	f.log = append(f.log, entry{scope, wire.Change{Version: f.version, Kind: kind, ID: id, Data: raw}})
	return f.version
}

// Delete appends a tombstone of kind/id in scope.
func (f *Feed) Delete(scope string, kind wire.Kind, id string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	f.log = append(f.log, entry{scope, wire.Change{Version: f.version, Kind: kind, ID: id, Deleted: true}})
	return f.version
}

// Publish seals store's log at the current version.
func (f *Feed) Publish(store string) wire.Checkpoint {
	f.mu.Lock()
	defer f.mu.Unlock()
	cps := f.checkpoints[store]
	cp := wire.Checkpoint{Store: store, Seq: int64(len(cps) + 1), Version: f.version, PublishedAt: time.Unix(f.version, 0).UTC(), Reason: wire.ReasonManual}
	f.checkpoints[store] = append(cps, cp)
	return cp
}

// Compact raises the horizon to h (at most the latest checkpoint version of
// every store is not required) and prunes what the protocol allows: entries
// at or below h that are tombstones or are superseded by a later entry of
// the same scope, kind and ID at or below h.
func (f *Feed) Compact(h int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h <= f.horizon {
		return
	}
	f.horizon = h
	type key struct {
		scope string
		kind  wire.Kind
		id    string
	}
	latest := map[key]int64{}
	for _, e := range f.log {
		if e.Version <= h {
			latest[key{e.scope, e.Kind, e.ID}] = e.Version
		}
	}
	var kept []entry
	for _, e := range f.log {
		if e.Version <= h && (e.Deleted || latest[key{e.scope, e.Kind, e.ID}] != e.Version) {
			continue
		}
		kept = append(kept, e)
	}
	f.log = kept
}

// Source returns the feed as seen by a reader of audience aud speaking the
// newest protocol.
func (f *Feed) Source(aud wire.Audience) replica.Source { return f.SourceAt(aud, wire.ProtocolVersion) }

// SourceAt returns the feed as a server speaking protocol version protocol
// serves it to a reader of audience aud: kinds newer than protocol are
// left out.
func (f *Feed) SourceAt(aud wire.Audience, protocol int) replica.Source {
	return &source{f, aud, protocol}
}

// State returns what a replica of store for aud must hold after applying
// the checkpoint at version (newest protocol).
func (f *Feed) State(store string, aud wire.Audience, version int64) map[replica.Key]replica.Record {
	return f.StateAt(store, aud, wire.ProtocolVersion, version)
}

// StateAt is State for a replica served in protocol version protocol.
func (f *Feed) StateAt(store string, aud wire.Audience, protocol int, version int64) map[replica.Key]replica.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[replica.Key]replica.Record{}
	for _, c := range f.visible(store, aud, protocol, 0, version, true) {
		out[replica.Key{Kind: c.Kind, ID: c.ID}] = replica.Record{Version: c.Version, Data: c.Data}
	}
	return out
}

// visible returns the compacted changes of store for aud (speaking
// protocol) in (since, target]
// (or all of (0, target] without tombstones when reset), ordered by version.
func (f *Feed) visible(store string, aud wire.Audience, protocol int, since, target int64, reset bool) []wire.Change {
	last := map[replica.Key]wire.Change{}
	for _, e := range f.log {
		if (e.scope != store && e.scope != "") || !aud.SeesAt(e.Kind, protocol) || e.Version > target {
			continue
		}
		last[replica.Key{Kind: e.Kind, ID: e.ID}] = e.Change
	}
	var out []wire.Change
	for _, c := range last {
		if reset && c.Deleted || !reset && c.Version <= since {
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

type source struct {
	f        *Feed
	aud      wire.Audience
	protocol int
}

func (s *source) Checkpoint(ctx context.Context, store string) (wire.Checkpoint, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	cps := s.f.checkpoints[store]
	if len(cps) == 0 {
		return wire.Checkpoint{Store: store}, nil
	}
	return cps[len(cps)-1], nil
}

func (s *source) Changes(ctx context.Context, req wire.ChangesRequest) (wire.Page, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	isCheckpoint := false
	for _, cp := range s.f.checkpoints[req.Store] {
		isCheckpoint = isCheckpoint || cp.Version == req.Target
	}
	if !isCheckpoint || req.Target < s.f.horizon {
		return wire.Page{}, catalog.Errorf(catalog.Gone, "checkpoint at version %d is not served", req.Target)
	}
	limit := req.Limit
	if limit <= 0 || limit > wire.MaxPageLimit {
		limit = wire.DefaultPageLimit
	}
	reset := req.Since == 0 || req.Since < s.f.horizon
	all := s.f.visible(req.Store, s.aud, s.protocol, req.Since, req.Target, reset)
	p := wire.Page{Protocol: s.protocol, Store: req.Store, Audience: s.aud, Since: req.Since,
		Target: req.Target, Reset: reset, After: req.After, Next: req.After, Changes: []wire.Change{}}
	for _, c := range all {
		if c.Version <= req.After {
			continue
		}
		if len(p.Changes) == limit {
			return p, nil
		}
		p.Changes = append(p.Changes, c)
		p.Next = c.Version
	}
	p.Done = true
	return p, nil
}
