package replica

import (
	"encoding/json"
	"testing"

	"aisle/sync/catalog"
)

// FuzzDecodeVector holds the fast path of decodeVector to encoding/json:
// whatever it accepts, encoding/json decodes to the same value.
func FuzzDecodeVector(f *testing.F) {
	for _, v := range []catalog.Vector{{Model: "aisle-concepts-1", V: "AAE/+w=="}, {Model: "", V: ""}, {Model: `q"uote`, V: "<&>"}, {Model: "é", V: "\n"}} {
		b, _ := json.Marshal(v)
		f.Add(b)
	}
	f.Add([]byte(`{"model":"m","v":"a","x":1}`))
	f.Add([]byte(`{"model":"m","v":"a\"}`))
	f.Add([]byte(`{"v":"a","model":"m"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeVector(b)
		var want catalog.Vector
		werr := json.Unmarshal(b, &want)
		if err == nil && werr != nil {
			t.Fatalf("decodeVector accepted %q, which encoding/json rejects: %v", b, werr)
		}
		if err == nil && got != want {
			t.Fatalf("decodeVector(%q) = %+v, encoding/json %+v", b, got, want)
		}
	})
}
