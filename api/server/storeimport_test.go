package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aisle/api/server"
	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// storeImportResult mirrors the endpoint's answer.
type storeImportResult struct {
	Store        string           `json:"store"`
	Products     int              `json:"products"`
	Stock        int              `json:"stock"`
	FAQs         int              `json:"faqs"`
	Changed      int              `json:"changed"`
	RemovedStock []string         `json:"removed_stock"`
	RemovedFAQs  []string         `json:"removed_faqs"`
	Version      int64            `json:"version"`
	Checkpoint   *wire.Checkpoint `json:"checkpoint"`
}

func (e *env) stats(t *testing.T) store.Stats {
	t.Helper()
	var st store.Stats
	e.do("GET", "/v1/admin/stats", e.Admin, nil).want(t, 200).JSON(t, &st)
	return st
}

// TestStoreImport: a STORE.json file becomes a store, its products (with
// staff fields), stock lines, FAQs and their vectors in one write; a
// second import of the same file writes nothing; publish=true makes it
// reach devices.
func TestStoreImport(t *testing.T) {
	bothDBs(t, func(t *testing.T, kind dbKind) {
		e := newEnv(t, kind, server.Config{})
		file := readTestdata(t, "corner-pharmacy.json")
		before := e.stats(t)
		var res storeImportResult
		e.do("POST", "/v1/admin/import/store", e.Admin, file).want(t, 200).JSON(t, &res)
		if res.Store != "corner-pharmacy" || res.Products != 10 || res.Stock != 10 || res.FAQs != 3 || res.Changed != 24 || res.Checkpoint != nil {
			t.Fatalf("import result %+v", res)
		}
		// One write: 1 store + 10 x (product, staff, vector) + 10 x (stock, staff) + 3 x (FAQ, vector).
		if after := e.stats(t); after.Version != before.Version+1+30+20+6 || res.Version != after.Version {
			t.Fatalf("log %d -> %d (result version %d)", before.Version, after.Version, res.Version)
		}
		var p catalog.ProductRecord
		e.do("GET", "/v1/admin/products/PH-0101", e.Admin, nil).want(t, 200).JSON(t, &p)
		if p.Price != 695 || p.Staff.Cost != 310 || p.Staff.Supplier != "Medipharm GmbH" || !p.Active {
			t.Fatalf("PH-0101: %+v", p)
		}
		var st catalog.StockRecord
		e.do("GET", "/v1/admin/stores/corner-pharmacy/stock/PH-0101", e.Admin, nil).want(t, 200).JSON(t, &st)
		if st.Quantity != 14 || st.Aisle != "2A" || st.Staff.Backroom != 40 {
			t.Fatalf("stock of PH-0101: %+v", st)
		}
		var f catalog.FAQ
		e.do("GET", "/v1/admin/faqs/corner-pharmacy.faq-1", e.Admin, nil).want(t, 200).JSON(t, &f)
		if f.Store != "corner-pharmacy" || f.Question != "When are you open?" {
			t.Fatalf("FAQ 1: %+v", f)
		}
		// Not published: devices see nothing yet.
		var cp wire.Checkpoint
		e.do("GET", "/v1/stores/corner-pharmacy/checkpoint", "", nil).want(t, 200).JSON(t, &cp)
		if cp.Seq != 0 {
			t.Fatalf("an import without publish=true published %+v", cp)
		}
		// The audit log names the admin for each record.
		var audit struct{ Items []store.AuditEntry }
		e.do("GET", "/v1/admin/audit?limit=100", e.Admin, nil).want(t, 200).JSON(t, &audit)
		n := 0
		for _, a := range audit.Items {
			if a.Actor == "test-admin" && a.Action == "put" && (a.Key == "PH-0101" || a.Key == "corner-pharmacy/PH-0101" || a.Key == "corner-pharmacy") {
				n++
			}
		}
		if n != 3 {
			t.Fatalf("audit entries for the store, product and stock line: %d", n)
		}

		// The same file again: nothing to write. With publish=true, a checkpoint.
		before = e.stats(t)
		res = storeImportResult{}
		e.do("POST", "/v1/admin/import/store?publish=true", e.Admin, file).want(t, 200).JSON(t, &res)
		if res.Changed != 0 || e.stats(t).Version != before.Version || res.Checkpoint == nil || res.Checkpoint.Seq != 1 {
			t.Fatalf("re-import: %+v", res)
		}
		c := freshContents(t, e, "corner-pharmacy")
		checkVectors(t, c)
		own := 0
		for _, f := range c.FAQs {
			if f.Store == "corner-pharmacy" {
				own++
			}
		}
		if own != 3 || len(c.Stock) != 10 || c.Store.TimeZone != "Europe/Berlin" {
			t.Fatalf("device contents: %d own FAQs, %d stock lines, store %+v", own, len(c.Stock), c.Store)
		}
		for _, id := range []string{"product:PH-0101", "faq:corner-pharmacy.faq-2"} {
			if _, ok := c.Vectors[id]; !ok {
				t.Errorf("vector %s missing on the device", id)
			}
		}
	})
}

