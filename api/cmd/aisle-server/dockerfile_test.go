package main

import (
	"bufio"
	"debug/elf"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
// environment and flags), checks that the binary is static, runs it with
// the image's environment (its absolute paths moved under a temporary
// root, as the image's / is; AISLE_ADDR on a free loopback port instead of
// 0.0.0.0:8080) and stops it with SIGTERM after /healthz answers. The app
// folder is left empty: building the web app is the PWA's own test.
func TestDockerfileBinary(t *testing.T) {
	repo, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	d := readDockerfile(t, filepath.Join(repo, "deploy", "Dockerfile"))
	for _, want := range []string{"CGO_ENABLED=0"} {
		if !strings.Contains(strings.Join(d.buildEnv, " "), want) {
			t.Fatalf("the Dockerfile's build lost %s: %v", want, d.buildEnv)
		}
	}
	root := t.TempDir()
	bin := filepath.Join(root, "aisle-server")
	args := append([]string(nil), d.buildArgs...)
	for i := range args {
		if args[i] == "-o" && i+1 < len(args) {
			args[i+1] = bin
		}
	}
	build := exec.Command("go", args...)
	build.Dir = repo
	build.Env = append(os.Environ(), d.buildEnv...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
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

	// The image's environment, nothing of the host's; paths under root.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := []string{"PATH=/usr/bin:/bin"}
	for _, kv := range d.env {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "AISLE_ADDR":
			v = addr
		case strings.HasPrefix(v, "/"):
			v = filepath.Join(root, v)
		}
		env = append(env, k+"="+v)
	}
	for _, dir := range []string{"data", "app", "models"} { // the image's folders
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var out logWriter
	cmd := exec.Command(bin)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = root, env, &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	}()
	hc := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("the server exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no /healthz 200 within 90s (last: %v)\n%s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, f := range []string{"data/aisle.db", "data/admin-token"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("the image's environment did not put %s in /data: %v", f, err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM\n%s", out.String())
	}
	if !strings.Contains(out.String(), "shutting down") {
		t.Fatalf("no graceful shutdown logged:\n%s", out.String())
	}
}

// logWriter collects a child's output safely across goroutines.
type logWriter struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *logWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
