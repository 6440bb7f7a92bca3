package edge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"aisle/api/server"
	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/client"
	"aisle/sync/replica"
	"aisle/sync/wire"
)

// The scenarios below run against a native edge (edge_test.go) and against
// the Worker in workerd (workerd_test.go): the same client syncs and the
// same leak checks as the origin's own tests (aisle/api/server:
// TestSyncOverHTTP, TestCustomerSeesNoStaffFields, TestRetention), with
// the edge as the device's source, and the edge's answers compared with
// the origin's byte for byte.

// comparedHeaders are the response headers the edge must send as the
// origin does.
var comparedHeaders = []string{"ETag", "Cache-Control", wire.HeaderProtocol, "Content-Type", "WWW-Authenticate", "Vary", "Retry-After"}

// sameAnswer fails unless the edge answers the request as the origin does:
// status, body and comparedHeaders.
func (r *rig) sameAnswer(t *testing.T, method, path, token string, headers ...string) response {
	t.Helper()
	o := r.do(r.OriginURL, method, path, token, nil, headers...)
	e := r.do(r.EdgeURL, method, path, token, nil, headers...)
	what := fmt.Sprintf("%s %s (token %.8q, headers %q)", method, path, token, headers)
	if o.Status != e.Status {
		t.Fatalf("%s: edge status %d, origin %d\nedge:   %s\norigin: %s", what, e.Status, o.Status, e.Body, o.Body)
	}
	if string(o.Body) != string(e.Body) {
		t.Fatalf("%s: bodies differ\nedge:   %.600s\norigin: %.600s", what, e.Body, o.Body)
	}
	for _, h := range comparedHeaders {
		ov, ev := strings.Join(o.Header.Values(h), ", "), strings.Join(e.Header.Values(h), ", ")
		if h == "Vary" {
			ov, ev = normVary(ov), normVary(ev)
		}
		if ov != ev {
			t.Fatalf("%s: header %s: edge %q, origin %q", what, h, ev, ov)
		}
	}
	return e
}

