package embed

import (
	"testing"

	"aisle/sync/catalog"
)

func TestEncodeDecode(t *testing.T) {
	v := Text("cordless drill 18V")
	if len(v) != Dims || v.Norm2() == 0 {
		t.Fatalf("vector of %d dims, norm %d", len(v), v.Norm2())
	}
	cv := Encode(v)
	if cv.Model != Model {
		t.Errorf("model %q, want %q", cv.Model, Model)
	}
	got, ok := Decode(cv)
	if !ok || Cosine(got, v) < 0.9999 {
		t.Errorf("round trip: ok %v, cosine %v", ok, Cosine(got, v))
	}
	if _, ok := Decode(catalog.Vector{Model: "another-model", V: cv.V}); ok {
		t.Error("a vector of another model was accepted")
	}
	for _, bad := range []string{"", "not base64!", "AAAA"} {
		if _, ok := Decode(catalog.Vector{Model: Model, V: bad}); ok {
			t.Errorf("damaged vector %q was accepted", bad)
		}
	}
}

// Texts that share a need but no word point the same way; unrelated ones do not.
func TestConceptsBringMeaningsTogether(t *testing.T) {
	for _, tc := range []struct{ query, near, far string }{
		{"something for a headache", "Ibuprofen 400 mg, 20 tablets, Pain Relief", "Sunscreen SPF 50, Skin Care"},
		{"something to measure a wall", "Tape Measure 25 ft, Hand Tools", "Ibuprofen 400 mg, Pain Relief"},
		{"my phone is dead", "USB-C Charger 30W, Electronics", "Brie de Meaux 300 g, Cheese"},
	} {
		q := Text(tc.query)
		near, far := Cosine(q, Text(tc.near)), Cosine(q, Text(tc.far))
		if near <= far+0.1 {
			t.Errorf("%q: cosine %.3f with %q, %.3f with %q: want the first clearly higher", tc.query, near, tc.near, far, tc.far)
		}
	}
}

func TestDeterministicAndBounded(t *testing.T) {
	p := catalog.Product{SKU: "A", Name: "Oat Milk 1 L", Category: "Dairy", Brand: "Oatly", Description: "Barista edition"}
	a, b := Product(p), Product(p)
	if a.String() != b.String() {
		t.Error("the same product gave two vectors")
	}
	if Cosine(a, Text("")) != 0 || len(Text("")) != Dims {
		t.Error("an empty text must give a zero vector of Dims components")
	}
	if c := Cosine(a, a); c < 0.999 || c > 1.001 {
		t.Errorf("self cosine %v", c)
	}
}

func BenchmarkText(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Text("do you have something for a sore throat under 5 euros")
	}
}
