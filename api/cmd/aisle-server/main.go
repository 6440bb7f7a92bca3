// Command aisle-server serves aisle's catalog sync API, admin API, push
// stream, and (with -app / -models) the web app and published models.
//
// With no flags it needs no setup: it creates data/aisle.db (embedded
// SQLite), seeds a demo store and catalog, writes a bootstrap admin token to
// data/admin-token, and listens on 127.0.0.1:8080. At every start it
// recomputes the product and FAQ vectors of an older embedding model
// (server.RefreshVectors).
//
// With -tls-cert and -tls-key, or -acme-domain, it serves HTTPS on -addr
// (aisle/api/tlsserve: certificate reload, ACME, HSTS) and, with
// -http-addr, redirects plain HTTP there; deploy/server.md tells how.
//
// Every flag has an environment variable (shown in -help); flags win.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // store time zones must resolve on minimal hosts too

	"aisle/api/delivery"
	"aisle/api/edge"
	"aisle/api/server"
	"aisle/api/store"
	"aisle/api/store/sqlstore"
	"aisle/api/tlsserve"
)

type options struct {
	addr, db, postgres, app, models, tokenFile, proxies, logLevel, publicURL string
	seed, isolated                                                           bool
	rate                                                                     float64
	// HTTPS: certificate files, or ACME; httpAddr redirects to HTTPS.
	tlsCert, tlsKey, acmeDomain, acmeDir, acmeEmail, acmeCache, httpAddr string
	// Edge read replica: its URL and the file of the shared secret.
	edgeURL, edgeSecretFile string
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	if v, err := strconv.ParseBool(env(name, strconv.FormatBool(def))); err == nil {
		return v
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(env(name, ""), 64); err == nil {
		return v
	}
	return def
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("aisle-server", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", env("AISLE_ADDR", "127.0.0.1:8080"), "listen address (AISLE_ADDR)")
	fs.StringVar(&o.db, "db", env("AISLE_DB", "data/aisle.db"), "SQLite database file, created if missing (AISLE_DB)")
	fs.StringVar(&o.postgres, "postgres", env("AISLE_POSTGRES", ""), "PostgreSQL DSN; when set, used instead of SQLite (AISLE_POSTGRES)")
	fs.StringVar(&o.app, "app", env("AISLE_APP_DIR", ""), "folder of the built web app served at / (AISLE_APP_DIR)")
	fs.StringVar(&o.models, "models", env("AISLE_MODELS_DIR", ""), "folder of published models served at /models/ (AISLE_MODELS_DIR)")
	fs.StringVar(&o.tokenFile, "admin-token-file", env("AISLE_ADMIN_TOKEN_FILE", "data/admin-token"), "where a generated bootstrap admin token is written (AISLE_ADMIN_TOKEN_FILE); AISLE_ADMIN_TOKEN sets one instead")
	fs.StringVar(&o.proxies, "trusted-proxies", env("AISLE_TRUSTED_PROXIES", ""), "comma-separated CIDRs whose X-Forwarded-For is trusted (AISLE_TRUSTED_PROXIES)")
	fs.Float64Var(&o.rate, "rate", envFloat("AISLE_RATE", 50), "requests per second per client IP; negative disables (AISLE_RATE)")
	fs.BoolVar(&o.seed, "seed", envBool("AISLE_SEED", true), "seed a demo store into an empty database (AISLE_SEED)")
	fs.BoolVar(&o.isolated, "cross-origin-isolated", envBool("AISLE_CROSS_ORIGIN_ISOLATED", true), "send COOP/COEP with the app, so its CPU path can use every core (AISLE_CROSS_ORIGIN_ISOLATED; false for an app that embeds cross-origin content without CORP)")
	fs.StringVar(&o.publicURL, "public-url", env("AISLE_PUBLIC_URL", ""), "the app's public address, used by QR codes, posters and pairing links, e.g. https://shop.example.com (AISLE_PUBLIC_URL; empty: each request's own)")
	fs.StringVar(&o.tlsCert, "tls-cert", env("AISLE_TLS_CERT", ""), "serve HTTPS on -addr with this PEM certificate chain, reloaded when it changes (AISLE_TLS_CERT; needs -tls-key)")
	fs.StringVar(&o.tlsKey, "tls-key", env("AISLE_TLS_KEY", ""), "the PEM private key of -tls-cert (AISLE_TLS_KEY)")
	fs.StringVar(&o.acmeDomain, "acme-domain", env("AISLE_ACME_DOMAIN", ""), "serve HTTPS on -addr with certificates obtained by ACME for these comma-separated names (AISLE_ACME_DOMAIN)")
	fs.StringVar(&o.acmeDir, "acme-dir", env("AISLE_ACME_DIR", tlsserve.LetsEncryptURL), "ACME directory URL (AISLE_ACME_DIR)")
	fs.StringVar(&o.acmeEmail, "acme-email", env("AISLE_ACME_EMAIL", ""), "contact address given to the ACME CA (AISLE_ACME_EMAIL)")
	fs.StringVar(&o.acmeCache, "acme-cache", env("AISLE_ACME_CACHE", ""), "folder for the ACME account key and certificates (AISLE_ACME_CACHE; empty: acme beside -db, e.g. data/acme)")
	fs.StringVar(&o.httpAddr, "http-addr", env("AISLE_HTTP_ADDR", ""), "with HTTPS, a plain-HTTP listen address, e.g. :80, that redirects to HTTPS and answers ACME http-01 challenges (AISLE_HTTP_ADDR)")
	fs.StringVar(&o.edgeURL, "edge-url", env("AISLE_EDGE_URL", ""), "feed the edge read replica at this URL after each publish (AISLE_EDGE_URL; deploy/edge.md; needs -edge-secret-file)")
	fs.StringVar(&o.edgeSecretFile, "edge-secret-file", env("AISLE_EDGE_SECRET_FILE", ""), "file holding the edge's shared secret, the EDGE_SECRET of its Worker (AISLE_EDGE_SECRET_FILE)")
	fs.StringVar(&o.logLevel, "log-level", env("AISLE_LOG_LEVEL", "info"), "debug, info, warn or error (AISLE_LOG_LEVEL)")
	return o, fs.Parse(args)
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	} else if err != nil {
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "aisle-server:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tcfg, err := tlsConfig(o, log)
	if err != nil {
		return err
	}
	o.publicURL = tcfg.PublicURL // with ACME, defaults to the first domain
	var st *sqlstore.DB
	if o.postgres != "" {
		st, err = sqlstore.OpenPostgres(ctx, o.postgres)
		log.Info("database", "kind", "postgres")
	} else {
		if err := os.MkdirAll(filepath.Dir(o.db), 0o755); err != nil {
			return err
		}
		st, err = sqlstore.OpenSQLite(ctx, o.db)
		log.Info("database", "kind", "sqlite", "path", o.db)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	if o.seed {
		if err := server.Seed(ctx, st, time.Now()); err != nil {
			return err
		}
	}
	// Vectors of another embedding model (a deploy that changed it) are
	// recomputed once, before serving.
	if _, err := server.RefreshVectors(ctx, st, log); err != nil {
		return err
	}
	if err := bootstrapAdmin(ctx, st, o.tokenFile, log); err != nil {
		return err
	}

	cfg := server.Config{Rate: o.rate, Logger: log, CrossOriginIsolated: o.isolated, PublicURL: o.publicURL}
	if cfg.Edge, err = edgeConfig(o); err != nil {
		return err
	}
	if o.proxies != "" {
		cfg.TrustedProxies = strings.Split(o.proxies, ",")
	}
	if o.app != "" || o.models != "" {
		dopts := delivery.Options{Logger: log}
		if o.app != "" {
			dopts.App = os.DirFS(o.app)
		}
		if o.models != "" {
			dopts.Models = os.DirFS(o.models)
		}
		cfg.Fallback = delivery.New(dopts)
	}
	srv, err := server.New(st, cfg)
	if err != nil {
		return err
	}
	// No ReadTimeout: the server bounds request bodies itself
	// (server.Config.BodyTimeout), and a whole-request bound would only add
	// a second, longer rule for the same thing.
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	var ts *tlsserve.Server
	if tcfg.Enabled() {
		// Certificate files are read (and checked) here, before listening.
		if ts, err = tlsserve.New(tcfg, hs); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	if ts != nil {
		var hln net.Listener
		if o.httpAddr != "" {
			if hln, err = net.Listen("tcp", o.httpAddr); err != nil {
				ln.Close()
				return err
			}
			log.Info("redirecting to HTTPS", "url", "http://"+hln.Addr().String())
		}
		log.Info("listening", "url", "https://"+ln.Addr().String(), "public_url", o.publicURL)
		go func() { errc <- ts.Serve(ln, hln) }()
	} else {
		log.Info("listening", "url", "http://"+ln.Addr().String())
		go func() { errc <- hs.Serve(ln) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx) // ends push streams first, so Shutdown below can finish
	if ts != nil {
		return ts.Shutdown(sctx)
	}
	return hs.Shutdown(sctx)
}

// tlsConfig turns the HTTPS flags into a tlsserve.Config (not Enabled when
// none is set), refusing contradictory ones. With ACME, an empty
// -public-url becomes https://<first domain> and an empty -acme-cache the
// folder acme beside -db.
func tlsConfig(o options, log *slog.Logger) (tlsserve.Config, error) {
	c := tlsserve.Config{CertFile: o.tlsCert, KeyFile: o.tlsKey, ACMEDirectory: o.acmeDir,
		ACMEEmail: o.acmeEmail, ACMECache: o.acmeCache, PublicURL: o.publicURL, Logger: log}
	for _, d := range strings.Split(o.acmeDomain, ",") {
		if d = strings.TrimSpace(d); d != "" {
			c.ACMEDomains = append(c.ACMEDomains, d)
		}
	}
	switch {
	case (o.tlsCert != "" || o.tlsKey != "") && len(c.ACMEDomains) > 0:
		return c, errors.New("-tls-cert/-tls-key and -acme-domain exclude each other")
	case (o.tlsCert == "") != (o.tlsKey == ""):
		return c, errors.New("-tls-cert and -tls-key go together")
	case !c.Enabled() && o.httpAddr != "":
		return c, errors.New("-http-addr redirects to HTTPS: it needs -tls-cert/-tls-key or -acme-domain")
	}
	if len(c.ACMEDomains) > 0 && c.ACMECache == "" {
		c.ACMECache = filepath.Join(filepath.Dir(o.db), "acme")
	}
	if len(c.ACMEDomains) > 0 && c.PublicURL == "" {
		c.PublicURL = "https://" + c.ACMEDomains[0]
	}
	return c, nil
}

// bootstrapAdmin makes sure an administrator can get in: AISLE_ADMIN_TOKEN
// if set, else a generated token written to tokenFile when no admin token
// exists yet.
func bootstrapAdmin(ctx context.Context, st store.Store, tokenFile string, log *slog.Logger) error {
	if secret := os.Getenv("AISLE_ADMIN_TOKEN"); secret != "" {
		return server.EnsureAdminToken(ctx, st, "bootstrap (AISLE_ADMIN_TOKEN)", secret)
	}
	tokens, err := st.ListTokens(ctx)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		if t.Role == store.RoleAdmin && !t.Revoked {
			return nil
		}
	}
	secret, _ := server.NewToken()
	if err := os.MkdirAll(filepath.Dir(tokenFile), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(tokenFile, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write admin token: %w", err)
	}
	if err := server.EnsureAdminToken(ctx, st, "bootstrap", secret); err != nil {
		return err
	}
	log.Info("created a bootstrap admin token", "file", tokenFile)
	return nil
}

// edgeConfig reads the edge replica's feed settings (none without
// -edge-url).
func edgeConfig(o options) (edge.FeedConfig, error) {
	if o.edgeURL == "" {
		return edge.FeedConfig{}, nil
	}
	u, err := url.Parse(o.edgeURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return edge.FeedConfig{}, fmt.Errorf("-edge-url %q: want an http(s) URL", o.edgeURL)
	}
	secret, err := os.ReadFile(o.edgeSecretFile)
	if err != nil {
		return edge.FeedConfig{}, fmt.Errorf("-edge-url needs -edge-secret-file: %w", err)
	}
	c := edge.FeedConfig{URL: o.edgeURL, Secret: strings.TrimSpace(string(secret))}
	if len(c.Secret) < 32 {
		return edge.FeedConfig{}, errors.New("-edge-secret-file: the secret must be at least 32 characters")
	}
	return c, nil
}
