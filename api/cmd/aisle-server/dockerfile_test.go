package main

import (
	"bufio"
	"crypto/tls"
	"debug/elf"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"aisle/api/internal/testkit"
	"aisle/api/tlsserve"
)

// dockerfile is what TestDockerfileBinary reads from deploy/Dockerfile:
// the go build command of the server (its environment and arguments) and
// the final image's environment.
type dockerfile struct {
	buildEnv, buildArgs []string // CGO_ENABLED=0 ...; build -trimpath ... ./api/cmd/aisle-server
	env                 []string // KEY=VALUE of the image's ENV instructions
}

func readDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines into instructions; drop comments.
	var instrs []string
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		instrs = append(instrs, cur.String())
		cur.Reset()
	}
	var d dockerfile
	for _, in := range instrs {
		kw, rest, _ := strings.Cut(in, " ")
		switch strings.ToUpper(kw) {
		case "FROM":
			d.env = nil // only the final stage's environment counts
		case "ENV":
			d.env = append(d.env, shellWords(t, rest)...)
		case "RUN":
			for _, cmd := range strings.Split(rest, "&&") {
				w := shellWords(t, cmd)
				i := 0
				for i < len(w) && strings.Contains(w[i], "=") {
					i++
				}
				if len(w) > i+1 && w[i] == "go" && w[i+1] == "build" && w[len(w)-1] == "./api/cmd/aisle-server" {
					d.buildEnv, d.buildArgs = w[:i], w[i+1:]
				}
			}
		}
	}
	if d.buildArgs == nil || len(d.env) == 0 {
		t.Fatalf("%s: no go build of ./api/cmd/aisle-server or no ENV found", path)
	}
	return d
}

