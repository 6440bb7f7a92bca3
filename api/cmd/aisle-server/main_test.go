package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aisle/api/store"
	"aisle/api/store/sqlstore"
)

func TestFlagsDefaultsEnvAndOverride(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil || o.addr != "127.0.0.1:8080" || o.db != "data/aisle.db" || !o.seed || o.rate != 50 {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	t.Setenv("AISLE_ADDR", "127.0.0.1:9999")
	t.Setenv("AISLE_SEED", "false")
	t.Setenv("AISLE_RATE", "-1")
	o, _ = parseFlags(nil)
	if o.addr != "127.0.0.1:9999" || o.seed || o.rate != -1 {
		t.Fatalf("environment: %+v", o)
	}
	o, _ = parseFlags([]string{"-addr", "127.0.0.1:7777"})
	if o.addr != "127.0.0.1:7777" {
		t.Fatalf("flag over environment: %+v", o)
	}
	if _, err := parseFlags([]string{"-nope"}); err == nil {
		t.Fatal("unknown flag accepted")
	}
}

func TestBootstrapAdmin(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	file := filepath.Join(dir, "sub", "admin-token")
	if err := bootstrapAdmin(ctx, st, file, log); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(file)
	if fi.Mode().Perm() != 0o600 || !strings.HasPrefix(string(b), "ask_") {
		t.Fatalf("token file %o %q", fi.Mode().Perm(), b)
	}
	// A second start keeps the existing admin: no new file content.
	os.Remove(file)
	if err := bootstrapAdmin(ctx, st, file, log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatal("a second bootstrap token was minted")
	}
	toks, _ := st.ListTokens(ctx)
	if len(toks) != 1 || toks[0].Role != store.RoleAdmin {
		t.Fatalf("tokens %+v", toks)
	}
	t.Setenv("AISLE_ADMIN_TOKEN", "short")
	if err := bootstrapAdmin(ctx, st, file, log); err == nil {
		t.Fatal("weak AISLE_ADMIN_TOKEN accepted")
	}
}
