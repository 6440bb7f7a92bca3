package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
