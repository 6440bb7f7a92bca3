package server_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"aisle/api/server"
	"aisle/api/store/sqlstore"
	"aisle/sync/catalog"
	"aisle/sync/client"
	"aisle/sync/replica"
	"aisle/sync/wire"
)

// fault rewrites the n-th and later responses to /changes.
type fault func(w http.ResponseWriter, r *http.Request, body []byte, header http.Header)

// faulty serves h, applying f to every changes response after the first
// `after` ones.
func faulty(h http.Handler, after int64, f fault) (http.Handler, *atomic.Int64) {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/changes") || n.Add(1) <= after {
			h.ServeHTTP(w, r)
			return
		}
		r.Header.Del("Accept-Encoding") // faults act on the JSON itself
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		f(w, r, rec.Body.Bytes(), rec.Header())
	}), &n
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

// cutConnection writes half the body under the full Content-Length, then
// drops the connection: a server killed or a network cut mid-page.
func cutConnection(w http.ResponseWriter, r *http.Request, body []byte, h http.Header) {
	copyHeader(w.Header(), h)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(200)
	w.Write(body[:len(body)/2])
	w.(http.Flusher).Flush()
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// truncate sends a consistent but truncated body (a broken proxy).
func truncate(w http.ResponseWriter, r *http.Request, body []byte, h http.Header) {
	copyHeader(w.Header(), h)
	w.Header().Del("Content-Length")
	w.WriteHeader(200)
	w.Write(body[:len(body)*2/3])
}

// newerProtocol answers as a server speaking a future protocol.
func newerProtocol(w http.ResponseWriter, r *http.Request, body []byte, h http.Header) {
	copyHeader(w.Header(), h)
	w.Header().Set(wire.HeaderProtocol, fmt.Sprint(wire.ProtocolVersion+1))
	w.WriteHeader(200)
	w.Write(body)
}

// newerSchema keeps the header but changes the page's declared protocol.
func newerSchema(w http.ResponseWriter, r *http.Request, body []byte, h http.Header) {
	copyHeader(w.Header(), h)
	w.Header().Del("Content-Length")
	w.WriteHeader(200)
	w.Write(bytes.Replace(body, []byte(fmt.Sprintf(`"protocol":%d`, wire.ProtocolVersion)), []byte(`"protocol":9`), 1))
}

// TestFaultsKeepLastGoodState: for each fault, a replica that already holds
// checkpoint 1 tries to sync checkpoint 2 through the fault; it must still
// hold exactly checkpoint 1, then recover once the fault is gone, resuming
// from its staged pages.
func TestFaultsKeepLastGoodState(t *testing.T) {
	tests := []struct {
		name  string
		fault fault
		code  catalog.Code
	}{
		{"connection cut mid-page", cutConnection, catalog.Unavailable},
		{"truncated payload", truncate, catalog.Invalid},
		{"protocol mismatch", newerProtocol, catalog.Unsupported},
		{"schema mismatch in page", newerSchema, catalog.Unsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, sqliteDB, server.Config{})
			mem := replica.NewMem()
			r := &replica.Replica{Store: "demo", Audience: wire.AudiencePublic, Storage: mem, PageLimit: 4}
			good := &client.Client{BaseURL: e.URL}
			if _, err := r.Sync(ctx, good); err != nil {
				t.Fatal(err)
			}
			before := mem.Entities()
			// Change every product's price, publish checkpoint 2.
			csv := "sku,quantity\n"
			for i, sku := range []string{"MILK-1L", "BUTTER-250", "BAGUETTE", "PASTA-500", "RICE-1K", "COFFEE-250", "APPLE-KG", "BANANA-KG", "WATER-6X1.5", "SOAP-LIQ"} {
				csv += fmt.Sprintf("%s,%d\n", sku, 500+i)
			}
			e.do("POST", "/v1/admin/import?entity=stock&store=demo", e.Admin, csv, "Content-Type", "text/csv").want(t, 200)
			e.do("POST", "/v1/admin/stores/demo/publish", e.Admin, nil).want(t, 201)

			h, _ := faulty(e.Srv.Handler(), 1, tt.fault) // first page fine, then faults
			bad := httptest.NewServer(h)
			defer bad.Close()
			_, err := r.Sync(ctx, &client.Client{BaseURL: bad.URL})
			if got := catalog.ErrorCode(err); got != tt.code {
				t.Fatalf("sync through fault: %v (code %q), want code %q", err, got, tt.code)
			}
			if !maps.EqualFunc(mem.Entities(), before, func(a, b replica.Record) bool { return a.Version == b.Version }) {
				t.Fatal("a failed sync changed the visible data")
			}
			meta, _ := mem.Load(ctx)
			if meta.Cursor() == 0 || meta.Staging == nil || meta.Staging.Changes != 4 {
				t.Fatalf("expected checkpoint 1 applied and one staged page: %+v", meta)
			}
			res, err := r.Sync(ctx, good)
			if err != nil || !res.Applied || res.Pages != 2 || res.Changes != 10 {
				t.Fatalf("recovery: %+v %v (want the 2 remaining pages, 10 changes in all)", res, err)
			}
			v, err := mem.Stock(ctx, "SOAP-LIQ")
			if err != nil || v.Stock.Quantity != 509 {
				t.Fatalf("after recovery: %+v %v", v, err)
			}
		})
	}
}

