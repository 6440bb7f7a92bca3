package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
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

func bothDBs(t *testing.T, fn func(t *testing.T, kind dbKind)) {
	for _, k := range []dbKind{sqliteDB, postgresDB} {
		t.Run(string(k), func(t *testing.T) { fn(t, k) })
	}
}

// TestSyncOverHTTP: a customer and a staff replica sync the demo store over
// real HTTP, an admin changes a price and publishes, the replicas follow.
func TestSyncOverHTTP(t *testing.T) {
	bothDBs(t, func(t *testing.T, kind dbKind) {
		ctx := context.Background()
		e := newEnv(t, kind, server.Config{})
		staff := e.token(store.RoleStaff, server.DemoStoreID)
		pub := replica.NewMem()
		stf := replica.NewMem()
		rPub := &replica.Replica{Store: server.DemoStoreID, Audience: wire.AudiencePublic, Storage: pub, PageLimit: 7}
		rStf := &replica.Replica{Store: server.DemoStoreID, Audience: wire.AudienceStaff, Storage: stf, PageLimit: 500}
		cPub := &client.Client{BaseURL: e.URL}
		cStf := &client.Client{BaseURL: e.URL, Token: staff}
		res, err := rPub.Sync(ctx, cPub)
		if err != nil || !res.Applied || !res.Reset || res.Pages < 5 {
			t.Fatalf("customer first sync: %+v %v", res, err)
		}
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

		// A price correction, published at once.
		var rec catalog.ProductRecord
		e.do("GET", "/v1/admin/products/MILK-1L", e.Admin, nil).want(t, 200).JSON(t, &rec)
		rec.Price = 99
		e.do("PUT", "/v1/admin/products/MILK-1L", e.Admin, rec).want(t, 200)
		if res, _ := rPub.Sync(ctx, cPub); res.Applied {
			t.Fatal("an unpublished change reached a device")
		}
		e.do("POST", "/v1/admin/stores/demo/publish", e.Admin, nil).want(t, 201)
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
	})
}

func TestCachingAndCompression(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	r := e.do("GET", "/v1/stores/demo/checkpoint", "", nil).want(t, 200)
	if r.Header.Get(wire.HeaderProtocol) != fmt.Sprint(wire.ProtocolVersion) || r.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("checkpoint headers: %v", r.Header)
	}
	var cp wire.Checkpoint
	r.JSON(t, &cp)
	e.do("GET", "/v1/stores/demo/checkpoint", "", nil, "If-None-Match", r.Header.Get("ETag")).want(t, 304)

	path := fmt.Sprintf("/v1/stores/demo/changes?since=0&target=%d&limit=1000", cp.Version)
	// Ask for gzip explicitly (the Go client would otherwise decode it).
	req, _ := http.NewRequest("GET", e.URL+path, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("changes headers: %v", resp.Header)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var page wire.Page
	if err := json.NewDecoder(zr).Decode(&page); err != nil || !page.Done || !page.Reset {
		t.Fatalf("gzipped page: %v %+v", err, page.Done)
	}
	etag := resp.Header.Get("ETag")
	e.do("GET", path, "", nil, "If-None-Match", etag).want(t, 304)
	// The same URL for another audience is another representation.
	staff := e.token(store.RoleStaff, "demo")
	if r := e.do("GET", path, staff, nil).want(t, 200); r.Header.Get("ETag") == etag {
		t.Fatal("customer and staff pages share an ETag")
	}
	// Protocol negotiation.
	if r := e.do("GET", "/v1/stores/demo/checkpoint", "", nil, wire.HeaderProtocol, "0").want(t, 400); r.ErrCode() != "unsupported" {
		t.Fatalf("protocol 0: %s", r.Body)
	}
	if r := e.do("GET", "/v1/stores/demo/checkpoint", "", nil, wire.HeaderProtocol, "7").want(t, 200); r.Header.Get(wire.HeaderProtocol) != fmt.Sprint(wire.ProtocolVersion) {
		t.Fatalf("newer client: %v", r.Header)
	}
}

