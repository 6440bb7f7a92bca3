package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"aisle/api/internal/pgtemp"
	"aisle/api/store"
	"aisle/api/store/sqlstore"
	"aisle/api/store/storetest"
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
	for _, q := range []string{`DELETE FROM schema_migrations WHERE version >= 2`, `DROP TABLE pairings`, `DROP TABLE devices`, `ALTER TABLE tokens DROP COLUMN expires_at`,
		`INSERT INTO tokens (id, name, role, store, hash, created_at, revoked) VALUES ('tok_old', 'old', 'staff', 's1', '0102', 1, 0)`} {
		if _, err := s.SQL().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
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
	for _, q := range []string{`DELETE FROM schema_migrations WHERE version >= 3`, `DROP TABLE devices`, `DROP INDEX pairings_token`, `ALTER TABLE pairings DROP COLUMN last_sync_at`,
		`INSERT INTO pairings (id, store, name, code_hash, created_at, expires_at, token_id, paired_at, revoked) VALUES ('pair_old', 's1', 'Till', 'aa', 1, 0, 'tok_old', 2, 0)`} {
		if _, err := s.SQL().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
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
