package tlsserve

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aisle/api/internal/testkit"
)

func writePair(tb testing.TB, certFile, keyFile string, certPEM, keyPEM []byte) {
	tb.Helper()
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// TestCertificateFilesReload: the files' certificate is served; a renewal
// written over them is served without a restart; a mismatched pair
// written later is logged and the previous certificate stays.
func TestCertificateFilesReload(t *testing.T) {
	ca := testkit.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem")
	c1, k1 := ca.Leaf(t, 1, "shop.test", "127.0.0.1")
	writePair(t, certFile, keyFile, c1, k1)
	var logs testkit.LogBuffer
	r := start(t, Config{CertFile: certFile, KeyFile: keyFile, ReloadInterval: 10 * time.Millisecond,
		Logger: logs.Logger(slog.LevelDebug)}, http.HandlerFunc(hello))

	hc := client(ca.Pool, r.tlsAddr)
	resp, err := hc.Get("https://shop.test/aisle")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello aisle" {
		t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, body, "hello aisle")
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=63072000" {
		t.Fatalf("Strict-Transport-Security %q, want max-age=63072000", got)
	}
	if got := resp.TLS.PeerCertificates[0].SerialNumber.Int64(); got != 1 {
		t.Fatalf("serial %d, want 1", got)
	}

	// A renewal (new key too), written in place as certbot's deploy hooks
	// or a cp would: the new certificate is served without a restart.
	c2, k2 := ca.Leaf(t, 2, "shop.test", "127.0.0.1")
	writePair(t, certFile, keyFile, c2, k2)
	waitFor(t, 10*time.Second, "the renewed certificate is served", func() bool {
		s, _ := servedSerial(r.tlsAddr, "shop.test", ca.Pool)
		return s == 2
	})
	if !strings.Contains(logs.String(), "tls certificate reloaded") {
		t.Fatalf("no reload logged:\n%s", logs.String())
	}

	// A certificate that does not match the key: logged with the reason,
	// and the previous certificate keeps being served.
	c3, _ := ca.Leaf(t, 3, "shop.test")
	if err := os.WriteFile(certFile, c3, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the bad pair is logged", func() bool {
		servedSerial(r.tlsAddr, "shop.test", ca.Pool) // a handshake makes it look
		return strings.Contains(logs.String(), "private key does not match public key")
	})
	if !strings.Contains(logs.String(), "tls certificate not reloaded, serving the previous one") {
		t.Fatalf("the bad pair's log line:\n%s", logs.String())
	}
	for range 3 {
		if s, err := servedSerial(r.tlsAddr, "shop.test", ca.Pool); s != 2 {
			t.Fatalf("after a bad pair: serial %d (%v), want the previous 2", s, err)
		}
	}
	// Fixing the pair (the key written after the certificate) recovers.
	c4, k4 := ca.Leaf(t, 4, "shop.test")
	writePair(t, certFile, keyFile, c4, k4)
	waitFor(t, 10*time.Second, "the fixed pair is served", func() bool {
		s, _ := servedSerial(r.tlsAddr, "shop.test", ca.Pool)
		return s == 4
	})
}

// TestCertificateFilesErrorsAtStart: a pair that does not match, and a
// missing file, are errors from New that name the problem.
func TestCertificateFilesErrorsAtStart(t *testing.T) {
	ca := testkit.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c1, _ := ca.Leaf(t, 1, "shop.test")
	_, k2 := ca.Leaf(t, 2, "shop.test")
	writePair(t, certFile, keyFile, c1, k2)
	for _, tc := range []struct {
		name      string
		cert, key string
		wantInErr []string
	}{
		{"mismatched", certFile, keyFile, []string{certFile, "do not make a pair", "private key does not match public key"}},
		{"missing key", certFile, filepath.Join(dir, "nope.pem"), []string{"read key", "nope.pem"}},
		{"missing cert", filepath.Join(dir, "nope.pem"), keyFile, []string{"read certificate", "nope.pem"}},
		{"cert without key", certFile, "", []string{"needs its key file"}},
	} {
		_, err := New(Config{CertFile: tc.cert, KeyFile: tc.key}, &http.Server{})
		if err == nil {
			t.Fatalf("%s: New succeeded", tc.name)
		}
		for _, w := range tc.wantInErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
	}
}

// TestRedirectToHTTPS: the plain-HTTP listener answers every request with
// 308 to the same path and query over HTTPS, without HSTS; with an https
// PublicURL the redirect goes there.
func TestRedirectToHTTPS(t *testing.T) {
	ca := testkit.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c, k := ca.Leaf(t, 1, "shop.test")
	writePair(t, certFile, keyFile, c, k)

	r := start(t, Config{CertFile: certFile, KeyFile: keyFile}, http.HandlerFunc(hello))
	_, tlsPort, _ := strings.Cut(r.tlsAddr, ":")
	pub := start(t, Config{CertFile: certFile, KeyFile: keyFile, PublicURL: "https://shop.example.com"}, http.HandlerFunc(hello))
	for _, tc := range []struct {
		srv          *running
		method, url  string
		wantLocation string
	}{
		{r, "GET", "http://shop.test/v1/stores/s1/products?after=5&q=a%20b", "https://shop.test:" + tlsPort + "/v1/stores/s1/products?after=5&q=a%20b"},
		{r, "POST", "http://shop.test:80/", "https://shop.test:" + tlsPort + "/"},
		{r, "GET", "http://shop.test/a%2Fb", "https://shop.test:" + tlsPort + "/a%2Fb"},
		{pub, "GET", "http://10.0.0.7:8080/p?x=1", "https://shop.example.com/p?x=1"},
	} {
		req, _ := http.NewRequest(tc.method, tc.url, nil)
		resp, err := client(nil, tc.srv.httpAddr).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != tc.wantLocation {
			t.Errorf("%s %s: %d %q, want 308 %q", tc.method, tc.url, resp.StatusCode, resp.Header.Get("Location"), tc.wantLocation)
		}
		if h := resp.Header.Get("Strict-Transport-Security"); h != "" {
			t.Errorf("%s: HSTS over plain HTTP: %q", tc.url, h)
		}
	}
	// Following the redirect lands on HTTPS with HSTS.
	hc := client(ca.Pool, r.tlsAddr)
	hc.CheckRedirect = nil
	hc.Transport.(*http.Transport).DialContext = nil
	hc.Transport.(*http.Transport).TLSClientConfig.ServerName = "shop.test"
	resp, err := hc.Get("http://" + r.httpAddr + "/x?y=z")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Scheme != "https" || resp.Header.Get("Strict-Transport-Security") != HSTSValue {
		t.Fatalf("after the redirect: %s, HSTS %q", resp.Request.URL, resp.Header.Get("Strict-Transport-Security"))
	}
}