// publicKeys are the only JSON keys a customer may ever receive, per kind.
var publicKeys = map[wire.Kind][]string{
	wire.KindStore:     {"id", "name", "time_zone", "address", "nightly_at"},
	wire.KindProduct:   {"sku", "name", "description", "category", "brand", "price", "currency", "attributes", "image_url", "active"},
	wire.KindStock:     {"sku", "quantity", "aisle", "updated_at"},
	wire.KindFAQ:       {"id", "store", "question", "answer", "tags"},
	wire.KindPromotion: {"id", "store", "title", "description", "skus", "discount_percent", "starts", "ends"},
	wire.KindVector:    {"model", "v"},
}

func allChanges(t *testing.T, e *env, token string) []wire.Change {
	t.Helper()
	var cp wire.Checkpoint
	e.do("GET", "/v1/stores/demo/checkpoint", token, nil).want(t, 200).JSON(t, &cp)
	var page wire.Page
	e.do("GET", fmt.Sprintf("/v1/stores/demo/changes?target=%d&limit=5000", cp.Version), token, nil).want(t, 200).JSON(t, &page)
	if !page.Done {
		t.Fatal("demo store does not fit one page")
	}
	return page.Changes
}

// TestCustomerSeesNoStaffFields checks every field of every change a
// customer device receives, and that staff of another store is a customer
// there.
func TestCustomerSeesNoStaffFields(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	e.do("PUT", "/v1/admin/stores/other", e.Admin, catalog.Store{Name: "Other"}).want(t, 200)
	otherStaff := e.token(store.RoleStaff, "other")
	for _, who := range []struct{ name, token string }{{"anonymous", ""}, {"staff of another store", otherStaff}} {
		t.Run(who.name, func(t *testing.T) {
			checkCustomerChanges(t, allChanges(t, e, who.token))
		})
	}
	staff := e.token(store.RoleStaff, "demo")
	counts := map[wire.Kind]int{}
	for _, c := range allChanges(t, e, staff) {
		counts[c.Kind]++
	}
	if counts[wire.KindProductStaff] != 25 || counts[wire.KindStockStaff] != 25 {
		t.Fatalf("staff kinds: %v", counts)
	}
}

// checkCustomerChanges fails unless every change of chs (all a customer
// device of the demo store receives) carries public kinds and fields only.
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
			if !contains(allowed, f) {
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

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// TestAuthorization walks every admin route with each kind of caller.
func TestAuthorization(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	staff := e.token(store.RoleStaff, "demo")
	revoked := e.token(store.RoleAdmin, "")
	var toks struct{ Items []store.Token }
	e.do("GET", "/v1/admin/tokens", e.Admin, nil).want(t, 200).JSON(t, &toks)
	for _, tk := range toks.Items {
		if tk.Name == "admin-" {
			e.do("DELETE", "/v1/admin/tokens/"+tk.ID, e.Admin, nil).want(t, 204)
		}
	}
	stockBody := map[string]any{"quantity": 3, "aisle": "9Z"}
	product := map[string]any{"name": "Thing", "price": 100}
	tests := []struct {
		method, path string
		body         any
		anon, stf    int // expected statuses; admin gets 2xx
	}{
		{"GET", "/v1/admin/products", nil, 401, 403},
		{"PUT", "/v1/admin/products/NEW-1", product, 401, 403},
		{"DELETE", "/v1/admin/faqs/parking", nil, 401, 403},
		{"GET", "/v1/admin/stores", nil, 401, 403},
		{"PUT", "/v1/admin/stores/x1", map[string]any{"name": "X"}, 401, 403},
		{"POST", "/v1/admin/stores/demo/publish", nil, 401, 403},
		{"GET", "/v1/admin/faqs", nil, 401, 403},
		{"POST", "/v1/admin/faqs", map[string]any{"question": "Q?", "answer": "A"}, 401, 403},
		{"GET", "/v1/admin/promotions", nil, 401, 403},
		{"GET", "/v1/admin/tokens", nil, 401, 403},
		{"POST", "/v1/admin/tokens", map[string]any{"name": "x", "role": "admin"}, 401, 403},
		{"GET", "/v1/admin/audit", nil, 401, 403},
		{"GET", "/v1/admin/stats", nil, 401, 403},
		{"POST", "/v1/admin/vectors/refresh", nil, 401, 403},
		{"POST", "/v1/admin/import?entity=products", "[]", 401, 403},
		{"POST", "/v1/admin/import/store", `{"store": {"id": "auth-test", "name": "Auth"}}`, 401, 403},
		{"GET", "/v1/admin/stores/demo/stock", nil, 401, 200},
		{"PUT", "/v1/admin/stores/demo/stock/BAGUETTE", stockBody, 401, 200},
		{"GET", "/v1/admin/stores/other/stock", nil, 401, 403},
		{"POST", "/v1/admin/stores/demo/pairings", map[string]any{"name": "Till 1"}, 401, 403},
		{"GET", "/v1/admin/stores/demo/pairings", nil, 401, 403},
		{"DELETE", "/v1/admin/pairings/pair_none", nil, 401, 403},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			if r := e.do(tt.method, tt.path, "", tt.body); r.Status != tt.anon || (tt.anon == 401 && (r.ErrCode() != "unauthorized" || r.Header.Get("WWW-Authenticate") == "")) {
				t.Errorf("anonymous: %d %s", r.Status, r.Body)
			}
			if r := e.do(tt.method, tt.path, revoked, tt.body); r.Status != 401 {
				t.Errorf("revoked token: %d %s", r.Status, r.Body)
			}
			if r := e.do(tt.method, tt.path, "ask_forged", tt.body); r.Status != 401 {
				t.Errorf("forged token: %d %s", r.Status, r.Body)
			}
			if r := e.do(tt.method, tt.path, staff, tt.body); r.Status != tt.stf {
				t.Errorf("staff: %d %s, want %d", r.Status, r.Body, tt.stf)
			}
			if tt.stf == 403 || tt.stf == 401 {
				if r := e.do(tt.method, tt.path, e.Admin, tt.body); r.Status/100 != 2 && r.Status != 404 {
					t.Errorf("admin: %d %s", r.Status, r.Body)
				}
			}
		})
	}
	// Public sync endpoints reject bad tokens rather than serving public data.
	e.do("GET", "/v1/stores/demo/checkpoint", "ask_forged", nil).want(t, 401)
	// Token listings never carry secrets or hashes.
	r := e.do("GET", "/v1/admin/tokens", e.Admin, nil).want(t, 200)
	if strings.Contains(string(r.Body), "ask_") || strings.Contains(string(r.Body), "hash") {
		t.Fatalf("token list leaks secrets: %s", r.Body)
	}
	// The audit log names who changed the stock.
	var audit struct{ Items []store.AuditEntry }
	e.do("GET", "/v1/admin/audit?limit=50", e.Admin, nil).want(t, 200).JSON(t, &audit)
	found := false
	for _, a := range audit.Items {
		if a.Key == "demo/BAGUETTE" && a.Role == store.RoleStaff && a.Actor == "staff-demo" && a.IP == "127.0.0.1" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no audit entry for the staff stock write: %+v", audit.Items)
	}
}

// TestLastAdminTokenStays: the last active admin token cannot be revoked
// (409, saying why), by itself or by anyone; one of two can.
func TestLastAdminTokenStays(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	var toks struct{ Items []store.Token }
	e.do("GET", "/v1/admin/tokens", e.Admin, nil).want(t, 200).JSON(t, &toks)
	if len(toks.Items) != 1 {
		t.Fatalf("tokens: %+v", toks.Items)
	}
	first := toks.Items[0].ID
	r := e.do("DELETE", "/v1/admin/tokens/"+first, e.Admin, nil).want(t, 409)
	if !strings.Contains(string(r.Body), "last active admin token") {
		t.Fatalf("the refusal does not say why: %s", r.Body)
	}
	second := e.token(store.RoleAdmin, "")
	e.do("DELETE", "/v1/admin/tokens/"+first, second, nil).want(t, 204)
	e.do("GET", "/v1/admin/tokens", second, nil).want(t, 200).JSON(t, &toks)
	for _, tk := range toks.Items {
		if tk.ID != first {
			e.do("DELETE", "/v1/admin/tokens/"+tk.ID, second, nil).want(t, 409)
		}
	}
	e.do("GET", "/v1/admin/stats", second, nil).want(t, 200)
}

