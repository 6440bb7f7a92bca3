// Package tlsserve serves an http.Handler over HTTPS, with a certificate
// either read from files (reloaded when they change, e.g. by certbot) or
// obtained and renewed through ACME (golang.org/x/crypto/acme/autocert),
// plus an optional plain-HTTP listener that redirects to HTTPS and answers
// ACME http-01 challenges.
//
// Contracts:
//   - Every HTTPS response carries Strict-Transport-Security: max-age=63072000
//     (HSTSValue); plain-HTTP responses never do (browsers ignore it there).
//   - Every plain-HTTP request but an ACME challenge is answered with 308
//     Permanent Redirect to the same path and query over HTTPS.
//   - Certificate files that are unreadable or do not match are an error
//     from New; later, a bad pair is logged with its reason and the last
//     good certificate keeps being served.
//   - An ACME failure never stops the server: it is logged with its reason,
//     retried with backoff, and the last certificate obtained for the name
//     (or the one in the cache) keeps being served.
package tlsserve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// HSTSValue is the Strict-Transport-Security header of every HTTPS
// response: two years, the value browsers' preload lists ask for.
const HSTSValue = "max-age=63072000"

// LetsEncryptURL is the default ACME directory (Let's Encrypt production).
const LetsEncryptURL = autocert.DefaultACMEDirectory

// Config says where the certificate comes from and where to redirect. Set
// either CertFile and KeyFile, or ACMEDomains.
type Config struct {
	// CertFile and KeyFile are a PEM certificate chain (leaf first) and its
	// private key. They are read at New and again, at a handshake, when
	// ReloadInterval has passed since the last look and their contents
	// changed.
	CertFile, KeyFile string
	// ReloadInterval is how often the files are looked at (0: 5s).
	ReloadInterval time.Duration

	// ACMEDomains are the names certificates are requested for; a TLS
	// client asking for another name (or none, e.g. by IP address) gets the
	// first domain's certificate.
	ACMEDomains []string
	// ACMEDirectory is the ACME directory URL (empty: LetsEncryptURL).
	ACMEDirectory string
	// ACMEEmail is the contact address given to the CA (optional).
	ACMEEmail string
	// ACMECache is the folder that keeps the account key and certificates
	// across restarts (required with ACMEDomains; created 0700).
	ACMECache string
	// ACMEHTTPClient talks to the ACME directory (nil: http.DefaultClient);
	// tests and private CAs set one that trusts their root.
	ACMEHTTPClient *http.Client

	// PublicURL, when it is an https URL, is where plain-HTTP requests are
	// redirected (its host and port); otherwise they go to the request's
	// host on the HTTPS listener's port (no port when it is 443).
	PublicURL string
	// Logger (nil: slog.Default()).
	Logger *slog.Logger
}

// Server is an HTTPS server and its optional redirect listener.
type Server struct {
	// HTTPS serves the handler with TLS; HTTP redirects (and answers ACME
	// http-01 challenges). Their timeouts come from the base server given
	// to New.
	HTTPS, HTTP *http.Server

	log     *slog.Logger
	files   *fileCert  // nil with ACME
	acme    *acmeCerts // nil with files
	public  *url.URL   // https PublicURL, or nil
	tlsPort string     // set by Serve
	warmCtx context.Context
	stop    context.CancelFunc
}

// Enabled reports whether cfg asks for HTTPS at all.
func (cfg Config) Enabled() bool {
	return cfg.CertFile != "" || cfg.KeyFile != "" || len(cfg.ACMEDomains) > 0
}

// New checks cfg, loads the certificate files (an unreadable or mismatched
// pair is an error here), and prepares base to serve over HTTPS: its
// handler is wrapped to add HSTS and its TLSConfig replaced. base's
// timeouts are copied to the redirect server.
func New(cfg Config, base *http.Server) (*Server, error) {
	s := &Server{log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	files := cfg.CertFile != "" || cfg.KeyFile != ""
	switch {
	case files && len(cfg.ACMEDomains) > 0:
		return nil, errors.New("tls: use either certificate files or ACME, not both")
	case files && (cfg.CertFile == "" || cfg.KeyFile == ""):
		return nil, errors.New("tls: a certificate file needs its key file, and the other way round")
	case !files && len(cfg.ACMEDomains) == 0:
		return nil, errors.New("tls: no certificate files and no ACME domain")
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Scheme == "https" && u.Host != "" {
		s.public = u
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if files {
		fc, err := loadFileCert(cfg.CertFile, cfg.KeyFile, cfg.ReloadInterval, s.log)
		if err != nil {
			return nil, err
		}
		s.files = fc
		tc.GetCertificate = fc.GetCertificate
	} else {
		ac, err := newACME(cfg, s.log)
		if err != nil {
			return nil, err
		}
		s.acme = ac
		tc.GetCertificate = ac.GetCertificate
		tc.NextProtos = append(tc.NextProtos, acme.ALPNProto) // tls-alpn-01
	}
	base.TLSConfig = tc
	if base.ErrorLog == nil {
		// Failed handshakes (scanners, clients that distrust the
		// certificate) are routine on a public port: debug level.
		base.ErrorLog = slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)
	}
	base.Handler = HSTS(base.Handler)
	s.HTTPS = base
	var redirect http.Handler = http.HandlerFunc(s.redirect)
	if s.acme != nil {
		redirect = s.acme.m.HTTPHandler(redirect) // http-01 challenges, then redirect
	}
	s.HTTP = &http.Server{Handler: redirect, ReadHeaderTimeout: base.ReadHeaderTimeout,
		IdleTimeout: base.IdleTimeout, MaxHeaderBytes: base.MaxHeaderBytes, ErrorLog: base.ErrorLog}
	s.warmCtx, s.stop = context.WithCancel(context.Background())
	return s, nil
}

// HSTS adds Strict-Transport-Security: HSTSValue to every response of h.
func HSTS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", HSTSValue)
		h.ServeHTTP(w, r)
	})
}

// Serve serves HTTPS on tlsLn and, when httpLn is not nil, redirects on
// httpLn. With ACME it also requests the certificates at once (in the
// background, so a failing CA only gets logged). It returns when either
// server fails or Shutdown is called (then http.ErrServerClosed).
func (s *Server) Serve(tlsLn, httpLn net.Listener) error {
	if _, port, err := net.SplitHostPort(tlsLn.Addr().String()); err == nil {
		s.tlsPort = port
	}
	errc := make(chan error, 2)
	go func() { errc <- s.HTTPS.ServeTLS(tlsLn, "", "") }()
	if httpLn != nil {
		go func() { errc <- s.HTTP.Serve(httpLn) }()
	}
	if s.acme != nil {
		go s.acme.warm(s.warmCtx)
	}
	return <-errc
}

// Shutdown stops both servers gracefully (see http.Server.Shutdown) and
// the ACME retries.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	return errors.Join(s.HTTPS.Shutdown(ctx), s.HTTP.Shutdown(ctx))
}

// redirect answers 308 to the HTTPS URL of the same path and query.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if s.public != nil {
		host = s.public.Host
	} else {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if strings.Contains(host, ":") { // IPv6 literal
			host = "[" + host + "]"
		}
		if s.tlsPort != "" && s.tlsPort != "443" {
			host += ":" + s.tlsPort
		}
	}
	u := url.URL{Scheme: "https", Host: host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	w.Header().Set("Connection", "close")
	http.Redirect(w, r, u.String(), http.StatusPermanentRedirect)
}

// checkPair parses a certificate chain and its key and says how they fail.
func checkPair(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("certificate and key do not make a pair: %w", err)
	}
	return &c, nil
}
