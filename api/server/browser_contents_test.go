package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"testing"

	"aisle/api/server"
	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/client"
	"aisle/sync/replica"
	"aisle/sync/wire"
)

// contentsJS reads aisleSync.contents() as a replica.Contents.
func contentsJS(t testing.TB, ctx context.Context) replica.Contents {
	t.Helper()
	var c replica.Contents
	if err := json.Unmarshal([]byte(eval[string](t, ctx, `aisleSync.contents().then(c => JSON.stringify(c))`)), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// memContents syncs a native replica of store for token's audience.
func memContents(t *testing.T, e *env, aud wire.Audience, token string) replica.Contents {
	t.Helper()
	m := replica.NewMem()
	if _, err := (&replica.Replica{Store: "demo", Audience: aud, Storage: m}).Sync(context.Background(), &client.Client{BaseURL: e.URL, Token: token}); err != nil {
		t.Fatal(err)
	}
	c, err := m.Contents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sameContents fails unless the browser's contents equal the native
// replica's (the reference implementation), field by field.
func sameContents(t *testing.T, got, want replica.Contents) {
	t.Helper()
	// Through JSON both ways, so that times and empty values compare alike.
	norm := func(c replica.Contents) replica.Contents {
		b, _ := json.Marshal(c)
		var out replica.Contents
		_ = json.Unmarshal(b, &out)
		return out
	}
	g, w := norm(got), norm(want)
	if !reflect.DeepEqual(g, w) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		t.Fatalf("IndexedDB contents differ from the native replica's:\n got %.600s\nwant %.600s", gb, wb)
	}
}

// TestBrowserContents: in headless Chromium, a replica database created by
// the previous app version (IndexedDB version 1, protocol 1 data, no
// vectors) is upgraded in place, takes its checkpoint again with vectors,
// and Contents then returns exactly what a native replica of the same
// checkpoint holds, for a customer and for staff, before and after a
// delta.
func TestBrowserContents(t *testing.T) {
	needChromium(t)
	app := testApp(t)
	e := newEnv(t, sqliteDB, server.Config{Fallback: http.FileServer(http.Dir(app))})
	staff := e.token(store.RoleStaff, "demo")
	ctx := browser(t)
	openPage(t, ctx, e.URL+"/index.html")

	// The previous app version's database: layout version 1, a meta record
	// without a protocol, the demo checkpoint's store record applied.
	var cp wire.Checkpoint
	e.do("GET", "/v1/stores/demo/checkpoint", "", nil).want(t, 200).JSON(t, &cp)
	cpJSON, _ := json.Marshal(cp)
	storeRec := e.do("GET", "/v1/admin/stores/demo", e.Admin, nil).want(t, 200).Body
	legacy := fmt.Sprintf(`new Promise((resolve, reject) => {
  const req = indexedDB.open("legacy-demo", 1);
  req.onupgradeneeded = () => {
    const db = req.result;
    db.createObjectStore("meta"); db.createObjectStore("staged");
    for (const k of ["store", "product", "product_staff", "stock", "stock_staff", "faq", "promotion"]) {
      const st = db.createObjectStore(k, {keyPath: "id"});
      if (k === "product" || k === "faq") st.createIndex("terms", "terms", {multiEntry: true});
    }
  };
  req.onerror = () => reject(String(req.error));
  req.onsuccess = () => {
    const db = req.result;
    const tx = db.transaction(["meta", "store"], "readwrite");
    tx.objectStore("meta").put(JSON.stringify({store: "demo", audience: "public", checkpoint: %s}), "meta");
    tx.objectStore("store").put({id: "demo", v: 1, j: %q});
    tx.oncomplete = () => { db.close(); resolve(db.version); };
    tx.onerror = () => reject(String(tx.error));
  };
})`, cpJSON, storeRec)
	if v := eval[int](t, ctx, legacy); v != 1 {
		t.Fatalf("legacy database version %d", v)
	}
	eval[any](t, ctx, `aisleSync.open({store: "demo", db: "legacy-demo", pageSize: 20})`)
	if n := eval[int](t, ctx, `aisleSync.contentsSummary().then(s => s.products)`); n != 0 {
		t.Fatalf("legacy replica before its sync: %d products", n)
	}
	res := eval[jsSyncResult](t, ctx, `aisleSync.sync()`)
	if !res.Applied || !res.Reset || res.Changes != 87 {
		t.Fatalf("first sync after the app update: %+v (want the same checkpoint again, as a snapshot with 30 vectors)", res)
	}
	sameContents(t, contentsJS(t, ctx), memContents(t, e, wire.AudiencePublic, ""))
	if v := eval[int](t, ctx, `new Promise(r => { const q = indexedDB.open("legacy-demo"); q.onsuccess = () => { r(q.result.version); q.result.close(); }; })`); v != 2 {
		t.Fatalf("database version after the upgrade: %d", v)
	}

	// A staff replica in a fresh database.
	eval[any](t, ctx, fmt.Sprintf(`aisleSync.open({store: "demo", db: "staff-demo", audience: "staff", token: %q})`, staff))
	eval[jsSyncResult](t, ctx, `aisleSync.sync()`)
	got := contentsJS(t, ctx)
	if len(got.StockStaff) != 25 || len(got.ProductStaff) != 25 || len(got.Vectors) != 30 {
		t.Fatalf("staff contents: %d stock staff, %d product staff, %d vectors", len(got.StockStaff), len(got.ProductStaff), len(got.Vectors))
	}
	sameContents(t, got, memContents(t, e, wire.AudienceStaff, staff))

	// A delta: a renamed product, a deleted FAQ, a deactivated product.
	var rec catalog.ProductRecord
	e.do("GET", "/v1/admin/products/COFFEE-250", e.Admin, nil).want(t, 200).JSON(t, &rec)
	rec.Name = "Ground coffee decaf 250 g"
	e.do("PUT", "/v1/admin/products/COFFEE-250", e.Admin, rec).want(t, 200)
	e.do("GET", "/v1/admin/products/WINE-BDX-75", e.Admin, nil).want(t, 200).JSON(t, &rec)
	rec.Active = false
	e.do("PUT", "/v1/admin/products/WINE-BDX-75", e.Admin, rec).want(t, 200)
	e.do("DELETE", "/v1/admin/faqs/toilets", e.Admin, nil).want(t, 204)
	e.do("POST", "/v1/admin/stores/demo/publish", e.Admin, nil).want(t, 201)
	if res := eval[jsSyncResult](t, ctx, `aisleSync.sync()`); !res.Applied || res.Reset {
		t.Fatalf("delta: %+v", res)
	}
	got = contentsJS(t, ctx)
	if _, ok := got.Vectors["faq:toilets"]; ok || len(got.Products) != 24 || len(got.Vectors) != 28 {
		t.Fatalf("after the delta: %d products, %d vectors", len(got.Products), len(got.Vectors))
	}
	sameContents(t, got, memContents(t, e, wire.AudienceStaff, staff))
	checkVectors(t, got)
}

// BenchmarkIndexedDBContents measures Contents of a 5,000-product store
// (5,000 products, stock lines and vectors, and the demo catalog) read from
// IndexedDB in headless Chromium: one read-only transaction, one getAll per
// object store, decoded in Go. read-ms is measured inside the module (the
// encoding of the result back to JavaScript excluded); js-getall-ms is the
// same transaction's getAll requests issued from plain JavaScript, without
// any decoding: IndexedDB's own share.
//
//	go test ./api/server -run '^$' -bench IndexedDBContents -benchtime 10x
func BenchmarkIndexedDBContents(b *testing.B) {
	const n = 5000
	bctx := bulkStorePage(b, n, func(i int, sku string) catalog.Product {
		return catalog.Product{SKU: sku, Name: fmt.Sprintf("Product number %d", i),
			Description: "A typical product description of moderate length, as catalogs have.", Category: fmt.Sprintf("Category %d", i%40),
			Brand: fmt.Sprintf("Brand %d", i%300), Price: int64(100 + i%900), Currency: "EUR"}
	})
	if res := eval[jsSyncResult](b, bctx, `aisleSync.open({store: "demo", db: "bench-contents", pageSize: 5000}).then(() => aisleSync.sync())`); !res.Applied {
		b.Fatalf("sync: %+v", res)
	}
	type summary struct {
		Products, Stock, Vectors int
		ReadMs                   float64 `json:"read_ms"`
	}
	const getAll = `new Promise((resolve, reject) => {
  const q = indexedDB.open("bench-contents");
  q.onerror = () => reject(String(q.error));
  q.onsuccess = () => {
    const db = q.result, names = Array.from(db.objectStoreNames).filter(n => n !== "staged");
    const t0 = performance.now(), tx = db.transaction(names, "readonly");
    for (const n of names) tx.objectStore(n).getAll();
    tx.oncomplete = () => { db.close(); resolve(performance.now() - t0); };
  };
})`
	var ms, js []float64
	b.ResetTimer()
	for range b.N {
		s := eval[summary](b, bctx, `aisleSync.contentsSummary()`)
		if s.Products != n+25 || s.Stock != n+25 || s.Vectors != n+30 {
			b.Fatalf("contents: %+v", s)
		}
		ms = append(ms, s.ReadMs)
		js = append(js, eval[float64](b, bctx, getAll))
	}
	sort.Float64s(ms)
	sort.Float64s(js)
	b.ReportMetric(ms[len(ms)/2], "read-ms(median)")
	b.ReportMetric(ms[0], "read-ms(min)")
	b.ReportMetric(js[len(js)/2], "js-getall-ms(median)")
}
