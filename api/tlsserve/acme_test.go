package tlsserve

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aisle/api/internal/testkit"

	"github.com/miekg/dns"
)

const acmeDomain = "shop.aisle.test"

// pebble is a Pebble ACME server (the go tool of this module) on
// loopback, with a DNS server that points acmeDomain at 127.0.0.1.
type pebble struct {
	dir      string         // directory URL
	client   *http.Client   // trusts Pebble's own TLS (its minica root)
	issuing  *x509.CertPool // the root Pebble issues under
	cmd      *exec.Cmd
	out      *testkit.LogBuffer
	exited   chan struct{}
	mgmtAddr string
}

// startPebble runs Pebble with challenges validated for real against
// 127.0.0.1:tlsPort (tls-alpn-01) and 127.0.0.1:httpPort (http-01).
func startPebble(t *testing.T, tlsPort, httpPort int) *pebble {
	t.Helper()
	goBin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	bin, err := exec.Command(goBin, "tool", "-n", "pebble").Output()
	if err != nil {
		t.Fatalf("go tool -n pebble (go.mod's tool; go mod download fetches it): %v", err)
	}
	modDir, err := exec.Command(goBin, "list", "-m", "-f", "{{.Dir}}", "github.com/letsencrypt/pebble/v2").Output()
	if err != nil {
		t.Fatalf("locate pebble's module: %v", err)
	}
	certs := filepath.Join(strings.TrimSpace(string(modDir)), "test", "certs")

	// Pebble's listener certificate: a fresh leaf under Pebble's own test
	// root (minica), so the test does not depend on the expiry of the leaf
	// shipped in the module.
	rootPEM, err := os.ReadFile(filepath.Join(certs, "pebble.minica.pem"))
	if err != nil {
		t.Fatal(err)
	}
	rootKeyPEM, err := os.ReadFile(filepath.Join(certs, "pebble.minica.key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := pem.Decode(rootPEM)
	root, err := x509.ParseCertificate(rb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := pem.Decode(rootKeyPEM)
	rootKey, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	leafPEM, leafKeyPEM := testkit.Issue(t, root, rootKey, time.Now().UnixNano(), "localhost", "127.0.0.1")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePair(t, certFile, keyFile, leafPEM, leafKeyPEM)
	minica := x509.NewCertPool()
	minica.AddCert(root)

	dnsAddr := startDNS(t)
	// Pebble binds its ports itself: a port free a moment ago can be taken
	// meanwhile by another test process, so a start that fails to bind is
	// tried again with new ports.
	launch := func() (*pebble, string) {
		addrs := testkit.FreeAddrs(t, 2)
		listen, mgmt := addrs[0], addrs[1]
		cfg := map[string]any{"pebble": map[string]any{
			"listenAddress":                  listen,
			"managementListenAddress":        mgmt,
			"certificate":                    certFile,
			"privateKey":                     keyFile,
			"httpPort":                       httpPort,
			"tlsPort":                        tlsPort,
			"ocspResponderURL":               "",
			"externalAccountBindingRequired": false,
			"keyAlgorithm":                   "ecdsa",
		}}
		b, _ := json.Marshal(cfg)
		cfgFile := filepath.Join(dir, "pebble-config.json")
		if err := os.WriteFile(cfgFile, b, 0o644); err != nil {
			t.Fatal(err)
		}
		p := &pebble{dir: "https://" + listen + "/dir", out: &testkit.LogBuffer{}, exited: make(chan struct{}),
			mgmtAddr: mgmt,
			client:   &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: minica}}}}
		p.cmd = exec.Command(strings.TrimSpace(string(bin)), "-config", cfgFile, "-dnsserver", dnsAddr)
		// No random sleep before validating, no injected badNonce errors, and
		// real validation (never PEBBLE_VA_ALWAYS_VALID).
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "PEBBLE_") {
				p.cmd.Env = append(p.cmd.Env, kv)
			}
		}
		p.cmd.Env = append(p.cmd.Env, "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
		p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.cmd.Wait(); close(p.exited) }()
		exited := false
		waitFor(t, 30*time.Second, "pebble answers its directory", func() bool {
			select {
			case <-p.exited:
				exited = true
				return true
			default:
			}
			resp, err := p.client.Get(p.dir)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200
		})
		if exited {
			return nil, p.out.String()
		}
		t.Cleanup(p.stop)
		return p, ""
	}
	var p *pebble
	for attempt := 1; p == nil; attempt++ {
		var out string
		if p, out = launch(); p == nil && (attempt == 3 || !strings.Contains(out, "address already in use")) {
			t.Fatalf("pebble exited:\n%s", out)
		}
	}
	// The root Pebble issues under is made at its start: fetch it from the
	// management endpoint.
	resp, err := p.client.Get("https://" + p.mgmtAddr + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	issuing, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p.issuing = x509.NewCertPool()
	if !p.issuing.AppendCertsFromPEM(issuing) {
		t.Fatalf("pebble's issuing root: %q", issuing)
	}
	return p
}

func (p *pebble) stop() {
	p.cmd.Process.Kill()
	<-p.exited
}

// startDNS answers A queries for acmeDomain with 127.0.0.1 (and nothing
// else) over TCP, as Pebble's -dnsserver asks.
func startDNS(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, qq := range q.Question {
			if qq.Qtype == dns.TypeA && strings.EqualFold(qq.Name, acmeDomain+".") {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeA,
					Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(127, 0, 0, 1)})
			}
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