// TestStoreImportReplace: replace=true removes the store's stock lines and
// its own FAQs the file no longer lists, in the same write; products,
// chain-wide FAQs and other stores stay.
func TestStoreImportReplace(t *testing.T) {
	bothDBs(t, func(t *testing.T, kind dbKind) {
		e := newEnv(t, kind, server.Config{})
		e.do("POST", "/v1/admin/import/store", e.Admin, readTestdata(t, "corner-pharmacy.json")).want(t, 200)
		e.do("PUT", "/v1/admin/faqs/corner-extra", e.Admin, map[string]any{"store": "corner-pharmacy", "question": "Parking?", "answer": "No."}).want(t, 200)
		e.do("PUT", "/v1/admin/stores/demo/stock/PH-0101", e.Admin, map[string]any{"quantity": 2}).want(t, 200)
		var sf map[string]any
		if err := json.Unmarshal(readTestdata(t, "corner-pharmacy.json"), &sf); err != nil {
			t.Fatal(err)
		}
		prods := sf["products"].([]any)
		sf["products"] = append(prods[:8:8], prods[9]) // HH-0403 no longer carried
		sf["faqs"] = sf["faqs"].([]any)[:2]            // the third FAQ dropped
		// Without replace, nothing is removed.
		var res storeImportResult
		e.do("POST", "/v1/admin/import/store", e.Admin, sf).want(t, 200).JSON(t, &res)
		if len(res.RemovedStock) != 0 || len(res.RemovedFAQs) != 0 {
			t.Fatalf("import without replace removed %+v", res)
		}
		e.do("GET", "/v1/admin/stores/corner-pharmacy/stock/HH-0403", e.Admin, nil).want(t, 200)
		res = storeImportResult{}
		e.do("POST", "/v1/admin/import/store?replace=true&publish=1", e.Admin, sf).want(t, 200).JSON(t, &res)
		if fmt.Sprint(res.RemovedStock) != "[HH-0403]" || fmt.Sprint(res.RemovedFAQs) != "[corner-extra corner-pharmacy.faq-3]" || res.Checkpoint == nil {
			t.Fatalf("replace: %+v", res)
		}
		e.do("GET", "/v1/admin/stores/corner-pharmacy/stock/HH-0403", e.Admin, nil).want(t, 404)
		e.do("GET", "/v1/admin/faqs/corner-pharmacy.faq-3", e.Admin, nil).want(t, 404)
		e.do("GET", "/v1/admin/products/HH-0403", e.Admin, nil).want(t, 200)          // chain-wide: kept
		e.do("GET", "/v1/admin/stores/demo/stock/PH-0101", e.Admin, nil).want(t, 200) // another store's line
		e.do("GET", "/v1/admin/faqs/returns", e.Admin, nil).want(t, 200)              // chain-wide FAQ
		c := freshContents(t, e, "corner-pharmacy")
		checkVectors(t, c)
		if _, ok := c.Vectors["faq:corner-pharmacy.faq-3"]; ok {
			t.Fatal("a removed FAQ's vector is still on the device")
		}
		if len(c.Stock) != 9 {
			t.Fatalf("%d stock lines on the device, want 9", len(c.Stock))
		}
	})
}

