package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"aisle/api/server"
	"aisle/sync/catalog"
)

// etagVersion is the log version in a response's ETag ("v<version>").
func etagVersion(t *testing.T, r response) int64 {
	t.Helper()
	v, err := strconv.ParseInt(strings.Trim(r.Header.Get("ETag"), `"v`), 10, 64)
	if err != nil {
		t.Fatalf("ETag %q", r.Header.Get("ETag"))
	}
	return v
}

// TestPriceFixDuringLargeImport: while a large import runs, an admin's
// price corrections go through between its batches instead of waiting
// for the whole import (or failing with 503 once SQLite's busy timeout
// runs out), and the import's result is still complete.
func TestPriceFixDuringLargeImport(t *testing.T) {
	const n = 30_000
	e := newEnv(t, sqliteDB, server.Config{ImportLimit: 64 << 20})
	body := importCSV(n, func(i int) string { return fmt.Sprintf("BIG-%05d", i) }, func(i int) string { return fmt.Sprintf("Product number %d", i) }, 100)

	type result struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		req, _ := http.NewRequest("POST", e.URL+"/v1/admin/import?entity=products", strings.NewReader(body))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+e.Admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- result{resp.StatusCode, b, err}
	}()

	// Price corrections, one after another, until the import returns.
	var rec catalog.ProductRecord
	e.do("GET", "/v1/admin/products/MILK-1L", e.Admin, nil).want(t, 200).JSON(t, &rec)
	type fix struct {
		version int64
		latency time.Duration
	}
	var fixes []fix
	var res result
	for running := true; running; {
		select {
		case res = <-done:
			running = false
			continue
		default:
		}
		rec.Price = 100 + int64(len(fixes)%2)
		t0 := time.Now()
		r := e.do("PUT", "/v1/admin/products/MILK-1L", e.Admin, rec)
		if r.Status != 200 {
			t.Fatalf("price fix %d during the import: %d %s", len(fixes)+1, r.Status, r.Body)
		}
		fixes = append(fixes, fix{etagVersion(t, r), time.Since(t0)})
	}
	took := time.Since(start)
	if res.err != nil || res.status != 200 {
		t.Fatalf("import: %d %s %v", res.status, res.body, res.err)
	}
	var ir struct{ Rows, Changed int }
	if err := json.Unmarshal(res.body, &ir); err != nil || ir.Rows != n || ir.Changed != n {
		t.Fatalf("import result %s %v", res.body, err)
	}
	first := etagVersion(t, e.do("GET", "/v1/admin/products/BIG-00000", e.Admin, nil).want(t, 200))
	last := etagVersion(t, e.do("GET", fmt.Sprintf("/v1/admin/products/BIG-%05d", n-1), e.Admin, nil).want(t, 200))
	var during []time.Duration
	for _, f := range fixes {
		if f.version > first && f.version < last {
			during = append(during, f.latency)
		}
	}
	if len(during) == 0 {
		slowest := slices.MaxFunc(fixes, func(a, b fix) int { return int(a.latency - b.latency) })
		t.Fatalf("none of %d price fixes was written while the import was writing (log versions %d..%d); the slowest took %v",
			len(fixes), first, last, slowest.latency.Round(time.Millisecond))
	}
	slices.Sort(during)
	slowest := slices.MaxFunc(fixes, func(a, b fix) int { return int(a.latency - b.latency) })
	t.Logf("import of %d rows took %v; %d of %d price fixes went through while it wrote: latency median %v, max %v; slowest of all %v",
		n, took.Round(time.Millisecond), len(during), len(fixes), during[len(during)/2].Round(time.Millisecond), during[len(during)-1].Round(time.Millisecond),
		slowest.latency.Round(time.Millisecond))
}

// TestImportFailsMidway: an import larger than a batch that fails as it is
// written keeps the batches before the failing row, and says so; sent
// again once fixed, it completes.
func TestImportFailsMidway(t *testing.T) {
	bothDBs(t, func(t *testing.T, kind dbKind) {
		e := newEnv(t, kind, server.Config{})
		const bad = server.ImportBatchRows + 500 // in the second batch
		var b strings.Builder
		b.WriteString("sku,quantity\n")
		for row := 1; row <= bad; row++ {
			sku := "MILK-1L"
			if row == bad {
				sku = "NOPE" // no such product: found only when written
			}
			fmt.Fprintf(&b, "%s,%d\n", sku, row)
		}
		r := e.do("POST", "/v1/admin/import?entity=stock&store=demo", e.Admin, b.String(), "Content-Type", "text/csv").want(t, 400)
		var eb struct {
			Error struct {
				Message string
				Fields  []catalog.FieldError
			}
		}
		r.JSON(t, &eb)
		want := fmt.Sprintf("the first %d of its %d rows were written", server.ImportBatchRows, bad)
		if len(eb.Error.Fields) != 1 || eb.Error.Fields[0].Row != bad || eb.Error.Fields[0].Field != "sku" || !strings.Contains(eb.Error.Message, want) {
			t.Fatalf("error %+v, want row %d named and %q", eb.Error, bad, want)
		}
		var line catalog.StockRecord
		e.do("GET", "/v1/admin/stores/demo/stock/MILK-1L", e.Admin, nil).want(t, 200).JSON(t, &line)
		if line.Quantity != server.ImportBatchRows {
			t.Fatalf("quantity %d: the first batch (up to row %d) was not kept as it was written", line.Quantity, server.ImportBatchRows)
		}
		fixed := strings.Replace(b.String(), "NOPE,", "BAGUETTE,", 1)
		var res struct{ Rows, Changed int }
		e.do("POST", "/v1/admin/import?entity=stock&store=demo", e.Admin, fixed, "Content-Type", "text/csv").want(t, 200).JSON(t, &res)
		e.do("GET", "/v1/admin/stores/demo/stock/MILK-1L", e.Admin, nil).want(t, 200).JSON(t, &line)
		if res.Rows != bad || line.Quantity != bad-1 {
			t.Fatalf("the import sent again: %+v, MILK-1L quantity %d", res, line.Quantity)
		}
	})
}