// freePort is a loopback TCP port free a moment ago, for a program that
// takes a port rather than a listener.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func loopback(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// TestACMEWithPebble: the server gets a certificate from a real Pebble,
// which validates the challenge for real against the server's own HTTPS
// listener (tls-alpn-01; its DNS points the domain at 127.0.0.1); the
// certificate verifies under Pebble's issuing root. With Pebble gone, a
// restarted server keeps serving the certificate from its cache.
func TestACMEWithPebble(t *testing.T) {
	tlsLn, tlsPort := loopback(t)
	httpLn, httpPort := loopback(t)
	p := startPebble(t, tlsPort, httpPort)
	cache := t.TempDir()
	var logs testkit.LogBuffer
	cfg := Config{ACMEDomains: []string{acmeDomain}, ACMEDirectory: p.dir, ACMEEmail: "ops@aisle.test",
		ACMECache: cache, ACMEHTTPClient: p.client, Logger: logs.Logger(slog.LevelDebug)}
	r := serveOn(t, cfg, http.HandlerFunc(hello), tlsLn, httpLn)

	hc := client(p.issuing, r.tlsAddr)
	var resp *http.Response
	waitFor(t, 60*time.Second, "an HTTPS request with the ACME certificate succeeds", func() bool {
		var err error
		resp, err = hc.Get("https://" + acmeDomain + "/healthz")
		return err == nil
	})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	leaf := resp.TLS.PeerCertificates[0]
	if string(body) != "hello healthz" || leaf.DNSNames[0] != acmeDomain || resp.Header.Get("Strict-Transport-Security") != HSTSValue {
		t.Fatalf("got %q, names %v, HSTS %q", body, leaf.DNSNames, resp.Header.Get("Strict-Transport-Security"))
	}
	if !strings.Contains(logs.String(), "acme: certificate ready") {
		t.Fatalf("log:\n%s", logs.String())
	}
	// A client without SNI (an IP address) gets the first domain's certificate.
	noSNI, err := tls.Dial("tcp", r.tlsAddr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("handshake without SNI: %v", err)
	}
	if got := noSNI.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(leaf.SerialNumber) != 0 {
		t.Fatalf("without SNI: serial %v, want %v", got, leaf.SerialNumber)
	}
	noSNI.Close()

	// Pebble gone: a new server on the same cache serves the cached
	// certificate, without asking the CA.
	p.stop()
	r2 := start(t, cfg, http.HandlerFunc(hello))
	resp, err = client(p.issuing, r2.tlsAddr).Get("https://" + acmeDomain + "/again")
	if err != nil {
		t.Fatalf("from the cache, without the CA: %v\nlog:\n%s", err, logs.String())
	}
	resp.Body.Close()
	if got := resp.TLS.PeerCertificates[0].SerialNumber; got.Cmp(leaf.SerialNumber) != 0 {
		t.Fatalf("restarted: serial %v, want the cached %v", got, leaf.SerialNumber)
	}
}

// TestACMEUnreachable: with the CA unreachable the server keeps running
// (the redirect listener answers, Serve does not return) and logs why.
func TestACMEUnreachable(t *testing.T) {
	dead := freePort(t)
	var logs testkit.LogBuffer
	r := start(t, Config{ACMEDomains: []string{acmeDomain}, ACMEDirectory: fmt.Sprintf("https://127.0.0.1:%d/dir", dead),
		ACMECache: t.TempDir(), Logger: logs.Logger(slog.LevelDebug)}, http.HandlerFunc(hello))
	waitFor(t, 30*time.Second, "the ACME failure is logged with its reason", func() bool {
		s := logs.String()
		return strings.Contains(s, "acme: no certificate") && strings.Contains(s, "connection refused")
	})
	// A handshake now gets the logged error, not a crash or a hang.
	if _, err := tls.Dial("tcp", r.tlsAddr, &tls.Config{ServerName: acmeDomain, InsecureSkipVerify: true}); err == nil {
		t.Fatal("a handshake succeeded without any certificate")
	}
	resp, err := client(nil, r.httpAddr).Get("http://" + acmeDomain + "/still-here")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect {
		t.Fatalf("redirect listener: %d", resp.StatusCode)
	}
	select {
	case err := <-r.done:
		t.Fatalf("Serve returned: %v", err)
	default:
	}
	if n := strings.Count(logs.String(), "acme: no certificate"); n != 1 {
		t.Fatalf("%d failure lines: the retry must wait for its backoff\n%s", n, logs.String())
	}
}

// TestACMEValidationIsReal: when Pebble's validation cannot reach the
// server (its challenge ports point at a closed port), no certificate is
// issued, the server keeps running and the log says why.
func TestACMEValidationIsReal(t *testing.T) {
	dead := freePort(t)
	p := startPebble(t, dead, dead)
	var logs testkit.LogBuffer
	r := start(t, Config{ACMEDomains: []string{acmeDomain}, ACMEDirectory: p.dir, ACMECache: t.TempDir(),
		ACMEHTTPClient: p.client, Logger: logs.Logger(slog.LevelDebug)}, http.HandlerFunc(hello))
	waitFor(t, 60*time.Second, "the failed validation is logged", func() bool {
		return strings.Contains(logs.String(), "acme: no certificate")
	})
	if s := logs.String(); !strings.Contains(s, "acme: validation failed") || !strings.Contains(s, "connection refused") ||
		!strings.Contains(s, acmeDomain) {
		t.Fatalf("the log does not say why:\n%s", s)
	}
	if _, err := servedSerial(r.tlsAddr, acmeDomain, p.issuing); err == nil {
		t.Fatal("a certificate was served although validation could not succeed")
	}
	select {
	case err := <-r.done:
		t.Fatalf("Serve returned: %v", err)
	default:
	}
}