// TestServerKilledMidSync: the server process dies between pages and
// comes back on the same database; the replica resumes where it stopped.
func TestServerKilledMidSync(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqliteDB, server.Config{})
	mem := replica.NewMem()
	r := &replica.Replica{Store: "demo", Audience: wire.AudiencePublic, Storage: mem, PageLimit: 10}

	h, n := faulty(e.Srv.Handler(), 2, func(w http.ResponseWriter, req *http.Request, body []byte, hd http.Header) {
		cutConnection(w, req, body, hd)
	})
	srv1 := httptest.NewUnstartedServer(h)
	srv1.Start()
	addr := srv1.Listener.Addr().String()
	_, err := r.Sync(ctx, &client.Client{BaseURL: srv1.URL})
	if !catalog.IsCode(err, catalog.Unavailable) || n.Load() != 3 {
		t.Fatalf("first attempt: %v after %d pages", err, n.Load())
	}
	srv1.CloseClientConnections()
	srv1.Close()
	e.Srv.Shutdown(ctx)
	e.Store.Close()
	if len(mem.Entities()) != 0 {
		t.Fatal("a first sync that failed left data visible")
	}
	if _, err := r.Sync(ctx, &client.Client{BaseURL: srv1.URL}); !catalog.IsCode(err, catalog.Unavailable) {
		t.Fatalf("sync against a dead server: %v", err)
	}

	// Restart: a new process on the same database file and address.
	st, err := sqlstore.OpenSQLite(ctx, e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(st, server.Config{Rate: -1, Logger: quietLogger(), NightlyInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(ctx)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot rebind %s: %v", addr, err)
	}
	srv2 := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv.Handler()}}
	srv2.Start()
	defer srv2.Close()
	res, err := r.Sync(ctx, &client.Client{BaseURL: srv2.URL})
	if err != nil || !res.Applied || !res.Reset {
		t.Fatalf("resumed sync: %+v %v", res, err)
	}
	// 87 changes (57 records, 30 vectors) in pages of 10: 9 pages, 2 of them staged before the cut.
	if res.Pages != 7 || res.Changes != 87 {
		t.Fatalf("resumed sync fetched %d pages for %d changes: want the 7 pages not staged", res.Pages, res.Changes)
	}
	fresh := replica.NewMem()
	if _, err := (&replica.Replica{Store: "demo", Audience: wire.AudiencePublic, Storage: fresh}).Sync(ctx, &client.Client{BaseURL: srv2.URL}); err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(mem.Entities(), fresh.Entities(), func(a, b replica.Record) bool { return a.Version == b.Version && bytes.Equal(a.Data, b.Data) }) {
		t.Fatal("resumed replica differs from a fresh one")
	}
}

// TestDiskFull: with the database unable to grow, writes fail with 503
// and nothing changes; devices keep syncing; once space is back, writes
// succeed.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqliteDB, server.Config{})
	var pages int64
	if err := e.Store.SQL().QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	e.Srv.Shutdown(ctx)
	e.HTTP.Close()
	e.Store.Close()
	st, err := sqlstore.OpenSQLite(ctx, e.path, fmt.Sprintf("max_page_count(%d)", pages))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, _ := server.New(st, server.Config{Rate: -1, Logger: quietLogger(), NightlyInterval: -1})
	defer srv.Shutdown(ctx)
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	e.URL = hs.URL

	mem := replica.NewMem()
	r := &replica.Replica{Store: "demo", Audience: wire.AudiencePublic, Storage: mem}
	if _, err := r.Sync(ctx, &client.Client{BaseURL: hs.URL}); err != nil {
		t.Fatalf("sync with a full disk: %v", err)
	}
	var b strings.Builder
	b.WriteString("sku,name,price,description\n")
	for i := range 400 {
		fmt.Fprintf(&b, "FULL-%d,Filler %d,%d,%s\n", i, i, i, strings.Repeat("x", 500))
	}
	resp := e.do("POST", "/v1/admin/import?entity=products", e.Admin, b.String(), "Content-Type", "text/csv")
	if resp.Status != 503 || resp.ErrCode() != "unavailable" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("import on a full disk: %d %s", resp.Status, resp.Body)
	}
	e.do("GET", "/v1/admin/products/FULL-1", e.Admin, nil).want(t, 404)
	if res, err := r.Sync(ctx, &client.Client{BaseURL: hs.URL}); err != nil || res.Applied {
		t.Fatalf("sync after the failed import: %+v %v", res, err)
	}
	// Space is back.
	if _, err := st.SQL().ExecContext(ctx, "PRAGMA max_page_count = 1000000"); err != nil {
		t.Fatal(err)
	}
	st.SQL().SetMaxOpenConns(1) // the pragma above is per connection
	e.do("POST", "/v1/admin/import?entity=products", e.Admin, b.String(), "Content-Type", "text/csv").want(t, 200)
}