func TestAdminCRUD(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	p := map[string]any{"sku": "TEA-1", "name": "Black tea", "price": 250, "staff": map[string]any{"cost": 100}}
	r := e.do("POST", "/v1/admin/products", e.Admin, p).want(t, 201)
	if r.Header.Get("Location") != "/v1/admin/products/TEA-1" {
		t.Fatalf("location %q", r.Header.Get("Location"))
	}
	e.do("POST", "/v1/admin/products", e.Admin, p).want(t, 409)
	r = e.do("GET", "/v1/admin/products/TEA-1", e.Admin, nil).want(t, 200)
	etag := r.Header.Get("ETag")
	var got catalog.ProductRecord
	r.JSON(t, &got)
	if got.Currency != "EUR" || got.Staff.Cost != 100 || !strings.HasPrefix(etag, `"v`) {
		t.Fatalf("stored product %+v etag %q", got, etag)
	}
	e.do("GET", "/v1/admin/products/TEA-1", e.Admin, nil, "If-None-Match", etag).want(t, 304)
	p["price"] = 260
	e.do("PUT", "/v1/admin/products/TEA-1", e.Admin, p, "If-Match", etag).want(t, 200)
	if r := e.do("PUT", "/v1/admin/products/TEA-1", e.Admin, p, "If-Match", etag).want(t, 412); r.ErrCode() != "precondition_failed" {
		t.Fatal(string(r.Body))
	}
	// Validation: every bad field reported at once.
	bad := map[string]any{"name": "", "price": -1, "currency": "euro", "image_url": "javascript:alert(1)"}
	r = e.do("PUT", "/v1/admin/products/BAD-1", e.Admin, bad).want(t, 400)
	var eb wire.ErrorBody
	r.JSON(t, &eb)
	var fields []string
	for _, f := range eb.Error.Fields {
		fields = append(fields, f.Field)
	}
	sort.Strings(fields)
	if eb.Error.Code != "invalid" || fmt.Sprint(fields) != "[currency image_url name price]" {
		t.Fatalf("validation errors: %+v", eb)
	}
	for _, body := range []string{`{"name":"x","price":1,"colour":"red"}`, `{"name":`, `[]`, `{"name":"x","price":"1"}`, `{"sku":"OTHER","name":"x","price":1}`} {
		if r := e.do("PUT", "/v1/admin/products/BAD-2", e.Admin, body); r.Status != 400 || r.ErrCode() != "invalid" {
			t.Errorf("body %s: %d %s", body, r.Status, r.Body)
		}
	}
	e.do("PUT", "/v1/admin/products/bad%20id", e.Admin, p).want(t, 400)
	// Pagination.
	var page struct {
		Items []catalog.ProductRecord
		Next  string
	}
	e.do("GET", "/v1/admin/products?limit=10", e.Admin, nil).want(t, 200).JSON(t, &page)
	n, seen := len(page.Items), map[string]bool{}
	for page.Next != "" {
		for _, it := range page.Items {
			seen[it.SKU] = true
		}
		next := page.Next
		page.Items, page.Next = nil, ""
		e.do("GET", "/v1/admin/products?limit=10&after="+next, e.Admin, nil).want(t, 200).JSON(t, &page)
		n += len(page.Items)
	}
	if n != 26 {
		t.Fatalf("paged through %d products, want 26", n)
	}
	e.do("GET", "/v1/admin/products?limit=0", e.Admin, nil).want(t, 400)
	// Deleting a product that still has stock is refused.
	e.do("DELETE", "/v1/admin/products/BAGUETTE", e.Admin, nil).want(t, 409)
	e.do("DELETE", "/v1/admin/stores/demo/stock/BAGUETTE", e.Admin, nil).want(t, 204)
	e.do("DELETE", "/v1/admin/products/BAGUETTE", e.Admin, nil).want(t, 204)
	e.do("GET", "/v1/admin/products/BAGUETTE", e.Admin, nil).want(t, 404)
	// FAQs get generated IDs; unknown routes are JSON 404s.
	var faq catalog.FAQ
	e.do("POST", "/v1/admin/faqs", e.Admin, map[string]any{"question": "Wifi?", "answer": "Yes", "tags": []string{"WiFi", "wifi"}}).want(t, 201).JSON(t, &faq)
	if !strings.HasPrefix(faq.ID, "faq-") || fmt.Sprint(faq.Tags) != "[wifi]" {
		t.Fatalf("faq %+v", faq)
	}
	if r := e.do("GET", "/v1/nothing", "", nil).want(t, 404); r.ErrCode() != "not_found" {
		t.Fatal(string(r.Body))
	}
}

