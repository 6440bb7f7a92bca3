package replica

import (
	"bytes"
	"encoding/json"
	"sort"
	"unicode/utf8"

	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// Contents is a replica's catalog as the assistant indexes it: what one
// store's devices know at one checkpoint. Lists are ordered by key (SKU or
// ID); staff maps are nil on customer replicas.
type Contents struct {
	Store        catalog.Store                   `json:"store"`
	Products     []catalog.Product               `json:"products"`                // active products
	Stock        []catalog.Stock                 `json:"stock"`                   // this store's stock lines
	StockStaff   map[string]catalog.StockStaff   `json:"stock_staff,omitempty"`   // by SKU; staff replicas only
	ProductStaff map[string]catalog.ProductStaff `json:"product_staff,omitempty"` // by SKU, of the products listed; staff replicas only
	FAQs         []catalog.FAQ                   `json:"faqs"`                    // this store's and the chain's
	Promotions   []catalog.Promotion             `json:"promotions"`
	// Vectors holds the vectors of the products and FAQs listed, by change
	// ID ("product:SKU", "faq:ID"; see wire.VectorID). One may be missing
	// (data synced in protocol 1) or of another model than the device's
	// (catalog.Vector.Model): the device then computes its own.
	Vectors    map[string]catalog.Vector `json:"vectors"`
	Checkpoint wire.Checkpoint           `json:"checkpoint"` // what these contents are (Seq 0: nothing applied yet)
}

// RawEntity is one applied entity as a Storage holds it: its change ID and
// the JSON of its catalog type.
type RawEntity struct {
	ID   string
	Data json.RawMessage
}

// AssembleContents builds Contents from a storage's applied entities,
// grouped by kind, and its meta state, so that every Storage answers
// Catalog.Contents alike. The raw slices are not modified.
func AssembleContents(meta Meta, raw map[wire.Kind][]RawEntity) (Contents, error) {
	c := Contents{Checkpoint: meta.Checkpoint, Products: []catalog.Product{}, Stock: []catalog.Stock{},
		FAQs: []catalog.FAQ{}, Promotions: []catalog.Promotion{}, Vectors: map[string]catalog.Vector{}}
	if meta.Audience == wire.AudienceStaff {
		c.StockStaff, c.ProductStaff = map[string]catalog.StockStaff{}, map[string]catalog.ProductStaff{}
	}
	for _, e := range raw[wire.KindStore] {
		if e.ID == meta.Store {
			if err := decodeRaw(wire.KindStore, e, &c.Store); err != nil {
				return Contents{}, err
			}
		}
	}
	wanted := map[string]bool{} // vector IDs of the entities listed
	for _, e := range sorted(raw[wire.KindProduct]) {
		var p catalog.Product
		if err := decodeRaw(wire.KindProduct, e, &p); err != nil {
			return Contents{}, err
		}
		if p.Active {
			c.Products = append(c.Products, p)
			wanted[wire.VectorID(wire.KindProduct, e.ID)] = true
		}
	}
	for _, e := range sorted(raw[wire.KindStock]) {
		var s catalog.Stock
		if err := decodeRaw(wire.KindStock, e, &s); err != nil {
			return Contents{}, err
		}
		c.Stock = append(c.Stock, s)
	}
	for _, e := range sorted(raw[wire.KindFAQ]) {
		var f catalog.FAQ
		if err := decodeRaw(wire.KindFAQ, e, &f); err != nil {
			return Contents{}, err
		}
		c.FAQs = append(c.FAQs, f)
		wanted[wire.VectorID(wire.KindFAQ, e.ID)] = true
	}
	for _, e := range sorted(raw[wire.KindPromotion]) {
		var p catalog.Promotion
		if err := decodeRaw(wire.KindPromotion, e, &p); err != nil {
			return Contents{}, err
		}
		c.Promotions = append(c.Promotions, p)
	}
	for _, e := range raw[wire.KindVector] {
		if !wanted[e.ID] {
			continue
		}
		v, err := decodeVector(e.Data)
		if err != nil {
			return Contents{}, catalog.Wrap(err, catalog.Internal, "decode local vector %q", e.ID)
		}
		c.Vectors[e.ID] = v
	}
	if c.StockStaff != nil {
		for _, e := range raw[wire.KindStockStaff] {
			var s catalog.StockStaff
			if err := decodeRaw(wire.KindStockStaff, e, &s); err != nil {
				return Contents{}, err
			}
			c.StockStaff[e.ID] = s
		}
		active := map[string]bool{}
		for _, p := range c.Products {
			active[p.SKU] = true
		}
		for _, e := range raw[wire.KindProductStaff] {
			if !active[e.ID] {
				continue
			}
			var s catalog.ProductStaff
			if err := decodeRaw(wire.KindProductStaff, e, &s); err != nil {
				return Contents{}, err
			}
			c.ProductStaff[e.ID] = s
		}
	}
	return c, nil
}

func decodeRaw(k wire.Kind, e RawEntity, v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return catalog.Wrap(err, catalog.Internal, "decode local %s %q", k, e.ID)
	}
	return nil
}

// decodeVector decodes the JSON of a catalog.Vector. The shape the server
// writes, {"model":"...","v":"..."} with nothing to unescape, is read
// directly (vectors are a third of a catalog's bytes, and encoding/json is
// slow in WebAssembly); anything else goes through encoding/json.
func decodeVector(b []byte) (catalog.Vector, error) {
	const head, mid, tail = `{"model":"`, `","v":"`, `"}`
	if bytes.HasPrefix(b, []byte(head)) && bytes.HasSuffix(b, []byte(tail)) && len(b) >= len(head)+len(mid)+len(tail) {
		body := b[len(head) : len(b)-len(tail)]
		if i := bytes.Index(body, []byte(mid)); i >= 0 {
			model, v := body[:i], body[i+len(mid):]
			if plainJSONString(model) && plainJSONString(v) {
				return catalog.Vector{Model: string(model), V: string(v)}, nil
			}
		}
	}
	var v catalog.Vector
	err := json.Unmarshal(b, &v)
	return v, err
}

// plainJSONString reports whether b is the inside of a JSON string that
// needs no unescaping: no quote, backslash or control character, valid
// UTF-8.
func plainJSONString(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(b)
}

// sorted returns es ordered by ID (a copy when it must reorder).
func sorted(es []RawEntity) []RawEntity {
	if sort.SliceIsSorted(es, func(i, j int) bool { return es[i].ID < es[j].ID }) {
		return es
	}
	out := append([]RawEntity(nil), es...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
