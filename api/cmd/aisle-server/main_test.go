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
	"aisle/api/tlsserve"
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

func TestHTTPSFlags(t *testing.T) {
	for _, kv := range [][2]string{{"AISLE_TLS_CERT", "/tls/fullchain.pem"}, {"AISLE_TLS_KEY", "/tls/privkey.pem"},
		{"AISLE_ACME_DOMAIN", "a.example.com"}, {"AISLE_ACME_DIR", "https://ca.test/dir"}, {"AISLE_ACME_EMAIL", "ops@example.com"},
		{"AISLE_ACME_CACHE", "/var/acme"}, {"AISLE_HTTP_ADDR", ":80"}} {
		t.Setenv(kv[0], kv[1])
	}
	o, err := parseFlags([]string{"-acme-domain", "shop.example.com, www.shop.example.com", "-http-addr", ":8081"})
	if err != nil {
		t.Fatal(err)
	}
	if o.tlsCert != "/tls/fullchain.pem" || o.tlsKey != "/tls/privkey.pem" || o.acmeDir != "https://ca.test/dir" ||
		o.acmeEmail != "ops@example.com" || o.acmeCache != "/var/acme" {
		t.Fatalf("environment: %+v", o)
	}
	if o.acmeDomain != "shop.example.com, www.shop.example.com" || o.httpAddr != ":8081" {
		t.Fatalf("flags over environment: %+v", o)
	}
	if _, err := tlsConfig(o, nil); err == nil || !strings.Contains(err.Error(), "exclude each other") {
		t.Fatalf("files and ACME together: %v", err)
	}

	for _, tc := range []struct {
		name    string
		given   options
		wantErr string
		want    func(c tlsserve.Config) bool
	}{
		{name: "off", given: options{db: "data/aisle.db"},
			want: func(c tlsserve.Config) bool { return !c.Enabled() && c.PublicURL == "" }},
		{name: "redirect without HTTPS", given: options{httpAddr: ":80"}, wantErr: "-http-addr"},
		{name: "cert without key", given: options{tlsCert: "c.pem"}, wantErr: "go together"},
		{name: "files", given: options{tlsCert: "c.pem", tlsKey: "k.pem", httpAddr: ":80", publicURL: "https://x.test"},
			want: func(c tlsserve.Config) bool {
				return c.Enabled() && c.CertFile == "c.pem" && c.KeyFile == "k.pem" && c.PublicURL == "https://x.test"
			}},
		{name: "acme defaults", given: options{acmeDomain: "shop.example.com,www.shop.example.com", db: "/srv/aisle/aisle.db", acmeDir: "https://acme-v02.api.letsencrypt.org/directory"},
			want: func(c tlsserve.Config) bool {
				return c.Enabled() && len(c.ACMEDomains) == 2 && c.ACMECache == "/srv/aisle/acme" &&
					c.PublicURL == "https://shop.example.com" && c.ACMEDirectory == "https://acme-v02.api.letsencrypt.org/directory"
			}},
		{name: "acme keeps a given public URL", given: options{acmeDomain: "shop.example.com", db: "d/a.db", publicURL: "https://aisle.example.com"},
			want: func(c tlsserve.Config) bool {
				return c.PublicURL == "https://aisle.example.com" && c.ACMECache == "d/acme"
			}},
	} {
		got, err := tlsConfig(tc.given, nil)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !tc.want(got) {
			t.Errorf("%s: got %+v, %v", tc.name, got, err)
		}
	}
}

func TestEdgeFlags(t *testing.T) {
	dir := t.TempDir()
	good, short := filepath.Join(dir, "secret"), filepath.Join(dir, "short")
	os.WriteFile(good, []byte(strings.Repeat("s", 40)+"\n"), 0o600)
	os.WriteFile(short, []byte("tooshort"), 0o600)
	t.Setenv("AISLE_EDGE_URL", "https://edge.example.workers.dev")
	t.Setenv("AISLE_EDGE_SECRET_FILE", good)
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := edgeConfig(o)
	if err != nil || c.URL != "https://edge.example.workers.dev" || c.Secret != strings.Repeat("s", 40) {
		t.Fatalf("from the environment: %+v %v", c, err)
	}
	for _, tc := range []struct {
		name    string
		given   options
		wantErr string
	}{
		{"off", options{}, ""},
		{"no secret file", options{edgeURL: "https://e.test"}, "-edge-secret-file"},
		{"short secret", options{edgeURL: "https://e.test", edgeSecretFile: short}, "at least 32"},
		{"not a URL", options{edgeURL: "edge.test", edgeSecretFile: good}, "http(s) URL"},
	} {
		_, err := edgeConfig(tc.given)
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}
