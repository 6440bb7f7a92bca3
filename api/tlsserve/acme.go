package tlsserve

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// Backoff between ACME attempts for one name after a failure: it doubles
// from minBackoff up to maxBackoff, so a broken setup neither hammers the
// CA (Let's Encrypt allows 5 failed validations per name and hour) nor
// floods the log.
const (
	minBackoff = time.Minute
	maxBackoff = time.Hour
)

// acmeCerts wraps an autocert.Manager: it answers names it was not given
// (and clients that send none) with the first domain's certificate, logs
// every failure to get one with its reason, retries with backoff, and
// meanwhile serves the last certificate it got for the name.
type acmeCerts struct {
	m       *autocert.Manager
	domains []string
	log     *slog.Logger

	mu     sync.Mutex // guards last and failed
	last   map[string]*tls.Certificate
	failed map[string]*failure
}

type failure struct {
	err   error
	wait  time.Duration
	until time.Time
}

func newACME(cfg Config, log *slog.Logger) (*acmeCerts, error) {
	if cfg.ACMECache == "" {
		return nil, errors.New("tls: ACME needs a cache folder")
	}
	if err := os.MkdirAll(cfg.ACMECache, 0o700); err != nil {
		return nil, fmt.Errorf("tls: ACME cache: %w", err)
	}
	domains := make([]string, 0, len(cfg.ACMEDomains))
	for _, d := range cfg.ACMEDomains {
		if d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), ".")); d != "" {
			domains = append(domains, d)
		}
	}
	if len(domains) == 0 {
		return nil, errors.New("tls: no ACME domain")
	}
	dir := cfg.ACMEDirectory
	if dir == "" {
		dir = LetsEncryptURL
	}
	hc := cfg.ACMEHTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	// The transport logs why a request to the CA failed: autocert drops
	// the errors of its background renewals.
	logged := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	logged.Transport = &loggingTransport{base: base, log: log}
	a := &acmeCerts{domains: domains, log: log,
		last: map[string]*tls.Certificate{}, failed: map[string]*failure{}}
	a.m = &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(cfg.ACMECache),
		HostPolicy: hostPolicy(domains),
		Email:      cfg.ACMEEmail,
		Client:     &acme.Client{DirectoryURL: dir, HTTPClient: &logged, UserAgent: "aisle-server"},
	}
	return a, nil
}

// hostPolicy allows the configured names; a port (an http-01 request's
// Host on a port other than 80) is ignored.
func hostPolicy(domains []string) autocert.HostPolicy {
	allow := autocert.HostWhitelist(domains...)
	return func(ctx context.Context, host string) error {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return allow(ctx, strings.ToLower(host))
	}
}

// GetCertificate is tls.Config.GetCertificate.
func (a *acmeCerts) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acme.ALPNProto {
		return a.m.GetCertificate(hello) // a tls-alpn-01 validation by the CA
	}
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if !a.known(name) {
		h := *hello
		h.ServerName, name = a.domains[0], a.domains[0]
		hello = &h
	}
	return a.get(name, hello)
}

func (a *acmeCerts) known(name string) bool {
	for _, d := range a.domains {
		if d == name {
			return true
		}
	}
	return false
}

// get asks autocert for name's certificate unless name is backing off
// after a failure; while it fails, the last good certificate is served.
func (a *acmeCerts) get(name string, hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	a.mu.Lock()
	f, last := a.failed[name], a.last[name]
	a.mu.Unlock()
	if f != nil && time.Now().Before(f.until) {
		if last != nil {
			return last, nil
		}
		return nil, f.err
	}
	cert, err := a.m.GetCertificate(hello)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		if f = a.failed[name]; f == nil {
			f = &failure{wait: minBackoff / 2}
			a.failed[name] = f
		}
		f.err, f.wait = err, min(2*f.wait, maxBackoff)
		f.until = time.Now().Add(f.wait)
		a.log.Warn("acme: no certificate, serving the previous one if any", "domain", name,
			"reason", err, "have_previous", last != nil, "retry_in", f.wait.String())
		if last != nil {
			return last, nil
		}
		return nil, err
	}
	if a.failed[name] != nil || a.last[name] == nil || a.last[name].Leaf != cert.Leaf {
		leaf := cert.Leaf
		if leaf != nil {
			a.log.Info("acme: certificate ready", "domain", name, "serial", leaf.SerialNumber.Text(16),
				"not_after", leaf.NotAfter.Format(time.RFC3339))
		}
	}
	delete(a.failed, name)
	a.last[name] = cert
	return cert, nil
}

// warmHello stands for a modern client (ECDSA), so that warm obtains the
// certificate browsers will get.
func warmHello(name string) *tls.ClientHelloInfo {
	return &tls.ClientHelloInfo{ServerName: name,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
}

// warm gets every domain's certificate now rather than at the first
// handshake, and keeps retrying (after each backoff) those that fail,
// until ctx ends.
func (a *acmeCerts) warm(ctx context.Context) {
	for {
		var next time.Time
		for _, d := range a.domains {
			if ctx.Err() != nil {
				return
			}
			if _, err := a.get(d, warmHello(d)); err != nil {
				a.mu.Lock()
				if f := a.failed[d]; f != nil && (next.IsZero() || f.until.Before(next)) {
					next = f.until
				}
				a.mu.Unlock()
			}
		}
		if next.IsZero() {
			return // all obtained; autocert renews them from here on
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
	}
}

// loggingTransport logs why requests to the ACME CA fail (autocert's own
// errors say little, and those of its background renewals are dropped):
// an unreachable CA, an error answer other than badNonce (which the client
// retries), and an authorization that turned invalid, with each failed
// challenge's reason (once per authorization).
type loggingTransport struct {
	base http.RoundTripper
	log  *slog.Logger

	mu     sync.Mutex
	logged map[string]bool // invalid authorization URLs already logged
}

// acmeAnswer holds the fields of CA answers that say why something failed.
type acmeAnswer struct {
	Type, Detail, Status string
	Identifier           struct{ Value string }
	Challenges           []struct {
		Type  string
		Error *struct{ Type, Detail string }
	}
}

func (t *loggingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		t.log.Warn("acme: request to the CA failed", "url", r.URL.String(), "reason", err)
		return nil, err
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/") ||
		!strings.Contains(resp.Header.Get("Content-Type"), "json") {
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return resp, nil // the client will see the short body and fail
	}
	var a acmeAnswer
	_ = json.Unmarshal(body, &a)
	switch {
	case resp.StatusCode >= 400 && a.Type != "urn:ietf:params:acme:error:badNonce":
		t.log.Warn("acme: the CA answered an error", "url", r.URL.String(), "status", resp.Status,
			"type", a.Type, "detail", a.Detail)
	case a.Status == "invalid" && a.Identifier.Value != "":
		t.mu.Lock()
		seen := t.logged[r.URL.String()]
		if t.logged == nil {
			t.logged = map[string]bool{}
		}
		t.logged[r.URL.String()] = true
		t.mu.Unlock()
		if seen {
			break
		}
		for _, c := range a.Challenges {
			if c.Error != nil {
				t.log.Warn("acme: validation failed", "domain", a.Identifier.Value, "challenge", c.Type,
					"type", c.Error.Type, "detail", c.Error.Detail)
			}
		}
	}
	return resp, nil
}
