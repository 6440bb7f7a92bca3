package wire

import (
	"encoding/json"
	"testing"
	"time"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		peer int
		want int
		ok   bool
	}{{ProtocolVersion, ProtocolVersion, true}, {ProtocolVersion + 5, ProtocolVersion, true}, {MinProtocolVersion - 1, 0, false}}
	for _, tt := range tests {
		got, ok := Negotiate(tt.peer)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("Negotiate(%d) = %d, %v; want %d, %v", tt.peer, got, ok, tt.want, tt.ok)
		}
	}
}

// TestWireShape pins the JSON of protocol version 1: changing it breaks
// deployed clients and needs a new protocol version.
func TestWireShape(t *testing.T) {
	p := Page{Protocol: 1, Store: "s1", Audience: AudiencePublic, Since: 3, Target: 9, After: 3, Next: 5,
		Changes: []Change{{Version: 4, Kind: KindProduct, ID: "A", Data: json.RawMessage(`{"sku":"A"}`)}, {Version: 5, Kind: KindFAQ, ID: "f", Deleted: true}}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"protocol":1,"store":"s1","audience":"public","since":3,"target":9,"reset":false,"after":3,"changes":[{"v":4,"k":"product","id":"A","d":{"sku":"A"}},{"v":5,"k":"faq","id":"f","del":true}],"next":5,"done":false}`
	if string(b) != want {
		t.Fatalf("page JSON\n got %s\nwant %s", b, want)
	}
	cp := Checkpoint{Store: "s1", Seq: 2, Version: 9, PublishedAt: time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC), Reason: ReasonNightly}
	b, _ = json.Marshal(Event{Type: EventCheckpoint, Checkpoint: cp})
	if want := `{"type":"checkpoint","checkpoint":{"store":"s1","seq":2,"version":9,"published_at":"2026-11-24T02:00:00Z","reason":"nightly"}}`; string(b) != want {
		t.Fatalf("event JSON\n got %s\nwant %s", b, want)
	}
}

func TestAudienceSees(t *testing.T) {
	for _, k := range Kinds {
		staffOnly := k == KindProductStaff || k == KindStockStaff
		if AudiencePublic.Sees(k) == staffOnly || !AudienceStaff.Sees(k) || !k.Valid() {
			t.Errorf("kind %s: public sees %v, staff sees %v", k, AudiencePublic.Sees(k), AudienceStaff.Sees(k))
		}
	}
	if Kind("nope").Valid() {
		t.Error("unknown kind valid")
	}
}

func TestKindProtocol(t *testing.T) {
	for _, k := range Kinds {
		want := 1
		if k == KindVector {
			want = 2
		}
		if k.Protocol() != want || k.Protocol() > ProtocolVersion {
			t.Errorf("kind %s introduced in %d, want %d", k, k.Protocol(), want)
		}
	}
	if AudiencePublic.SeesAt(KindVector, 1) || AudienceStaff.SeesAt(KindVector, 1) || !AudiencePublic.SeesAt(KindVector, 2) {
		t.Error("vectors must be public from protocol 2 only")
	}
	if AudiencePublic.SeesAt(KindProductStaff, 2) || !AudienceStaff.SeesAt(KindProductStaff, 1) {
		t.Error("staff kinds: audience rule broken by SeesAt")
	}
}

func TestVectorID(t *testing.T) {
	tests := []struct {
		id    string
		owner Kind
		key   string
		ok    bool
	}{
		{VectorID(KindProduct, "PH-0101"), KindProduct, "PH-0101", true},
		{VectorID(KindFAQ, "corner.faq-1"), KindFAQ, "corner.faq-1", true},
		{"product:", "", "", false},
		{"stock:A", "", "", false},
		{"A", "", "", false},
	}
	for _, tt := range tests {
		owner, key, ok := VectorOwner(tt.id)
		if owner != tt.owner || key != tt.key || ok != tt.ok {
			t.Errorf("VectorOwner(%q) = %q, %q, %v; want %q, %q, %v", tt.id, owner, key, ok, tt.owner, tt.key, tt.ok)
		}
	}
	if got := VectorID(KindProduct, "X"); got != "product:X" {
		t.Errorf("VectorID = %q", got)
	}
}

// TestWireShapeVector pins the JSON of a vector change (protocol 2).
func TestWireShapeVector(t *testing.T) {
	c := Change{Version: 7, Kind: KindVector, ID: "faq:hours", Data: json.RawMessage(`{"model":"m","v":"AAE="}`)}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"v":7,"k":"vector","id":"faq:hours","d":{"model":"m","v":"AAE="}}`; string(b) != want {
		t.Fatalf("vector change JSON\n got %s\nwant %s", b, want)
	}
}

func TestETagMatch(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{{"", false}, {`"p-1"`, true}, {`W/"p-1"`, true}, {`"x", "p-1"`, true}, {"*", true}, {`"p-2"`, false}, {`"p-1`, false}} {
		if got := ETagMatch(tc.header, `"p-1"`); got != tc.want {
			t.Errorf("ETagMatch(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}
