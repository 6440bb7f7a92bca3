package replica_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"aisle/sync/catalog"
	"aisle/sync/replica"
	"aisle/sync/replica/replicatest"
	"aisle/sync/wire"
)

var errInjected = errors.New("injected fault")

// flakySource fails, cuts or corrupts a share of calls.
type flakySource struct {
	src  replica.Source
	rng  *rand.Rand
	rate float64 // probability of a fault per call
}

func (s *flakySource) Checkpoint(ctx context.Context, store string) (wire.Checkpoint, error) {
	if s.rng.Float64() < s.rate {
		return wire.Checkpoint{}, errInjected
	}
	return s.src.Checkpoint(ctx, store)
}

func (s *flakySource) Changes(ctx context.Context, req wire.ChangesRequest) (wire.Page, error) {
	if s.rng.Float64() >= s.rate {
		return s.src.Changes(ctx, req)
	}
	p, err := s.src.Changes(ctx, req)
	if err != nil {
		return p, err
	}
	switch s.rng.IntN(5) {
	case 0: // connection cut
		return wire.Page{}, errInjected
	case 1: // truncated page: last change lost, Next unchanged
		if len(p.Changes) > 0 {
			p.Changes = p.Changes[:len(p.Changes)-1]
			return p, nil
		}
		return wire.Page{}, errInjected
	case 2: // schema/protocol mismatch
		p.Protocol = wire.ProtocolVersion + 1
	case 3: // a replayed, stale page
		p.After--
	case 4: // a change out of order
		if len(p.Changes) < 2 {
			return wire.Page{}, errInjected
		}
		p.Changes[0], p.Changes[1] = p.Changes[1], p.Changes[0]
	}
	return p, nil
}

// flakyStorage fails before or after doing the work (a crash after the
// write but before the acknowledgement), and replays successful calls.
type flakyStorage struct {
	*replica.Mem
	rng  *rand.Rand
	rate float64
}

func (s *flakyStorage) fault(do func() error) error {
	if s.rng.Float64() < s.rate {
		if s.rng.IntN(2) == 0 {
			return errInjected // before
		}
		if err := do(); err != nil {
			return err
		}
		return errInjected // after
	}
	if err := do(); err != nil {
		return err
	}
	if s.rng.IntN(4) == 0 {
		return do() // replay must be harmless
	}
	return nil
}

func (s *flakyStorage) Stage(ctx context.Context, prev int64, next replica.Staging, ch []wire.Change) error {
	return s.fault(func() error { return s.Mem.Stage(ctx, prev, next, ch) })
}

func (s *flakyStorage) Commit(ctx context.Context, st replica.Staging) error {
	return s.fault(func() error { return s.Mem.Commit(ctx, st) })
}

type model struct {
	feed     *replicatest.Feed
	expected map[int64]map[replica.Key]replica.Record // by checkpoint version, per audience key below
}

// randomWrite appends a random write as the server would log it. faqScope
// tracks each FAQ's scope: FAQ IDs are unique chain-wide, and moving one
// logs a tombstone in its old scope.
func randomWrite(rng *rand.Rand, f *replicatest.Feed, faqScope map[string]string) {
	id := fmt.Sprintf("id%d", rng.IntN(12))
	scopes := []string{"", "s1", "s2"}
	switch k := rng.IntN(6); k {
	case 0:
		if rng.IntN(3) == 0 {
			f.Delete("", wire.KindProduct, id)
			f.Delete("", wire.KindProductStaff, id)
			f.Delete("", wire.KindVector, wire.VectorID(wire.KindProduct, id))
		} else {
			f.Put("", wire.KindProduct, id, catalog.Product{SKU: id, Name: "p" + fmt.Sprint(rng.IntN(1000)), Price: rng.Int64N(1000), Currency: "EUR", Active: true})
			f.Put("", wire.KindProductStaff, id, catalog.ProductStaff{Cost: rng.Int64N(100)})
			if rng.IntN(2) == 0 { // the server skips an unchanged vector
				f.Put("", wire.KindVector, wire.VectorID(wire.KindProduct, id), catalog.Vector{Model: "m", V: fmt.Sprint(rng.IntN(1000))})
			}
		}
	case 1, 2:
		scope := scopes[1+rng.IntN(2)]
		if rng.IntN(4) == 0 {
			f.Delete(scope, wire.KindStock, id)
			f.Delete(scope, wire.KindStockStaff, id)
		} else {
			f.Put(scope, wire.KindStock, id, catalog.Stock{SKU: id, Quantity: rng.Int64N(50)})
			f.Put(scope, wire.KindStockStaff, id, catalog.StockStaff{Backroom: rng.Int64N(50)})
		}
	case 3:
		scope := scopes[rng.IntN(3)]
		if old, ok := faqScope[id]; ok && old != scope {
			f.Delete(old, wire.KindFAQ, id)
			f.Delete(old, wire.KindVector, wire.VectorID(wire.KindFAQ, id))
		}
		faqScope[id] = scope
		f.Put(scope, wire.KindFAQ, id, catalog.FAQ{ID: id, Store: scope, Question: "q" + fmt.Sprint(rng.IntN(100)), Answer: "a"})
		f.Put(scope, wire.KindVector, wire.VectorID(wire.KindFAQ, id), catalog.Vector{Model: "m", V: fmt.Sprint(rng.IntN(1000))})
	case 4:
		if old, ok := faqScope[id]; ok {
			f.Delete(old, wire.KindFAQ, id)
			f.Delete(old, wire.KindVector, wire.VectorID(wire.KindFAQ, id))
			delete(faqScope, id)
		}
	case 5:
		f.Put(scopes[1+rng.IntN(2)], wire.KindStore, scopes[1+rng.IntN(2)], catalog.Store{Name: fmt.Sprint(rng.IntN(100))})
	}
}

