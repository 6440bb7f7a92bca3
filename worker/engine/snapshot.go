package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"aisle/worker/model"
)

// A prompt snapshot is the KV cache of a prompt's first tokens, written by Snapshot and read back
// by Restore on a later cold start (a page reload, a restarted worker), so that the start every
// conversation shares is not evaluated again. Layout, little-endian:
//
//	"AISLEKV" SnapshotVersion(1 byte)
//	model fingerprint  32 bytes (Fingerprint: the model's shape and its weights' first bytes)
//	token count n      uint32, then n uint32 token ids
//	KV bytes           uint32 length, then the runner's keys and values (model.Session.SaveKV)
//	CRC-32C            uint32 over everything before it (damage, not tampering: the snapshot is
//	                   the device's own; a 135M-class model's is 16 MB, which SHA-256 takes 0.1 s to
//	                   check in a browser and CRC-32C 14 ms)
//
// Restore checks every part: a snapshot of another model, engine version or prompt, or a damaged
// one, is refused with ErrSnapshot and changes nothing.
//
// History: 1 ended with a SHA-256; 2 (2026-12-07) with a CRC-32C.
const SnapshotVersion = 2

// ErrSnapshot means a snapshot does not belong to this model and prompt, or is damaged.
var ErrSnapshot = errors.New("prompt snapshot refused")

// KVSnapshotter is a runner whose KV cache can be saved and restored (the CPU backend).
type KVSnapshotter interface {
	SaveKV(n int) ([]byte, error)
	RestoreKV(n int, kv []byte) error
}

const snapshotMagic = "AISLEKV"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CanSnapshot reports whether the backend in use can save and restore its KV cache.
func (e *Engine) CanSnapshot() bool {
	_, ok := e.runner.(KVSnapshotter)
	return ok
}

// Fingerprint identifies the loaded model for snapshots: a hash of its configuration and of the
// first and last 4 KiB of every weight matrix (a whole-file hash would cost seconds on a phone;
// the store that holds a snapshot also keys it by the model's revision).
func (e *Engine) Fingerprint() [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%+v\n", e.Model.Config)
	edges := func(m *model.Matrix) {
		const k = 4 << 10
		fmt.Fprintf(h, "%s %v %dx%d\n", m.Name, m.Type, m.Rows, m.Cols)
		h.Write(m.Data[:min(k, len(m.Data))])
		h.Write(m.Data[max(0, len(m.Data)-k):])
	}
	w := e.Model.W
	edges(&w.Embed)
	edges(&w.Output)
	for i := range w.Layers {
		l := &w.Layers[i]
		for _, m := range []*model.Matrix{&l.Wq, &l.Wk, &l.Wv, &l.Wo, &l.Wgate, &l.Wup, &l.Wdown} {
			edges(m)
		}
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Holds reports whether the KV cache starts with tokens.
func (e *Engine) Holds(tokens []int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.holds(tokens)
}

// holds is Holds for a caller that holds e.mu.
func (e *Engine) holds(tokens []int) bool {
	return commonPrefix(e.history, tokens) == len(tokens) && e.runner.Pos() >= len(tokens)
}

// Snapshot returns the KV cache of tokens, which must be what the cache starts with (after
// Prefill(tokens) or a request whose prompt began with them).
func (e *Engine) Snapshot(tokens []int) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.runner.(KVSnapshotter)
	if !ok {
		return nil, fmt.Errorf("%w: the %s backend cannot save its KV cache", ErrSnapshot, e.Backend)
	}
	if !e.holds(tokens) {
		return nil, fmt.Errorf("%w: the cache does not start with these %d tokens", ErrSnapshot, len(tokens))
	}
	kv, err := s.SaveKV(len(tokens))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(snapshotMagic) + 1 + 32 + 4 + 4*len(tokens) + 4 + len(kv) + 4)
	b.WriteString(snapshotMagic)
	b.WriteByte(SnapshotVersion)
	fp := e.Fingerprint()
	b.Write(fp[:])
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(tokens))))
	for _, t := range tokens {
		b.Write(binary.LittleEndian.AppendUint32(nil, uint32(t)))
	}
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(kv))))
	b.Write(kv)
	b.Write(binary.LittleEndian.AppendUint32(nil, crc32.Checksum(b.Bytes(), castagnoli)))
	return b.Bytes(), nil
}

// Restore loads a snapshot of tokens into the KV cache, as if Prefill(tokens) had run. When the
// cache already starts with tokens it is left as it is.
func (e *Engine) Restore(tokens []int, snap []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.runner.(KVSnapshotter)
	if !ok {
		return fmt.Errorf("%w: the %s backend cannot restore a KV cache", ErrSnapshot, e.Backend)
	}
	if e.holds(tokens) {
		return nil
	}
	kv, err := e.checkSnapshot(tokens, snap)
	if err != nil {
		return err
	}
	if len(tokens) >= e.runner.ContextLen() {
		return fmt.Errorf("%w: %d tokens do not fit a context of %d", ErrSnapshot, len(tokens), e.runner.ContextLen())
	}
	if err := s.RestoreKV(len(tokens), kv); err != nil {
		e.resetCache()
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	e.history = append(e.history[:0], tokens...)
	return nil
}

// checkSnapshot returns the KV bytes of snap after checking that it is whole and belongs to this
// model, engine version and prompt.
func (e *Engine) checkSnapshot(tokens []int, snap []byte) ([]byte, error) {
	const head = len(snapshotMagic) + 1 + 32 + 4
	if len(snap) < head+4+4 {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrSnapshot, len(snap))
	}
	if string(snap[:len(snapshotMagic)]) != snapshotMagic || snap[len(snapshotMagic)] != SnapshotVersion {
		return nil, fmt.Errorf("%w: not a version %d snapshot", ErrSnapshot, SnapshotVersion)
	}
	body, sum := snap[:len(snap)-4], binary.LittleEndian.Uint32(snap[len(snap)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: its checksum does not match (damaged)", ErrSnapshot)
	}
	fp := e.Fingerprint()
	if !bytes.Equal(body[len(snapshotMagic)+1:len(snapshotMagic)+33], fp[:]) {
		return nil, fmt.Errorf("%w: it was made with another model", ErrSnapshot)
	}
	rest := body[head-4:]
	n := int(binary.LittleEndian.Uint32(rest))
	rest = rest[4:]
	if n != len(tokens) || len(rest) < 4*n+4 {
		return nil, fmt.Errorf("%w: it holds %d tokens, the prompt start is %d", ErrSnapshot, n, len(tokens))
	}
	for i, t := range tokens {
		if int(binary.LittleEndian.Uint32(rest[4*i:])) != t {
			return nil, fmt.Errorf("%w: it is of another prompt (token %d differs)", ErrSnapshot, i)
		}
	}
	rest = rest[4*n:]
	m := int(binary.LittleEndian.Uint32(rest))
	if m != len(rest)-4 {
		return nil, fmt.Errorf("%w: %d bytes of keys and values announced, %d present", ErrSnapshot, m, len(rest)-4)
	}
	return rest[4:], nil
}
