package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"aisle/api/internal/pgtemp"
	"aisle/api/store"
	"aisle/api/store/sqlstore"
	"aisle/api/store/storetest"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtemp.StopShared()
	os.Exit(code)
}

func openSQLite(t *testing.T) store.Store { return openStore(t, "sqlite") }

func openPostgres(t *testing.T) store.Store { return openStore(t, "postgres") }

// openStore opens a fresh store of the named kind for a test or benchmark.
func openStore(t testing.TB, kind string) store.Store {
	t.Helper()
	if kind == "postgres" {
		s, err := sqlstore.OpenPostgres(context.Background(), pgtemp.ForTest(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "aisle.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite(t *testing.T)   { storetest.Run(t, openSQLite) }
func TestPostgres(t *testing.T) { storetest.Run(t, openPostgres) }

// downgradeSteps undo each migration after the first, by the version it
// brought, in the order to run them.
var downgradeSteps = map[int][]string{
	2: {`DROP TABLE pairings`, `ALTER TABLE tokens DROP COLUMN expires_at`},
	3: {`DROP INDEX pairings_token`, `ALTER TABLE pairings DROP COLUMN last_sync_at`},
	4: {`DROP TABLE devices`},
	5: {`DROP INDEX changes_page`, `DROP INDEX changes_latest`, `ALTER TABLE changes DROP COLUMN superseded`,
		`CREATE INDEX changes_scope ON changes (scope, version)`, `CREATE INDEX changes_entity ON changes (kind, id, version)`},
}

// downgrade takes a SQLite store back to schema version to, as a server of
// that version left it, so that reopening it runs the later migrations.
func downgrade(t *testing.T, s *sqlstore.DB, to int) {
	t.Helper()
	ctx := context.Background()
	var head int
	if err := s.SQL().QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&head); err != nil {
		t.Fatal(err)
	}
	for v := head; v > to; v-- {
		steps, ok := downgradeSteps[v]
		if !ok {
			t.Fatalf("no downgrade steps for migration %d", v)
		}
		for _, q := range append(steps, fmt.Sprintf(`DELETE FROM schema_migrations WHERE version = %d`, v)) {
			if _, err := s.SQL().ExecContext(ctx, q); err != nil {
				t.Fatalf("downgrade from %d: %s: %v", v, q, err)
			}
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aisle.db")
	s, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	op, _ := store.PutStore(storeRec("s1"))
	storetest.MustWrite(t, s, op)
	s.Close()
	s, err = sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Get(ctx, store.Stores, "s1"); err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteFilesOwnerOnly: the database file, and the -wal and -shm files
// SQLite creates beside it, are readable by their owner only (they hold
// token hashes and staff data).
func TestSQLiteFilesOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aisle.db")
	s, err := sqlstore.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	op, _ := store.PutStore(storeRec("s1"))
	storetest.MustWrite(t, s, op) // the WAL and its index exist from here on
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

// TestMigrateTokenExpiry: a database of schema 1 (no token expiry, no
// pairings) migrates with its tokens kept, none expiring.
func TestMigrateTokenExpiry(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aisle.db")
	s, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// Back to schema 1, with a token written by a schema-1 server.
	downgrade(t, s, 1)
	if _, err := s.SQL().ExecContext(ctx, `INSERT INTO tokens (id, name, role, store, hash, created_at, revoked) VALUES ('tok_old', 'old', 'staff', 's1', '0102', 1, 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.TokenByHash(ctx, []byte{1, 2})
	if err != nil || got.ID != "tok_old" || got.ExpiresAt != nil {
		t.Fatalf("token after migration: %+v %v", got, err)
	}
	if ps, err := s.ListPairings(ctx, "s1"); err != nil || len(ps) != 0 {
		t.Fatalf("pairings after migration: %+v %v", ps, err)
	}
}

// TestMigratePairingLastSync: a database of schema 2 (pairings without a
// last sync) migrates with its pairings kept, never synced, and their
// last sync is then written and read back after a restart.
func TestMigratePairingLastSync(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aisle.db")
	s, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	downgrade(t, s, 2)
	if _, err := s.SQL().ExecContext(ctx, `INSERT INTO pairings (id, store, name, code_hash, created_at, expires_at, token_id, paired_at, revoked) VALUES ('pair_old', 's1', 'Till', 'aa', 1, 0, 'tok_old', 2, 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := s.ListPairings(ctx, "s1")
	if err != nil || len(ps) != 1 || ps[0].ID != "pair_old" || ps[0].TokenID != "tok_old" || ps[0].LastSyncAt != nil {
		t.Fatalf("pairings after migration: %+v %v", ps, err)
	}
	at := time.UnixMilli(time.Now().UnixMilli()).UTC()
	if err := s.NotePairingSync(ctx, "tok_old", at); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ps, err := s.ListPairings(ctx, "s1"); err != nil || len(ps) != 1 || ps[0].LastSyncAt == nil || !ps[0].LastSyncAt.Equal(at) {
		t.Fatalf("last sync after a restart: %+v %v", ps, err)
	}
	// Migration 4 (devices) came with it.
	if err := s.NoteDeviceSync(ctx, "s1", []byte{1}, store.DeviceCustomer, at); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountDevices(ctx, "s1", at); err != nil || n != (store.DeviceCounts{Customer: 1}) {
		t.Fatalf("devices after migration: %+v %v", n, err)
	}
}

// TestMigrateSuperseded: a log written before migration 5 (no superseded
// column) gets it filled in from the log itself, so that every page,
// deltas and snapshots of both audiences, is the one a log written after
// it serves.
func TestMigrateSuperseded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "aisle.db")
	s, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	must := storetest.MustOp(t)
	storetest.MustWrite(t, s, must(store.PutStore(storeRec("s1"))), must(store.PutStore(storeRec("s2"))))
	var cps []int64
	for round := range 4 {
		var ops []store.Op
		for i := range 6 {
			sku := fmt.Sprintf("P%d", (i+round)%8)
			ops = append(ops, must(store.PutProduct(catalog.ProductRecord{Product: catalog.Product{SKU: sku, Name: sku, Price: int64(100 + round), Currency: "EUR", Active: true}})),
				must(store.PutStock([]string{"s1", "s2"}[i%2], catalog.StockRecord{Stock: catalog.Stock{SKU: sku, Quantity: int64(round)}})))
		}
		ops = append(ops, must(store.PutFAQ(catalog.FAQ{ID: "moving", Store: []string{"", "s1", "s2", "s1"}[round], Question: "Where?", Answer: fmt.Sprint(round)})))
		storetest.MustWrite(t, s, ops...)
		if round == 2 {
			storetest.MustWrite(t, s, store.Delete(store.Stock, store.StockKey("s1", "P2")))
		}
		cp, _, err := s.Publish(ctx, store.Actor{Name: "test", Role: store.RoleAdmin}, "s1", wire.ReasonManual, "")
		if err != nil {
			t.Fatal(err)
		}
		cps = append(cps, cp.Version)
	}
	pages := func() []wire.Page {
		var out []wire.Page
		for _, aud := range []wire.Audience{wire.AudiencePublic, wire.AudienceStaff} {
			for i, target := range cps {
				for _, since := range append([]int64{0}, cps[:i]...) {
					p, err := s.Changes(ctx, wire.ChangesRequest{Store: "s1", Since: since, Target: target, Limit: 7}, aud, wire.ProtocolVersion)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, p)
				}
			}
		}
		return out
	}
	want := pages()
	downgrade(t, s, 4)
	s.Close()
	if s, err = sqlstore.OpenSQLite(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := pages()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pages after migration 5 differ from those of the migrated log:\n got %+v\nwant %+v", got, want)
	}
}
