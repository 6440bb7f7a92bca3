package replica_test

import (
	"context"
	"testing"

	"aisle/sync/catalog"
	"aisle/sync/replica"
	"aisle/sync/replica/replicatest"
	"aisle/sync/wire"
)

// vectorFeed is a store with a product, a global FAQ and their vectors.
func vectorFeed() *replicatest.Feed {
	f := replicatest.NewFeed()
	f.Put("s1", wire.KindStore, "s1", catalog.Store{ID: "s1", Name: "One"})
	f.Put("", wire.KindProduct, "A", catalog.Product{SKU: "A", Name: "Aspirin", Active: true})
	f.Put("", wire.KindVector, wire.VectorID(wire.KindProduct, "A"), catalog.Vector{Model: "m", V: "a"})
	f.Put("", wire.KindFAQ, "f", catalog.FAQ{ID: "f", Question: "Open?", Answer: "Yes"})
	f.Put("", wire.KindVector, wire.VectorID(wire.KindFAQ, "f"), catalog.Vector{Model: "m", V: "f"})
	return f
}

func countKind(ents map[replica.Key]replica.Record, k wire.Kind) int {
	n := 0
	for key := range ents {
		if key.Kind == k {
			n++
		}
	}
	return n
}

// TestProtocolUpgrade: a replica filled by a protocol-1 server (or by a
// client older than the protocol field) gets the vectors of the checkpoint
// it already holds as soon as the server speaks protocol 2, without waiting
// for the next checkpoint; against a server still at 1 it costs one page.
func TestProtocolUpgrade(t *testing.T) {
	ctx := context.Background()
	for _, legacy := range []bool{false, true} {
		name := "protocol 1 client data"
		if legacy {
			name = "meta without a protocol field"
		}
		t.Run(name, func(t *testing.T) {
			feed := vectorFeed()
			cp := feed.Publish("s1")
			m := replica.NewMem()
			r := &replica.Replica{Store: "s1", Audience: wire.AudiencePublic, Storage: m}
			if _, err := r.Sync(ctx, feed.SourceAt(wire.AudiencePublic, 1)); err != nil {
				t.Fatal(err)
			}
			if n := countKind(m.Entities(), wire.KindVector); n != 0 {
				t.Fatalf("a protocol 1 sync stored %d vectors", n)
			}
			storage := replica.Storage(m)
			if legacy {
				storage = &legacyMeta{Mem: m}
			}
			r.Storage = storage
			meta, _ := storage.Load(ctx)
			if meta.AppliedProtocol() != 1 {
				t.Fatalf("applied protocol %d, want 1", meta.AppliedProtocol())
			}
			// The server is still at protocol 1: one page to find out, nothing applied.
			res, err := r.Sync(ctx, feed.SourceAt(wire.AudiencePublic, 1))
			if err != nil || res.Applied || res.Pages != 1 {
				t.Fatalf("sync against a protocol 1 server: %+v %v", res, err)
			}
			// The server speaks 2: the same checkpoint again, as a snapshot.
			res, err = r.Sync(ctx, feed.Source(wire.AudiencePublic))
			if err != nil || !res.Applied || !res.Reset || res.Checkpoint != cp {
				t.Fatalf("sync after the server's upgrade: %+v %v", res, err)
			}
			assertState(t, m.Entities(), feed.State("s1", wire.AudiencePublic, cp.Version), "after upgrade")
			if meta, _ := m.Load(ctx); meta.Protocol != wire.ProtocolVersion {
				t.Fatalf("meta protocol %d after the upgrade", meta.Protocol)
			}
			// Up to date now: no request beyond the checkpoint.
			if res, err := r.Sync(ctx, feed.Source(wire.AudiencePublic)); err != nil || res.Applied || res.Pages != 0 {
				t.Fatalf("idle sync: %+v %v", res, err)
			}
		})
	}
}

// legacyMeta hides the protocol field until its next commit, as a replica
// written by a client older than the field reads.
type legacyMeta struct {
	*replica.Mem
	committed bool
}

func (l *legacyMeta) Load(ctx context.Context) (replica.Meta, error) {
	m, err := l.Mem.Load(ctx)
	if !l.committed {
		m.Protocol = 0
	}
	return m, err
}

func (l *legacyMeta) Commit(ctx context.Context, st replica.Staging) error {
	err := l.Mem.Commit(ctx, st)
	l.committed = l.committed || err == nil
	return err
}

// TestProtocolDowngrade: a replica at protocol 2 whose server goes back to
// protocol 1 (a rollback) takes the next checkpoint as a snapshot, so no
// vector it keeps can go stale.
func TestProtocolDowngrade(t *testing.T) {
	ctx := context.Background()
	feed := vectorFeed()
	feed.Publish("s1")
	m := replica.NewMem()
	r := &replica.Replica{Store: "s1", Audience: wire.AudiencePublic, Storage: m}
	if _, err := r.Sync(ctx, feed.Source(wire.AudiencePublic)); err != nil {
		t.Fatal(err)
	}
	if n := countKind(m.Entities(), wire.KindVector); n != 2 {
		t.Fatalf("%d vectors after a protocol 2 sync", n)
	}
	feed.Put("", wire.KindProduct, "A", catalog.Product{SKU: "A", Name: "Ibuprofen", Active: true})
	cp := feed.Publish("s1")
	res, err := r.Sync(ctx, feed.SourceAt(wire.AudiencePublic, 1))
	if err != nil || !res.Applied || !res.Reset {
		t.Fatalf("sync from a protocol 1 server: %+v %v", res, err)
	}
	assertState(t, m.Entities(), feed.StateAt("s1", wire.AudiencePublic, 1, cp.Version), "after downgrade")
}