func assertState(t *testing.T, got, want map[replica.Key]replica.Record, ctxt string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: replica holds %d entities, server state %d\n got %v\nwant %v", ctxt, len(got), len(want), keys(got), keys(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || g.Version != w.Version || string(g.Data) != string(w.Data) {
			t.Fatalf("%s: entity %v: got %+v (present %v), want %+v", ctxt, k, g, ok, w)
		}
	}
}

func keys(m map[replica.Key]replica.Record) []replica.Key {
	var ks []replica.Key
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestSyncConverges is the protocol property test: random interleavings of
// writes, publishes, compactions, page sizes, network faults, corrupted
// pages, storage crashes and replays, and servers of either protocol
// version taking over (a rolling deploy, back and forth). At every step
// the replica holds exactly the state of some published checkpoint it
// reached, as served in the protocol version it records; at the end, with
// faults off, it holds exactly the latest one.
func TestSyncConverges(t *testing.T) {
	seeds := 400
	if testing.Short() {
		seeds = 60
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			feed := replicatest.NewFeed()
			aud := []wire.Audience{wire.AudiencePublic, wire.AudienceStaff}[seed%2]
			// expected[protocol][checkpoint version]: the state to hold.
			expected := map[int]map[int64]map[replica.Key]replica.Record{0: {0: {}}, 1: {}, 2: {}}
			mem := replica.NewMem()
			fs := &flakyStorage{Mem: mem, rng: rng, rate: 0.15}
			src := &flakySource{src: feed.Source(aud), rng: rng, rate: 0.15}
			newReplica := func() *replica.Replica {
				return &replica.Replica{Store: "s1", Audience: aud, Storage: fs, PageLimit: 1 + rng.IntN(7)}
			}
			r := newReplica()
			var lastCP wire.Checkpoint
			faqScope := map[string]string{}
			for step := range 150 {
				switch op := rng.IntN(10); {
				case op < 5:
					randomWrite(rng, feed, faqScope)
				case op < 7:
					lastCP = feed.Publish("s1")
					feed.Publish("s2")
					for p := wire.MinProtocolVersion; p <= wire.ProtocolVersion; p++ {
						expected[p][lastCP.Version] = feed.StateAt("s1", aud, p, lastCP.Version)
					}
				case op == 7 && lastCP.Seq > 0 && rng.IntN(3) == 0:
					feed.Compact(rng.Int64N(lastCP.Version + 1))
				case op == 7 && rng.IntN(3) == 0:
					// Another server version takes over.
					src.src = feed.SourceAt(aud, wire.MinProtocolVersion+rng.IntN(wire.ProtocolVersion-wire.MinProtocolVersion+1))
				case op == 8:
					r = newReplica() // a restart: in-memory replica state is gone
				default:
					_, _ = r.Sync(ctx, src) // errors are expected under faults
				}
				meta, err := mem.Load(ctx)
				if err != nil {
					t.Fatal(err)
				}
				want, ok := expected[meta.AppliedProtocol()][meta.Cursor()]
				if !ok {
					t.Fatalf("step %d: replica at version %d protocol %d, which is no checkpoint", step, meta.Cursor(), meta.AppliedProtocol())
				}
				assertState(t, mem.Entities(), want, fmt.Sprintf("step %d cursor %d protocol %d", step, meta.Cursor(), meta.AppliedProtocol()))
			}
			src.rate, fs.rate = 0, 0
			src.src = feed.Source(aud)
			lastCP = feed.Publish("s1")
			res, err := newReplica().Sync(ctx, src)
			if err != nil {
				t.Fatalf("final sync: %v", err)
			}
			if res.Checkpoint != lastCP {
				t.Fatalf("final checkpoint %+v, want %+v", res.Checkpoint, lastCP)
			}
			ents := mem.Entities()
			assertState(t, ents, feed.State("s1", aud, lastCP.Version), "final")
			for k := range ents {
				if !aud.Sees(k.Kind) {
					t.Fatalf("audience %s holds %v", aud, k)
				}
			}
			// A second sync finds nothing to do.
			res, err = newReplica().Sync(ctx, src)
			if err != nil || res.Applied || res.Pages != 0 {
				t.Fatalf("idle sync: %+v, %v", res, err)
			}
		})
	}
}

