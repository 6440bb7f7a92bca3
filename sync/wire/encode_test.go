package wire

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// pageOf builds a page from fuzzed parts; Data is made compact and
// HTML-escaped by json.Marshal, as the log stores it.
func pageOf(t testing.TB, store, id string, data string, v int64, deleted, reset, done bool, n int) Page {
	var d json.RawMessage
	if !deleted {
		raw, err := json.Marshal(map[string]any{"name": data, "n": v, "list": []string{data, id}})
		if err != nil {
			t.Fatal(err)
		}
		d = raw
	}
	p := Page{Protocol: 2, Store: store, Audience: AudienceStaff, Since: v / 2, Target: v * 2, Reset: reset, After: v, Next: v + int64(n), Done: done}
	if n >= 0 {
		p.Changes = []Change{}
	}
	for i := range n {
		p.Changes = append(p.Changes, Change{Version: v + int64(i) + 1, Kind: KindProduct, ID: id, Deleted: deleted, Data: d})
	}
	return p
}

func checkSame(t *testing.T, p Page) {
	t.Helper()
	want, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := AppendPageJSON(nil, p); !bytes.Equal(got, want) {
		t.Fatalf("AppendPageJSON differs from json.Marshal:\n got %s\nwant %s", got, want)
	}
}

func TestAppendPageJSONMatchesMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "Z", "0", "-", " ", "\"", "\\", "<", ">", "&", "\n", "\x00", "\x7f", "é", "\u2028", "\xff", "😀"}
	word := func() string {
		var b []byte
		for range rng.IntN(8) {
			b = append(b, alphabet[rng.IntN(len(alphabet))]...)
		}
		return string(b)
	}
	for range 2000 {
		checkSame(t, pageOf(t, word(), word(), word(), rng.Int64N(1<<53), rng.IntN(3) == 0, rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(5)-1))
	}
	checkSame(t, Page{}) // a nil Changes is null, as json.Marshal writes it
}

func FuzzAppendPageJSON(f *testing.F) {
	f.Add("s1", "SKU-1", "Plasters <3 & co", int64(7), false, true, true, 3)
	f.Fuzz(func(t *testing.T, store, id, data string, v int64, deleted, reset, done bool, n int) {
		checkSame(t, pageOf(t, store, id, data, v, deleted, reset, done, n%8))
	})
}