func TestImport(t *testing.T) {
	bothDBs(t, func(t *testing.T, kind dbKind) {
		e := newEnv(t, kind, server.Config{})
		var before store.Stats
		e.do("GET", "/v1/admin/stats", e.Admin, nil).want(t, 200).JSON(t, &before)
		csv := "sku,name,price,cost,attr:colour,active\nN-1,Notebook,300,100,blue,yes\nN-2,,abc,,,maybe\nN-3,Pen,-5,,,\n"
		r := e.do("POST", "/v1/admin/import?entity=products", e.Admin, csv, "Content-Type", "text/csv").want(t, 400)
		var eb wire.ErrorBody
		r.JSON(t, &eb)
		rows := map[int][]string{}
		for _, f := range eb.Error.Fields {
			rows[f.Row] = append(rows[f.Row], f.Field)
		}
		if len(rows) != 2 || len(rows[2]) < 3 || fmt.Sprint(rows[3]) != "[price]" || !strings.Contains(eb.Error.Message, "nothing was written") {
			t.Fatalf("row errors: %+v", eb)
		}
		var after store.Stats
		e.do("GET", "/v1/admin/stats", e.Admin, nil).want(t, 200).JSON(t, &after)
		if after != before {
			t.Fatalf("a rejected import wrote: %+v -> %+v", before, after)
		}
		csv = "sku,name,price,cost,attr:colour\nN-1,Notebook,300,100,blue\nN-2,Pen,150,,\n"
		var res struct{ Rows, Changed int }
		e.do("POST", "/v1/admin/import?entity=products", e.Admin, csv, "Content-Type", "text/csv").want(t, 200).JSON(t, &res)
		if res.Rows != 2 || res.Changed != 2 {
			t.Fatalf("import result %+v", res)
		}
		var got catalog.ProductRecord
		e.do("GET", "/v1/admin/products/N-1", e.Admin, nil).want(t, 200).JSON(t, &got)
		if got.Attributes["colour"] != "blue" || got.Staff.Cost != 100 || !got.Active {
			t.Fatalf("imported %+v", got)
		}
		// Re-importing the same rows changes nothing.
		e.do("POST", "/v1/admin/import?entity=products", e.Admin, csv, "Content-Type", "text/csv").want(t, 200).JSON(t, &res)
		if res.Changed != 0 {
			t.Fatalf("idempotent import changed %d", res.Changed)
		}
		// JSON stock import whose second row names a missing product: all or nothing.
		js := `[{"sku":"N-1","quantity":5},{"sku":"NOPE","quantity":1}]`
		r = e.do("POST", "/v1/admin/import?entity=stock&store=demo", e.Admin, js).want(t, 400)
		r.JSON(t, &eb)
		if eb.Error.Fields[0].Row != 2 || eb.Error.Fields[0].Field != "sku" {
			t.Fatalf("stock import error %+v", eb)
		}
		e.do("GET", "/v1/admin/stores/demo/stock/N-1", e.Admin, nil).want(t, 404)
		e.do("POST", "/v1/admin/import?entity=stock&store=demo", e.Admin, js[:len(js)-30]+"]").want(t, 400)
		e.do("POST", "/v1/admin/import?entity=widgets", e.Admin, "[]").want(t, 400)
		e.do("POST", "/v1/admin/import?entity=products", e.Admin, "x", "Content-Type", "text/plain").want(t, 415)
		e.do("POST", "/v1/admin/import?entity=products", e.Admin, "sku,name,price,bogus\n", "Content-Type", "text/csv").want(t, 400)
	})
}