func TestCheckPageRejects(t *testing.T) {
	st := replica.Staging{Store: "s1", Audience: wire.AudiencePublic, Target: wire.Checkpoint{Version: 10}, Since: 4, Next: 4, Started: true, Protocol: wire.ProtocolVersion}
	good := func() wire.Page {
		return wire.Page{Protocol: wire.ProtocolVersion, Store: "s1", Audience: wire.AudiencePublic, Since: 4, Target: 10, After: 4, Next: 6, Done: true,
			Changes: []wire.Change{{Version: 5, Kind: wire.KindProduct, ID: "a", Data: json.RawMessage(`{}`)}, {Version: 6, Kind: wire.KindFAQ, ID: "b", Deleted: true}}}
	}
	if err := replica.CheckPage(good(), st, wire.AudiencePublic); err != nil {
		t.Fatalf("good page rejected: %v", err)
	}
	tests := []struct {
		name  string
		given func(*wire.Page)
		code  catalog.Code
	}{
		{"newer protocol", func(p *wire.Page) { p.Protocol = wire.ProtocolVersion + 1 }, catalog.Unsupported},
		{"old protocol", func(p *wire.Page) { p.Protocol = 0 }, catalog.Unsupported},
		{"other store", func(p *wire.Page) { p.Store = "s2" }, catalog.Invalid},
		{"staff audience", func(p *wire.Page) { p.Audience = wire.AudienceStaff }, catalog.Invalid},
		{"staff kind", func(p *wire.Page) { p.Changes[0].Kind = wire.KindProductStaff }, catalog.Invalid},
		{"unknown kind", func(p *wire.Page) { p.Changes[0].Kind = "x" }, catalog.Invalid},
		{"window moved", func(p *wire.Page) { p.After = 3 }, catalog.Invalid},
		{"reset flips", func(p *wire.Page) {
			p.Reset = true
			p.Changes[1].Deleted = false
			p.Changes[1].Data = json.RawMessage(`1`)
		}, catalog.Gone},
		{"beyond target", func(p *wire.Page) { p.Changes[1].Version = 11; p.Next = 11 }, catalog.Invalid},
		{"not increasing", func(p *wire.Page) { p.Changes[1].Version = 5; p.Next = 5 }, catalog.Invalid},
		{"truncated", func(p *wire.Page) { p.Changes = p.Changes[:1] }, catalog.Invalid},
		{"tombstone with data", func(p *wire.Page) { p.Changes[1].Data = json.RawMessage(`{}`) }, catalog.Invalid},
		{"upsert without data", func(p *wire.Page) { p.Changes[0].Data = nil }, catalog.Invalid},
		{"empty id", func(p *wire.Page) { p.Changes[0].ID = "" }, catalog.Invalid},
		{"empty page not done", func(p *wire.Page) { p.Changes = nil; p.Next = 4; p.Done = false }, catalog.Invalid},
		{"protocol switch mid-sync", func(p *wire.Page) { p.Protocol = 1 }, catalog.Gone},
		{"vector in a protocol 1 page", func(p *wire.Page) {
			p.Protocol = 1
			p.Changes[0].Kind = wire.KindVector
		}, catalog.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good()
			tt.given(&p)
			st := st
			if tt.name == "vector in a protocol 1 page" {
				st.Protocol = 1
			}
			err := replica.CheckPage(p, st, wire.AudiencePublic)
			if got := catalog.ErrorCode(err); got != tt.code {
				t.Fatalf("code %q (%v), want %q", got, err, tt.code)
			}
		})
	}
}

