// Package publish splits a GGUF model into the published form of package delivery: shards
// of 16-64 MiB (cut at tensor boundaries where possible), their SHA-256, and a manifest with the
// model's summary read from the GGUF header.
package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"aisle/api/delivery"
	"aisle/sync/published"
	"aisle/worker/gguf"
)

// PublishOptions configures Publish.
type PublishOptions struct {
	ID   string // model ID (published.ValidID); required
	Name string // display name; defaults to general.name of the GGUF
	// ShardSize is the target shard size in bytes (default delivery.DefaultShardSize). Shards end on a
	// tensor boundary between ShardSize/2 and 2*ShardSize when one exists, else at ShardSize.
	// Values below 4 KiB are refused; the 16-64 MiB range is the production default, smaller
	// values are for tests.
	ShardSize int64
}

// Publish splits the GGUF file at src into shards under root (see the package comment), writes
// its manifest and adds it to root/index.json (replacing an entry with the same ID). Publishing
// the same file twice writes the same bytes. Older revisions stay on disk, so clients in the
// middle of a download can finish; delete them by hand when no client needs them.
func Publish(root, src string, opts PublishOptions) (*published.Manifest, error) {
	if !published.ValidID(opts.ID) {
		return nil, fmt.Errorf("publish: invalid model id %q (want 1-64 of a-z 0-9 . _ -)", opts.ID)
	}
	target := opts.ShardSize
	if target == 0 {
		target = delivery.DefaultShardSize
	}
	if target < 4096 {
		return nil, fmt.Errorf("publish: shard size %d below 4096 bytes", target)
	}
	f, err := gguf.Open(src)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	defer f.Close()
	m, cuts, err := describe(f, opts)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	m.Size = st.Size()
	whole := sha256.New()
	if _, err := io.Copy(whole, file); err != nil {
		return nil, fmt.Errorf("publish: hash %s: %w", src, err)
	}
	m.SHA256 = hex.EncodeToString(whole.Sum(nil))
	m.Revision = m.SHA256[:16]

	bounds := delivery.PlanShards(m.Size, cuts, target)
	dir := filepath.Join(root, m.ID, m.Revision)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	for i := range len(bounds) - 1 {
		off, size := bounds[i], bounds[i+1]-bounds[i]
		sh := published.Shard{Path: published.ShardPath(m.Revision, i), Offset: off, Size: size}
		sum, err := copyShard(file, off, size, filepath.Join(root, m.ID, filepath.FromSlash(sh.Path)))
		if err != nil {
			return nil, fmt.Errorf("publish: shard %d: %w", i, err)
		}
		sh.SHA256 = sum
		m.Shards = append(m.Shards, sh)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := writeJSON(filepath.Join(root, m.ID, "manifest.json"), m); err != nil {
		return nil, err
	}
	if err := updateIndex(root, m); err != nil {
		return nil, err
	}
	return m, nil
}

// describe reads the manifest fields that come from the GGUF header and returns the preferred
// cut points (absolute offsets where tensors start).
func describe(f *gguf.File, opts PublishOptions) (*published.Manifest, []int64, error) {
	md := f.Metadata
	arch, ok := md.String("general.architecture")
	if !ok || arch == "" {
		return nil, nil, errors.New("publish: the GGUF has no general.architecture")
	}
	m := &published.Manifest{Format: published.ManifestFormat, ID: opts.ID, Name: opts.Name, Architecture: arch}
	if m.Name == "" {
		m.Name, _ = md.String("general.name")
	}
	s := &m.Summary
	s.Tensors = len(f.Tensors)
	s.Types = map[string]int{}
	cuts := make([]int64, 0, len(f.Tensors))
	for _, t := range f.Tensors {
		s.Parameters += t.Elements()
		s.Types[t.Type.String()]++
		cuts = append(cuts, int64(f.DataStart+t.Offset))
	}
	s.Layers, _ = md.Uint32(arch + ".block_count")
	s.Embedding, _ = md.Uint32(arch + ".embedding_length")
	s.Heads, _ = md.Uint32(arch + ".attention.head_count")
	s.KVHeads, _ = md.Uint32(arch + ".attention.head_count_kv")
	s.ContextLength, _ = md.Uint32(arch + ".context_length")
	if toks, ok := md.Strings("tokenizer.ggml.tokens"); ok {
		s.VocabSize = len(toks)
	}
	s.ChatTemplate = md.Has("tokenizer.chat_template")
	return m, cuts, nil
}

func copyShard(src io.ReaderAt, off, size int64, dst string) (string, error) {
	tmp := dst + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), io.NewSectionReader(src, off, size))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

func updateIndex(root string, m *published.Manifest) error {
	path := filepath.Join(root, "index.json")
	idx := published.Index{Format: published.ManifestFormat}
	switch b, err := os.ReadFile(path); {
	case err == nil:
		if err := json.Unmarshal(b, &idx); err != nil {
			return fmt.Errorf("publish: read %s: %w", path, err)
		}
		if idx.Format != published.ManifestFormat {
			return fmt.Errorf("publish: %s has format %d, want %d", path, idx.Format, published.ManifestFormat)
		}
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("publish: %w", err)
	}
	entry := published.IndexEntry{ID: m.ID, Revision: m.Revision, Name: m.Name, Architecture: m.Architecture,
		Size: m.Size, Manifest: m.ID + "/manifest.json"}
	out := idx.Models[:0]
	for _, e := range idx.Models {
		if e.ID != m.ID {
			out = append(out, e)
		}
	}
	idx.Models = append(out, entry)
	sort.Slice(idx.Models, func(i, j int) bool { return idx.Models[i].ID < idx.Models[j].ID })
	return writeJSON(path, idx)
}