func TestLimitsAndHeaders(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{BodyLimit: 4096})
	big := `{"name":"x","price":1,"description":"` + strings.Repeat("a", 8000) + `"}`
	if r := e.do("PUT", "/v1/admin/products/BIG", e.Admin, big).want(t, 413); r.ErrCode() != "too_large" {
		t.Fatal(string(r.Body))
	}
	r := e.do("GET", "/v1/stores/demo/checkpoint", "", nil).want(t, 200)
	for h, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Error("no request ID")
	}
}

// TestRateLimitKeyedByPeer: without trusted proxies, X-Forwarded-For cannot
// buy a fresh bucket; behind a trusted proxy each client has its own.
func TestRateLimitKeyedByPeer(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{Rate: 1, Burst: 3})
	limited := 0
	for i := range 10 {
		r := e.do("GET", "/healthz", "", nil, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i), "X-Real-Ip", fmt.Sprintf("198.51.100.%d", i))
		if r.Status == 429 {
			limited++
			if r.ErrCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
				t.Fatalf("429 body %s", r.Body)
			}
		}
	}
	if limited < 6 {
		t.Fatalf("spoofed X-Forwarded-For dodged the limiter: %d of 10 limited", limited)
	}
	p := newEnv(t, sqliteDB, server.Config{Rate: 1, Burst: 3, TrustedProxies: []string{"127.0.0.1/32"}})
	for i := range 10 {
		p.do("GET", "/healthz", "", nil, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)).want(t, 200)
	}
	for range 3 {
		p.do("GET", "/healthz", "", nil, "X-Forwarded-For", "203.0.113.200")
	}
	p.do("GET", "/healthz", "", nil, "X-Forwarded-For", "203.0.113.200").want(t, 429)
}

// TestPush: a device holding the event stream hears about a publish.
func TestPush(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events := make(chan wire.Event, 4)
	c := &client.Client{BaseURL: e.URL}
	go c.Watch(ctx, "demo", func(ev wire.Event) { events <- ev })
	hello := <-events
	if hello.Type != wire.EventHello || hello.Checkpoint.Seq != 1 {
		t.Fatalf("hello %+v", hello)
	}
	for e.Srv.Hub().Subscribers("demo") == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	e.do("POST", "/v1/admin/stores/demo/publish", e.Admin, nil).want(t, 201)
	select {
	case ev := <-events:
		if ev.Type != wire.EventCheckpoint || ev.Checkpoint.Seq != 2 {
			t.Fatalf("event %+v", ev)
		}
	case <-ctx.Done():
		t.Fatal("no checkpoint event")
	}
	// Shutdown ends the stream, so servers can stop gracefully.
	done := make(chan error, 1)
	go func() { done <- e.Srv.Shutdown(ctx) }()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// openStream opens a push stream with token and reads up to its hello
// event; the returned channel closes when the server ends the stream.
func openStream(t *testing.T, e *env, token string) <-chan struct{} {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", e.URL+"/v1/stores/demo/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("stream: status %d", resp.StatusCode)
	}
	rd := bufio.NewReader(resp.Body)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before its hello: %v", err)
		}
		if line == "event: "+wire.EventHello+"\n" {
			break
		}
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer resp.Body.Close()
		io.Copy(io.Discard, rd)
	}()
	return ended
}

// TestRevokeEndsStreams: revoking a token ends, at once, every push stream
// opened with it on this server; other streams stay open.
func TestRevokeEndsStreams(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{PollInterval: -1})
	id, staff := e.tokenWithID(store.RoleStaff, "demo")
	other := e.token(store.RoleStaff, "demo")
	revoked := []<-chan struct{}{openStream(t, e, staff), openStream(t, e, staff)}
	kept := openStream(t, e, other)
	e.do("DELETE", "/v1/admin/tokens/"+id, e.Admin, nil).want(t, 204)
	for i, ended := range revoked {
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			t.Fatalf("stream %d of the revoked token still open 5 s after the revocation", i+1)
		}
	}
	select {
	case <-kept:
		t.Fatal("the stream of another token ended")
	default:
	}
	if n := e.Srv.Hub().Streams(); n != 1 {
		t.Fatalf("%d streams left, want 1", n)
	}
	r := e.do("GET", "/v1/stores/demo/events", staff, nil)
	if r.Status != 401 {
		t.Fatalf("reconnecting with the revoked token: %d", r.Status)
	}
}

