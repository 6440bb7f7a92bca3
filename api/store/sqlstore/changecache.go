package sqlstore

import (
	gosync "sync"

	"aisle/sync/wire"
)

// changeCache keeps log entries by version, so that a page reads only
// versions from the database (an index-only range) and the entries from
// memory. An entry never changes once logged: compaction only deletes
// entries, which the page query then no longer returns, so nothing is ever
// invalidated, and several server processes on one database each keep their
// own cache safely.
//
// Bounded by bytes with two generations: entries are added to the current
// one; when it is full it becomes the previous one and the one before is
// dropped; an entry found in the previous generation moves to the current.
// So the entries used recently stay, in O(1) per lookup.
type changeCache struct {
	mu        gosync.RWMutex // guards everything below
	genBytes  int            // the bound of one generation (half the cache)
	size      int            // bytes in cur
	cur, prev map[int64]wire.Change
}

// newChangeCache returns a cache of about maxBytes of entries.
func newChangeCache(maxBytes int) *changeCache {
	return &changeCache{genBytes: maxBytes / 2, cur: map[int64]wire.Change{}}
}

// entryBytes is what an entry is counted for: its data and ID plus the
// map's and the struct's overhead.
func entryBytes(c wire.Change) int { return len(c.Data) + len(c.ID) + 96 }

// fill sets out[i] for each versions[i] the cache holds and returns the
// indexes of those it does not. Entries of the current generation are read
// under the read lock, so that devices syncing at once do not queue.
func (c *changeCache) fill(versions []int64, out []wire.Change) (missing []int) {
	var older []int // not in the current generation
	c.mu.RLock()
	for i, v := range versions {
		if e, ok := c.cur[v]; ok {
			out[i] = e
		} else {
			older = append(older, i)
		}
	}
	c.mu.RUnlock()
	if len(older) == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, i := range older {
		v := versions[i]
		if e, ok := c.cur[v]; ok { // moved there meanwhile
			out[i] = e
			continue
		}
		if e, ok := c.prev[v]; ok {
			out[i] = e
			delete(c.prev, v)
			c.addLocked(e)
			continue
		}
		missing = append(missing, i)
	}
	return missing
}

// add keeps entries read from the log.
func (c *changeCache) add(entries []wire.Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range entries {
		if _, ok := c.cur[e.Version]; !ok {
			c.addLocked(e)
		}
	}
}

func (c *changeCache) addLocked(e wire.Change) {
	n := entryBytes(e)
	if c.size+n > c.genBytes {
		c.prev, c.cur, c.size = c.cur, make(map[int64]wire.Change, len(c.cur)), 0
	}
	c.cur[e.Version] = e
	c.size += n
}
