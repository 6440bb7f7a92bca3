package sqlstore

import (
	"container/list"
	"context"
	"database/sql"
	"fmt"
	"sort"
	gosync "sync"

	"golang.org/x/sync/singleflight"
)

// visibleSet is what a reader of a store sees at a checkpoint: the
// versions of the latest change of each record at the target, in order.
// Every page of every sync to that target is a range of it, whatever the
// device's cursor, page size or position, so it is read from the database
// once and each page is a binary search.
//
// It never changes: later writes add versions above the target and mark
// changes superseded at versions above it; compaction deletes only changes
// superseded at or below the horizon and tombstones at or below it, none of
// which a served page holds (a target below the horizon is Gone, and a
// delta's cursor is at or above it).
type visibleSet struct {
	versions []int64 // every change, tombstones included (deltas)
	live     []int64 // without tombstones (snapshots)
}

// page returns at most n versions above lower: from the snapshot's list
// when reset.
func (v *visibleSet) page(lower int64, reset bool, n int) []int64 {
	l := v.versions
	if reset {
		l = v.live
	}
	i := sort.Search(len(l), func(i int) bool { return l[i] > lower })
	return l[i:min(len(l), i+n)]
}

func (v *visibleSet) bytes() int { return 8*(len(v.versions)+len(v.live)) + 128 }

// visibleKey names a visible set.
type visibleKey struct {
	store  string
	target int64
	reader reader
}

// visibleCache keeps visible sets, least recently used first out when
// their total passes maxBytes, and reads each missing one once however
// many devices ask for it at the same time.
type visibleCache struct {
	maxBytes int
	flight   singleflight.Group
	mu       gosync.Mutex // guards the fields below
	size     int
	ll       *list.List // of *visibleEntry, most recent at the front
	index    map[visibleKey]*list.Element
}

type visibleEntry struct {
	key visibleKey
	set *visibleSet
}

func newVisibleCache(maxBytes int) *visibleCache {
	return &visibleCache{maxBytes: maxBytes, ll: list.New(), index: map[visibleKey]*list.Element{}}
}

func (c *visibleCache) get(k visibleKey) (*visibleSet, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.index[k]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*visibleEntry).set, true
}

func (c *visibleCache) put(k visibleKey, v *visibleSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.index[k]; ok || v.bytes() > c.maxBytes {
		return
	}
	c.index[k] = c.ll.PushFront(&visibleEntry{k, v})
	c.size += v.bytes()
	for c.size > c.maxBytes {
		el := c.ll.Back()
		old := el.Value.(*visibleEntry)
		c.ll.Remove(el)
		delete(c.index, old.key)
		c.size -= old.set.bytes()
	}
}

// visibleQuery selects, for scope $1 and the chain-wide scope ”, the
// version and tombstone flag of every change at or below $2 that is the
// latest of its scope, kind and ID at $2 (not superseded by then), in
// version order: a merge of one range of the changes_page index (scope,
// version, superseded, deleted, kind) per scope, read from the index alone.
//
// A record that moved between a store and the chain-wide scope is a
// tombstone in the old scope followed by the record in the new one (see
// writeOne), so a reader of both scopes may get that tombstone before the
// record: applied in order, the result is the same.
func visibleQuery(r reader) string {
	branch := func(scope string) string {
		return `SELECT version, deleted FROM changes
  WHERE scope = ` + scope + ` AND version <= $2 AND (superseded = 0 OR superseded > $2)` + kindFilter(r.aud, r.protocol)
	}
	return branch("$1") + `
UNION ALL
` + branch("''") + `
ORDER BY version`
}

// readVisible reads in tx the visible set named k, and keeps it. Devices
// that ask at once share one read (in the first one's transaction: the set
// is the same in any).
func (s *DB) readVisible(ctx context.Context, tx *sql.Tx, k visibleKey) (*visibleSet, error) {
	v, err, _ := s.visibles.flight.Do(fmt.Sprintf("%s|%s|%d|%d", k.store, k.reader.aud, k.reader.protocol, k.target), func() (any, error) {
		rows, err := tx.StmtContext(ctx, s.prepared(visibleQueries[k.reader])).QueryContext(ctx, k.store, k.target)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		v := &visibleSet{}
		for rows.Next() {
			var version int64
			var del int
			if err := rows.Scan(&version, &del); err != nil {
				return nil, err
			}
			v.versions = append(v.versions, version)
			if del == 0 {
				v.live = append(v.live, version)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		s.visibles.put(k, v)
		return v, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*visibleSet), nil
}
