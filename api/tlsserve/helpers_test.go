package tlsserve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// running is a Server serving on loopback listeners.
type running struct {
	*Server
	tlsAddr, httpAddr string
	done              chan error
}

// start serves h with cfg on fresh loopback ports and stops at cleanup.
func start(tb testing.TB, cfg Config, h http.Handler) *running {
	tb.Helper()
	tlsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return serveOn(tb, cfg, h, tlsLn, httpLn)
}

func serveOn(tb testing.TB, cfg Config, h http.Handler, tlsLn, httpLn net.Listener) *running {
	tb.Helper()
	s, err := New(cfg, &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second})
	if err != nil {
		tlsLn.Close()
		httpLn.Close()
		tb.Fatal(err)
	}
	r := &running{Server: s, tlsAddr: tlsLn.Addr().String(), httpAddr: httpLn.Addr().String(), done: make(chan error, 1)}
	go func() { r.done <- s.Serve(tlsLn, httpLn) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-r.done; !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("Serve: %v", err)
		}
	})
	return r
}

// client trusts roots, opens a new connection for every request, sends
// every host name to addr, and does not follow redirects.
func client(roots *x509.CertPool, addr string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// servedSerial is the serial number of the leaf certificate that addr
// shows for serverName (verified against roots), or -1 with the error.
func servedSerial(addr, serverName string, roots *x509.CertPool) (int64, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
		&tls.Config{ServerName: serverName, RootCAs: roots})
	if err != nil {
		return -1, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
}

func hello(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte("hello " + strings.TrimPrefix(r.URL.Path, "/")))
}