// TestStoreImportMerges: a store file does not erase what it does not
// carry of chain-wide products, nor the store's settings it omits.
func TestStoreImportMerges(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	e.do("PUT", "/v1/admin/stores/corner-pharmacy", e.Admin, map[string]any{"name": "Old name", "time_zone": "Europe/Paris", "address": "1 Hauptstraße", "nightly_at": "03:30"}).want(t, 200)
	e.do("PUT", "/v1/admin/products/PH-0102", e.Admin, map[string]any{"name": "Paracetamol", "price": 199, "description": "Fever and pain.",
		"attributes": map[string]string{"otc": "yes"}, "active": false, "staff": map[string]any{"cost": 90, "supplier": "Pharma AG"}}).want(t, 200)
	e.do("PUT", "/v1/admin/stores/corner-pharmacy/stock/PH-0102", e.Admin, map[string]any{"quantity": 5, "aisle": "9Z", "staff": map[string]any{"backroom": 7, "notes": "top shelf"}}).want(t, 200)
	file := strings.Replace(string(readTestdata(t, "corner-pharmacy.json")), `"timezone": "Europe/Berlin"`, `"address": ""`, 1)
	e.do("POST", "/v1/admin/import/store", e.Admin, file).want(t, 200)
	var s catalog.Store
	e.do("GET", "/v1/admin/stores/corner-pharmacy", e.Admin, nil).want(t, 200).JSON(t, &s)
	if s.Name != "Corner Pharmacy & Household" || s.TimeZone != "Europe/Paris" || s.Address != "1 Hauptstraße" || s.NightlyAt != "03:30" {
		t.Fatalf("store after import: %+v", s)
	}
	var p catalog.ProductRecord
	e.do("GET", "/v1/admin/products/PH-0102", e.Admin, nil).want(t, 200).JSON(t, &p)
	if p.Name != "Paracetamol 500 mg, 20 tablets" || p.Price != 249 || p.Category != "Pain Relief" || p.Description != "Fever and pain." ||
		p.Attributes["otc"] != "yes" || p.Active || p.Staff.Cost != 90 || p.Staff.Supplier != "Pharma AG" {
		t.Fatalf("product after import: %+v", p)
	}
	var st catalog.StockRecord
	e.do("GET", "/v1/admin/stores/corner-pharmacy/stock/PH-0102", e.Admin, nil).want(t, 200).JSON(t, &st)
	if st.Quantity != 0 || st.Aisle != "2A" || st.Staff.Backroom != 7 || st.Staff.Notes != "top shelf" {
		t.Fatalf("stock after import: %+v", st)
	}
	// The vector follows the merged record.
	e.do("PUT", "/v1/admin/products/PH-0102", e.Admin, map[string]any{"name": "Paracetamol 500 mg, 20 tablets", "price": 249, "category": "Pain Relief",
		"brand": "ratiopharm", "description": "Fever and pain.", "attributes": map[string]string{"otc": "yes"}, "active": true,
		"staff": map[string]any{"cost": 90, "supplier": "Pharma AG"}}).want(t, 200)
	checkVectors(t, freshContents(t, e, "corner-pharmacy"))
}

