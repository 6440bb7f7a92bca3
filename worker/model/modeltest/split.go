package modeltest

import (
	"bytes"
	"io"
	"math"
	"testing"

	"aisle/worker/gguf"
)

// The tests of a model split across workers (model.Share) share these.

// LazyFile opens data as a stored model is opened in the browser (gguf.OpenLazyShards): cut
// into shards of shardSize bytes, wherever that falls, each read when first needed. A shard read
// twice fails the test: a split load reads each once.
func LazyFile(t testing.TB, data []byte, shardSize int) *gguf.File {
	t.Helper()
	var sizes []uint64
	for off := 0; off < len(data); off += shardSize {
		sizes = append(sizes, uint64(min(shardSize, len(data)-off)))
	}
	loads := map[int]int{}
	f, err := gguf.OpenLazyShards(sizes, func(i int) (io.ReaderAt, error) {
		if loads[i]++; loads[i] > 1 {
			t.Errorf("shard %d loaded %d times", i, loads[i])
		}
		lo := i * shardSize
		return bytes.NewReader(data[lo : lo+int(sizes[i])]), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// SameLogits fails the test unless got equals want bit for bit.
func SameLogits(t testing.TB, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d logits, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: logit %d is %v, want %v (bit for bit)", what, i, got[i], want[i])
		}
	}
}
