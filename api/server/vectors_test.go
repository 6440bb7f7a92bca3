package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"aisle/api/server"
	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/client"
	"aisle/sync/replica"
	"aisle/sync/wire"
	"aisle/worker/assistant/embed"
)

// freshContents publishes storeID and syncs a new customer replica of it.
func freshContents(t *testing.T, e *env, storeID string) replica.Contents {
	t.Helper()
	e.do("POST", "/v1/admin/stores/"+storeID+"/publish", e.Admin, nil).want(t, 201)
	m := replica.NewMem()
	if _, err := (&replica.Replica{Store: storeID, Audience: wire.AudiencePublic, Storage: m}).Sync(context.Background(), &client.Client{BaseURL: e.URL}); err != nil {
		t.Fatal(err)
	}
	c, err := m.Contents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkVectors fails unless every product and FAQ of c has exactly the
// vector of its current text, and c holds no other vector.
func checkVectors(t *testing.T, c replica.Contents) {
	t.Helper()
	want := map[string]catalog.Vector{}
	for _, p := range c.Products {
		want[wire.VectorID(wire.KindProduct, p.SKU)] = embed.Encode(embed.Product(p))
	}
	for _, f := range c.FAQs {
		want[wire.VectorID(wire.KindFAQ, f.ID)] = embed.Encode(embed.FAQ(f))
	}
	for id, v := range want {
		got, ok := c.Vectors[id]
		switch {
		case !ok:
			t.Errorf("vector %s missing", id)
		case got != v:
			t.Errorf("vector %s is stale: model %s, %.12s..., want %.12s...", id, got.Model, got.V, v.V)
		}
	}
	if len(c.Vectors) != len(want) {
		t.Errorf("%d vectors for %d products and FAQs", len(c.Vectors), len(want))
	}
}

// TestVectorsOnEveryWritePath: the seed, admin PUT and POST, CSV and JSON
// bulk imports and deletes all leave a device with exactly the vector of
// each product's and FAQ's current text.
func TestVectorsOnEveryWritePath(t *testing.T) {
	bothDBs(t, func(t *testing.T, kind dbKind) {
		e := newEnv(t, kind, server.Config{})
		c := freshContents(t, e, "demo")
		if len(c.Products) != 25 || len(c.FAQs) != 5 {
			t.Fatalf("demo: %d products, %d FAQs", len(c.Products), len(c.FAQs))
		}
		checkVectors(t, c) // the seed

		var rec catalog.ProductRecord
		e.do("GET", "/v1/admin/products/MILK-1L", e.Admin, nil).want(t, 200).JSON(t, &rec)
		rec.Name, rec.Description = "Lactose-free milk 1 L", "Milk without lactose."
		e.do("PUT", "/v1/admin/products/MILK-1L", e.Admin, rec).want(t, 200)
		e.do("POST", "/v1/admin/products", e.Admin, map[string]any{"sku": "TEA-1", "name": "Black tea", "category": "Breakfast", "price": 250}).want(t, 201)
		e.do("PUT", "/v1/admin/stores/demo/stock/TEA-1", e.Admin, map[string]any{"quantity": 4}).want(t, 200)
		e.do("PUT", "/v1/admin/faqs/parking", e.Admin, map[string]any{"store": "demo", "question": "Where can I park?", "answer": "Underground, free for 2 hours."}).want(t, 200)
		e.do("POST", "/v1/admin/faqs", e.Admin, map[string]any{"id": "wifi", "question": "Is there wifi?", "answer": "Yes, free."}).want(t, 201)
		e.do("POST", "/v1/admin/import?entity=products", e.Admin, "sku,name,category,price\nBUTTER-250,Unsalted butter 250 g,Dairy,289\nJAM-1,Strawberry jam,Breakfast,300\n", "Content-Type", "text/csv").want(t, 200)
		e.do("POST", "/v1/admin/import?entity=faqs", e.Admin, `[{"id":"bags","question":"Do you sell paper bags?","answer":"Yes."}]`).want(t, 200)
		e.do("DELETE", "/v1/admin/faqs/toilets", e.Admin, nil).want(t, 204)
		e.do("DELETE", "/v1/admin/stores/demo/stock/AVOCADO", e.Admin, nil).want(t, 204)
		e.do("DELETE", "/v1/admin/products/AVOCADO", e.Admin, nil).want(t, 204)
		c = freshContents(t, e, "demo")
		checkVectors(t, c)
		if _, ok := c.Vectors["faq:toilets"]; ok {
			t.Error("a deleted FAQ's vector is still on the device")
		}
		if _, ok := c.Vectors["product:JAM-1"]; !ok {
			t.Error("a product imported by CSV has no vector")
		}
	})
}

// TestVectorDeltas: what a nightly delta carries. A price change carries no
// vector; a name change carries the new one; a store-scoped FAQ's vector
// reaches only its store.
func TestVectorDeltas(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqliteDB, server.Config{})
	e.do("PUT", "/v1/admin/stores/other", e.Admin, catalog.Store{Name: "Other"}).want(t, 200)
	m := replica.NewMem()
	r := &replica.Replica{Store: "demo", Audience: wire.AudiencePublic, Storage: m}
	o := &replica.Replica{Store: "other", Audience: wire.AudiencePublic, Storage: replica.NewMem()}
	cl := &client.Client{BaseURL: e.URL}
	sync := func(r *replica.Replica) replica.Result {
		t.Helper()
		e.do("POST", "/v1/admin/stores/"+r.Store+"/publish", e.Admin, nil).want(t, 201)
		res, err := r.Sync(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	sync(r)
	sync(o)
	var rec catalog.ProductRecord
	e.do("GET", "/v1/admin/products/COMTE-200", e.Admin, nil).want(t, 200).JSON(t, &rec)
	rec.Price = 499
	e.do("PUT", "/v1/admin/products/COMTE-200", e.Admin, rec).want(t, 200)
	if res := sync(r); res.Changes != 1 {
		t.Fatalf("price change: %d changes, want the product alone", res.Changes)
	}
	rec.Name = "Comté 24 months 200 g"
	e.do("PUT", "/v1/admin/products/COMTE-200", e.Admin, rec).want(t, 200)
	if res := sync(r); res.Changes != 2 {
		t.Fatalf("name change: %d changes, want product and vector", res.Changes)
	}
	if res := sync(o); res.Changes != 2 {
		t.Fatalf("the chain-wide product change in store other: %d changes, want product and vector", res.Changes)
	}
	e.do("POST", "/v1/admin/faqs", e.Admin, map[string]any{"id": "pharmacy", "store": "demo", "question": "Is there a pharmacy?", "answer": "Next door."}).want(t, 201)
	if res := sync(r); res.Changes != 2 {
		t.Fatalf("new store FAQ in its store: %d changes, want FAQ and vector", res.Changes)
	}
	if res := sync(o); res.Changes != 0 {
		t.Fatalf("another store's FAQ reached store other: %+v", res)
	}
	c, _ := m.Contents(ctx)
	checkVectors(t, c)
	if _, ok := c.Vectors["faq:pharmacy"]; !ok {
		t.Fatal("the store's FAQ vector is missing")
	}
}

// protocolTransport makes a client speak an older protocol version.
type protocolTransport struct{ version int }

func (p protocolTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set(wire.HeaderProtocol, strconv.Itoa(p.version))
	return http.DefaultTransport.RoundTrip(req)
}

// TestProtocolVersionsDoNotMix: a client that negotiates protocol 1 never
// receives a vector, though pages of protocol 2 for the same URL are in the
// server's page cache; ETags differ. A device updated to protocol 2 gets
// the vectors of the checkpoint it already holds.
func TestProtocolVersionsDoNotMix(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqliteDB, server.Config{})
	var cp wire.Checkpoint
	e.do("GET", "/v1/stores/demo/checkpoint", "", nil).want(t, 200).JSON(t, &cp)
	path := fmt.Sprintf("/v1/stores/demo/changes?target=%d&limit=5000", cp.Version)
	v2 := e.do("GET", path, "", nil).want(t, 200) // now cached
	v1 := e.do("GET", path, "", nil, wire.HeaderProtocol, "1").want(t, 200)
	var p1, p2 wire.Page
	v1.JSON(t, &p1)
	v2.JSON(t, &p2)
	if p1.Protocol != 1 || v1.Header.Get(wire.HeaderProtocol) != "1" || p2.Protocol != 2 {
		t.Fatalf("protocols: page %d header %q; page %d", p1.Protocol, v1.Header.Get(wire.HeaderProtocol), p2.Protocol)
	}
	if len(p2.Changes) != len(p1.Changes)+30 {
		t.Fatalf("protocol 2 page has %d changes, protocol 1 %d; want 30 vectors more", len(p2.Changes), len(p1.Changes))
	}
	for _, c := range p1.Changes {
		if c.Kind == wire.KindVector {
			t.Fatalf("protocol 1 page carries %+v", c)
		}
	}
	if v1.Header.Get("ETag") == v2.Header.Get("ETag") {
		t.Fatal("pages of two protocol versions share an ETag")
	}
	if !strings.Contains(v1.Header.Get("Vary"), wire.HeaderProtocol) {
		t.Fatalf("Vary %q lacks %s", v1.Header.Get("Vary"), wire.HeaderProtocol)
	}
	e.do("GET", path, "", nil, wire.HeaderProtocol, "1", "If-None-Match", v2.Header.Get("ETag")).want(t, 200)
	e.do("GET", path, "", nil, wire.HeaderProtocol, "1", "If-None-Match", v1.Header.Get("ETag")).want(t, 304)

	// A device of protocol 1, then the same device updated.
	m := replica.NewMem()
	r := &replica.Replica{Store: "demo", Audience: wire.AudiencePublic, Storage: m, PageLimit: 7}
	old := &client.Client{BaseURL: e.URL, HTTP: &http.Client{Transport: protocolTransport{1}}}
	if _, err := r.Sync(ctx, old); err != nil {
		t.Fatal(err)
	}
	if c, _ := m.Contents(ctx); len(c.Vectors) != 0 || len(c.Products) != 25 {
		t.Fatalf("protocol 1 device: %d vectors, %d products", len(c.Vectors), len(c.Products))
	}
	res, err := r.Sync(ctx, &client.Client{BaseURL: e.URL})
	if err != nil || !res.Applied || !res.Reset || res.Checkpoint != cp {
		t.Fatalf("first sync after the update: %+v %v", res, err)
	}
	c, _ := m.Contents(ctx)
	checkVectors(t, c)
}

// TestRefreshVectors: at start, vectors of another model (a deploy that
// changed the embedding) or missing ones (a database from before vectors)
// are rewritten once, in one write, and reach devices with the next
// checkpoint; a second start does nothing.
func TestRefreshVectors(t *testing.T) {
	bothDBs(t, func(t *testing.T, kind dbKind) {
		ctx := context.Background()
		e := newEnv(t, kind, server.Config{})
		n, err := server.RefreshVectors(ctx, e.Store, quietLogger())
		if err != nil || n != 0 {
			t.Fatalf("refresh of a current database: %d %v", n, err)
		}
		if m, _ := e.Store.Marker(ctx, store.MarkerVectorModel); m != store.ModelMarker(embed.Model) {
			t.Fatalf("vector model marker %d", m)
		}
		// A device holds the current checkpoint.
		dev := replica.NewMem()
		r := &replica.Replica{Store: "demo", Audience: wire.AudiencePublic, Storage: dev}
		cl := &client.Client{BaseURL: e.URL}
		if _, err := r.Sync(ctx, cl); err != nil {
			t.Fatal(err)
		}
		// An older server wrote some vectors with its model...
		var rec catalog.ProductRecord
		e.do("GET", "/v1/admin/products/RICE-1K", e.Admin, nil).want(t, 200).JSON(t, &rec)
		rec.Name = "Basmati rice 1 kg (new)"
		op, _ := store.PutProduct(rec)
		op.Docs[2].Data = json.RawMessage(`{"model":"older-model","v":"AA=="}`)
		if _, err := e.Store.Write(ctx, store.Actor{Name: "old server"}, []store.Op{op}); err != nil {
			t.Fatal(err)
		}
		// ...and others predate vectors altogether.
		if _, err := e.Store.SQL().ExecContext(ctx, `DELETE FROM changes WHERE kind = 'vector' AND id LIKE 'faq:%'`); err != nil {
			t.Fatal(err)
		}
		if err := e.Store.SetMarker(ctx, store.MarkerVectorModel, store.ModelMarker("older-model")); err != nil {
			t.Fatal(err)
		}
		var before store.Stats
		e.do("GET", "/v1/admin/stats", e.Admin, nil).want(t, 200).JSON(t, &before)
		n, err = server.RefreshVectors(ctx, e.Store, quietLogger())
		if err != nil || n != 6 {
			t.Fatalf("refresh: %d vectors logged (%v), want 6: RICE-1K's and the 5 FAQs'", n, err)
		}
		var after store.Stats
		e.do("GET", "/v1/admin/stats", e.Admin, nil).want(t, 200).JSON(t, &after)
		if after.Version != before.Version+6 {
			t.Fatalf("log %d -> %d", before.Version, after.Version)
		}
		var got catalog.ProductRecord
		e.do("GET", "/v1/admin/products/RICE-1K", e.Admin, nil).want(t, 200).JSON(t, &got)
		if got.Name != rec.Name {
			t.Fatalf("the refresh changed the record: %+v", got)
		}
		// The next checkpoint carries them.
		e.do("POST", "/v1/admin/stores/demo/publish", e.Admin, nil).want(t, 201)
		res, err := r.Sync(ctx, cl)
		if err != nil || res.Reset {
			t.Fatalf("delta after the refresh: %+v %v", res, err)
		}
		c, _ := dev.Contents(ctx)
		checkVectors(t, c)
		// A second start finds the model recorded: nothing to do.
		if n, err := server.RefreshVectors(ctx, e.Store, quietLogger()); err != nil || n != 0 {
			t.Fatalf("second refresh: %d %v", n, err)
		}
	})
}

// TestRefreshVectorsKeepsConcurrentWrites: a record written between the
// refresh's read and its write is not reverted.
func TestRefreshVectorsKeepsConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqliteDB, server.Config{})
	racing := &racingStore{Store: e.Store, onList: func() {
		e.do("PUT", "/v1/admin/products/PASTA-500", e.Admin, map[string]any{"name": "Fusilli 500 g", "price": 139}).want(t, 200)
	}}
	if err := e.Store.SetMarker(ctx, store.MarkerVectorModel, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := server.RefreshVectors(ctx, racing, quietLogger()); err != nil {
		t.Fatal(err)
	}
	var got catalog.ProductRecord
	e.do("GET", "/v1/admin/products/PASTA-500", e.Admin, nil).want(t, 200).JSON(t, &got)
	if got.Name != "Fusilli 500 g" {
		t.Fatalf("the refresh reverted a concurrent write: %q", got.Name)
	}
	c := freshContents(t, e, "demo")
	checkVectors(t, c)
}