// normVary sorts a Vary header's names (their order means nothing).
func normVary(v string) string {
	var names []string
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

func (r *rig) checkpoint(t *testing.T) wire.Checkpoint {
	t.Helper()
	var cp wire.Checkpoint
	r.do(r.OriginURL, "GET", "/v1/stores/demo/checkpoint", "", nil).want(t, 200).JSON(t, &cp)
	return cp
}

// publish changes a price and a stock level, publishes and feeds the edge.
func (r *rig) publish(t *testing.T, price int64) wire.Checkpoint {
	t.Helper()
	var rec catalog.ProductRecord
	r.admin("GET", "/v1/admin/products/MILK-1L", nil).want(t, 200).JSON(t, &rec)
	rec.Price = price
	r.admin("PUT", "/v1/admin/products/MILK-1L", rec).want(t, 200)
	r.admin("PUT", "/v1/admin/stores/demo/stock/BAGUETTE", map[string]any{"quantity": price % 50}).want(t, 200)
	var cp wire.Checkpoint
	r.admin("POST", "/v1/admin/stores/demo/publish", nil).want(t, 201).JSON(t, &cp)
	r.feed()
	return cp
}

// testSameAnswers compares the edge's answers with the origin's over a grid
// of requests: readers, protocols, cursors, pages, conditional requests,
// HEAD, and every error the read side gives.
func testSameAnswers(t *testing.T, r *rig) {
	cp1 := r.checkpoint(t)
	r.admin("PUT", "/v1/admin/faqs/moving", catalog.FAQ{Question: "Do you deliver?", Answer: "Chain-wide: no."}).want(t, 200)
	cp2 := r.publish(t, 101)
	r.admin("DELETE", "/v1/admin/stores/demo/stock/BAGUETTE", nil).want(t, 204)
	// A chain-wide FAQ becomes the store's: a tombstone in the chain-wide
	// scope, then the record in the store's.
	r.admin("PUT", "/v1/admin/faqs/moving", catalog.FAQ{Store: "demo", Question: "Do you deliver?", Answer: "Here: yes."}).want(t, 200)
	cp3 := r.publish(t, 103)
	r.admin("PUT", "/v1/admin/stores/other", catalog.Store{Name: "Other"}).want(t, 200)
	_, staff := r.token(store.RoleStaff, "demo")
	_, manager := r.token(store.RoleManager, "demo")
	_, otherStaff := r.token(store.RoleStaff, "other")
	revokedID, revoked := r.token(store.RoleStaff, "demo")
	r.admin("DELETE", "/v1/admin/tokens/"+revokedID, nil).want(t, 204)
	expired := r.expiredToken("demo")
	r.feed()

	readers, protos := []string{"", staff, manager, otherStaff}, []string{"", "1", "2", "7"}
	if !r.Native {
		// Each Worker request starts a Go instance: the Worker gets every
		// reader and both protocols, the native edge every variant.
		protos = []string{"", "1"}
	}
	for _, tok := range readers {
		for _, proto := range protos {
			hs := []string{}
			if proto != "" {
				hs = []string{wire.HeaderProtocol, proto}
			}
			for _, st := range []string{"demo", "other"} {
				ans := r.sameAnswer(t, "GET", "/v1/stores/"+st+"/checkpoint", tok, hs...)
				r.sameAnswer(t, "GET", "/v1/stores/"+st+"/checkpoint", tok, append(hs, "If-None-Match", ans.Header.Get("ETag"))...)
			}
			for _, since := range []int64{0, cp1.Version, cp2.Version, cp3.Version} {
				for _, target := range []int64{cp1.Version, cp2.Version, cp3.Version} {
					if since > target {
						continue
					}
					for _, q := range []string{"", "&limit=7", "&limit=7&after=" + fmt.Sprint(cp1.Version/2), "&limit=5000"} {
						p := fmt.Sprintf("/v1/stores/demo/changes?since=%d&target=%d%s", since, target, q)
						ans := r.sameAnswer(t, "GET", p, tok, hs...)
						if since == 0 && q == "&limit=7" {
							r.sameAnswer(t, "GET", p, tok, append(hs, "If-None-Match", ans.Header.Get("ETag"))...)
							r.sameAnswer(t, "HEAD", p, tok, hs...)
						}
					}
				}
			}
		}
	}
	// Errors.
	for _, tc := range []struct {
		path, token string
		headers     []string
	}{
		{"/v1/stores/demo/checkpoint", revoked, nil},
		{"/v1/stores/demo/checkpoint", expired, nil},
		{"/v1/stores/demo/checkpoint", "not-a-token", nil},
		{"/v1/stores/demo/changes?target=1", expired, nil},
		{"/v1/stores/nosuch/checkpoint", "", nil},
		{"/v1/stores/" + url.PathEscape("bad id!") + "/checkpoint", "", nil},
		{"/v1/stores/demo/checkpoint", "", []string{wire.HeaderProtocol, "0"}},
		{"/v1/stores/demo/checkpoint", "", []string{wire.HeaderProtocol, "x"}},
		{"/v1/stores/demo/checkpoint/", "", nil},
		{"/v1/stores/demo/changes", "", nil},
		{"/v1/stores/demo/changes?target=abc", "", nil},
		{fmt.Sprintf("/v1/stores/demo/changes?since=%d&target=%d", cp3.Version, cp2.Version), "", nil},
		{fmt.Sprintf("/v1/stores/demo/changes?target=%d&limit=0", cp2.Version), "", nil},
		{fmt.Sprintf("/v1/stores/demo/changes?target=%d", cp2.Version+1), "", nil},
		{fmt.Sprintf("/v1/stores/nosuch/changes?target=%d", cp2.Version), staff, nil},
		{"/v1/stores/demo/nothing", "", nil},
	} {
		r.sameAnswer(t, "GET", tc.path, tc.token, tc.headers...)
	}
	// No admin routes, no writes: 404 at the edge whoever asks.
	for _, p := range []string{"/v1/admin/stores", "/v1/admin/tokens", "/v1/stores/demo/events", "/v1/admin/stores/demo/stock/MILK-1L"} {
		if a := r.do(r.EdgeURL, "GET", p, manager, nil); a.Status != 404 || a.ErrCode() != "not_found" {
			t.Fatalf("edge GET %s: %d %s", p, a.Status, a.Body)
		}
	}
	if a := r.do(r.EdgeURL, "POST", "/v1/admin/stores/demo/publish", manager, nil); a.Status != 404 {
		t.Fatalf("edge publish: %d %s", a.Status, a.Body)
	}
	// An admin token is unknown at the edge (admin tokens stay at the origin).
	if a := r.do(r.EdgeURL, "GET", "/v1/stores/demo/checkpoint", r.Admin, nil); a.Status != 401 {
		t.Fatalf("edge with an admin token: %d %s", a.Status, a.Body)
	}
	// The feed routes need the secret.
	for _, tok := range []string{"", staff, "wrong-secret"} {
		if a := r.do(r.EdgeURL, "GET", "/_edge/state", tok, nil); a.Status != 401 {
			t.Fatalf("edge state with %q: %d %s", tok, a.Status, a.Body)
		}
		if a := r.do(r.EdgeURL, "POST", "/_edge/ingest", tok, map[string]any{"after": 0, "through": 1}); a.Status != 401 {
			t.Fatalf("edge ingest with %q: %d %s", tok, a.Status, a.Body)
		}
	}
}

// protocolTransport makes every request speak protocol version v.
type protocolTransport struct{ v int }

func (p protocolTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set(wire.HeaderProtocol, fmt.Sprint(p.v))
	return http.DefaultTransport.RoundTrip(req)
}

// testClientSync: customer and staff replicas sync from the edge: a full
// sync, a delta after a publish, protocol 1 and 2, a snapshot for a
// device offline past the horizon and Gone for a target below it.
func testClientSync(t *testing.T, r *rig) {
	ctx := context.Background()
	_, staff := r.token(store.RoleStaff, server.DemoStoreID)
	r.feed()
	pub, stf, old := replica.NewMem(), replica.NewMem(), replica.NewMem()
	rPub := &replica.Replica{Store: "demo", Audience: wire.AudiencePublic, Storage: pub, PageLimit: 7}
	rStf := &replica.Replica{Store: "demo", Audience: wire.AudienceStaff, Storage: stf, PageLimit: 500}
	rOld := &replica.Replica{Store: "demo", Audience: wire.AudiencePublic, Storage: old, PageLimit: 500}
	cPub := &client.Client{BaseURL: r.EdgeURL}
	cStf := &client.Client{BaseURL: r.EdgeURL, Token: staff}
	cOld := &client.Client{BaseURL: r.EdgeURL, HTTP: &http.Client{Transport: protocolTransport{1}}}

	start := time.Now()
	res, err := rPub.Sync(ctx, cPub)
	if err != nil || !res.Applied || !res.Reset || res.Pages < 5 {
		t.Fatalf("customer first sync: %+v %v", res, err)
	}
	edgeTook := time.Since(start)
	start = time.Now()
	if res, err := (&replica.Replica{Store: "demo", Audience: wire.AudiencePublic, Storage: replica.NewMem(), PageLimit: 7}).Sync(ctx, &client.Client{BaseURL: r.OriginURL}); err != nil || !res.Applied {
		t.Fatalf("the same sync from the origin: %+v %v", res, err)
	}
	t.Logf("a customer's first sync in %d pages: %v through the edge, %v from the origin", res.Pages, edgeTook.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if _, err := rStf.Sync(ctx, cStf); err != nil {
		t.Fatal(err)
	}
	v, err := pub.Product(ctx, "MILK-1L")
	if err != nil || v.Product.Price != 119 || v.Stock == nil || v.Stock.Quantity != 48 || v.Staff != nil || v.StockStaff != nil {
		t.Fatalf("customer view of MILK-1L: %+v %v", v, err)
	}
	sv, err := stf.Product(ctx, "MILK-1L")
	if err != nil || sv.Staff == nil || sv.Staff.Cost != 72 || sv.StockStaff == nil || sv.StockStaff.Backroom != 120 {
		t.Fatalf("staff view of MILK-1L: %+v %v", sv, err)
	}
	// Protocol 1: no vectors.
	res, err = rOld.Sync(ctx, cOld)
	if err != nil || !res.Applied || res.Checkpoint.Version != r.checkpoint(t).Version {
		t.Fatalf("protocol 1 sync: %+v %v", res, err)
	}
	if m, _ := old.Load(ctx); m.AppliedProtocol() != 1 {
		t.Fatalf("protocol 1 replica applied protocol %d", m.AppliedProtocol())
	}
	for k := range old.Entities() {
		if k.Kind == wire.KindVector {
			t.Fatalf("protocol 1 replica holds %v", k)
		}
	}

	// A price correction: unpublished, nothing moves; published and fed,
	// the replicas follow with a delta.
	var rec catalog.ProductRecord
	r.admin("GET", "/v1/admin/products/MILK-1L", nil).want(t, 200).JSON(t, &rec)
	rec.Price = 99
	r.admin("PUT", "/v1/admin/products/MILK-1L", rec).want(t, 200)
	r.feed()
	if res, _ := rPub.Sync(ctx, cPub); res.Applied {
		t.Fatal("an unpublished change reached a device through the edge")
	}
	r.admin("POST", "/v1/admin/stores/demo/publish", nil).want(t, 201)
	r.feed()
	res, err = rPub.Sync(ctx, cPub)
	if err != nil || !res.Applied || res.Reset || res.Changes != 1 {
		t.Fatalf("delta sync: %+v %v", res, err)
	}
	if v, _ := pub.Product(ctx, "MILK-1L"); v.Product.Price != 99 {
		t.Fatalf("price after sync: %d", v.Product.Price)
	}
	res, err = rStf.Sync(ctx, cStf)
	if err != nil || res.Changes != 2 { // product and product_staff
		t.Fatalf("staff delta: %+v %v", res, err)
	}
	res, err = rOld.Sync(ctx, cOld)
	if err != nil || !res.Applied || res.Reset || res.Changes != 1 {
		t.Fatalf("protocol 1 delta: %+v %v", res, err)
	}

	// Compaction: more publishes, then the horizon moves to the latest
	// checkpoint. A device whose cursor is below it gets a snapshot; a
	// target below it is Gone, at the edge as at the origin.
	stale := r.checkpoint(t)
	r.publish(t, 97)
	last := r.publish(t, 95)
	r.admin("POST", "/v1/admin/compact", map[string]int64{"horizon": last.Version}).want(t, 200)
	r.feed()
	res, err = rPub.Sync(ctx, cPub)
	if err != nil || !res.Applied || !res.Reset {
		t.Fatalf("device offline past the horizon: %+v %v", res, err)
	}
	if v, _ := pub.Product(ctx, "MILK-1L"); v.Product.Price != 95 {
		t.Fatalf("price after snapshot: %d", v.Product.Price)
	}
	_, err = cPub.Changes(ctx, wire.ChangesRequest{Store: "demo", Since: stale.Version, Target: stale.Version, Limit: 10})
	if !catalog.IsCode(err, catalog.Gone) {
		t.Fatalf("target below the horizon: %v", err)
	}
	r.sameAnswer(t, "GET", fmt.Sprintf("/v1/stores/demo/changes?since=%d&target=%d", stale.Version, stale.Version), "")
	r.sameAnswer(t, "GET", fmt.Sprintf("/v1/stores/demo/changes?since=%d&target=%d", stale.Version, last.Version), "")
	r.sameAnswer(t, "GET", fmt.Sprintf("/v1/stores/demo/changes?since=0&target=%d&limit=9", last.Version), staff)
}

// publicKeys are the only JSON keys a customer may ever receive, per kind
// (as aisle/api/server's leak test).
var publicKeys = map[wire.Kind][]string{
	wire.KindStore:     {"id", "name", "time_zone", "address", "nightly_at"},
	wire.KindProduct:   {"sku", "name", "description", "category", "brand", "price", "currency", "attributes", "image_url", "active"},
	wire.KindStock:     {"sku", "quantity", "aisle", "updated_at"},
	wire.KindFAQ:       {"id", "store", "question", "answer", "tags"},
	wire.KindPromotion: {"id", "store", "title", "description", "skus", "discount_percent", "starts", "ends"},
	wire.KindVector:    {"model", "v"},
}

// allChanges reads the demo store's whole snapshot from base with token.
func (r *rig) allChanges(t *testing.T, base, token string) response {
	t.Helper()
	var cp wire.Checkpoint
	r.do(base, "GET", "/v1/stores/demo/checkpoint", token, nil).want(t, 200).JSON(t, &cp)
	return r.do(base, "GET", fmt.Sprintf("/v1/stores/demo/changes?target=%d&limit=5000", cp.Version), token, nil)
}

// testNoStaffLeak: a customer, and staff of another store, reading through
// the edge get public kinds and fields only; staff of the store get the
// staff kinds; a revoked or expired staff token gets nothing.
func testNoStaffLeak(t *testing.T, r *rig) {
	r.admin("PUT", "/v1/admin/stores/other", catalog.Store{Name: "Other"}).want(t, 200)
	_, otherStaff := r.token(store.RoleStaff, "other")
	staffID, staff := r.token(store.RoleStaff, "demo")
	expired := r.expiredToken("demo")
	r.feed()
	for _, who := range []struct{ name, token string }{{"anonymous", ""}, {"staff of another store", otherStaff}} {
		var page wire.Page
		r.allChanges(t, r.EdgeURL, who.token).want(t, 200).JSON(t, &page)
		if !page.Done || page.Audience != wire.AudiencePublic {
			t.Fatalf("%s: page done %v audience %s", who.name, page.Done, page.Audience)
		}
		checkCustomerChanges(t, page.Changes)
	}
	var page wire.Page
	r.allChanges(t, r.EdgeURL, staff).want(t, 200).JSON(t, &page)
	counts := map[wire.Kind]int{}
	for _, c := range page.Changes {
		counts[c.Kind]++
	}
	if page.Audience != wire.AudienceStaff || counts[wire.KindProductStaff] != 25 || counts[wire.KindStockStaff] != 25 {
		t.Fatalf("staff through the edge: %s %v", page.Audience, counts)
	}
	if a := r.do(r.EdgeURL, "GET", "/v1/stores/demo/changes?target=1", expired, nil); a.Status != 401 || a.ErrCode() != string(catalog.Expired) {
		t.Fatalf("expired token at the edge: %d %s", a.Status, a.Body)
	}
	r.admin("DELETE", "/v1/admin/tokens/"+staffID, nil).want(t, 204)
	r.feed()
	a := r.do(r.EdgeURL, "GET", "/v1/stores/demo/checkpoint", staff, nil)
	if a.Status != 401 || a.ErrCode() != string(catalog.Unauthorized) {
		t.Fatalf("revoked token at the edge: %d %s", a.Status, a.Body)
	}
	// The staff documents are in the edge's page bodies for staff only.
	var raw json.RawMessage
	r.allChanges(t, r.EdgeURL, "").want(t, 200).JSON(t, &raw)
	for _, secret := range []string{"product_staff", "stock_staff", "backroom", "cost"} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("customer snapshot from the edge mentions %q", secret)
		}
	}
}