func TestNightlyDue(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name  string
		store catalog.Store
		now   string
		day   string
		due   bool
	}{
		{"before local time", catalog.Store{TimeZone: "Europe/Paris", NightlyAt: "02:00"}, "2026-11-24T00:30:00Z", "2026-11-24", false},
		{"after local time", catalog.Store{TimeZone: "Europe/Paris", NightlyAt: "02:00"}, "2026-11-24T01:00:00Z", "2026-11-24", true},
		{"local day differs from UTC", catalog.Store{TimeZone: "America/New_York", NightlyAt: "23:30"}, "2026-11-25T04:45:00Z", "2026-11-24", true},
		{"spring forward: skipped 02:30 fires at 03:00", catalog.Store{TimeZone: "Europe/Paris", NightlyAt: "02:30"}, "2026-03-29T01:00:00Z", "2026-03-29", true},
		{"spring forward: not before", catalog.Store{TimeZone: "Europe/Paris", NightlyAt: "02:30"}, "2026-03-29T00:59:00Z", "2026-03-29", false},
		{"default time", catalog.Store{TimeZone: "UTC"}, "2026-11-24T02:00:00Z", "2026-11-24", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			day, due, err := server.NightlyDue(tt.store, at(tt.now))
			if err != nil || day != tt.day || due != tt.due {
				t.Fatalf("got %s %v %v, want %s %v", day, due, err, tt.day, tt.due)
			}
		})
	}
	if _, _, err := server.NightlyDue(catalog.Store{TimeZone: "Mars/Olympus"}, time.Now()); !catalog.IsCode(err, catalog.Invalid) {
		t.Fatalf("bad zone: %v", err)
	}
}

// TestNightlyScheduler publishes once per local day and only with changes.
func TestNightlyScheduler(t *testing.T) {
	now := time.Date(2026, 11, 24, 0, 30, 0, 0, time.UTC) // 01:30 in Paris
	e := newEnv(t, sqliteDB, server.Config{Now: func() time.Time { return now }})
	ctx := context.Background()
	e.do("PUT", "/v1/admin/stores/demo/stock/BAGUETTE", e.Admin, map[string]any{"quantity": 1}).want(t, 200)
	e.Srv.RunNightly(ctx)
	if cp, _ := e.Store.Checkpoint(ctx, "demo"); cp.Seq != 1 {
		t.Fatalf("published before 02:00: %+v", cp)
	}
	now = now.Add(time.Hour)
	e.Srv.RunNightly(ctx)
	cp, _ := e.Store.Checkpoint(ctx, "demo")
	if cp.Seq != 2 || cp.Reason != wire.ReasonNightly {
		t.Fatalf("nightly: %+v", cp)
	}
	e.do("PUT", "/v1/admin/stores/demo/stock/BAGUETTE", e.Admin, map[string]any{"quantity": 2}).want(t, 200)
	now = now.Add(10 * time.Hour)
	e.Srv.RunNightly(ctx)
	if cp, _ := e.Store.Checkpoint(ctx, "demo"); cp.Seq != 2 {
		t.Fatalf("second nightly on the same day: %+v", cp)
	}
	now = now.Add(14 * time.Hour)
	e.Srv.RunNightly(ctx)
	if cp, _ := e.Store.Checkpoint(ctx, "demo"); cp.Seq != 3 {
		t.Fatalf("next night: %+v", cp)
	}
}