// racingStore runs onList once, after the first product listing.
type racingStore struct {
	store.Store
	onList func()
}

func (r *racingStore) List(ctx context.Context, ent store.Entity, q store.ListQuery) ([]store.Item, string, error) {
	its, next, err := r.Store.List(ctx, ent, q)
	if ent == store.Products && r.onList != nil {
		r.onList()
		r.onList = nil
	}
	return its, next, err
}

// TestRefreshVectorsEndpoint: after a rolling deploy, records written by a
// process of an older build (new text, no new vector) get their vectors
// from POST /v1/admin/vectors/refresh, whatever the marker says.
func TestRefreshVectorsEndpoint(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqliteDB, server.Config{})
	if _, err := server.RefreshVectors(ctx, e.Store, quietLogger()); err != nil {
		t.Fatal(err)
	}
	var rec catalog.ProductRecord
	e.do("GET", "/v1/admin/products/BAGUETTE", e.Admin, nil).want(t, 200).JSON(t, &rec)
	stale, _ := store.PutProduct(rec) // the vector of the old text...
	rec.Name = "Baguette aux céréales"
	op, _ := store.PutProduct(rec) // ...with the new record, as an older process would write it
	op.Docs[2] = stale.Docs[2]
	if _, err := e.Store.Write(ctx, store.Actor{Name: "old process"}, []store.Op{op}); err != nil {
		t.Fatal(err)
	}
	if n, _ := server.RefreshVectors(ctx, e.Store, quietLogger()); n != 0 {
		t.Fatalf("the start-up refresh ran with the marker set: %d", n)
	}
	var res struct{ Logged int }
	e.do("POST", "/v1/admin/vectors/refresh", e.Admin, nil).want(t, 200).JSON(t, &res)
	if res.Logged != 1 {
		t.Fatalf("refresh logged %d vectors, want BAGUETTE's", res.Logged)
	}
	checkVectors(t, freshContents(t, e, "demo"))
	e.do("POST", "/v1/admin/vectors/refresh", e.Admin, nil).want(t, 200).JSON(t, &res)
	if res.Logged != 0 {
		t.Fatalf("a second refresh logged %d", res.Logged)
	}
}
