package published

import (
	"encoding/json"
	"strings"
	"testing"
)

func validManifest() *Manifest {
	sha := strings.Repeat("ab", 32)
	return &Manifest{Format: ManifestFormat, ID: "tiny", Revision: sha[:16], Architecture: "llama", Size: 30, SHA256: sha,
		Shards: []Shard{
			{Path: ShardPath(sha[:16], 0), Offset: 0, Size: 20, SHA256: strings.Repeat("01", 32)},
			{Path: ShardPath(sha[:16], 1), Offset: 20, Size: 10, SHA256: strings.Repeat("02", 32)},
		}}
}

func TestManifestValidate(t *testing.T) {
	tests := []struct {
		name  string
		given func(m *Manifest)
		ok    bool
	}{
		{"valid", func(m *Manifest) {}, true},
		{"bad format", func(m *Manifest) { m.Format = 2 }, false},
		{"bad id", func(m *Manifest) { m.ID = "../x" }, false},
		{"upper-case id", func(m *Manifest) { m.ID = "Tiny" }, false},
		{"revision mismatch", func(m *Manifest) { m.Revision = strings.Repeat("0", 16) }, false},
		{"gap between shards", func(m *Manifest) { m.Shards[1].Offset = 21 }, false},
		{"short cover", func(m *Manifest) { m.Size = 31 }, false},
		{"bad shard hash", func(m *Manifest) { m.Shards[0].SHA256 = "xyz" }, false},
		{"shard path escapes", func(m *Manifest) { m.Shards[0].Path = "../../etc/passwd" }, false},
		{"shard path of other revision", func(m *Manifest) { m.Shards[0].Path = ShardPath(strings.Repeat("1", 16), 0) }, false},
		{"no shards", func(m *Manifest) { m.Shards = nil }, false},
		{"zero-size shard", func(m *Manifest) { m.Shards[1].Size = 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validManifest()
			tt.given(m)
			err := m.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func FuzzManifestValidate(f *testing.F) {
	b, _ := json.Marshal(validManifest())
	f.Add(b)
	f.Add([]byte(`{"format":1,"shards":[{"offset":-1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Manifest
		if json.Unmarshal(b, &m) != nil || m.Validate() != nil {
			return
		}
		var sum int64
		for _, s := range m.Shards {
			if !strings.HasPrefix(s.Path, m.Revision+"/") || s.Size <= 0 {
				t.Fatalf("accepted shard %+v", s)
			}
			sum += s.Size
		}
		if sum != m.Size {
			t.Fatalf("accepted shards covering %d of %d bytes", sum, m.Size)
		}
	})
}
