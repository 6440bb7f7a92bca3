package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"aisle/api/server"
	"aisle/api/store"
	"aisle/sync/catalog"
)

const chromiumPath = "/usr/bin/chromium"

var (
	wasmOnce gosync.Once
	wasmDir  string
	wasmErr  error
)

// testApp builds the replica's WebAssembly module and a test page into a
// directory (once per test binary).
func testApp(t testing.TB) string {
	t.Helper()
	wasmOnce.Do(func() {
		dir, err := os.MkdirTemp("", "aisle-sync-app-")
		if err != nil {
			wasmErr = err
			return
		}
		wasmDir = dir
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "aisle-sync.wasm"), "aisle/sync/cmd/aisle-sync-wasm")
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			wasmErr = fmt.Errorf("build wasm: %v\n%s", err, out)
			return
		}
		goroot, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			wasmErr = err
			return
		}
		execJS, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
		if err != nil {
			wasmErr = err
			return
		}
		files := map[string]string{
			"wasm_exec.js": string(execJS),
			"index.html":   `<!doctype html><meta charset="utf-8"><title>sync test</title><script src="wasm_exec.js"></script><script src="test.js"></script>`,
			// The page's only logic: start Go; everything else is driven by the test.
			"test.js": `window.events = [];
const go = new Go();
WebAssembly.instantiateStreaming(fetch("aisle-sync.wasm"), go.importObject)
  .then(r => { go.run(r.instance); window.ready = true; })
  .catch(e => { window.loadError = String(e); });`,
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				wasmErr = err
				return
			}
		}
	})
	if wasmErr != nil {
		t.Fatal(wasmErr)
	}
	return wasmDir
}

// needChromium skips without a browser, or fails when CI=true.
func needChromium(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required in CI: %v (Debian package chromium)", err)
		}
		t.Skipf("skipping browser test: %v (install Debian's chromium; required when CI=true)", err)
	}
}

// browser starts headless Chromium with a fresh profile.
func browser(t testing.TB) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// The page's console ends up in the test log (Go's panics land there).
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err == nil {
		chromedp.Listen(ctx, func(ev any) {
			switch ev := ev.(type) {
			case *runtime.EventConsoleAPICalled:
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, strings.Trim(string(a.Value), `"`))
				}
				t.Logf("console.%s: %s", ev.Type, strings.Join(parts, " "))
			case *runtime.EventExceptionThrown:
				t.Logf("exception: %s %v", ev.ExceptionDetails.Text, ev.ExceptionDetails.Exception)
			}
		})
	}
	return ctx
}

func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func openPage(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`window.ready === true || !!window.loadError`)); err != nil {
		t.Fatalf("page did not start: %v", err)
	}
	if e := eval[string](t, ctx, `String(window.loadError || "")`); e != "" {
		t.Fatalf("page failed to load the module: %s", e)
	}
}

