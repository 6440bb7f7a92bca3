package tlsserve

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// fileCert serves the certificate in a pair of PEM files and picks up a
// new pair (a renewal) without a restart.
//
// At a handshake, when interval has passed since the last look, both
// files are read again; if their bytes differ from the last pair seen, the
// pair is parsed: a good one replaces the served certificate, a bad one
// (mismatched, half-written, unreadable) is logged once with its reason
// and the last good certificate stays. Comparing contents rather than
// modification times also catches a copy that kept the old mtime and a
// symlink swap (certbot's live/ folder).
type fileCert struct {
	certFile, keyFile string
	interval          time.Duration
	log               *slog.Logger

	mu                sync.Mutex // guards the fields below
	cert              *tls.Certificate
	seenCert, seenKey []byte    // contents at the last look, good or bad
	seenErr           string    // the last read error logged
	next              time.Time // no look before then
}

func loadFileCert(certFile, keyFile string, interval time.Duration, log *slog.Logger) (*fileCert, error) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	f := &fileCert{certFile: certFile, keyFile: keyFile, interval: interval, log: log}
	c, k, err := f.read()
	if err != nil {
		return nil, err
	}
	cert, err := checkPair(c, k)
	if err != nil {
		return nil, fmt.Errorf("tls: %s and %s: %w", certFile, keyFile, err)
	}
	f.cert, f.seenCert, f.seenKey = cert, c, k
	f.next = time.Now().Add(interval)
	f.logLoaded("tls certificate loaded")
	return f, nil
}

func (f *fileCert) read() (certPEM, keyPEM []byte, err error) {
	if certPEM, err = os.ReadFile(f.certFile); err != nil {
		return nil, nil, fmt.Errorf("tls: read certificate: %w", err)
	}
	if keyPEM, err = os.ReadFile(f.keyFile); err != nil {
		return nil, nil, fmt.Errorf("tls: read key: %w", err)
	}
	return certPEM, keyPEM, nil
}

func (f *fileCert) logLoaded(msg string) {
	l := f.cert.Leaf
	f.log.Info(msg, "file", f.certFile, "subject", l.Subject.String(), "names", l.DNSNames,
		"serial", l.SerialNumber.Text(16), "not_after", l.NotAfter.Format(time.RFC3339))
	if time.Now().After(l.NotAfter) {
		f.log.Warn("tls certificate has expired", "file", f.certFile, "not_after", l.NotAfter.Format(time.RFC3339))
	}
}

// GetCertificate is tls.Config.GetCertificate: the current certificate,
// after a look at the files when one is due.
func (f *fileCert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := time.Now(); now.After(f.next) {
		f.next = now.Add(f.interval)
		f.reload()
	}
	return f.cert, nil
}

// reload reads the files and swaps in a good new pair; f.mu is held.
func (f *fileCert) reload() {
	c, k, err := f.read()
	if err != nil {
		if err.Error() != f.seenErr {
			f.seenErr = err.Error()
			f.log.Warn("tls certificate not reloaded, serving the previous one", "reason", err)
		}
		return
	}
	f.seenErr = ""
	if bytes.Equal(c, f.seenCert) && bytes.Equal(k, f.seenKey) {
		return
	}
	f.seenCert, f.seenKey = c, k
	cert, err := checkPair(c, k)
	if err != nil {
		f.log.Warn("tls certificate not reloaded, serving the previous one",
			"cert", f.certFile, "key", f.keyFile, "reason", err)
		return
	}
	f.cert = cert
	f.logLoaded("tls certificate reloaded")
}
