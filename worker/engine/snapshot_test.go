package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

// TestSnapshotRestore: a snapshot of a prompt's start, restored into a freshly loaded engine,
// is reused by the next request, which generates exactly what it generates from nothing; a
// damaged snapshot, one of another prompt or model, or a truncated one is refused and changes
// nothing.
func TestSnapshotRestore(t *testing.T) {
	first := load(t)
	start := first.Tok.Encode("Once upon a time, there was a little girl named Lily who", true, false)
	if err := first.Prefill(context.Background(), start); err != nil {
		t.Fatal(err)
	}
	snap, err := first.Snapshot(start)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Snapshot(append(start[:len(start):len(start)], 5)); !errors.Is(err, ErrSnapshot) {
		t.Errorf("a snapshot of tokens the cache does not hold: %v", err)
	}
	prompt := append(append([]int(nil), start...), first.Tok.Encode(" loved to play", false, false)...)
	want, _ := collect(t, load(t), Request{PromptTokens: prompt, MaxTokens: 24})

	restored := load(t)
	reseal := func(b []byte) []byte { // a valid checksum over altered contents
		b = append([]byte(nil), b...)
		binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], crc32.MakeTable(crc32.Castagnoli)))
		return b
	}
	damaged := append([]byte(nil), snap...)
	damaged[len(damaged)/2] ^= 1
	otherModel := append([]byte(nil), snap...)
	otherModel[10] ^= 1
	olderVersion := append([]byte(nil), snap...)
	olderVersion[len("AISLEKV")] = 1
	for name, bad := range map[string]struct {
		tokens []int
		snap   []byte
		why    string
	}{
		"damaged":        {start, damaged, "checksum"},
		"truncated":      {start, snap[:len(snap)-100], "checksum"},
		"empty":          {start, nil, "too short"},
		"another prompt": {append(start[:len(start)-1:len(start)-1], start[len(start)-1]+1), snap, "another prompt"},
		"shorter prompt": {start[:len(start)-1], snap, "tokens"},
		"another model":  {start, reseal(otherModel), "another model"},
		"older version":  {start, reseal(olderVersion), "not a version 2"},
	} {
		if err := restored.Restore(bad.tokens, bad.snap); !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), bad.why) {
			t.Errorf("%s: %v, want ErrSnapshot saying %q", name, err, bad.why)
		}
	}
	if err := restored.Restore(start, snap); err != nil {
		t.Fatal(err)
	}
	got, _ := collect(t, restored, Request{PromptTokens: prompt, MaxTokens: 24})
	if got.CachedTokens != len(start) || !sameInts(got.Tokens, want.Tokens) {
		t.Errorf("after the restore: %d tokens reused (want %d), generated %v, from nothing %v", got.CachedTokens, len(start), got.Tokens, want.Tokens)
	}
	// A cache that already starts with the tokens keeps its conversation.
	if err := restored.Restore(start, snap); err != nil {
		t.Fatal(err)
	}
	follow := append(append([]int(nil), prompt...), got.Tokens...)
	if next, _ := collect(t, restored, Request{PromptTokens: follow, MaxTokens: 2}); next.CachedTokens < len(prompt) {
		t.Errorf("a repeated restore cut the conversation: %d tokens reused", next.CachedTokens)
	}
}