// shellWords splits s as a POSIX shell would for the plain words, single-
// and double-quoted strings the Dockerfile uses.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// TestDockerfileBinary builds the server as deploy/Dockerfile does (same
// environment and flags), checks that the binary is static, and runs it
// with the image's environment (its absolute paths moved under a temporary
// root, as the image's / is; AISLE_ADDR on a free loopback port instead of
// 0.0.0.0:8080): over plain HTTP, then over HTTPS with certificate files
// and the redirect listener, each stopped with SIGTERM after /healthz
// answers. The app folder is left empty: building the web app is the
// PWA's own test.
// imageBinary builds the server with the Dockerfile's own build line and
// environment, once per test binary, and returns it with the Dockerfile.
func imageBinary(t *testing.T) (string, dockerfile) {
	t.Helper()
	built.Do(func() {
		repo, err := filepath.Abs("../../..")
		if err != nil {
			built.err = err
			return
		}
		built.d = readDockerfile(t, filepath.Join(repo, "deploy", "Dockerfile"))
		dir, err := os.MkdirTemp("", "aisle-server-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.bin = filepath.Join(dir, "aisle-server")
		args := append([]string(nil), built.d.buildArgs...)
		for i := range args {
			if args[i] == "-o" && i+1 < len(args) {
				args[i+1] = built.bin
			}
		}
		build := exec.Command("go", args...)
		build.Dir = repo
		build.Env = append(os.Environ(), built.d.buildEnv...)
		if out, err := build.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin, built.d
}

var built struct {
	gosync.Once
	bin string
	d   dockerfile
	err error
}

func TestDockerfileBinary(t *testing.T) {
	bin, d := imageBinary(t)
	if !strings.Contains(strings.Join(d.buildEnv, " "), "CGO_ENABLED=0") {
		t.Fatalf("the Dockerfile's build lost CGO_ENABLED=0: %v", d.buildEnv)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	libs, _ := f.ImportedLibraries()
	interp := f.Section(".interp")
	f.Close()
	if len(libs) > 0 || interp != nil {
		t.Fatalf("not a static binary (FROM scratch has no libc): libraries %v, interpreter %v", libs, interp != nil)
	}

	t.Run("http", func(t *testing.T) {
		root := imageRoot(t)
		addr := testkit.FreeAddrs(t, 1)[0]
		p := startBinary(t, bin, root, imageEnv(d, root, "AISLE_ADDR="+addr))
		hc := &http.Client{Timeout: 5 * time.Second}
		p.waitHealthz(t, hc, "http://"+addr+"/healthz")
		for _, f := range []string{"data/aisle.db", "data/admin-token"} {
			if _, err := os.Stat(filepath.Join(root, f)); err != nil {
				t.Errorf("the image's environment did not put %s in /data: %v", f, err)
			}
		}
		p.stop(t)
	})

	t.Run("https", func(t *testing.T) {
		root := imageRoot(t)
		ca := testkit.NewCA(t)
		certFile, keyFile := filepath.Join(root, "tls", "fullchain.pem"), filepath.Join(root, "tls", "privkey.pem")
		os.MkdirAll(filepath.Dir(certFile), 0o755)
		cert, key := ca.Leaf(t, time.Now().UnixNano(), "localhost")
		os.WriteFile(certFile, cert, 0o644)
		os.WriteFile(keyFile, key, 0o600)
		addrs := testkit.FreeAddrs(t, 2)
		addr, httpAddr := addrs[0], addrs[1]
		env := imageEnv(d, root, "AISLE_ADDR="+addr, "AISLE_HTTP_ADDR="+httpAddr,
			"AISLE_TLS_CERT=/tls/fullchain.pem", "AISLE_TLS_KEY=/tls/privkey.pem", "AISLE_PUBLIC_URL=https://localhost:"+port(addr))
		p := startBinary(t, bin, root, env)
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
		p.waitHealthz(t, hc, "https://localhost:"+port(addr)+"/healthz")
		resp, err := hc.Get("https://localhost:" + port(addr) + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if h := resp.Header.Get("Strict-Transport-Security"); h != tlsserve.HSTSValue {
			t.Errorf("HSTS %q", h)
		}
		plain := &http.Client{Timeout: 5 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err = plain.Get("http://" + httpAddr + "/v1/openapi.json?x=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := "https://localhost:" + port(addr) + "/v1/openapi.json?x=1"; resp.StatusCode != 308 || resp.Header.Get("Location") != want {
			t.Errorf("redirect %d %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
		}
		p.stop(t)

		// A key that does not belong to the certificate: exit 1 with the reason.
		_, other := ca.Leaf(t, time.Now().UnixNano(), "localhost")
		os.WriteFile(keyFile, other, 0o600)
		q := startBinary(t, bin, root, env)
		select {
		case err := <-q.exited:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(q.out.String(), "private key does not match public key") {
				t.Fatalf("mismatched pair: %v\n%s", err, q.out.String())
			}
			q.done = true
		case <-time.After(60 * time.Second):
			t.Fatalf("a mismatched pair did not stop the server\n%s", q.out.String())
		}
	})
}

// imageRoot is a temporary / with the image's folders.
func imageRoot(t *testing.T) string {
	root := t.TempDir()
	for _, dir := range []string{"data/acme", "app", "models"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// imageEnv is the image's environment, nothing of the host's, with
// absolute paths under root, then extra (KEY=VALUE, paths also under root).
func imageEnv(d dockerfile, root string, extra ...string) []string {
	env := []string{"PATH=/usr/bin:/bin"}
	for _, kv := range append(append([]string(nil), d.env...), extra...) {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(v, "/") {
			v = filepath.Join(root, v)
		}
		env = append(env, k+"="+v)
	}
	return env // later entries win
}

func port(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

// proc is a running server binary.
type proc struct {
	started time.Time
	cmd     *exec.Cmd
	out     *testkit.LogBuffer
	exited  chan error
	done    bool
}

func startBinary(t *testing.T, bin, dir string, env []string) *proc {
	t.Helper()
	p := &proc{started: time.Now(), cmd: exec.Command(bin), out: &testkit.LogBuffer{}, exited: make(chan error, 1)}
	p.cmd.Dir, p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = dir, env, p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if !p.done {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// waitHealthz polls url until it answers 200.
func (p *proc) waitHealthz(t *testing.T, hc *http.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := hc.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-p.exited:
			p.done = true
			t.Fatalf("the server exited: %v\n%s", err, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s 200 within 90s (last: %v)\n%s", url, err, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and expects a graceful exit 0.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		p.done = true
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM\n%s", p.out.String())
	}
	if !strings.Contains(p.out.String(), "shutting down") {
		t.Fatalf("no graceful shutdown logged:\n%s", p.out.String())
	}
}