func TestMemQueries(t *testing.T) {
	ctx := context.Background()
	feed := replicatest.NewFeed()
	feed.Put("s1", wire.KindStore, "s1", catalog.Store{ID: "s1", Name: "Main"})
	feed.Put("", wire.KindProduct, "A1", catalog.Product{SKU: "A1", Name: "Crème fraîche", Brand: "Laiterie", Active: true, Price: 199, Currency: "EUR"})
	feed.Put("", wire.KindProduct, "A2", catalog.Product{SKU: "A2", Name: "Cream cheese", Active: true})
	feed.Put("", wire.KindProduct, "A3", catalog.Product{SKU: "A3", Name: "Creamer (old)", Active: false})
	feed.Put("", wire.KindProductStaff, "A1", catalog.ProductStaff{Cost: 80, Supplier: "Dairy Co"})
	feed.Put("s1", wire.KindStock, "A1", catalog.Stock{SKU: "A1", Quantity: 7, Aisle: "4B"})
	feed.Put("s2", wire.KindStock, "A2", catalog.Stock{SKU: "A2", Quantity: 3})
	feed.Put("", wire.KindFAQ, "f1", catalog.FAQ{ID: "f1", Question: "Where are the toilets?", Tags: []string{"facilities"}})
	feed.Put("s1", wire.KindFAQ, "f2", catalog.FAQ{ID: "f2", Question: "Opening hours?", Tags: []string{"hours"}})
	feed.Put("", wire.KindPromotion, "pr1", catalog.Promotion{ID: "pr1", SKUs: []string{"A1"}, DiscountPercent: 10})
	feed.Publish("s1")

	for _, aud := range []wire.Audience{wire.AudiencePublic, wire.AudienceStaff} {
		t.Run(string(aud), func(t *testing.T) {
			m := replica.NewMem()
			if _, err := (&replica.Replica{Store: "s1", Audience: aud, Storage: m}).Sync(ctx, feed.Source(aud)); err != nil {
				t.Fatal(err)
			}
			st, err := m.StoreInfo(ctx)
			if err != nil || st.Name != "Main" {
				t.Fatalf("store: %+v %v", st, err)
			}
			v, err := m.Product(ctx, "A1")
			if err != nil {
				t.Fatal(err)
			}
			if v.Stock == nil || v.Stock.Quantity != 7 || v.Stock.Aisle != "4B" || len(v.Promotions) != 1 {
				t.Fatalf("product view %+v", v)
			}
			if (v.Staff != nil) != (aud == wire.AudienceStaff) {
				t.Fatalf("staff part present=%v for %s", v.Staff != nil, aud)
			}
			if _, err := m.Stock(ctx, "A2"); !catalog.IsCode(err, catalog.NotFound) {
				t.Fatalf("other store's stock: %v", err)
			}
			for _, tc := range []struct {
				q    string
				want []string
			}{{"cre", []string{"A2", "A1"}}, {"creme fr", []string{"A1"}}, {"LAIT", []string{"A1"}}, {"creamer", nil}, {"", []string{"A2", "A1"}}} {
				got, err := m.SearchProducts(ctx, tc.q, 0)
				if err != nil {
					t.Fatal(err)
				}
				var skus []string
				for _, p := range got {
					skus = append(skus, p.SKU)
				}
				if fmt.Sprint(skus) != fmt.Sprint(tc.want) {
					t.Errorf("search %q: got %v, want %v", tc.q, skus, tc.want)
				}
			}
			faqs, err := m.FAQs(ctx, "hours", 0)
			if err != nil || len(faqs) != 1 || faqs[0].ID != "f2" {
				t.Fatalf("faqs: %+v %v", faqs, err)
			}
			all, _ := m.FAQs(ctx, "", 0)
			if len(all) != 2 {
				t.Fatalf("all faqs: %+v", all)
			}
		})
	}
}

func TestSyncSwitchesAudienceBySnapshot(t *testing.T) {
	ctx := context.Background()
	feed := replicatest.NewFeed()
	feed.Put("", wire.KindProduct, "A", catalog.Product{SKU: "A"})
	feed.Put("", wire.KindProductStaff, "A", catalog.ProductStaff{Cost: 1})
	cp := feed.Publish("s1")
	m := replica.NewMem()
	if _, err := (&replica.Replica{Store: "s1", Audience: wire.AudienceStaff, Storage: m}).Sync(ctx, feed.Source(wire.AudienceStaff)); err != nil {
		t.Fatal(err)
	}
	res, err := (&replica.Replica{Store: "s1", Audience: wire.AudiencePublic, Storage: m}).Sync(ctx, feed.Source(wire.AudiencePublic))
	if err != nil || !res.Reset {
		t.Fatalf("sign-out sync: %+v %v", res, err)
	}
	if got, want := m.Entities(), feed.State("s1", wire.AudiencePublic, cp.Version); !maps.EqualFunc(got, want, func(a, b replica.Record) bool { return a.Version == b.Version }) {
		t.Fatalf("after sign-out: %v, want %v", got, want)
	}
}
