// Package storetest is the behavioural suite every store.Store must pass.
// sqlstore runs it against SQLite and PostgreSQL.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	gosync "sync"
	"testing"
	"time"

	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/replica"
	"aisle/sync/wire"
	"aisle/worker/assistant/embed"
)

// Opener returns a fresh, empty store for one test.
type Opener func(t *testing.T) store.Store

var admin = store.Actor{TokenID: "tok_test", Name: "tester", Role: store.RoleAdmin, IP: "127.0.0.1"}

// MustWrite applies ops or fails the test.
func MustWrite(tb testing.TB, s store.Store, ops ...store.Op) []store.Item {
	tb.Helper()
	its, err := s.Write(context.Background(), admin, ops)
	if err != nil {
		tb.Fatalf("write: %v", err)
	}
	return its
}

// MustOp unwraps an op constructor's result.
func MustOp(tb testing.TB) func(store.Op, error) store.Op {
	return func(op store.Op, err error) store.Op {
		tb.Helper()
		if err != nil {
			tb.Fatalf("build op: %v", err)
		}
		return op
	}
}

func product(sku, name string, price int64) catalog.ProductRecord {
	return catalog.ProductRecord{Product: catalog.Product{SKU: sku, Name: name, Price: price, Currency: "EUR", Active: true},
		Staff: catalog.ProductStaff{Cost: price / 2, Supplier: "Supplier " + sku, Notes: "secret " + sku}}
}

// Source adapts a store to the replica's Source for one audience and
// protocol version (0: the newest).
type Source struct {
	S        store.Store
	Aud      wire.Audience
	Protocol int
}

func (s Source) Checkpoint(ctx context.Context, id string) (wire.Checkpoint, error) {
	return s.S.Checkpoint(ctx, id)
}
func (s Source) Changes(ctx context.Context, req wire.ChangesRequest) (wire.Page, error) {
	p := s.Protocol
	if p == 0 {
		p = wire.ProtocolVersion
	}
	return s.S.Changes(ctx, req, s.Aud, p)
}

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	t.Run("CRUD", func(t *testing.T) { testCRUD(t, open(t)) })
	t.Run("BatchAllOrNothing", func(t *testing.T) { testBatch(t, open(t)) })
	t.Run("ConcurrentVersions", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("PublishAndChanges", func(t *testing.T) { testPublish(t, open(t)) })
	t.Run("AudienceSplit", func(t *testing.T) { testAudience(t, open(t)) })
	t.Run("ScopeMove", func(t *testing.T) { testScopeMove(t, open(t)) })
	t.Run("Compact", func(t *testing.T) { testCompact(t, open(t)) })
	t.Run("ReplicaConverges", func(t *testing.T) { testConverges(t, open(t)) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, open(t)) })
	t.Run("LastAdminToken", func(t *testing.T) { testLastAdminToken(t, open(t)) })
	t.Run("Pairings", func(t *testing.T) { testPairings(t, open(t)) })
	t.Run("Vectors", func(t *testing.T) { testVectors(t, open(t)) })
	t.Run("VectorScopes", func(t *testing.T) { testVectorScopes(t, open(t)) })
	t.Run("VectorRefresh", func(t *testing.T) { testVectorRefresh(t, open(t)) })
	t.Run("ProtocolFilter", func(t *testing.T) { testProtocolFilter(t, open(t)) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, open(t)) })
	t.Run("Markers", func(t *testing.T) { testMarkers(t, open(t)) })
	t.Run("Devices", func(t *testing.T) { testDevices(t, open(t)) })
}