func TestOpenAPI(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	e.do("GET", "/v1/openapi.json", "", nil).want(t, 200).JSON(t, &doc)
	if doc.OpenAPI != "3.1.0" || len(doc.Paths) < 20 {
		t.Fatalf("openapi: %s, %d paths", doc.OpenAPI, len(doc.Paths))
	}
	for _, p := range []string{"/v1/stores/{store}/changes", "/v1/admin/import", "/v1/admin/import/store", "/v1/admin/tokens/{id}",
		"/v1/stores/{store}/qr.svg", "/v1/stores/{store}/qr.png", "/v1/stores/{store}/poster",
		"/v1/admin/stores/{store}/pairings", "/v1/admin/pairings/{id}", "/v1/pair"} {
		if doc.Paths[p] == nil {
			t.Errorf("path %s undocumented", p)
		}
	}
}

func TestAcceptsGzipViaPages(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	var cp wire.Checkpoint
	e.do("GET", "/v1/stores/demo/checkpoint", "", nil).want(t, 200).JSON(t, &cp)
	path := fmt.Sprintf("/v1/stores/demo/changes?target=%d&limit=100", cp.Version)
	for _, tc := range []struct {
		accept string
		gz     bool
	}{{"gzip", true}, {"deflate, gzip;q=0.5", true}, {"gzip;q=0", false}, {"identity", false}, {"", false}} {
		req, _ := http.NewRequest("GET", e.URL+path, nil)
		if tc.accept != "" {
			req.Header.Set("Accept-Encoding", tc.accept)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tc.gz {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tc.accept, got, tc.gz)
		}
		if !tc.gz && !json.Valid(body) {
			t.Errorf("Accept-Encoding %q: body is not JSON", tc.accept)
		}
	}
}

// TestPageRecompressedWhenReused: a page is compressed fast when made and
// harder when served again from the page cache; every encoding is the
// same JSON.
func TestPageRecompressedWhenReused(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	var cp wire.Checkpoint
	e.do("GET", "/v1/stores/demo/checkpoint", "", nil).want(t, 200).JSON(t, &cp)
	path := fmt.Sprintf("/v1/stores/demo/changes?target=%d&limit=1000", cp.Version)
	var sizes []int
	var plain []byte
	for i := range 3 {
		req, _ := http.NewRequest("GET", e.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("request %d not compressed", i)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil || !json.Valid(body) || (plain != nil && !bytes.Equal(body, plain)) {
			t.Fatalf("request %d: body differs or is not JSON (%v)", i, err)
		}
		plain = body
		sizes = append(sizes, len(raw))
	}
	if !(sizes[1] < sizes[0] && sizes[2] == sizes[1]) {
		t.Fatalf("compressed sizes of three requests %v: want the second smaller than the first, the third as the second", sizes)
	}
}

// TestRetention: the nightly run compacts history older than Retention;
// a device offline since before the horizon gets a snapshot.
func TestRetention(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, sqliteDB, server.Config{Now: func() time.Time { return now }, Retention: 7 * 24 * time.Hour})
	ctx := context.Background()
	mem := replica.NewMem()
	r := &replica.Replica{Store: "demo", Audience: wire.AudiencePublic, Storage: mem}
	c := &client.Client{BaseURL: e.URL}
	if _, err := r.Sync(ctx, c); err != nil {
		t.Fatal(err)
	}
	for day := range 10 {
		now = now.Add(24 * time.Hour)
		e.do("PUT", "/v1/admin/stores/demo/stock/BAGUETTE", e.Admin, map[string]any{"quantity": day}).want(t, 200)
		e.do("PUT", "/v1/admin/stores/demo/stock/MILK-1L", e.Admin, map[string]any{"quantity": day}).want(t, 200)
		e.Store.Now = func() time.Time { return now }
		e.Srv.RunNightly(ctx)
	}
	var st store.Stats
	e.do("GET", "/v1/admin/stats", e.Admin, nil).want(t, 200).JSON(t, &st)
	if st.Horizon == 0 {
		t.Fatalf("no compaction: %+v", st)
	}
	res, err := r.Sync(ctx, c)
	if err != nil || !res.Reset || !res.Applied {
		t.Fatalf("device offline past the horizon: %+v %v", res, err)
	}
	if v, _ := mem.Stock(ctx, "BAGUETTE"); v.Stock.Quantity != 9 {
		t.Fatalf("after snapshot: %+v", v.Stock)
	}
}