// TestStoreImportRejects: a bad file answers 400 with the line and field of
// every problem, and nothing is written.
func TestStoreImportRejects(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	type field struct {
		row   int
		field string
	}
	tests := []struct {
		name string
		body string
		want []field
	}{
		{"field errors", string(readTestdata(t, "store-bad-fields.json")),
			[]field{{5, "products[1].price"}, {6, "products[2].sku"}, {6, "products[2].price"}, {9, "faqs[0].answer"}}},
		{"malformed JSON", string(readTestdata(t, "store-bad-syntax.json")), []field{{5, "products[1]"}}},
		{"bad store", string(readTestdata(t, "store-bad-store.json")), []field{{1, "store.id"}, {1, "store.name"}, {1, "store.time_zone"}}},
		{"not an object", `[1, 2]`, []field{{1, ""}}},
		{"empty body", ``, []field{{1, ""}}},
		{"no store", `{"products": []}`, []field{{1, "store"}}},
		{"FAQ id of another store", `{"store": {"id": "corner", "name": "Corner"}, "faqs": [{"id": "hours", "question": "Open?", "answer": "Yes"}]}`,
			[]field{{0, "faqs[0].id"}}},
		{"FAQ id of a chain-wide FAQ", `{"store": {"id": "corner", "name": "Corner"}, "faqs": [{"id": "returns", "question": "Returns?", "answer": "Yes"}]}`,
			[]field{{0, "faqs[0].id"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.stats(t)
			r := e.do("POST", "/v1/admin/import/store?publish=true", e.Admin, tt.body).want(t, 400)
			var eb wire.ErrorBody
			r.JSON(t, &eb)
			var got []field
			for _, f := range eb.Error.Fields {
				got = append(got, field{f.Row, f.Field})
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || eb.Error.Code != "invalid" || !strings.Contains(eb.Error.Message, "nothing was written") {
				t.Fatalf("errors %+v\nwant fields %v", eb.Error, tt.want)
			}
			if after := e.stats(t); after != before {
				t.Fatalf("a rejected file wrote: %+v -> %+v", before, after)
			}
		})
	}
	e.do("GET", "/v1/admin/stores/corner-pharmacy", e.Admin, nil).want(t, 404)
	e.do("POST", "/v1/admin/import/store", e.Admin, readTestdata(t, "corner-pharmacy.json"), "Content-Type", "text/csv").want(t, 415)
	e.do("POST", "/v1/admin/import/store?replace=maybe", e.Admin, readTestdata(t, "corner-pharmacy.json")).want(t, 400)
}

// TestStoreImportLimits: the store file is bounded by the import limit,
// not by the smaller limit of other requests.
func TestStoreImportLimits(t *testing.T) {
	file := readTestdata(t, "corner-pharmacy.json")
	e := newEnv(t, sqliteDB, server.Config{BodyLimit: 1024})
	e.do("POST", "/v1/admin/import/store", e.Admin, file).want(t, 200)
	small := newEnv(t, sqliteDB, server.Config{ImportLimit: 1024})
	if r := small.do("POST", "/v1/admin/import/store", small.Admin, file).want(t, 413); r.ErrCode() != "too_large" {
		t.Fatalf("over the import limit: %s", r.Body)
	}
	small.do("GET", "/v1/admin/stores/corner-pharmacy", small.Admin, nil).want(t, 404)
}

// TestStoreImportConcurrentEdit: a record edited between the import's read
// and its write fails the import (412) instead of being overwritten.
func TestStoreImportConcurrentEdit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqliteDB, server.Config{})
	e.do("PUT", "/v1/admin/products/PH-0101", e.Admin, map[string]any{"name": "Ibuprofen", "price": 500, "description": "Old"}).want(t, 200)
	racing := &racingGet{Store: e.Store, key: "PH-0101", during: func() {
		e.do("PUT", "/v1/admin/products/PH-0101", e.Admin, map[string]any{"name": "Ibuprofen", "price": 500, "description": "Edited meanwhile"}).want(t, 200)
	}}
	srv, err := server.New(racing, server.Config{Rate: -1, Logger: quietLogger(), NightlyInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(ctx)
	hs := newHTTPServer(srv.Handler())
	defer hs.Close()
	other := &env{t: t, URL: hs.URL, Admin: e.Admin}
	before := e.stats(t)
	if r := other.do("POST", "/v1/admin/import/store", e.Admin, readTestdata(t, "corner-pharmacy.json")); r.Status != 412 {
		t.Fatalf("import racing an edit: %d %s", r.Status, r.Body)
	}
	var p catalog.ProductRecord
	e.do("GET", "/v1/admin/products/PH-0101", e.Admin, nil).want(t, 200).JSON(t, &p)
	if p.Description != "Edited meanwhile" || e.stats(t).Version != before.Version+3 { // the edit alone: product, staff and vector documents
		t.Fatalf("after the failed import: %+v", p)
	}
	e.do("GET", "/v1/admin/stores/corner-pharmacy", e.Admin, nil).want(t, 404)
}

// racingGet runs during once, right after reading the record key.
type racingGet struct {
	store.Store
	key    string
	during func()
}

func (r *racingGet) Get(ctx context.Context, ent store.Entity, key string) (store.Item, error) {
	it, err := r.Store.Get(ctx, ent, key)
	if key == r.key && r.during != nil {
		r.during()
		r.during = nil
	}
	return it, err
}
