// Command aisle-loadgen measures the sync API on loopback: it starts a
// server in-process on SQLite or on a throwaway PostgreSQL, loads a catalog,
// publishes a snapshot checkpoint and then a "nightly" checkpoint that
// changes a share of it, and has many concurrent clients pull the nightly
// delta (checkpoint + pages) as fast as they can.
//
// It prints delta throughput (requests/s, changes/s), latency percentiles
// of the changes endpoint, the CPU time per request (server and clients),
// and the bytes on the wire (gzip) of the nightly delta versus a full
// snapshot, for the newest protocol and for protocol 1 (no vectors), and
// for a second device (pages served again from the page cache are
// compressed harder). With -rename the nightly change also renames the
// products it changes, so their vectors change too.
//
//	go run ./api/cmd/aisle-loadgen -db sqlite -clients 64 -duration 10s
//	go run ./api/cmd/aisle-loadgen -db postgres -clients 64 -duration 10s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	gosync "sync"
	"sync/atomic"
	"time"

	"aisle/api/internal/pgtemp"
	"aisle/api/server"
	"aisle/api/store"
	"aisle/api/store/sqlstore"
	"aisle/sync/catalog"
	"aisle/sync/client"
	"aisle/sync/wire"
)

func main() {
	dbKind := flag.String("db", "sqlite", "sqlite or postgres (a throwaway cluster from Debian's packages)")
	products := flag.Int("products", 5000, "catalog size (each product also gets a stock line)")
	changed := flag.Float64("changed", 0.05, "share of products whose price and stock change before the nightly checkpoint")
	clients := flag.Int("clients", 64, "concurrent clients")
	duration := flag.Duration("duration", 10*time.Second, "measurement time")
	pageSize := flag.Int("page", 500, "page size asked by clients")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole process (server and clients) to this file")
	cache := flag.Bool("cache", true, "let the server answer repeated pages from its page cache")
	distinct := flag.Bool("distinct", false, "give every client its own page size, so no two requests are alike: every page is a database query (with -cache=false)")
	rename := flag.Bool("rename", false, "the nightly change also renames the changed products (their vectors change)")
	streams := flag.Int("streams", 0, "instead: this many devices hold push streams, a publish reaches them and each pulls it with -clients at once (streams.go)")
	streamTimeout := flag.Duration("stream-timeout", 5*time.Minute, "bound of the whole -streams run")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "aisle-loadgen:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *streams > 0 { // streams.go
		if err := runStreams(*dbKind, *streams, *clients, *streamTimeout, *cpuProfile); err != nil {
			pprof.StopCPUProfile()
			fmt.Fprintln(os.Stderr, "aisle-loadgen:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*dbKind, *products, *changed, *clients, *duration, *pageSize, *cache, *distinct, *rename); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "aisle-loadgen:", err)
		os.Exit(1)
	}
}

func run(dbKind string, nProducts int, changed float64, nClients int, dur time.Duration, pageSize int, cache, distinct, rename bool) error {
	ctx := context.Background()
	st, closeStore, err := openStore(ctx, dbKind)
	if err != nil {
		return err
	}
	defer closeStore()

	// Catalog, snapshot checkpoint, then the day's changes and the nightly checkpoint.
	admin := store.Actor{Name: "loadgen", Role: store.RoleAdmin}
	ops := []store.Op{}
	add := func(op store.Op, err error) error {
		ops = append(ops, op)
		return err
	}
	if err := add(store.PutStore(catalog.Store{ID: "s1", Name: "Load test store", TimeZone: "Europe/Paris"})); err != nil {
		return err
	}
	nameFmt := "Product number %d"
	product := func(i int, price int64) catalog.ProductRecord {
		return catalog.ProductRecord{Product: catalog.Product{SKU: fmt.Sprintf("SKU-%06d", i), Name: fmt.Sprintf(nameFmt, i),
			Description: "A typical product description of moderate length, as catalogs have.", Category: fmt.Sprintf("Category %d", i%40),
			Brand: fmt.Sprintf("Brand %d", i%300), Price: price, Currency: "EUR", Active: true,
			Attributes: map[string]string{"size": fmt.Sprint(i % 7), "colour": fmt.Sprint(i % 11)}},
			Staff: catalog.ProductStaff{Cost: price / 2, Supplier: "Supplier"}}
	}
	stock := func(i int, qty int64) catalog.StockRecord {
		return catalog.StockRecord{Stock: catalog.Stock{SKU: fmt.Sprintf("SKU-%06d", i), Quantity: qty, Aisle: fmt.Sprintf("%dA", i%30), UpdatedAt: time.Now().UTC()}}
	}
	for i := range nProducts {
		if err := add(store.PutProduct(product(i, int64(100+i%1000)))); err != nil {
			return err
		}
		if err := add(store.PutStock("s1", stock(i, int64(i%60)))); err != nil {
			return err
		}
	}
	t0 := time.Now()
	if _, err := st.Write(ctx, admin, ops); err != nil {
		return err
	}
	loadTime := time.Since(t0)
	cp1, _, err := st.Publish(ctx, admin, "s1", wire.ReasonManual, "")
	if err != nil {
		return err
	}
	ops = ops[:0]
	if rename {
		nameFmt = "Product number %d, new formula"
	}
	nChanged := int(float64(nProducts) * changed)
	for i := range nChanged {
		j := i * (nProducts / max(nChanged, 1))
		if err := add(store.PutProduct(product(j, int64(99+j%1000)))); err != nil {
			return err
		}
		if err := add(store.PutStock("s1", stock(j, int64(j%60+1)))); err != nil {
			return err
		}
	}
	if _, err := st.Write(ctx, admin, ops); err != nil {
		return err
	}
	cp2, _, err := st.Publish(ctx, admin, "s1", wire.ReasonNightly, "")
	if err != nil {
		return err
	}

	cacheBytes := 0
	if !cache {
		cacheBytes = -1
	}
	srv, err := server.New(st, server.Config{Rate: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), NightlyInterval: -1, PageCacheBytes: cacheBytes})
	if err != nil {
		return err
	}
	defer srv.Shutdown(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	// Bytes on the wire (gzip) of the nightly delta and of a snapshot, in
	// the newest protocol and in protocol 1 (no vectors).
	deltaBytes, deltaChanges, afters, err := wireBytes(base, cp1.Version, cp2.Version, pageSize, wire.ProtocolVersion)
	if err != nil {
		return err
	}
	snapBytes, snapChanges, _, err := wireBytes(base, 0, cp2.Version, pageSize, wire.ProtocolVersion)
	if err != nil {
		return err
	}
	deltaBytes1, deltaChanges1, _, err := wireBytes(base, cp1.Version, cp2.Version, pageSize, 1)
	if err != nil {
		return err
	}
	snapBytes1, snapChanges1, _, err := wireBytes(base, 0, cp2.Version, pageSize, 1)
	if err != nil {
		return err
	}
	// The same pages again: a second device gets them from the page cache,
	// compressed harder (the same as the first with -cache=false).
	deltaBytesAgain, _, _, err := wireBytes(base, cp1.Version, cp2.Version, pageSize, wire.ProtocolVersion)
	if err != nil {
		return err
	}
	snapBytesAgain, _, _, err := wireBytes(base, 0, cp2.Version, pageSize, wire.ProtocolVersion)
	if err != nil {
		return err
	}

	// Load: every client pulls the delta from cp1 to cp2 again and again:
	// the checkpoint (decoded), then each page as a device's browser would
	// fetch it (gzip, read to the end; decoding is the device's own CPU,
	// not the server's, so the generator does not spend its cores on it).
	tr := &http.Transport{MaxIdleConns: nClients * 2, MaxIdleConnsPerHost: nClients * 2, IdleConnTimeout: time.Minute, DisableCompression: true}
	var (
		mu        gosync.Mutex
		latencies []time.Duration
		requests  atomic.Int64
		changes   atomic.Int64
		errs      atomic.Int64
	)
	limits, plans := make([]int, nClients), make([][]int64, nClients)
	for i := range nClients {
		limits[i], plans[i] = pageSize, afters
		if distinct {
			limits[i] = pageSize + i
			if _, _, plans[i], err = wireBytes(base, cp1.Version, cp2.Version, limits[i], wire.ProtocolVersion); err != nil {
				return err
			}
		}
	}
	cpu0 := cpuTime()
	start := time.Now()
	deadline := start.Add(dur)
	var wg gosync.WaitGroup
	for i := range nClients {
		limit, afters := limits[i], plans[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Transport: tr}
			c := &client.Client{BaseURL: base, HTTP: hc}
			var local []time.Duration
			for time.Now().Before(deadline) {
				if _, err := c.Checkpoint(ctx, "s1"); err != nil {
					errs.Add(1)
					continue
				}
				requests.Add(1)
				for _, after := range afters {
					t := time.Now()
					req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/stores/s1/changes?since=%d&target=%d&after=%d&limit=%d", base, cp1.Version, cp2.Version, after, limit), nil)
					req.Header.Set("Accept-Encoding", "gzip")
					resp, err := hc.Do(req)
					if err == nil {
						_, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							err = fmt.Errorf("status %d", resp.StatusCode)
						}
					}
					local = append(local, time.Since(t))
					if err != nil {
						errs.Add(1)
						break
					}
					requests.Add(1)
				}
				changes.Add(int64(deltaChanges))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	stats, _ := st.Stats(ctx)
	out := map[string]any{
		"db": dbKind, "products": nProducts, "log_changes": stats.Changes, "catalog_load_s": loadTime.Seconds(),
		"clients": nClients, "duration_s": elapsed.Seconds(), "page": pageSize, "page_cache": cache, "distinct_pages": distinct,
		"requests_per_s": float64(requests.Load()) / elapsed.Seconds(), "delta_changes_per_s": float64(changes.Load()) / elapsed.Seconds(),
		"changes_p50_ms": ms(pct(0.50)), "changes_p99_ms": ms(pct(0.99)), "errors": errs.Load(),
		"cpu_ms_per_request":    ms(cpu) / float64(max(requests.Load(), 1)),
		"nightly_delta_changes": deltaChanges, "nightly_delta_bytes_gzip": deltaBytes,
		"snapshot_changes": snapChanges, "snapshot_bytes_gzip": snapBytes, "protocol": wire.ProtocolVersion, "renamed": rename,
		"nightly_delta_bytes_gzip_again": deltaBytesAgain, "snapshot_bytes_gzip_again": snapBytesAgain,
		"protocol1_nightly_delta_changes": deltaChanges1, "protocol1_nightly_delta_bytes_gzip": deltaBytes1,
		"protocol1_snapshot_changes": snapChanges1, "protocol1_snapshot_bytes_gzip": snapBytes1,
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Println(string(b))
	mode := "shared pages, page cache"
	switch {
	case !cache && distinct:
		mode = "distinct pages, no cache"
	case !cache:
		mode = "shared pages, no cache"
	case distinct:
		mode = "distinct pages, page cache"
	}
	fmt.Printf("| %s | %s | %d | %d | %.0f | %.0f | %.1f | %.1f | %d (%d changes) | %d (%d changes) |\n", dbKind, mode, nClients, pageSize,
		float64(requests.Load())/elapsed.Seconds(), float64(changes.Load())/elapsed.Seconds(), ms(pct(0.5)), ms(pct(0.99)),
		deltaBytes, deltaChanges, snapBytes, snapChanges)
	return nil
}

// openStore opens an empty store of kind ("sqlite": a file in a temporary
// folder; "postgres": a throwaway cluster from Debian's packages), and the
// function that closes it and removes what it made.
func openStore(ctx context.Context, kind string) (*sqlstore.DB, func(), error) {
	switch kind {
	case "sqlite":
		dir, err := os.MkdirTemp("", "aisle-loadgen-")
		if err != nil {
			return nil, nil, err
		}
		st, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "aisle.db"))
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return st, func() { st.Close(); os.RemoveAll(dir) }, nil
	case "postgres":
		pg, err := pgtemp.Start(ctx, pgtemp.Options{Durable: true, MaxConnections: 200})
		if err != nil {
			return nil, nil, err
		}
		dsn, err := pg.CreateDatabase(ctx, "loadgen")
		if err != nil {
			pg.Stop()
			return nil, nil, err
		}
		st, err := sqlstore.OpenPostgres(ctx, dsn)
		if err != nil {
			pg.Stop()
			return nil, nil, err
		}
		return st, func() { st.Close(); pg.Stop() }, nil
	}
	return nil, nil, fmt.Errorf("-db must be sqlite or postgres")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// wireBytes fetches every page of (since, target] asking for gzip in
// protocol version protocol, and returns the compressed bytes received,
// the change count and the After value of each page.
func wireBytes(base string, since, target int64, pageSize, protocol int) (int64, int, []int64, error) {
	var total int64
	n := 0
	after := int64(0)
	var afters []int64
	tr := &http.Transport{DisableCompression: true}
	for {
		afters = append(afters, after)
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/stores/s1/changes?since=%d&target=%d&after=%d&limit=%d", base, since, target, after, pageSize), nil)
		req.Header.Set("Accept-Encoding", "gzip")
		req.Header.Set(wire.HeaderProtocol, fmt.Sprint(protocol))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			return 0, 0, nil, err
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, 0, nil, err
		}
		total += int64(len(raw))
		var p wire.Page
		if err := json.NewDecoder(gunzip(raw)).Decode(&p); err != nil {
			return 0, 0, nil, err
		}
		n += len(p.Changes)
		if p.Done {
			return total, n, afters, nil
		}
		after = p.Next
	}
}