// TestContents: the bulk read holds the applied checkpoint's catalog,
// ordered, with staff maps only for staff and the vectors of what it lists.
func TestContents(t *testing.T) {
	ctx := context.Background()
	feed := vectorFeed()
	feed.Put("", wire.KindProduct, "B", catalog.Product{SKU: "B", Name: "Bandage", Active: true})
	feed.Put("", wire.KindProductStaff, "B", catalog.ProductStaff{Cost: 3, Supplier: "S"})
	feed.Put("", wire.KindProductStaff, "A", catalog.ProductStaff{Cost: 1})
	feed.Put("", wire.KindProduct, "Z", catalog.Product{SKU: "Z", Name: "Old", Active: false})
	feed.Put("", wire.KindProductStaff, "Z", catalog.ProductStaff{Cost: 9})
	feed.Put("", wire.KindVector, wire.VectorID(wire.KindProduct, "Z"), catalog.Vector{Model: "m", V: "z"})
	feed.Put("s1", wire.KindStock, "B", catalog.Stock{SKU: "B", Quantity: 2, Aisle: "1"})
	feed.Put("s1", wire.KindStockStaff, "B", catalog.StockStaff{Backroom: 5})
	feed.Put("s2", wire.KindStock, "A", catalog.Stock{SKU: "A", Quantity: 7})
	feed.Put("s1", wire.KindFAQ, "e", catalog.FAQ{ID: "e", Store: "s1", Question: "Parking?", Answer: "No"})
	feed.Put("s1", wire.KindVector, wire.VectorID(wire.KindFAQ, "e"), catalog.Vector{Model: "m", V: "e"})
	feed.Put("s2", wire.KindFAQ, "g", catalog.FAQ{ID: "g", Store: "s2", Question: "Wifi?", Answer: "Yes"})
	feed.Put("s2", wire.KindVector, wire.VectorID(wire.KindFAQ, "g"), catalog.Vector{Model: "m", V: "g"})
	feed.Put("", wire.KindPromotion, "p", catalog.Promotion{ID: "p", SKUs: []string{"A"}, DiscountPercent: 5})
	cp := feed.Publish("s1")

	empty, err := replica.NewMem().Contents(ctx)
	if err != nil || empty.Checkpoint.Seq != 0 || len(empty.Products) != 0 || empty.Vectors == nil {
		t.Fatalf("empty replica: %+v %v", empty, err)
	}
	for _, aud := range []wire.Audience{wire.AudiencePublic, wire.AudienceStaff} {
		t.Run(string(aud), func(t *testing.T) {
			m := replica.NewMem()
			if _, err := (&replica.Replica{Store: "s1", Audience: aud, Storage: m}).Sync(ctx, feed.Source(aud)); err != nil {
				t.Fatal(err)
			}
			c, err := m.Contents(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c.Checkpoint != cp || c.Store.Name != "One" {
				t.Fatalf("checkpoint %+v store %+v", c.Checkpoint, c.Store)
			}
			if got := skus(c.Products); got != "A,B" {
				t.Errorf("products %s, want the active ones A,B", got)
			}
			if len(c.Stock) != 1 || c.Stock[0].SKU != "B" || c.Stock[0].Quantity != 2 {
				t.Errorf("stock %+v, want this store's line of B", c.Stock)
			}
			if len(c.FAQs) != 2 || c.FAQs[0].ID != "e" || c.FAQs[1].ID != "f" {
				t.Errorf("faqs %+v, want e (this store's) and f (global)", c.FAQs)
			}
			if len(c.Promotions) != 1 {
				t.Errorf("promotions %+v", c.Promotions)
			}
			want := map[string]string{"product:A": "a", "faq:f": "f", "faq:e": "e"}
			if len(c.Vectors) != len(want) {
				t.Errorf("vectors %v, want %v", c.Vectors, want)
			}
			for id, v := range want {
				if c.Vectors[id].V != v || c.Vectors[id].Model != "m" {
					t.Errorf("vector %s = %+v", id, c.Vectors[id])
				}
			}
			if aud == wire.AudiencePublic {
				if c.StockStaff != nil || c.ProductStaff != nil {
					t.Errorf("customer contents carry staff maps: %v %v", c.StockStaff, c.ProductStaff)
				}
				return
			}
			if c.StockStaff["B"].Backroom != 5 || c.ProductStaff["B"].Cost != 3 || c.ProductStaff["A"].Cost != 1 || len(c.ProductStaff) != 2 {
				t.Errorf("staff maps %v %v", c.StockStaff, c.ProductStaff)
			}
		})
	}
}

func skus(ps []catalog.Product) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ","
		}
		s += p.SKU
	}
	return s
}
