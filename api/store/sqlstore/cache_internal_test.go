package sqlstore

import (
	"slices"
	"testing"

	"aisle/sync/wire"
)

func TestChangeCacheGenerations(t *testing.T) {
	entry := func(v int64) wire.Change { return wire.Change{Version: v, ID: "x", Data: make([]byte, 3)} } // 100 bytes each (see entryBytes)
	c := newChangeCache(400)                                                                              // two generations of 200 bytes
	c.add([]wire.Change{entry(1), entry(2)})
	c.add([]wire.Change{entry(3)}) // cur full: {1, 2} becomes the previous generation
	out := make([]wire.Change, 1)
	if missing := c.fill([]int64{1}, out); len(missing) != 0 || out[0].Version != 1 {
		t.Fatalf("1 held: missing %v, got %+v", missing, out[0])
	}
	// 1 was used and moved to the current generation; 2 was not, and the
	// next rotation drops it.
	c.add([]wire.Change{entry(4)})
	if missing := c.fill([]int64{1, 2, 3, 4}, make([]wire.Change, 4)); !slices.Equal(missing, []int{1}) {
		t.Fatalf("missing indexes %v, want [1] (version 2 only)", missing)
	}
}

func TestVisibleSetPage(t *testing.T) {
	v := &visibleSet{versions: []int64{3, 5, 8, 9, 12}, live: []int64{3, 8, 12}}
	for _, tc := range []struct {
		lower int64
		reset bool
		n     int
		want  []int64
	}{
		{0, false, 10, []int64{3, 5, 8, 9, 12}},
		{5, false, 2, []int64{8, 9}},
		{4, true, 10, []int64{8, 12}},
		{12, false, 10, []int64{}},
		{0, true, 1, []int64{3}},
	} {
		if got := v.page(tc.lower, tc.reset, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("page(%d, %v, %d) = %v, want %v", tc.lower, tc.reset, tc.n, got, tc.want)
		}
	}
}

func TestVisibleCacheEvictsLeastRecent(t *testing.T) {
	set := func(n int) *visibleSet { return &visibleSet{versions: make([]int64, n)} } // 8n+128 bytes
	c := newVisibleCache(3 * (8*10 + 128))
	key := func(i int64) visibleKey {
		return visibleKey{"s1", i, reader{wire.AudiencePublic, wire.ProtocolVersion}}
	}
	for i := range int64(3) {
		c.put(key(i), set(10))
	}
	c.get(key(0)) // 1 is now the least recently used
	c.put(key(3), set(10))
	for i, want := range []bool{true, false, true, true} {
		if _, ok := c.get(key(int64(i))); ok != want {
			t.Errorf("set %d held: %v, want %v", i, ok, want)
		}
	}
	c.put(key(4), set(1000)) // larger than the whole cache: not kept, nothing evicted
	if _, ok := c.get(key(4)); ok || c.ll.Len() != 3 {
		t.Errorf("an oversized set was kept or evicted others (%d held)", c.ll.Len())
	}
}
