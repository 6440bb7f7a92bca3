package replica

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	gosync "sync"

	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// Key addresses one entity of a replica.
type Key struct {
	Kind wire.Kind
	ID   string
}

// Record is one entity as applied: the version of its change and its data.
type Record struct {
	Version int64
	Data    json.RawMessage
}

// Mem is a Storage held in memory, safe for concurrent use. Every method
// builds its result aside and swaps it in, so it is atomic.
type Mem struct {
	mu       gosync.Mutex
	meta     Meta
	entities map[Key]Record
	staged   []wire.Change
}

var (
	_ Storage = (*Mem)(nil)
	_ Catalog = (*Mem)(nil)
)

// NewMem returns an empty in-memory storage.
func NewMem() *Mem { return &Mem{entities: map[Key]Record{}} }

// Load implements Storage.
func (m *Mem) Load(ctx context.Context) (Meta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	meta := m.meta
	if meta.Staging != nil {
		st := *meta.Staging
		meta.Staging = &st
	}
	return meta, nil
}

// Stage implements Storage.
func (m *Mem) Stage(ctx context.Context, prevNext int64, next Staging, changes []wire.Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.meta.Staging
	if cur != nil && *cur == next {
		return nil // replay
	}
	ok := (cur == nil && prevNext == 0 && next.Next >= 0) || (cur != nil && cur.Next == prevNext && cur.Target == next.Target && cur.Since == next.Since)
	if !ok {
		return catalog.Errorf(catalog.Conflict, "staging state moved (stored next differs from %d)", prevNext)
	}
	if cur == nil {
		m.staged = nil
	}
	m.staged = append(m.staged, changes...)
	st := next
	m.meta.Staging = &st
	return nil
}

// Commit implements Storage.
func (m *Mem) Commit(ctx context.Context, st Staging) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.meta.Staging == nil && m.meta.Checkpoint == st.Target && m.meta.Store == st.Store {
		return nil // replay
	}
	if m.meta.Staging == nil || *m.meta.Staging != st || !st.Done {
		return catalog.Errorf(catalog.Conflict, "commit of a staging state that is not stored or not complete")
	}
	ents := m.entities
	if st.Reset || m.meta.Store != st.Store || m.meta.Audience != st.Audience {
		ents = map[Key]Record{}
	} else {
		ents = maps.Clone(ents)
	}
	applyChanges(ents, m.staged)
	m.entities = ents
	m.staged = nil
	m.meta = Meta{Store: st.Store, Audience: st.Audience, Checkpoint: st.Target, Protocol: st.Protocol}
	return nil
}

func applyChanges(ents map[Key]Record, changes []wire.Change) {
	changes = slices.Clone(changes)
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].Version < changes[j].Version })
	for _, c := range changes {
		k := Key{c.Kind, c.ID}
		if c.Deleted {
			delete(ents, k)
		} else {
			ents[k] = Record{Version: c.Version, Data: c.Data}
		}
	}
}

// Discard implements Storage.
func (m *Mem) Discard(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.meta.Staging, m.staged = nil, nil
	return nil
}

// DropStaff implements StaffDropper.
func (m *Mem) DropStaff(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ents := maps.Clone(m.entities)
	for k := range ents {
		if k.Kind.Audience() != wire.AudiencePublic {
			delete(ents, k)
		}
	}
	m.entities, m.staged, m.meta.Staging = ents, nil, nil
	if m.meta.Audience == wire.AudienceStaff {
		m.meta.Audience = wire.AudiencePublic
	}
	return nil
}

// Entities returns a copy of the applied entities.
func (m *Mem) Entities() map[Key]Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.entities)
}

func (m *Mem) get(k wire.Kind, id string, v any) (bool, error) {
	m.mu.Lock()
	r, ok := m.entities[Key{k, id}]
	m.mu.Unlock()
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		return false, catalog.Wrap(err, catalog.Internal, "decode local %s %q", k, id)
	}
	return true, nil
}

func memAll[T any](m *Mem, k wire.Kind) ([]T, error) {
	m.mu.Lock()
	var raws []json.RawMessage
	var ids []string
	for key, r := range m.entities {
		if key.Kind == k {
			raws = append(raws, r.Data)
			ids = append(ids, key.ID)
		}
	}
	m.mu.Unlock()
	out := make([]T, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			return nil, catalog.Wrap(err, catalog.Internal, "decode local %s %q", k, ids[i])
		}
	}
	return out, nil
}

// Store implements Catalog.
func (m *Mem) StoreInfo(ctx context.Context) (catalog.Store, error) {
	m.mu.Lock()
	id := m.meta.Store
	m.mu.Unlock()
	var s catalog.Store
	ok, err := m.get(wire.KindStore, id, &s)
	if err == nil && !ok {
		err = catalog.Errorf(catalog.NotFound, "store not synced yet")
	}
	return s, err
}

// Product implements Catalog.
func (m *Mem) Product(ctx context.Context, sku string) (ProductView, error) {
	var v ProductView
	ok, err := m.get(wire.KindProduct, sku, &v.Product)
	if err != nil || !ok {
		return v, notFoundOr(err, "product", sku)
	}
	var ps catalog.ProductStaff
	if ok, err := m.get(wire.KindProductStaff, sku, &ps); err != nil {
		return v, err
	} else if ok {
		v.Staff = &ps
	}
	if err := m.fillStock(sku, &v.StockView); err != nil {
		return v, err
	}
	promos, err := memAll[catalog.Promotion](m, wire.KindPromotion)
	if err != nil {
		return v, err
	}
	v.Promotions = PromotionsFor(sku, promos)
	return v, nil
}

func (m *Mem) fillStock(sku string, v *StockView) error {
	var s catalog.Stock
	if ok, err := m.get(wire.KindStock, sku, &s); err != nil {
		return err
	} else if ok {
		v.Stock = &s
	}
	var ss catalog.StockStaff
	if ok, err := m.get(wire.KindStockStaff, sku, &ss); err != nil {
		return err
	} else if ok {
		v.StockStaff = &ss
	}
	return nil
}

// Stock implements Catalog.
func (m *Mem) Stock(ctx context.Context, sku string) (StockView, error) {
	var v StockView
	if err := m.fillStock(sku, &v); err != nil {
		return v, err
	}
	if v.Stock == nil {
		return v, notFoundOr(nil, "stock of", sku)
	}
	return v, nil
}

// SearchProducts implements Catalog.
func (m *Mem) SearchProducts(ctx context.Context, query string, limit int) ([]catalog.Product, error) {
	all, err := memAll[catalog.Product](m, wire.KindProduct)
	if err != nil {
		return nil, err
	}
	return SearchProducts(all, query, limit), nil
}

// FAQs implements Catalog.
func (m *Mem) FAQs(ctx context.Context, query string, limit int) ([]catalog.FAQ, error) {
	all, err := memAll[catalog.FAQ](m, wire.KindFAQ)
	if err != nil {
		return nil, err
	}
	return SearchFAQs(all, query, limit), nil
}

// Contents implements Catalog.
func (m *Mem) Contents(ctx context.Context) (Contents, error) {
	m.mu.Lock()
	meta := m.meta
	raw := map[wire.Kind][]RawEntity{}
	for k, r := range m.entities {
		raw[k.Kind] = append(raw[k.Kind], RawEntity{ID: k.ID, Data: r.Data})
	}
	m.mu.Unlock()
	return AssembleContents(meta, raw)
}
