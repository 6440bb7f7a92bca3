package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"aisle/api/internal/pgtemp"
	"aisle/api/server"
	"aisle/api/store"
	"aisle/api/store/sqlstore"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtemp.StopShared()
	os.Exit(code)
}

// env is a running server on a fresh, seeded database.
type env struct {
	t     testing.TB
	URL   string
	HTTP  *httptest.Server
	Srv   *server.Server
	Store *sqlstore.DB
	Admin string // admin token secret
	path  string // SQLite file ("" for PostgreSQL)
}

type dbKind string

const (
	sqliteDB   dbKind = "sqlite"
	postgresDB dbKind = "postgres"
)

func openDB(t testing.TB, kind dbKind) (*sqlstore.DB, string) {
	t.Helper()
	ctx := context.Background()
	if kind == postgresDB {
		st, err := sqlstore.OpenPostgres(ctx, pgtemp.ForTest(t))
		if err != nil {
			t.Fatal(err)
		}
		return st, ""
	}
	path := filepath.Join(t.TempDir(), "aisle.db")
	st, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	return st, path
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEnv starts a server (rate limiting off unless cfg says otherwise).
func newEnv(t testing.TB, kind dbKind, cfg server.Config) *env {
	t.Helper()
	return newEnvWrapped(t, kind, cfg, nil)
}

// newEnvWrapped is newEnv with the server's handler wrapped (fault
// injection); wrap may be nil.
func newEnvWrapped(t testing.TB, kind dbKind, cfg server.Config, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	st, path := openDB(t, kind)
	ctx := context.Background()
	if err := server.Seed(ctx, st, time.Now()); err != nil {
		t.Fatal(err)
	}
	secret, _ := server.NewToken()
	if err := server.EnsureAdminToken(ctx, st, "test-admin", secret); err != nil {
		t.Fatal(err)
	}
	if cfg.Rate == 0 {
		cfg.Rate = -1
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	if cfg.NightlyInterval == 0 {
		cfg.NightlyInterval = -1
	}
	srv, err := server.New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	hs := httptest.NewServer(h)
	e := &env{t: t, URL: hs.URL, HTTP: hs, Srv: srv, Store: st, Admin: secret, path: path}
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		hs.Close()
		st.Close()
	})
	return e
}

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v or fails.
func (r response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// ErrCode returns the error code of an error body.
func (r response) ErrCode() string {
	var eb struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &eb)
	return eb.Error.Code
}

// do sends a request with a token ("" for none) and optional body (string,
// []byte or JSON-encoded value) and headers in pairs.
func (e *env) do(method, path, token string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// want fails unless the status is want.
func (r response) want(t testing.TB, want int) response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	return r
}

// token creates a token of role (for store) and returns its secret.
func (e *env) token(role store.Role, storeID string) string {
	e.t.Helper()
	_, secret := e.tokenWithID(role, storeID)
	return secret
}

// tokenWithID creates a token of role (for store) and returns its ID and
// secret.
func (e *env) tokenWithID(role store.Role, storeID string) (id, secret string) {
	e.t.Helper()
	var tr struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	e.do("POST", "/v1/admin/tokens", e.Admin, map[string]string{"name": string(role) + "-" + storeID, "role": string(role), "store": storeID}).
		want(e.t, http.StatusCreated).JSON(e.t, &tr)
	return tr.ID, tr.Secret
}

func newHTTPServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }
