package store

import (
	"encoding/json"

	"aisle/sync/catalog"
	"aisle/sync/wire"
	"aisle/worker/assistant/embed"
)

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		// Catalog types contain only strings, numbers, maps, slices and
		// times: marshalling cannot fail.
		panic("store: marshal catalog value: " + err.Error())
	}
	return b
}

// StockKey is the primary key of a stock line.
func StockKey(store, sku string) string { return store + "/" + sku }

// PutStore writes a store (normalized and validated).
func PutStore(s catalog.Store) (Op, error) {
	s.Normalize()
	if err := s.Validate(); err != nil {
		return Op{}, err
	}
	return Op{Entity: Stores, Key: s.ID, Scope: s.ID, Ref: s.ID, Record: mustJSON(s),
		Docs: []Doc{{Kind: wire.KindStore, Data: mustJSON(s)}}}, nil
}

// PutProduct writes a product; the public and staff halves become separate
// log documents, and its vector (embed.Product) a derived one.
func PutProduct(p catalog.ProductRecord) (Op, error) {
	p.Normalize()
	if err := p.Validate(); err != nil {
		return Op{}, err
	}
	return Op{Entity: Products, Key: p.SKU, Ref: p.SKU, Record: mustJSON(p),
		Docs: []Doc{{Kind: wire.KindProduct, Data: mustJSON(p.Product)}, {Kind: wire.KindProductStaff, Data: mustJSON(p.Staff)},
			{Kind: wire.KindVector, Data: mustJSON(embed.Encode(embed.Product(p.Product))), Derived: true}}}, nil
}

// PutStock writes the stock line of s.SKU in store. UpdatedAt must be set
// by the caller (the server's clock).
func PutStock(store string, s catalog.StockRecord) (Op, error) {
	s.Normalize()
	if err := s.Validate(); err != nil {
		return Op{}, err
	}
	s.UpdatedAt = s.UpdatedAt.UTC()
	return Op{Entity: Stock, Key: StockKey(store, s.SKU), Scope: store, Ref: s.SKU, Record: mustJSON(s),
		Docs:     []Doc{{Kind: wire.KindStock, Data: mustJSON(s.Stock)}, {Kind: wire.KindStockStaff, Data: mustJSON(s.Staff)}},
		Requires: []Ref{{Stores, store, "store"}, {Products, s.SKU, "sku"}}}, nil
}

// PutFAQ writes an FAQ (chain-wide when f.Store is ""), with its vector
// (embed.FAQ) as a derived document in the same scope.
func PutFAQ(f catalog.FAQ) (Op, error) {
	f.Normalize()
	if err := f.Validate(); err != nil {
		return Op{}, err
	}
	op := Op{Entity: FAQs, Key: f.ID, Scope: f.Store, Ref: f.ID, Record: mustJSON(f),
		Docs: []Doc{{Kind: wire.KindFAQ, Data: mustJSON(f)}, {Kind: wire.KindVector, Data: mustJSON(embed.Encode(embed.FAQ(f))), Derived: true}}}
	if f.Store != "" {
		op.Requires = []Ref{{Stores, f.Store, "store"}}
	}
	return op, nil
}

// PutPromotion writes a promotion (chain-wide when p.Store is "").
func PutPromotion(p catalog.Promotion) (Op, error) {
	p.Normalize()
	if err := p.Validate(); err != nil {
		return Op{}, err
	}
	op := Op{Entity: Promotions, Key: p.ID, Scope: p.Store, Ref: p.ID, Record: mustJSON(p),
		Docs: []Doc{{Kind: wire.KindPromotion, Data: mustJSON(p)}}}
	if p.Store != "" {
		op.Requires = []Ref{{Stores, p.Store, "store"}}
	}
	for _, sku := range p.SKUs { // as a stock line's: a promotion names products that exist
		op.Requires = append(op.Requires, Ref{Products, sku, "skus"})
	}
	return op, nil
}

// Delete removes a record; its log documents (its vector too) become
// tombstones.
func Delete(e Entity, key string) Op { return Op{Entity: e, Key: key, Delete: true} }

// Prune removes every record of e in scope whose key is not in keep (stock
// keys are StockKey values); see Op.Prune.
func Prune(e Entity, scope string, keep []string) Op {
	return Op{Entity: e, Scope: scope, Prune: true, Keep: keep}
}
