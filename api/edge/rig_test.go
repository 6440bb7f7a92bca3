package edge_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"aisle/api/edge"
	"aisle/api/server"
	"aisle/api/store"
	"aisle/api/store/sqlstore"
)

// rig is an origin server on a fresh seeded SQLite database, feeding an
// edge: a native one (edge.Handler on SQLite, httptest) or a Worker under
// workerd (edgeURL).
type rig struct {
	t         testing.TB
	Origin    *server.Server
	OriginURL string
	Store     *sqlstore.DB
	Admin     string
	EdgeURL   string
	Feeder    *edge.Feeder
	// Now is the origin's clock (tests move it).
	Now time.Time
	// Native: the edge is edge.Handler in this process (cheap requests:
	// the widest grids run there).
	Native bool
}

const testSecret = "edge-test-secret-0123456789abcdefghijklmnop"

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newNativeEdge serves an edge on SQLite in a temp dir, its handler
// wrapped by wrap (nil: none).
func newNativeEdge(t testing.TB, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "edge.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = &edge.Handler{Edge: &edge.Edge{DB: db}, Secret: testSecret, Log: quietLogger()}
	if wrap != nil {
		h = wrap(h)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(func() { hs.Close(); db.Close() })
	return hs.URL
}

// newRig starts the origin, then the edge (startEdge, given the origin's
// URL, returns the edge's; nil starts a native edge), and feeds the edge
// once.
func newRig(t testing.TB, startEdge func(originURL string) string) *rig {
	t.Helper()
	return newRigOpts(t, rigOpts{startEdge: startEdge})
}

// rigOpts are newRig's less common choices.
type rigOpts struct {
	startEdge func(originURL string) string   // nil: a native edge
	wrapEdge  func(http.Handler) http.Handler // the native edge's handler
	feed      edge.FeedConfig                 // URL, Secret and Interval are the rig's
	noFeed    bool                            // skip the first feed round
}

func newRigOpts(t testing.TB, o rigOpts) *rig {
	t.Helper()
	startEdge := o.startEdge
	hs := httptest.NewUnstartedServer(nil)
	originURL := "http://" + hs.Listener.Addr().String()
	var edgeURL string
	if startEdge == nil {
		edgeURL = newNativeEdge(t, o.wrapEdge)
	} else {
		edgeURL = startEdge(originURL)
	}
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "aisle.db"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, Store: st, EdgeURL: edgeURL, Now: time.Now().UTC(), Native: startEdge == nil}
	st.Now = func() time.Time { return r.Now }
	if err := server.Seed(ctx, st, r.Now); err != nil {
		t.Fatal(err)
	}
	r.Admin, _ = server.NewToken()
	if err := server.EnsureAdminToken(ctx, st, "test-admin", r.Admin); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(st, server.Config{Rate: -1, NightlyInterval: -1, Logger: quietLogger(), Now: func() time.Time { return r.Now },
		Edge: feedConfig(o.feed, edgeURL)})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	r.Origin, r.OriginURL, r.Feeder = srv, hs.URL, srv.EdgeFeeder()
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		hs.Close()
		st.Close()
	})
	if !o.noFeed {
		r.feed()
	}
	return r
}

// feedConfig completes c for the rig. A long interval: the tests feed by
// hand (Round), so what they compare never races a background round.
func feedConfig(c edge.FeedConfig, edgeURL string) edge.FeedConfig {
	c.URL, c.Secret, c.Interval = edgeURL, testSecret, time.Hour
	return c
}

// feed runs one feed round to the end.
func (r *rig) feed() {
	r.t.Helper()
	if err := r.Feeder.Round(context.Background()); err != nil {
		r.t.Fatalf("feed: %v", err)
	}
}

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r response) want(t testing.TB, want int) response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	return r
}

func (r response) ErrCode() string {
	var eb struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &eb)
	return eb.Error.Code
}

// do sends a request to base+path with a token ("" for none), an optional
// JSON body and headers in pairs.
func (r *rig) do(base, method, path, token string, body any, headers ...string) response {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			r.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, base+path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// admin sends an admin request to the origin.
func (r *rig) admin(method, path string, body any) response {
	r.t.Helper()
	return r.do(r.OriginURL, method, path, r.Admin, body)
}

// token creates a token of role for storeID and returns its ID and secret.
func (r *rig) token(role store.Role, storeID string) (id, secret string) {
	r.t.Helper()
	var tr struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	r.admin("POST", "/v1/admin/tokens", map[string]string{"name": string(role) + "-" + storeID, "role": string(role), "store": storeID}).
		want(r.t, http.StatusCreated).JSON(r.t, &tr)
	return tr.ID, tr.Secret
}

// expiredToken stores a staff token of storeID that expired a minute ago.
func (r *rig) expiredToken(storeID string) string {
	r.t.Helper()
	secret, hash := server.NewToken()
	exp := r.Now.Add(-time.Minute).Truncate(time.Millisecond)
	err := r.Store.CreateToken(context.Background(), store.Actor{Name: "test"},
		store.Token{ID: "tok_expired" + storeID, Name: "expired", Role: store.RoleStaff, Store: storeID, CreatedAt: r.Now.Add(-time.Hour), ExpiresAt: &exp}, hash)
	if err != nil {
		r.t.Fatal(err)
	}
	return secret
}