func setOffline(t testing.TB, ctx context.Context, offline bool) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	_, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}},
	})
	if err != nil {
		// browsers before the rule-based method (Chromium 148 refuses its parameters): the
		// protocol's older, global form, which newer protocol packages no longer describe
		_, err = chromedp.Call(ctx, legacyEmulateNetworkConditions, legacyNetworkConditions{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// legacyNetworkConditions are the parameters of Network.emulateNetworkConditions.
type legacyNetworkConditions struct {
	Offline            bool    `json:"offline"`
	Latency            float64 `json:"latency"`
	DownloadThroughput float64 `json:"downloadThroughput"`
	UploadThroughput   float64 `json:"uploadThroughput"`
}

var legacyEmulateNetworkConditions = cdp.Command[legacyNetworkConditions, struct{}]{Method: "Network.emulateNetworkConditions"}

type jsSyncResult struct {
	Applied  bool    `json:"applied"`
	Reset    bool    `json:"reset"`
	Changes  int     `json:"changes"`
	Pages    int     `json:"pages"`
	CommitMs float64 `json:"commit_ms"`
	TotalMs  float64 `json:"total_ms"`
}

// TestBrowserSyncOfflineAndPush: in headless Chromium the Go-WASM replica
// syncs the demo store into IndexedDB, answers a stock query with the
// network off, then, online and watching the push stream, shows a price
// change the server publishes.
func TestBrowserSyncOfflineAndPush(t *testing.T) {
	needChromium(t)
	app := testApp(t)
	// The network between the page and the server can be made to cut
	// every changes response after the first one of a sync.
	var cutting atomic.Bool
	var pagesSeen atomic.Int64
	e := newEnvWrapped(t, sqliteDB, server.Config{Fallback: http.FileServer(http.Dir(app))}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if cutting.Load() && strings.HasSuffix(r.URL.Path, "/changes") && pagesSeen.Add(1) > 1 {
				r.Header.Del("Accept-Encoding")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				cutConnection(w, r, rec.Body.Bytes(), rec.Header())
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	ctx := browser(t)
	openPage(t, ctx, e.URL+"/index.html")

	eval[any](t, ctx, `aisleSync.open({store: "demo", pageSize: 10})`)
	res := eval[jsSyncResult](t, ctx, `aisleSync.sync()`)
	// 57 records and 30 vectors (25 products, 5 FAQs) in pages of 10.
	if !res.Applied || !res.Reset || res.Changes != 87 || res.Pages != 9 {
		t.Fatalf("first sync in the browser: %+v", res)
	}
	// Offline: a sync fails cleanly, local queries still answer.
	setOffline(t, ctx, true)
	code := eval[string](t, ctx, `aisleSync.sync().then(() => "synced", e => e.code)`)
	if code != string(catalog.Unavailable) {
		t.Fatalf("offline sync: %q", code)
	}
	qty := eval[int](t, ctx, `aisleSync.stock("MILK-1L").then(v => v.stock.quantity)`)
	aisle := eval[string](t, ctx, `aisleSync.stock("MILK-1L").then(v => v.stock.aisle)`)
	if qty != 48 || aisle != "3A" {
		t.Fatalf("offline stock query: %d in %q", qty, aisle)
	}
	if staff := eval[bool](t, ctx, `aisleSync.stock("MILK-1L").then(v => "stock_staff" in v)`); staff {
		t.Fatal("a customer replica holds staff stock data")
	}
	names := eval[[]string](t, ctx, `aisleSync.search("milk", 10).then(ps => ps.map(p => p.sku))`)
	if strings.Join(names, ",") != "MILK-ORG-1L,MILK-1L" {
		t.Fatalf("offline search: %v", names)
	}
	faq := eval[string](t, ctx, `aisleSync.faqs("toilets").then(fs => fs[0].answer)`)
	if !strings.Contains(faq, "customer service") {
		t.Fatalf("offline FAQ: %q", faq)
	}
	// Online again, holding the push stream.
	setOffline(t, ctx, false)
	eval[any](t, ctx, `(aisleSync.watch(ev => window.events.push(ev)), null)`)
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`window.events.some(ev => ev.type === "hello")`)); err != nil {
		t.Fatalf("no hello on the push stream: %v", err)
	}
	for e.Srv.Hub().Subscribers("demo") == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	var rec catalog.ProductRecord
	e.do("GET", "/v1/admin/products/MILK-1L", e.Admin, nil).want(t, 200).JSON(t, &rec)
	rec.Price = 89
	e.do("PUT", "/v1/admin/products/MILK-1L", e.Admin, rec).want(t, 200)
	e.do("POST", "/v1/admin/stores/demo/publish", e.Admin, nil).want(t, 201)
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`window.events.some(ev => ev.type === "checkpoint" && ev.result && ev.result.applied)`)); err != nil {
		evs := eval[string](t, ctx, `JSON.stringify(window.events)`)
		t.Fatalf("the pushed checkpoint was not applied: %v; events %s", err, evs)
	}
	if price := eval[int](t, ctx, `aisleSync.product("MILK-1L").then(v => v.product.price)`); price != 89 {
		t.Fatalf("price after push: %d", price)
	}
	eval[any](t, ctx, `(aisleSync.unwatch(), null)`)

	// A sync interrupted mid-way (connection cut after its first page)
	// leaves IndexedDB at the last checkpoint with one page staged; the
	// next sync resumes from there.
	csv := "sku,quantity\n"
	for i, sku := range []string{"MILK-1L", "BUTTER-250", "BAGUETTE", "PASTA-500", "RICE-1K", "COFFEE-250", "APPLE-KG", "BANANA-KG", "WATER-6X1.5", "SOAP-LIQ", "TEA-GREEN-20", "BRIE-300"} {
		csv += fmt.Sprintf("%s,%d\n", sku, 700+i)
	}
	e.do("POST", "/v1/admin/import?entity=stock&store=demo", e.Admin, csv, "Content-Type", "text/csv").want(t, 200)
	e.do("POST", "/v1/admin/stores/demo/publish", e.Admin, nil).want(t, 201)
	eval[any](t, ctx, `aisleSync.open({store: "demo", pageSize: 5})`)
	cutting.Store(true)
	if code := eval[string](t, ctx, `Promise.race([aisleSync.sync().then(() => "synced", e => e.code), new Promise(r => setTimeout(() => r("timeout"), 20000))])`); code != string(catalog.Unavailable) {
		st := eval[string](t, ctx, `aisleSync.status().then(m => JSON.stringify(m))`)
		t.Fatalf("interrupted sync: %q; pages seen %d; status %s", code, pagesSeen.Load(), st)
	}
	if q := eval[int](t, ctx, `aisleSync.stock("MILK-1L").then(v => v.stock.quantity)`); q != 48 {
		t.Fatalf("after an interrupted sync the stock reads %d, want the last checkpoint's 48", q)
	}
	if staged := eval[int](t, ctx, `aisleSync.status().then(m => m.staging.changes)`); staged != 5 {
		t.Fatalf("staged changes after the cut: %d, want one page of 5", staged)
	}
	cutting.Store(false)
	res = eval[jsSyncResult](t, ctx, `aisleSync.sync()`)
	if !res.Applied || res.Changes != 12 || res.Pages != 2 {
		t.Fatalf("resumed sync: %+v (want 12 changes, the 2 remaining pages)", res)
	}
	if q := eval[int](t, ctx, `aisleSync.stock("BRIE-300").then(v => v.stock.quantity)`); q != 711 {
		t.Fatalf("after resuming: %d", q)
	}
}

// bulkStorePage seeds the demo store plus n products made by product (each with a stock line
// in demo), publishes, serves the sync API with the test app and returns a Chromium tab on its
// page: the set-up of the IndexedDB benchmarks.
func bulkStorePage(b *testing.B, n int, product func(i int, sku string) catalog.Product) context.Context {
	b.Helper()
	needChromium(b)
	app := testApp(b)
	st, _ := openDB(b, sqliteDB)
	b.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := server.Seed(ctx, st, time.Now()); err != nil {
		b.Fatal(err)
	}
	ops := make([]store.Op, 0, 2*n)
	for i := range n {
		sku := fmt.Sprintf("BULK-%06d", i)
		p := product(i, sku)
		p.Active = true
		op, err := store.PutProduct(catalog.ProductRecord{Product: p})
		if err != nil {
			b.Fatal(err)
		}
		sop, err := store.PutStock("demo", catalog.StockRecord{Stock: catalog.Stock{SKU: sku, Quantity: int64(i % 50), Aisle: "B" + fmt.Sprint(i%40)}})
		if err != nil {
			b.Fatal(err)
		}
		ops = append(ops, op, sop)
	}
	if _, err := st.Write(ctx, store.Actor{Name: "bench"}, ops); err != nil {
		b.Fatal(err)
	}
	if _, _, err := st.Publish(ctx, store.Actor{Name: "bench"}, "demo", "manual", ""); err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(st, server.Config{Rate: -1, Logger: quietLogger(), NightlyInterval: -1, Fallback: http.FileServer(http.Dir(app))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Shutdown(ctx) })
	hs := newHTTPServer(srv.Handler())
	b.Cleanup(hs.Close)
	bctx := browser(b)
	openPage(b, bctx, hs.URL+"/index.html")
	return bctx
}

// BenchmarkIndexedDBApply measures how fast the browser replica applies a
// large checkpoint into IndexedDB: 50,000 products and their stock lines
// (100,000 changes for a customer). Reports changes per second of the
// commit transaction and of the whole sync.
//
//	go test ./api/server -run '^$' -bench IndexedDBApply -benchtime 1x
func BenchmarkIndexedDBApply(b *testing.B) {
	const n = 50_000
	bctx := bulkStorePage(b, n, func(i int, sku string) catalog.Product {
		return catalog.Product{SKU: sku, Name: fmt.Sprintf("Bulk item %d", i), Category: "Bulk", Price: int64(100 + i%900), Currency: "EUR"}
	})
	b.ResetTimer()
	for i := range b.N {
		res := eval[jsSyncResult](b, bctx, fmt.Sprintf(`aisleSync.open({store: "demo", db: "bench-%d", pageSize: 5000}).then(() => aisleSync.sync())`, i))
		if !res.Applied || res.Changes < 2*n {
			b.Fatalf("sync: %+v", res)
		}
		b.ReportMetric(float64(res.Changes)/(res.CommitMs/1000), "commit-changes/s")
		b.ReportMetric(float64(res.Changes)/(res.TotalMs/1000), "sync-changes/s")
		b.ReportMetric(res.CommitMs, "commit-ms")
		b.ReportMetric(res.TotalMs, "sync-ms")
	}
}
