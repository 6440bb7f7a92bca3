package delivery

import "sort"

// Shard size bounds used by Publish when the caller does not choose: a shard holds whole tensors
// where it can, between MinShardSize and MaxShardSize bytes; only a tensor larger than
// MaxShardSize is cut in the middle.
const (
	MinShardSize     = 16 << 20
	DefaultShardSize = 32 << 20
	MaxShardSize     = 64 << 20
)

// PlanShards returns the shard boundaries for a file of size bytes: b[0] = 0 < b[1] < ... <
// b[n] = size, shard i being [b[i], b[i+1]). Each shard ends at a preferred cut (a tensor start)
// when one lies between target/2 and 2*target bytes after the shard's start, choosing the one
// nearest target; otherwise it ends target bytes after its start. The last shard holds the rest:
// up to 2*target bytes.
func PlanShards(size int64, cuts []int64, target int64) []int64 {
	cuts = append([]int64(nil), cuts...)
	sort.Slice(cuts, func(i, j int) bool { return cuts[i] < cuts[j] })
	b := []int64{0}
	start := int64(0)
	for size-start > 2*target {
		lo, hi := start+target/2, start+2*target
		best := int64(-1)
		i := sort.Search(len(cuts), func(i int) bool { return cuts[i] >= lo })
		for ; i < len(cuts) && cuts[i] <= hi; i++ {
			if best < 0 || abs(cuts[i]-start-target) < abs(best-start-target) {
				best = cuts[i]
			}
		}
		if best < 0 {
			best = start + target
		}
		b = append(b, best)
		start = best
	}
	if size > 0 {
		b = append(b, size)
	}
	return b
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