func testCRUD(t *testing.T, s store.Store) {
	ctx := context.Background()
	must := MustOp(t)
	for _, id := range []string{"s3", "s1", "s2"} {
		MustWrite(t, s, must(store.PutStore(catalog.Store{ID: id, Name: "Store " + id, TimeZone: "Europe/Paris"})))
	}
	it, err := s.Get(ctx, store.Stores, "s1")
	if err != nil {
		t.Fatal(err)
	}
	var got catalog.Store
	if err := json.Unmarshal(it.Data, &got); err != nil || got.Name != "Store s1" || got.NightlyAt != catalog.DefaultNightlyAt {
		t.Fatalf("get s1: %+v %v", got, err)
	}
	if _, err := s.Get(ctx, store.Stores, "nope"); !catalog.IsCode(err, catalog.NotFound) {
		t.Fatalf("get missing: %v", err)
	}
	// Pagination by key.
	page1, next, err := s.List(ctx, store.Stores, store.ListQuery{Limit: 2})
	if err != nil || len(page1) != 2 || page1[0].Key != "s1" || page1[1].Key != "s2" || next != "s2" {
		t.Fatalf("page 1: %v next %q err %v", keysOf(page1), next, err)
	}
	page2, next, err := s.List(ctx, store.Stores, store.ListQuery{Limit: 2, After: next})
	if err != nil || len(page2) != 1 || page2[0].Key != "s3" || next != "" {
		t.Fatalf("page 2: %v next %q err %v", keysOf(page2), next, err)
	}
	if _, _, err := s.List(ctx, store.Stores, store.ListQuery{Limit: store.MaxListLimit + 1}); !catalog.IsCode(err, catalog.Invalid) {
		t.Fatalf("huge limit: %v", err)
	}
	// Create conflicts; If-Match versions; unchanged puts are free.
	op := must(store.PutStore(catalog.Store{ID: "s1", Name: "Again"}))
	op.Create = true
	if _, err := s.Write(ctx, admin, []store.Op{op}); !catalog.IsCode(err, catalog.Conflict) {
		t.Fatalf("create existing: %v", err)
	}
	op.Create, op.IfVersion = false, it.Version+1000
	if _, err := s.Write(ctx, admin, []store.Op{op}); !catalog.IsCode(err, catalog.Precondition) {
		t.Fatalf("stale if-match: %v", err)
	}
	op.IfVersion = it.Version
	upd := MustWrite(t, s, op)[0]
	if upd.Version <= it.Version {
		t.Fatalf("update version %d not above %d", upd.Version, it.Version)
	}
	st0, _ := s.Stats(ctx)
	same := MustWrite(t, s, must(store.PutStore(catalog.Store{ID: "s1", Name: "Again"})))[0]
	st1, _ := s.Stats(ctx)
	if same.Version != upd.Version || st1.Version != st0.Version {
		t.Fatalf("unchanged put moved the log: %d -> %d", st0.Version, st1.Version)
	}
	// References and dependents.
	_, err = s.Write(ctx, admin, []store.Op{must(store.PutStock("s1", catalog.StockRecord{Stock: catalog.Stock{SKU: "P1", Quantity: 1}}))})
	if ce, ok := err.(*catalog.Error); !ok || ce.Code != catalog.Invalid || len(ce.Fields) == 0 || ce.Fields[0].Field != "sku" || ce.Fields[0].Row != 1 {
		t.Fatalf("stock of a missing product: %#v", err)
	}
	MustWrite(t, s, must(store.PutProduct(product("P1", "Milk", 100))),
		must(store.PutStock("s1", catalog.StockRecord{Stock: catalog.Stock{SKU: "P1", Quantity: 1}})))
	if _, err := s.Write(ctx, admin, []store.Op{store.Delete(store.Products, "P1")}); !catalog.IsCode(err, catalog.Conflict) {
		t.Fatalf("delete product with stock: %v", err)
	}
	if _, err := s.Write(ctx, admin, []store.Op{store.Delete(store.Stores, "s1")}); !catalog.IsCode(err, catalog.Conflict) {
		t.Fatalf("delete store with stock: %v", err)
	}
	MustWrite(t, s, store.Delete(store.Stock, store.StockKey("s1", "P1")), store.Delete(store.Products, "P1"))
	if _, err := s.Write(ctx, admin, []store.Op{store.Delete(store.Products, "P1")}); !catalog.IsCode(err, catalog.NotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	// The audit log names the actor of every write, newest first.
	entries, _, err := s.Audit(ctx, 0, 3)
	if err != nil || len(entries) != 3 || entries[0].Action != "delete" || entries[0].Key != "P1" || entries[0].Actor != "tester" || entries[0].IP != "127.0.0.1" {
		t.Fatalf("audit: %+v %v", entries, err)
	}
	older, _, err := s.Audit(ctx, entries[2].ID, 100)
	if err != nil || len(older) == 0 || older[0].ID >= entries[2].ID {
		t.Fatalf("audit page 2: %+v %v", older, err)
	}
}

func keysOf(its []store.Item) []string {
	var ks []string
	for _, it := range its {
		ks = append(ks, it.Key)
	}
	return ks
}

func testBatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	must := MustOp(t)
	MustWrite(t, s, must(store.PutStore(catalog.Store{ID: "s1", Name: "One"})))
	before, _ := s.Stats(ctx)
	ops := []store.Op{
		must(store.PutProduct(product("A", "Apple", 50))),
		must(store.PutProduct(product("B", "Banana", 30))),
		must(store.PutStock("s1", catalog.StockRecord{Stock: catalog.Stock{SKU: "C", Quantity: 3}})), // C does not exist
	}
	_, err := s.Write(ctx, admin, ops)
	ce, ok := err.(*catalog.Error)
	if !ok || ce.Code != catalog.Invalid || ce.Fields[0].Row != 3 {
		t.Fatalf("batch error: %#v", err)
	}
	after, _ := s.Stats(ctx)
	if after != before {
		t.Fatalf("failed batch changed the log: %+v -> %+v", before, after)
	}
	if _, err := s.Get(ctx, store.Products, "A"); !catalog.IsCode(err, catalog.NotFound) {
		t.Fatalf("row 1 of a failed batch is visible: %v", err)
	}
	its := MustWrite(t, s, ops[:2]...)
	if its[1].Version != its[0].Version+3 {
		t.Fatalf("each new product logs three changes (product, staff, vector): versions %d, %d", its[0].Version, its[1].Version)
	}
	changed := must(store.PutProduct(product("B", "Banana", 35)))
	if its := MustWrite(t, s, ops[0], changed); its[0].Changed || !its[1].Changed || its[1].Version <= its[0].Version {
		t.Fatalf("an unchanged put and a changed one: %+v", its)
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	must := MustOp(t)
	MustWrite(t, s, must(store.PutStore(catalog.Store{ID: "s1", Name: "One"})))
	const writers, each = 8, 10
	var wg gosync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				op := must(store.PutProduct(product(fmt.Sprintf("W%d-%d", w, i), "x", int64(i))))
				if _, err := s.Write(ctx, admin, []store.Op{op}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent write: %v", err)
	}
	cp, _, err := s.Publish(ctx, admin, "s1", wire.ReasonManual, "")
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.Changes(ctx, wire.ChangesRequest{Store: "s1", Since: 0, Target: cp.Version, Limit: wire.MaxPageLimit}, wire.AudienceStaff, wire.ProtocolVersion)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + writers*each*3; len(page.Changes) != want || int64(want) != cp.Version {
		t.Fatalf("%d changes up to version %d, want %d", len(page.Changes), cp.Version, want)
	}
}

func testPublish(t *testing.T, s store.Store) {
	ctx := context.Background()
	must := MustOp(t)
	if _, _, err := s.Publish(ctx, admin, "nope", wire.ReasonManual, ""); !catalog.IsCode(err, catalog.NotFound) {
		t.Fatalf("publish unknown store: %v", err)
	}
	MustWrite(t, s, must(store.PutStore(catalog.Store{ID: "s1", Name: "One"})), must(store.PutProduct(product("A", "Apple", 50))))
	if cp, err := s.Checkpoint(ctx, "s1"); err != nil || cp.Seq != 0 {
		t.Fatalf("checkpoint before publish: %+v %v", cp, err)
	}
	cp1, created, err := s.Publish(ctx, admin, "s1", wire.ReasonNightly, "2026-11-24")
	if err != nil || !created || cp1.Seq != 1 || cp1.Version != 4 || cp1.Reason != wire.ReasonNightly {
		t.Fatalf("first publish: %+v %v %v", cp1, created, err)
	}
	again, created, err := s.Publish(ctx, admin, "s1", wire.ReasonNightly, "2026-11-24")
	if err != nil || created || again != cp1 {
		t.Fatalf("same night again: %+v %v %v", again, created, err)
	}
	if _, created, err := s.Publish(ctx, admin, "s1", wire.ReasonNightly, "2026-11-25"); err != nil || created {
		t.Fatalf("nightly without changes published: %v %v", created, err)
	}
	// A price change leaves the embedded text alone: product and staff
	// documents only, no new vector.
	MustWrite(t, s, must(store.PutProduct(product("A", "Apple", 55))))
	live, _ := s.Checkpoint(ctx, "s1")
	if live != cp1 {
		t.Fatalf("a write moved the checkpoint: %+v", live)
	}
	cp2, created, err := s.Publish(ctx, admin, "s1", wire.ReasonManual, "")
	if err != nil || !created || cp2.Seq != 2 || cp2.Version != 6 {
		t.Fatalf("manual publish: %+v %v", cp2, err)
	}
	// Snapshot, delta, paging, and the checkpoint bound.
	snap, err := s.Changes(ctx, wire.ChangesRequest{Store: "s1", Target: cp1.Version}, wire.AudienceStaff, wire.ProtocolVersion)
	if err != nil || !snap.Reset || !snap.Done || len(snap.Changes) != 4 {
		t.Fatalf("snapshot at cp1: %+v %v", snap, err)
	}
	delta, err := s.Changes(ctx, wire.ChangesRequest{Store: "s1", Since: cp1.Version, Target: cp2.Version, Limit: 1}, wire.AudienceStaff, wire.ProtocolVersion)
	if err != nil || delta.Reset || delta.Done || len(delta.Changes) != 1 || delta.Changes[0].Version != 5 || delta.Next != 5 {
		t.Fatalf("delta page 1: %+v %v", delta, err)
	}
	delta2, err := s.Changes(ctx, wire.ChangesRequest{Store: "s1", Since: cp1.Version, Target: cp2.Version, After: delta.Next, Limit: 1}, wire.AudienceStaff, wire.ProtocolVersion)
	if err != nil || len(delta2.Changes) != 1 || delta2.Changes[0].Version != 6 || delta2.Changes[0].Kind != wire.KindProductStaff {
		t.Fatalf("delta page 2: %+v %v", delta2, err)
	}
	delta3, err := s.Changes(ctx, wire.ChangesRequest{Store: "s1", Since: cp1.Version, Target: cp2.Version, After: delta2.Next, Limit: 1}, wire.AudienceStaff, wire.ProtocolVersion)
	if err != nil || len(delta3.Changes) != 0 || !delta3.Done || delta3.Next != delta2.Next {
		t.Fatalf("delta page 3: %+v %v", delta3, err)
	}
	for _, bad := range []wire.ChangesRequest{
		{Store: "s1", Target: 5},           // not a checkpoint
		{Store: "s2", Target: cp2.Version}, // another store's
	} {
		if _, err := s.Changes(ctx, bad, wire.AudiencePublic, wire.ProtocolVersion); !catalog.IsCode(err, catalog.Gone) {
			t.Errorf("changes %+v: %v, want gone", bad, err)
		}
	}
	for _, bad := range []wire.ChangesRequest{
		{Store: "s1", Since: 5, Target: 3},
		{Store: "s1", Target: cp2.Version, Limit: wire.MaxPageLimit + 1},
		{Store: "s1", Target: cp2.Version, After: -1},
	} {
		if _, err := s.Changes(ctx, bad, wire.AudiencePublic, wire.ProtocolVersion); !catalog.IsCode(err, catalog.Invalid) {
			t.Errorf("changes %+v: %v, want invalid", bad, err)
		}
	}
}

func testAudience(t *testing.T, s store.Store) {
	ctx := context.Background()
	must := MustOp(t)
	MustWrite(t, s, must(store.PutStore(catalog.Store{ID: "s1", Name: "One"})), must(store.PutProduct(product("A", "Apple", 50))),
		must(store.PutStock("s1", catalog.StockRecord{Stock: catalog.Stock{SKU: "A", Quantity: 4, Aisle: "7"}, Staff: catalog.StockStaff{Backroom: 40, Notes: "pallet"}})))
	cp, _, err := s.Publish(ctx, admin, "s1", wire.ReasonManual, "")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := s.Changes(ctx, wire.ChangesRequest{Store: "s1", Target: cp.Version}, wire.AudiencePublic, wire.ProtocolVersion)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[wire.Kind]json.RawMessage{}
	for _, c := range pub.Changes {
		kinds[c.Kind] = c.Data
	}
	if len(kinds) != 4 || kinds[wire.KindVector] == nil || kinds[wire.KindProductStaff] != nil || kinds[wire.KindStockStaff] != nil {
		t.Fatalf("public kinds: %v", kinds)
	}
	var fields map[string]any
	if err := json.Unmarshal(kinds[wire.KindProduct], &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"cost", "supplier", "notes", "staff"} {
		if _, ok := fields[f]; ok {
			t.Errorf("public product carries %q: %s", f, kinds[wire.KindProduct])
		}
	}
	staff, err := s.Changes(ctx, wire.ChangesRequest{Store: "s1", Target: cp.Version}, wire.AudienceStaff, wire.ProtocolVersion)
	if err != nil || len(staff.Changes) != 6 {
		t.Fatalf("staff changes: %d %v", len(staff.Changes), err)
	}
}

func testScopeMove(t *testing.T, s store.Store) {
	ctx := context.Background()
	must := MustOp(t)
	MustWrite(t, s, must(store.PutStore(catalog.Store{ID: "s1", Name: "One"})), must(store.PutStore(catalog.Store{ID: "s2", Name: "Two"})),
		must(store.PutFAQ(catalog.FAQ{ID: "f", Question: "Parking?", Answer: "Free"})))
	r1 := &replica.Replica{Store: "s1", Audience: wire.AudiencePublic, Storage: replica.NewMem()}
	r2 := &replica.Replica{Store: "s2", Audience: wire.AudiencePublic, Storage: replica.NewMem()}
	sync := func() {
		t.Helper()
		for _, id := range []string{"s1", "s2"} {
			if _, _, err := s.Publish(ctx, admin, id, wire.ReasonManual, ""); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range []*replica.Replica{r1, r2} {
			if _, err := r.Sync(ctx, Source{S: s, Aud: wire.AudiencePublic}); err != nil {
				t.Fatal(err)
			}
		}
	}
	sync()
	for _, r := range []*replica.Replica{r1, r2} {
		if _, ok := r.Storage.(*replica.Mem).Entities()[replica.Key{Kind: wire.KindFAQ, ID: "f"}]; !ok {
			t.Fatalf("%s lacks the global FAQ", r.Store)
		}
	}
	MustWrite(t, s, must(store.PutFAQ(catalog.FAQ{ID: "f", Store: "s1", Question: "Parking?", Answer: "Free for 2h"})))
	sync()
	if _, ok := r2.Storage.(*replica.Mem).Entities()[replica.Key{Kind: wire.KindFAQ, ID: "f"}]; ok {
		t.Fatal("s2 still holds an FAQ moved to s1")
	}
	if _, err := r1.Storage.(*replica.Mem).FAQs(ctx, "parking", 0); err != nil {
		t.Fatal(err)
	}
	got, _ := r1.Storage.(*replica.Mem).FAQs(ctx, "parking", 0)
	if len(got) != 1 || got[0].Answer != "Free for 2h" {
		t.Fatalf("s1 FAQ: %+v", got)
	}
}

func testCompact(t *testing.T, s store.Store) {
	ctx := context.Background()
	must := MustOp(t)
	MustWrite(t, s, must(store.PutStore(catalog.Store{ID: "s1", Name: "One"})), must(store.PutProduct(product("A", "Apple", 1))),
		must(store.PutProduct(product("B", "Banana", 1))))
	cp1, _, _ := s.Publish(ctx, admin, "s1", wire.ReasonManual, "")
	MustWrite(t, s, must(store.PutProduct(product("A", "Apple", 2))), store.Delete(store.Products, "B"))
	cp2, _, _ := s.Publish(ctx, admin, "s1", wire.ReasonManual, "")
	before, _ := s.Stats(ctx)
	if err := s.Compact(ctx, cp2.Version); err != nil {
		t.Fatal(err)
	}
	after, _ := s.Stats(ctx)
	// Kept: store, A and A's staff and vector docs at their latest versions.
	if after.Horizon != cp2.Version || after.Changes != 4 || after.Changes >= before.Changes {
		t.Fatalf("stats after compaction: %+v (before %+v)", after, before)
	}
	if _, err := s.Changes(ctx, wire.ChangesRequest{Store: "s1", Since: 0, Target: cp1.Version}, wire.AudiencePublic, wire.ProtocolVersion); !catalog.IsCode(err, catalog.Gone) {
		t.Fatalf("target below horizon: %v", err)
	}
	p, err := s.Changes(ctx, wire.ChangesRequest{Store: "s1", Since: cp1.Version, Target: cp2.Version}, wire.AudiencePublic, wire.ProtocolVersion)
	if err != nil || !p.Reset || len(p.Changes) != 3 {
		t.Fatalf("stale cursor gets a snapshot: %+v %v", p, err)
	}
	if err := s.Compact(ctx, after.Version+10); !catalog.IsCode(err, catalog.Invalid) {
		t.Fatalf("horizon beyond head: %v", err)
	}
	if cp, err := s.CheckpointAt(ctx, "s1", cp2.PublishedAt); err != nil || cp.Seq != 2 {
		t.Fatalf("checkpoint at cp2's time: %+v %v", cp, err)
	}
	if cp, err := s.CheckpointAt(ctx, "s1", cp1.PublishedAt); err != nil || (cp.Seq != 1 && cp2.PublishedAt.After(cp1.PublishedAt)) {
		t.Fatalf("checkpoint at cp1's time: %+v %v", cp, err)
	}
	if cp, err := s.CheckpointAt(ctx, "s1", cp1.PublishedAt.Add(-time.Millisecond)); err != nil || cp.Seq != 0 {
		t.Fatalf("checkpoint before any: %+v %v", cp, err)
	}
}

// testConverges runs random writes, publishes, compactions and replica
// syncs against the store; replicas of both audiences must equal the
// server's state at their checkpoint, kept by a plain model.
func testConverges(t *testing.T, s store.Store) {
	ctx := context.Background()
	must := MustOp(t)
	rng := rand.New(rand.NewPCG(1, 2))
	MustWrite(t, s, must(store.PutStore(catalog.Store{ID: "s1", Name: "One"})), must(store.PutStore(catalog.Store{ID: "s2", Name: "Two"})))
	reps := map[wire.Audience]*replica.Replica{}
	for _, aud := range []wire.Audience{wire.AudiencePublic, wire.AudienceStaff} {
		reps[aud] = &replica.Replica{Store: "s1", Audience: aud, Storage: replica.NewMem(), PageLimit: 3}
	}
	products := map[string]bool{}
	stock := map[string]bool{}
	faqs := map[string]string{} // ID -> its store ("" chain-wide); moved at random
	for step := range 160 {
		sku := fmt.Sprintf("P%d", rng.IntN(15))
		switch op := rng.IntN(12); {
		case op >= 10:
			id, where := fmt.Sprintf("F%d", rng.IntN(4)), []string{"", "s1", "s2"}[rng.IntN(3)]
			if _, ok := faqs[id]; ok && rng.IntN(4) == 0 {
				MustWrite(t, s, store.Delete(store.FAQs, id))
				delete(faqs, id)
				break
			}
			MustWrite(t, s, must(store.PutFAQ(catalog.FAQ{ID: id, Store: where, Question: "Q " + id + "?", Answer: "A" + fmt.Sprint(rng.IntN(9))})))
			faqs[id] = where
		case op < 4:
			MustWrite(t, s, must(store.PutProduct(product(sku, "n"+fmt.Sprint(rng.IntN(99)), rng.Int64N(999)))))
			products[sku] = true
		case op < 6 && products[sku]:
			st := []string{"s1", "s2"}[rng.IntN(2)]
			MustWrite(t, s, must(store.PutStock(st, catalog.StockRecord{Stock: catalog.Stock{SKU: sku, Quantity: rng.Int64N(9)}})))
			stock[st+"/"+sku] = true
		case op == 6 && products[sku] && !stock["s1/"+sku] && !stock["s2/"+sku]:
			MustWrite(t, s, store.Delete(store.Products, sku))
			delete(products, sku)
		case op == 6 && stock["s1/"+sku]:
			MustWrite(t, s, store.Delete(store.Stock, store.StockKey("s1", sku)))
			delete(stock, "s1/"+sku)
		case op == 7:
			if _, _, err := s.Publish(ctx, admin, "s1", wire.ReasonManual, ""); err != nil {
				t.Fatal(err)
			}
		case op == 8 && rng.IntN(4) == 0:
			cp, _ := s.Checkpoint(ctx, "s1")
			if err := s.Compact(ctx, cp.Version-rng.Int64N(3)); err != nil && !catalog.IsCode(err, catalog.Invalid) {
				t.Fatal(err)
			}
		default:
			for aud, r := range reps {
				if _, err := r.Sync(ctx, Source{S: s, Aud: aud}); err != nil {
					t.Fatalf("step %d sync %s: %v", step, aud, err)
				}
			}
		}
	}
	if _, _, err := s.Publish(ctx, admin, "s1", wire.ReasonManual, ""); err != nil {
		t.Fatal(err)
	}
	for aud, r := range reps {
		if _, err := r.Sync(ctx, Source{S: s, Aud: aud}); err != nil {
			t.Fatal(err)
		}
		got := r.Storage.(*replica.Mem).Entities()
		want := 1 // the store record
		for sku := range products {
			it, err := s.Get(ctx, store.Products, sku)
			if err != nil {
				t.Fatal(err)
			}
			var rec catalog.ProductRecord
			_ = json.Unmarshal(it.Data, &rec)
			var local catalog.Product
			if err := json.Unmarshal(got[replica.Key{Kind: wire.KindProduct, ID: sku}].Data, &local); err != nil || fmt.Sprint(local) != fmt.Sprint(rec.Product) {
				t.Fatalf("%s product %s: local %+v, server %+v (%v)", aud, sku, local, rec.Product, err)
			}
			// The vector is the one of the product's current text: never stale.
			var vec catalog.Vector
			if err := json.Unmarshal(got[replica.Key{Kind: wire.KindVector, ID: wire.VectorID(wire.KindProduct, sku)}].Data, &vec); err != nil || vec != embed.Encode(embed.Product(rec.Product)) {
				t.Fatalf("%s vector of %s: %+v (%v), want the vector of %q", aud, sku, vec, err, rec.Name)
			}
			want += 2
			if aud == wire.AudienceStaff {
				want++
			}
		}
		for id, where := range faqs {
			if where != "" && where != "s1" {
				continue
			}
			it, err := s.Get(ctx, store.FAQs, id)
			if err != nil {
				t.Fatal(err)
			}
			var rec catalog.FAQ
			_ = json.Unmarshal(it.Data, &rec)
			var local catalog.FAQ
			if err := json.Unmarshal(got[replica.Key{Kind: wire.KindFAQ, ID: id}].Data, &local); err != nil || local.Answer != rec.Answer {
				t.Fatalf("%s FAQ %s: local %+v, server %+v (%v)", aud, id, local, rec, err)
			}
			if _, ok := got[replica.Key{Kind: wire.KindVector, ID: wire.VectorID(wire.KindFAQ, id)}]; !ok {
				t.Fatalf("%s has no vector of FAQ %s", aud, id)
			}
			want += 2
		}
		for k := range stock {
			if k[:2] == "s1" {
				want++
				if aud == wire.AudienceStaff {
					want++
				}
			}
		}
		if len(got) != want {
			t.Fatalf("%s replica holds %d entities, want %d", aud, len(got), want)
		}
	}
}

func testTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	tok := store.Token{ID: "tok_1", Name: "tablet", Role: store.RoleStaff, Store: "s1"}
	if err := s.CreateToken(ctx, admin, tok, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, admin, store.Token{ID: "tok_2", Name: "dup", Role: store.RoleAdmin}, []byte{1, 2, 3}); !catalog.IsCode(err, catalog.Conflict) {
		t.Fatalf("duplicate hash: %v", err)
	}
	got, err := s.TokenByHash(ctx, []byte{1, 2, 3})
	if err != nil || got.ID != "tok_1" || got.Role != store.RoleStaff || got.Store != "s1" || got.CreatedAt.IsZero() || time.Since(got.CreatedAt) > time.Hour {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	if _, err := s.TokenByHash(ctx, []byte{9}); !catalog.IsCode(err, catalog.Unauthorized) {
		t.Fatalf("unknown hash: %v", err)
	}
	if err := s.RevokeToken(ctx, admin, "tok_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TokenByHash(ctx, []byte{1, 2, 3}); !catalog.IsCode(err, catalog.Unauthorized) {
		t.Fatalf("revoked: %v", err)
	}
	if err := s.RevokeToken(ctx, admin, "tok_x"); !catalog.IsCode(err, catalog.NotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	list, err := s.ListTokens(ctx)
	if err != nil || len(list) != 1 || !list[0].Revoked {
		t.Fatalf("list: %+v %v", list, err)
	}
	exp := time.UnixMilli(time.Now().Add(time.Hour).UnixMilli()).UTC()
	if err := s.CreateToken(ctx, admin, store.Token{ID: "tok_e", Name: "expiring", Role: store.RoleStaff, Store: "s1", ExpiresAt: &exp}, []byte{7}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TokenByHash(ctx, []byte{7}); err != nil || got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || got.Expired(exp.Add(-time.Millisecond)) || !got.Expired(exp) {
		t.Fatalf("expiring token: %+v %v", got, err)
	}
}

// testPairings: a pairing's code is redeemed once for a staff token of
// its store carrying its expiry; revoking it revokes that token.
func testPairings(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.UnixMilli(time.Now().UnixMilli()).UTC()
	exp := now.Add(time.Hour)
	if err := s.CreatePairing(ctx, admin, store.Pairing{ID: "pair_1", Store: "s1", Name: "Till", CreatedAt: now, ExpiresAt: &exp}, []byte{5}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RedeemPairing(ctx, admin, []byte{6}, now, store.Token{ID: "tok_p0"}, []byte{60}); !catalog.IsCode(err, catalog.Unauthorized) {
		t.Fatalf("unknown code: %v", err)
	}
	if _, _, err := s.RedeemPairing(ctx, admin, []byte{5}, exp, store.Token{ID: "tok_p0"}, []byte{60}); !catalog.IsCode(err, catalog.Gone) {
		t.Fatalf("expired code: %v", err)
	}
	p, tok, err := s.RedeemPairing(ctx, admin, []byte{5}, now, store.Token{ID: "tok_p1", Name: "Till"}, []byte{50})
	if err != nil || p.TokenID != "tok_p1" || tok.Role != store.RoleStaff || tok.Store != "s1" || tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(exp) {
		t.Fatalf("redeem: %+v %+v %v", p, tok, err)
	}
	if _, _, err := s.RedeemPairing(ctx, admin, []byte{5}, now, store.Token{ID: "tok_p2"}, []byte{51}); !catalog.IsCode(err, catalog.Unauthorized) {
		t.Fatalf("second redemption: %v", err)
	}
	if got, err := s.TokenByHash(ctx, []byte{50}); err != nil || got.ID != "tok_p1" || got.ExpiresAt == nil {
		t.Fatalf("issued token: %+v %v", got, err)
	}
	ps, err := s.ListPairings(ctx, "s1")
	if err != nil || len(ps) != 1 || ps[0].TokenID != "tok_p1" || ps[0].PairedAt == nil || ps[0].Revoked {
		t.Fatalf("list: %+v %v", ps, err)
	}
	if ps[0].LastSyncAt != nil {
		t.Fatalf("last sync before any: %v", ps[0].LastSyncAt)
	}
	// The last sync: written, then not again within a minute, then again.
	lastSync := func() *time.Time {
		t.Helper()
		ps, err := s.ListPairings(ctx, "s1")
		if err != nil || len(ps) != 1 {
			t.Fatalf("list: %+v %v", ps, err)
		}
		return ps[0].LastSyncAt
	}
	for _, tc := range []struct {
		at, want time.Time
	}{
		{now, now},
		{now.Add(59 * time.Second), now},
		{now.Add(-time.Hour), now},
		{now.Add(time.Minute), now.Add(time.Minute)},
	} {
		if err := s.NotePairingSync(ctx, "tok_p1", tc.at); err != nil {
			t.Fatal(err)
		}
		if got := lastSync(); got == nil || !got.Equal(tc.want) {
			t.Fatalf("after a sync at %v: last sync %v, want %v", tc.at, got, tc.want)
		}
	}
	if err := s.NotePairingSync(ctx, "tok_none", now); err != nil {
		t.Fatalf("sync of a token no pairing issued: %v", err)
	}
	if _, err := s.RevokePairing(ctx, admin, "pair_1", "s2"); !catalog.IsCode(err, catalog.NotFound) {
		t.Fatalf("revoke through another store: %v", err)
	}
	if _, err := s.TokenByHash(ctx, []byte{50}); err != nil {
		t.Fatalf("a refused revocation revoked the token: %v", err)
	}
	if p, err := s.RevokePairing(ctx, admin, "pair_1", "s1"); err != nil || p.TokenID != "tok_p1" {
		t.Fatalf("revoke: %+v %v", p, err)
	}
	if _, err := s.TokenByHash(ctx, []byte{50}); !catalog.IsCode(err, catalog.Unauthorized) {
		t.Fatalf("token of a revoked pairing: %v", err)
	}
	if _, err := s.RevokePairing(ctx, admin, "pair_x", ""); !catalog.IsCode(err, catalog.NotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if ps, _ := s.ListPairings(ctx, "s1"); len(ps) != 1 || !ps[0].Revoked {
		t.Fatalf("list after revoke: %+v", ps)
	}
}

// testLastAdminToken: the last active admin token cannot be revoked, and of
// two concurrent revocations of the last two, exactly one succeeds.
func testLastAdminToken(t *testing.T, s store.Store) {
	ctx := context.Background()
	hash := 0
	create := func(id string, role store.Role) {
		t.Helper()
		hash++
		if err := s.CreateToken(ctx, admin, store.Token{ID: id, Name: id, Role: role}, []byte{byte(hash)}); err != nil {
			t.Fatal(err)
		}
	}
	create("tok_staff", store.RoleStaff)
	create("tok_a0", store.RoleAdmin)
	if err := s.RevokeToken(ctx, admin, "tok_a0"); !catalog.IsCode(err, catalog.Conflict) {
		t.Fatalf("revoking the last admin token: %v, want a conflict", err)
	}
	if err := s.RevokeToken(ctx, admin, "tok_staff"); err != nil {
		t.Fatalf("a staff token is not an admin token: %v", err)
	}
	survivor := "tok_a0"
	for round := 1; round <= 20; round++ {
		other := fmt.Sprintf("tok_a%d", round)
		create(other, store.RoleAdmin)
		ids := []string{survivor, other}
		errs := make([]error, 2)
		start := make(chan struct{})
		var wg gosync.WaitGroup
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = s.RevokeToken(ctx, admin, id)
			}()
		}
		close(start)
		wg.Wait()
		switch {
		case errs[0] == nil && catalog.IsCode(errs[1], catalog.Conflict):
			survivor = other
		case errs[1] == nil && catalog.IsCode(errs[0], catalog.Conflict):
		default:
			t.Fatalf("round %d: concurrent revocations of the last two admin tokens: %v, %v; want one success and one conflict", round, errs[0], errs[1])
		}
	}
	list, err := s.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var active []string
	for _, tk := range list {
		if tk.Role == store.RoleAdmin && !tk.Revoked {
			active = append(active, tk.ID)
		}
	}
	if len(active) != 1 || active[0] != survivor {
		t.Fatalf("active admin tokens %v, want [%s]", active, survivor)
	}
}

// testDevices: a device's last sync is written at most once a minute per
// store (never moved back), its first sighting kept; counts split by
// audience and window; the list is newest first; pruning deletes the
// devices unseen since the cutoff, of every store.
func testDevices(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.UnixMilli(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC).UnixMilli()).UTC()
	a, b, c := []byte{0xaa, 1}, []byte{0xbb, 2}, []byte{0xcc, 3}
	get := func(st string, hash []byte) store.Device {
		t.Helper()
		ds, err := s.ListDevices(ctx, st, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.Hash == fmt.Sprintf("%x", hash) {
				return d
			}
		}
		t.Fatalf("device %x of %s not listed: %+v", hash, st, ds)
		return store.Device{}
	}
	for _, tc := range []struct {
		at, want time.Time
		aud      string
		wantAud  string
	}{
		{now, now, store.DeviceCustomer, store.DeviceCustomer},
		{now.Add(59 * time.Second), now, store.DeviceStaff, store.DeviceCustomer},
		{now.Add(-time.Hour), now, store.DeviceStaff, store.DeviceCustomer},
		{now.Add(time.Minute), now.Add(time.Minute), store.DeviceStaff, store.DeviceStaff},
	} {
		if err := s.NoteDeviceSync(ctx, "s1", a, tc.aud, tc.at); err != nil {
			t.Fatal(err)
		}
		if d := get("s1", a); !d.LastSync.Equal(tc.want) || !d.FirstSeen.Equal(now) || d.Audience != tc.wantAud || d.Store != "s1" {
			t.Fatalf("after a sync at %v as %s: %+v, want last sync %v as %s", tc.at, tc.aud, d, tc.want, tc.wantAud)
		}
	}
	// The same device in another store is another row.
	if err := s.NoteDeviceSync(ctx, "s2", a, store.DeviceCustomer, now.Add(-40*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if d := get("s2", a); !d.FirstSeen.Equal(now.Add(-40 * 24 * time.Hour)) {
		t.Fatalf("s2: %+v", d)
	}
	if err := s.NoteDeviceSync(ctx, "s1", b, store.DeviceCustomer, now.Add(-3*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.NoteDeviceSync(ctx, "s1", c, store.DeviceCustomer, now.Add(-100*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		since time.Duration
		want  store.DeviceCounts
	}{
		{24 * time.Hour, store.DeviceCounts{Staff: 1}},
		{7 * 24 * time.Hour, store.DeviceCounts{Customer: 1, Staff: 1}},
		{200 * 24 * time.Hour, store.DeviceCounts{Customer: 2, Staff: 1}},
	} {
		if got, err := s.CountDevices(ctx, "s1", now.Add(-tc.since)); err != nil || got != tc.want {
			t.Fatalf("count since %v: %+v %v, want %+v", tc.since, got, err, tc.want)
		}
	}
	ds, err := s.ListDevices(ctx, "s1", 2)
	if err != nil || len(ds) != 2 || ds[0].Hash != fmt.Sprintf("%x", a) || ds[1].Hash != fmt.Sprintf("%x", b) {
		t.Fatalf("list (2): %+v %v", ds, err)
	}
	n, err := s.PruneDevices(ctx, now.Add(-store.DeviceRetention))
	if err != nil || n != 1 {
		t.Fatalf("prune: %d %v", n, err)
	}
	if got, err := s.CountDevices(ctx, "s1", time.UnixMilli(0)); err != nil || got != (store.DeviceCounts{Customer: 1, Staff: 1}) {
		t.Fatalf("after pruning: %+v %v", got, err)
	}
	if ds, err := s.ListDevices(ctx, "s2", 50); err != nil || len(ds) != 1 {
		t.Fatalf("s2 after pruning: %+v %v", ds, err)
	}
	if n, err := s.PruneDevices(ctx, now.Add(time.Hour)); err != nil || n != 3 {
		t.Fatalf("prune all: %d %v", n, err)
	}
}
