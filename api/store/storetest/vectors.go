package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/wire"
	"aisle/worker/assistant/embed"
)

// changesSince returns every change of store's log in (since, head] for
// aud at the newest protocol, after publishing a checkpoint.
func changesSince(t *testing.T, s store.Store, storeID string, since int64, aud wire.Audience) ([]wire.Change, wire.Checkpoint) {
	t.Helper()
	ctx := context.Background()
	cp, _, err := s.Publish(ctx, admin, storeID, wire.ReasonManual, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Changes(ctx, wire.ChangesRequest{Store: storeID, Since: since, Target: cp.Version, Limit: wire.MaxPageLimit}, aud, wire.ProtocolVersion)
	if err != nil || !p.Done {
		t.Fatalf("changes of %s since %d: %+v %v", storeID, since, p, err)
	}
	return p.Changes, cp
}

// vectorOf finds the vector change of id that stands after chs are applied
// in order (a record moved between scopes may have a tombstone before it).
func vectorOf(chs []wire.Change, id string) (wire.Change, bool) {
	var last wire.Change
	found := false
	for _, c := range chs {
		if c.Kind == wire.KindVector && c.ID == id {
			last, found = c, true // applied in order, the last one stands
		}
	}
	return last, found
}

func wantVector(t *testing.T, c wire.Change, want embed.Vector) {
	t.Helper()
	var v catalog.Vector
	if err := json.Unmarshal(c.Data, &v); err != nil {
		t.Fatalf("vector %s: %v", c.ID, err)
	}
	if v != embed.Encode(want) || v.Model != embed.Model {
		t.Fatalf("vector %s = %+v, want the %s vector of the entity's text", c.ID, v, embed.Model)
	}
}

// testVectors: a product's and an FAQ's vector are written in the same
// transaction as the entity, only when the embedded text changes, and
// tombstoned with it.
func testVectors(t *testing.T, s store.Store) {
	must := MustOp(t)
	MustWrite(t, s, must(store.PutStore(catalog.Store{ID: "s1", Name: "One"})))
	p := product("A", "Ibuprofen 400 mg", 695)
	p.Category = "Pain Relief"
	f := catalog.FAQ{ID: "hours", Store: "s1", Question: "When are you open?", Answer: "9 to 5", Tags: []string{"hours"}}
	its := MustWrite(t, s, must(store.PutProduct(p)), must(store.PutFAQ(f)))
	chs, cp1 := changesSince(t, s, "s1", 0, wire.AudiencePublic)
	pv, ok := vectorOf(chs, "product:A")
	if !ok {
		t.Fatalf("no vector for a new product: %+v", chs)
	}
	wantVector(t, pv, embed.Product(p.Product))
	fv, ok := vectorOf(chs, "faq:hours")
	if !ok {
		t.Fatal("no vector for a new FAQ")
	}
	f.Normalize()
	wantVector(t, fv, embed.FAQ(f))
	// Same transaction: the vector's version is within the entity's write.
	if pv.Version > its[0].Version || fv.Version > its[1].Version || fv.Version <= its[0].Version {
		t.Fatalf("vector versions %d, %d outside their writes (%d, %d)", pv.Version, fv.Version, its[0].Version, its[1].Version)
	}

	// A price and staff change leaves the embedded text alone.
	p.Price, p.Staff.Cost = 599, 100
	MustWrite(t, s, must(store.PutProduct(p)))
	chs, cp2 := changesSince(t, s, "s1", cp1.Version, wire.AudienceStaff)
	if _, ok := vectorOf(chs, "product:A"); ok || len(chs) != 2 {
		t.Fatalf("a price change logged %+v; want the product and staff documents only", chs)
	}
	// A name change logs the new vector.
	p.Name = "Ibuprofen 200 mg"
	f.Answer = "8 to 8"
	MustWrite(t, s, must(store.PutProduct(p)), must(store.PutFAQ(f)))
	chs, cp3 := changesSince(t, s, "s1", cp2.Version, wire.AudiencePublic)
	pv, ok = vectorOf(chs, "product:A")
	if !ok {
		t.Fatalf("a name change logged no vector: %+v", chs)
	}
	wantVector(t, pv, embed.Product(p.Product))
	fv, ok = vectorOf(chs, "faq:hours")
	if !ok {
		t.Fatal("an answer change logged no FAQ vector (the answer is embedded)")
	}
	wantVector(t, fv, embed.FAQ(f))
	// Deletes tombstone the vectors.
	MustWrite(t, s, store.Delete(store.Products, "A"), store.Delete(store.FAQs, "hours"))
	chs, _ = changesSince(t, s, "s1", cp3.Version, wire.AudiencePublic)
	for _, id := range []string{"product:A", "faq:hours"} {
		if c, ok := vectorOf(chs, id); !ok || !c.Deleted {
			t.Fatalf("vector %s after delete: %+v (present %v)", id, c, ok)
		}
	}
	// Re-created with the same text: logged again (the last change was a tombstone).
	MustWrite(t, s, must(store.PutProduct(p)))
	chs, _ = changesSince(t, s, "s1", 0, wire.AudiencePublic)
	if c, ok := vectorOf(chs, "product:A"); !ok || c.Deleted {
		t.Fatalf("vector of a re-created product: %+v %v", c, ok)
	}
}

// testVectorScopes: a store's FAQ vector reaches only that store; a global
// one every store; moving an FAQ moves its vector.
func testVectorScopes(t *testing.T, s store.Store) {
	must := MustOp(t)
	MustWrite(t, s, must(store.PutStore(catalog.Store{ID: "s1", Name: "One"})), must(store.PutStore(catalog.Store{ID: "s2", Name: "Two"})),
		must(store.PutProduct(product("A", "Plasters", 100))),
		must(store.PutFAQ(catalog.FAQ{ID: "own", Store: "s1", Question: "Parking?", Answer: "Behind"})),
		must(store.PutFAQ(catalog.FAQ{ID: "all", Question: "Returns?", Answer: "30 days"})))
	has := func(storeID string, since int64, id string) (wire.Change, bool, wire.Checkpoint) {
		chs, cp := changesSince(t, s, storeID, since, wire.AudiencePublic)
		c, ok := vectorOf(chs, id)
		return c, ok, cp
	}
	for _, tc := range []struct {
		store, id string
		want      bool
	}{{"s1", "faq:own", true}, {"s2", "faq:own", false}, {"s1", "faq:all", true}, {"s2", "faq:all", true}, {"s2", "product:A", true}} {
		if _, ok, _ := has(tc.store, 0, tc.id); ok != tc.want {
			t.Errorf("store %s holds vector %s: %v, want %v", tc.store, tc.id, ok, tc.want)
		}
	}
	_, _, cp1 := has("s1", 0, "")
	_, _, cp2 := has("s2", 0, "")
	// The global FAQ becomes s1's (same text): s2 gets tombstones, s1 keeps a live vector.
	MustWrite(t, s, must(store.PutFAQ(catalog.FAQ{ID: "all", Store: "s1", Question: "Returns?", Answer: "30 days"})))
	if c, ok, _ := has("s2", cp2.Version, "faq:all"); !ok || !c.Deleted {
		t.Fatalf("s2 after the FAQ moved to s1: %+v %v, want a tombstone", c, ok)
	}
	c, ok, _ := has("s1", cp1.Version, "faq:all")
	if !ok || c.Deleted {
		t.Fatalf("s1 after the FAQ moved in: %+v %v", c, ok)
	}
	// s1's delta holds the tombstone of the global scope and then the new vector, in that order.
	chs, _ := changesSince(t, s, "s1", 0, wire.AudiencePublic)
	if c, _ := vectorOf(chs, "faq:all"); c.Deleted {
		t.Fatal("s1's snapshot ends on a tombstone of a vector it holds")
	}
}

// testVectorRefresh: after a change of embedding model, putting an
// unchanged record logs its new vector, and nothing else: the record and
// its version stay.
func testVectorRefresh(t *testing.T, s store.Store) {
	ctx := context.Background()
	must := MustOp(t)
	MustWrite(t, s, must(store.PutStore(catalog.Store{ID: "s1", Name: "One"})))
	p := product("A", "Sunscreen SPF 50", 1299)
	old := must(store.PutProduct(p))
	old.Docs[2].Data = json.RawMessage(`{"model":"older-model","v":"AAAA"}`) // as an older server computed it
	first := MustWrite(t, s, old)[0]
	before, _ := s.Stats(ctx)
	it := MustWrite(t, s, must(store.PutProduct(p)))[0]
	after, _ := s.Stats(ctx)
	if after.Version != before.Version+1 || it.Version != first.Version {
		t.Fatalf("refresh: log %d -> %d, record version %d -> %d; want one vector change and the record untouched", before.Version, after.Version, first.Version, it.Version)
	}
	entries, _, err := s.Audit(ctx, 0, 1)
	if err != nil || entries[0].Action != "refresh" || entries[0].Key != "A" {
		t.Fatalf("audit of a refresh: %+v %v", entries, err)
	}
	chs, _ := changesSince(t, s, "s1", before.Version, wire.AudienceStaff)
	if len(chs) != 1 {
		t.Fatalf("refresh logged %+v", chs)
	}
	wantVector(t, chs[0], embed.Product(p.Product))
	after, _ = s.Stats(ctx)
	// Up to date: nothing more.
	MustWrite(t, s, must(store.PutProduct(p)))
	if again, _ := s.Stats(ctx); again.Version != after.Version {
		t.Fatalf("a second refresh logged %d changes", again.Version-after.Version)
	}
}

// testProtocolFilter: a reader speaking protocol 1 never receives a vector,
// in snapshots or deltas; its pages say protocol 1.
func testProtocolFilter(t *testing.T, s store.Store) {
	ctx := context.Background()
	must := MustOp(t)
	MustWrite(t, s, must(store.PutStore(catalog.Store{ID: "s1", Name: "One"})), must(store.PutProduct(product("A", "Apple", 1))),
		must(store.PutFAQ(catalog.FAQ{ID: "f", Question: "Q?", Answer: "A"})))
	cp1, _, _ := s.Publish(ctx, admin, "s1", wire.ReasonManual, "")
	MustWrite(t, s, must(store.PutProduct(product("A", "Green apple", 1))))
	cp2, _, _ := s.Publish(ctx, admin, "s1", wire.ReasonManual, "")
	for _, aud := range []wire.Audience{wire.AudiencePublic, wire.AudienceStaff} {
		for _, since := range []int64{0, cp1.Version} {
			for _, limit := range []int{1, wire.MaxPageLimit} {
				after, n := int64(0), 0
				for {
					p, err := s.Changes(ctx, wire.ChangesRequest{Store: "s1", Since: since, Target: cp2.Version, After: after, Limit: limit}, aud, 1)
					if err != nil || p.Protocol != 1 {
						t.Fatalf("protocol 1 page: %+v %v", p, err)
					}
					for _, c := range p.Changes {
						if c.Kind == wire.KindVector {
							t.Fatalf("%s since %d: a protocol 1 reader got %+v", aud, since, c)
						}
						n++
					}
					if p.Done {
						break
					}
					after = p.Next
				}
				if n == 0 {
					t.Fatalf("%s since %d: no changes at all", aud, since)
				}
			}
		}
	}
	if _, err := s.Changes(ctx, wire.ChangesRequest{Store: "s1", Target: cp2.Version}, wire.AudiencePublic, wire.ProtocolVersion+1); !catalog.IsCode(err, catalog.Invalid) {
		t.Fatalf("unknown protocol: %v", err)
	}
}

// testPrune: a prune op removes exactly the records of its scope that its
// keep list lacks, with their tombstones, all or nothing with its batch.
func testPrune(t *testing.T, s store.Store) {
	ctx := context.Background()
	must := MustOp(t)
	MustWrite(t, s, must(store.PutStore(catalog.Store{ID: "s1", Name: "One"})), must(store.PutStore(catalog.Store{ID: "s2", Name: "Two"})),
		must(store.PutProduct(product("A", "Apple", 1))), must(store.PutProduct(product("B", "Banana", 1))),
		must(store.PutStock("s1", catalog.StockRecord{Stock: catalog.Stock{SKU: "A", Quantity: 1}})),
		must(store.PutStock("s1", catalog.StockRecord{Stock: catalog.Stock{SKU: "B", Quantity: 1}})),
		must(store.PutStock("s2", catalog.StockRecord{Stock: catalog.Stock{SKU: "B", Quantity: 1}})),
		must(store.PutFAQ(catalog.FAQ{ID: "keep", Store: "s1", Question: "Q1?", Answer: "A"})),
		must(store.PutFAQ(catalog.FAQ{ID: "drop", Store: "s1", Question: "Q2?", Answer: "A"})),
		must(store.PutFAQ(catalog.FAQ{ID: "other", Store: "s2", Question: "Q3?", Answer: "A"})),
		must(store.PutFAQ(catalog.FAQ{ID: "global", Question: "Q4?", Answer: "A"})))
	_, cp := changesSince(t, s, "s1", 0, wire.AudienceStaff)
	// All or nothing: a failing op after the prunes undoes them.
	before, _ := s.Stats(ctx)
	_, err := s.Write(ctx, admin, []store.Op{store.Prune(store.Stock, "s1", []string{store.StockKey("s1", "A")}), store.Delete(store.Products, "nope")})
	if after, _ := s.Stats(ctx); !catalog.IsCode(err, catalog.NotFound) || after != before {
		t.Fatalf("failed batch with a prune: %v, log %+v -> %+v", err, before, after)
	}
	its := MustWrite(t, s, store.Prune(store.Stock, "s1", []string{store.StockKey("s1", "A")}), store.Prune(store.FAQs, "s1", []string{"keep"}))
	if len(its) != 2 || len(its[0].Pruned) != 1 || its[0].Pruned[0] != "s1/B" || len(its[1].Pruned) != 1 || its[1].Pruned[0] != "drop" {
		t.Fatalf("pruned %+v", its)
	}
	for _, k := range []struct {
		e   store.Entity
		key string
		ok  bool
	}{{store.Stock, "s1/A", true}, {store.Stock, "s1/B", false}, {store.Stock, "s2/B", true}, {store.FAQs, "keep", true},
		{store.FAQs, "drop", false}, {store.FAQs, "other", true}, {store.FAQs, "global", true}} {
		if _, err := s.Get(ctx, k.e, k.key); (err == nil) != k.ok {
			t.Errorf("%s %s present: %v", k.e, k.key, err == nil)
		}
	}
	chs, _ := changesSince(t, s, "s1", cp.Version, wire.AudienceStaff)
	dead := map[string]bool{}
	for _, c := range chs {
		if c.Deleted {
			dead[string(c.Kind)+"/"+c.ID] = true
		}
	}
	for _, k := range []string{"stock/B", "stock_staff/B", "faq/drop", "vector/faq:drop"} {
		if !dead[k] {
			t.Errorf("no tombstone %s after the prune: %v", k, dead)
		}
	}
	if len(dead) != 4 {
		t.Errorf("tombstones %v, want 4", dead)
	}
	// Nothing left to prune: nothing logged.
	st0, _ := s.Stats(ctx)
	its = MustWrite(t, s, store.Prune(store.Stock, "s1", []string{store.StockKey("s1", "A")}))
	if st1, _ := s.Stats(ctx); st1 != st0 || len(its[0].Pruned) != 0 {
		t.Fatalf("an idle prune: %+v, log %+v -> %+v", its, st0, st1)
	}
}

// testMarkers: markers round-trip, never touch the log's counters, and
// survive writes.
func testMarkers(t *testing.T, s store.Store) {
	ctx := context.Background()
	if v, err := s.Marker(ctx, store.MarkerVectorModel); err != nil || v != 0 {
		t.Fatalf("unset marker: %d %v", v, err)
	}
	before, _ := s.Stats(ctx)
	for _, m := range []string{"m1", "m2"} {
		v := store.ModelMarker(m)
		if err := s.SetMarker(ctx, store.MarkerVectorModel, v); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Marker(ctx, store.MarkerVectorModel); err != nil || got != v {
			t.Fatalf("marker: %d %v, want %d", got, err, v)
		}
	}
	MustWrite(t, s, MustOp(t)(store.PutStore(catalog.Store{ID: "s1", Name: "One"})))
	if got, _ := s.Marker(ctx, store.MarkerVectorModel); got != store.ModelMarker("m2") {
		t.Fatalf("marker after a write: %d", got)
	}
	if after, _ := s.Stats(ctx); after.Version != before.Version+1 || after.Horizon != before.Horizon {
		t.Fatalf("markers moved the log: %+v -> %+v", before, after)
	}
	for _, reserved := range []string{"version", "horizon"} {
		if err := s.SetMarker(ctx, reserved, 7); !catalog.IsCode(err, catalog.Invalid) {
			t.Fatalf("SetMarker(%q): %v", reserved, err)
		}
	}
	if store.ModelMarker("m1") == store.ModelMarker("m2") || store.ModelMarker("") == 0 || store.ModelMarker("m1") >= 1<<53 {
		t.Fatal("ModelMarker: collision, zero or beyond 2^53")
	}
}