// checkCustomerChanges fails unless every change of chs carries public
// kinds and fields only (aisle/api/server's checkCustomerChanges).
func checkCustomerChanges(t *testing.T, chs []wire.Change) {
	t.Helper()
	counts := map[wire.Kind]int{}
	for _, c := range chs {
		counts[c.Kind]++
		allowed, ok := publicKeys[c.Kind]
		if !ok {
			t.Fatalf("customer received kind %q", c.Kind)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(c.Data, &fields); err != nil {
			t.Fatal(err)
		}
		for f := range fields {
			if !slices.Contains(allowed, f) {
				t.Errorf("%s %s carries field %q to a customer", c.Kind, c.ID, f)
			}
		}
		for _, secret := range []string{"wholesale", "reorder at", "cost", "backroom", "supplier"} {
			if strings.Contains(string(c.Data), secret) {
				t.Errorf("%s %s leaks %q: %s", c.Kind, c.ID, secret, c.Data)
			}
		}
	}
	if counts[wire.KindProduct] != 25 || counts[wire.KindStock] != 25 || counts[wire.KindFAQ] != 5 || counts[wire.KindVector] != 30 {
		t.Fatalf("customer kinds: %v", counts)
	}
}

// testPushThenEdge: a device told of a checkpoint by the origin's push
// stream finds that checkpoint at the edge (the origin holds the push
// until the edge has it).
func testPushThenEdge(t *testing.T, r *rig) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan wire.Event, 16)
	origin := &client.Client{BaseURL: r.OriginURL}
	go origin.Watch(ctx, "demo", func(ev wire.Event) { events <- ev })
	if ev := <-events; ev.Type != wire.EventHello {
		t.Fatalf("first event: %+v", ev)
	}
	atEdge := &client.Client{BaseURL: r.EdgeURL}
	for i := range 3 {
		r.admin("PUT", "/v1/admin/stores/demo/stock/BAGUETTE", map[string]any{"quantity": 10 + i}).want(t, 200)
		var cp wire.Checkpoint
		r.admin("POST", "/v1/admin/stores/demo/publish", nil).want(t, 201).JSON(t, &cp)
		ev := <-events
		got, err := atEdge.Checkpoint(ctx, "demo")
		if err != nil || ev.Checkpoint.Seq != cp.Seq || got.Seq != cp.Seq {
			t.Fatalf("publish %d: pushed %+v, edge has %+v (%v), published %+v", i, ev.Checkpoint, got, err, cp)
		}
	}
}
