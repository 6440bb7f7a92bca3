package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// benchLog loads n products and a nightly change of 5% of them, and
// returns the two checkpoints.
func benchLog(b *testing.B, s store.Store, n int) (wire.Checkpoint, wire.Checkpoint) {
	return benchLogTB(b, s, n)
}

func benchLogTB(b testing.TB, s store.Store, n int) (wire.Checkpoint, wire.Checkpoint) {
	b.Helper()
	ctx := context.Background()
	op, _ := store.PutStore(catalog.Store{ID: "s1", Name: "Bench"})
	ops := []store.Op{op}
	put := func(i int, price int64) {
		op, err := store.PutProduct(catalog.ProductRecord{Product: catalog.Product{SKU: fmt.Sprintf("P%06d", i), Name: fmt.Sprintf("Product %d", i), Price: price, Currency: "EUR", Active: true}})
		if err != nil {
			b.Fatal(err)
		}
		ops = append(ops, op)
	}
	for i := range n {
		put(i, 100)
	}
	if _, err := s.Write(ctx, store.Actor{}, ops); err != nil {
		b.Fatal(err)
	}
	cp1, _, _ := s.Publish(ctx, store.Actor{}, "s1", wire.ReasonManual, "")
	ops = ops[:0]
	for i := 0; i < n; i += 20 {
		put(i, 99)
	}
	if _, err := s.Write(ctx, store.Actor{}, ops); err != nil {
		b.Fatal(err)
	}
	cp2, _, _ := s.Publish(ctx, store.Actor{}, "s1", wire.ReasonManual, "")
	return cp1, cp2
}

// BenchmarkChanges measures one page of the changes query (no HTTP, no
// page cache): the nightly delta, and a snapshot page.
//
//	go test ./api/store/sqlstore -run '^$' -bench Changes
func BenchmarkChanges(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := openStore(b, name)
			cp1, cp2 := benchLog(b, s, 20000)
			for _, tc := range []struct {
				name  string
				since int64
			}{{"delta500", cp1.Version}, {"snapshot500", 0}} {
				b.Run(tc.name, func(b *testing.B) {
					ctx := context.Background()
					for b.Loop() {
						p, err := s.Changes(ctx, wire.ChangesRequest{Store: "s1", Since: tc.since, Target: cp2.Version, Limit: 500}, wire.AudiencePublic, wire.ProtocolVersion)
						if err != nil || len(p.Changes) != 500 {
							b.Fatalf("%d changes, %v", len(p.Changes), err)
						}
					}
				})
			}
		})
	}
}
