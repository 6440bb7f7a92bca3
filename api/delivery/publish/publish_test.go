package publish

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"aisle/sync/published"
	"aisle/worker/gguf"
)

const model = "../../../worker/testdata/models/stories260K.gguf"

func TestPublishRoundTrip(t *testing.T) {
	root := t.TempDir()
	m, err := Publish(root, model, PublishOptions{ID: "stories260k", ShardSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	if m.Size != int64(len(orig)) || m.Architecture != "llama" || m.Summary.Layers != 5 || m.Summary.VocabSize != 512 || m.Summary.Tensors == 0 {
		t.Errorf("manifest summary %+v", m)
	}
	var joined []byte
	var shards [][]byte
	for i, sh := range m.Shards {
		b, err := os.ReadFile(filepath.Join(root, m.ID, filepath.FromSlash(sh.Path)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != sh.SHA256 || int64(len(b)) != sh.Size {
			t.Errorf("shard %d does not match its manifest entry", i)
		}
		if i < len(m.Shards)-1 && (sh.Size < 32<<10 || sh.Size > 128<<10) {
			t.Errorf("shard %d has %d bytes, want between target/2 and 2*target", i, sh.Size)
		}
		joined = append(joined, b...)
		shards = append(shards, b)
	}
	if !bytes.Equal(joined, orig) {
		t.Fatal("shards do not join to the original file")
	}
	f, err := gguf.OpenShards(shards)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := gguf.Open(model)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	for _, ti := range ref.Tensors {
		a, _ := ref.TensorData(ti.Name)
		b, err := f.TensorData(ti.Name)
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("tensor %s differs when read from shards (%v)", ti.Name, err)
		}
	}
	var onDisk published.Manifest
	b, _ := os.ReadFile(filepath.Join(root, m.ID, "manifest.json"))
	if err := json.Unmarshal(b, &onDisk); err != nil || onDisk.Validate() != nil {
		t.Fatalf("manifest on disk: %v", err)
	}
	var idx published.Index
	b, _ = os.ReadFile(filepath.Join(root, "index.json"))
	if err := json.Unmarshal(b, &idx); err != nil || len(idx.Models) != 1 || idx.Models[0].Revision != m.Revision {
		t.Fatalf("index %s (%v)", b, err)
	}
	// Publishing again changes nothing.
	m2, err := Publish(root, model, PublishOptions{ID: "stories260k", ShardSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := os.ReadFile(filepath.Join(root, m.ID, "manifest.json"))
	if m2.Revision != m.Revision || !bytes.Equal(b, b) || !bytes.Equal(b2, mustJSON(t, m2)) {
		t.Error("republishing changed the manifest")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestPublishErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		opts PublishOptions
	}{
		{"bad id", model, PublishOptions{ID: "Bad ID"}},
		{"tiny shards", model, PublishOptions{ID: "x", ShardSize: 100}},
		{"missing file", "nope.gguf", PublishOptions{ID: "x"}},
		{"not gguf", "publish.go", PublishOptions{ID: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Publish(t.TempDir(), tt.src, tt.opts); err == nil {
				t.Error("Publish succeeded")
			}
		})
	}
}
