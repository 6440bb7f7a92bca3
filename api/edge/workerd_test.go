package edge_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"aisle/api/edge"
	"aisle/api/internal/testkit"
	"aisle/sync/catalog"
)

// The scenarios against the real Worker: aisle-edge built for js/wasm with
// syumai/workers' loader, run by Cloudflare's local runtime (wrangler dev
// --local, which runs workerd, with a local D1 database), fed by a real
// origin. wrangler comes from deploy/testpeers (make test-deps); without
// it these tests skip, or fail when CI=true. Nothing remote is contacted
// but what wrangler tries itself (update check, Request.cf), which fails
// harmlessly offline.

// repoRoot is the module's root (this package is api/edge).
var repoRoot = func() string { d, _ := filepath.Abs("../.."); return d }()

// wranglerBin finds wrangler in deploy/testpeers or skips (fails in CI).
func wranglerBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(repoRoot, "deploy", "testpeers", "node_modules", ".bin", "wrangler")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("wrangler is required in CI: %v (make test-deps installs it in deploy/testpeers)", err)
		}
		t.Skipf("skipping the workerd tests: %v (make test-deps installs wrangler; required when CI=true)", err)
	}
	return bin
}

var workerBuild struct {
	once sync.Once
	dir  string
	err  error
}

// buildWorker builds the Worker once per test binary, as make edge does:
// wrangler.toml and edge.mjs beside build/ (syumai/workers' loader and
// the Go program).
func buildWorker(t *testing.T) string {
	t.Helper()
	workerBuild.once.Do(func() {
		start := time.Now()
		defer func() { t.Logf("worker built in %v", time.Since(start).Round(time.Millisecond)) }()
		dir, err := os.MkdirTemp("", "aisle-edge-worker-")
		if err != nil {
			workerBuild.err = err
			return
		}
		workerBuild.dir = dir
		for _, f := range []string{"wrangler.toml", "edge.mjs"} {
			b, err := os.ReadFile(filepath.Join(repoRoot, "api", "cmd", "aisle-edge", f))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, f), b, 0o644)
			}
			if err != nil {
				workerBuild.err = err
				return
			}
		}
		for _, args := range [][]string{
			{"run", "github.com/syumai/workers/cmd/workers-assets-gen", "-mode=go", "-o", filepath.Join(dir, "build")},
			{"build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "build", "app.wasm"), "./api/cmd/aisle-edge"},
		} {
			cmd := exec.Command("go", args...)
			cmd.Dir = repoRoot
			if args[0] == "build" {
				cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				workerBuild.err = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
				return
			}
		}
	})
	if workerBuild.err != nil {
		t.Fatal(workerBuild.err)
	}
	return workerBuild.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if workerBuild.dir != "" {
		os.RemoveAll(workerBuild.dir)
	}
	os.Exit(code)
}

// startWorker runs the Worker under wrangler dev --local on a free
// loopback port with a fresh local D1 database, waits until it answers,
// and returns its URL; originURL ("" for none) becomes ORIGIN_URL.
func startWorker(t *testing.T, originURL string) string {
	t.Helper()
	bin := wranglerBin(t)
	return startWorkerIn(t, bin, buildWorker(t), originURL, http.StatusOK)
}

// startWorkerIn is startWorker for the Worker in dir, ready when
// /_edge/health answers readyStatus.
func startWorkerIn(t *testing.T, bin, dir, originURL string, readyStatus int) string {
	t.Helper()
	addrs := testkit.FreeAddrs(t, 2)
	port := addrs[0][strings.LastIndexByte(addrs[0], ':')+1:]
	inspector := addrs[1][strings.LastIndexByte(addrs[1], ':')+1:]
	state := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "dev", "--local", "--ip", "127.0.0.1", "--port", port, "--inspector-port", inspector,
		"--persist-to", state, "--show-interactive-dev-session=false", "--log-level", "warn",
		"--var", "EDGE_SECRET:"+testSecret, "--var", "ORIGIN_URL:"+originURL)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(state, "config"), "WRANGLER_SEND_METRICS=false", "NO_COLOR=1")
	var logs testkit.LogBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// Its own process group: wrangler's node and workerd end together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("wrangler output:\n%s", logs.String())
		}
	})
	url := "http://127.0.0.1:" + port
	start := time.Now()
	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("wrangler exited before it was ready: %v\n%s", err, logs.String())
		default:
		}
		resp, err := client.Get(url + "/_edge/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == readyStatus {
				t.Logf("worker ready in %v at %s", time.Since(start).Round(time.Millisecond), url)
				return url
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker not ready after 60s: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond) // a poll interval, not a wait for readiness
	}
}

// workerRig is a rig whose edge is the Worker, fed in batches of 40 log
// rows (several D1 ingests for the demo store's log).
func workerRig(t *testing.T, withOrigin bool) *rig {
	return newRigOpts(t, rigOpts{feed: edge.FeedConfig{BatchRows: 40}, startEdge: func(originURL string) string {
		if !withOrigin {
			originURL = ""
		}
		return startWorker(t, originURL)
	}})
}

func TestWorkerdSameAnswers(t *testing.T) { testSameAnswers(t, workerRig(t, false)) }

func TestWorkerdClientSync(t *testing.T) { testClientSync(t, workerRig(t, false)) }

func TestWorkerdNoStaffLeak(t *testing.T) { testNoStaffLeak(t, workerRig(t, false)) }

// TestWorkerdForwardsToOrigin: with ORIGIN_URL, what the edge does not
// serve goes to the origin, and sync reads stay at the edge.
func TestWorkerdForwardsToOrigin(t *testing.T) {
	r := workerRig(t, true)
	for _, p := range []string{"/v1/stores", "/healthz", "/v1/admin/stats"} {
		o := r.do(r.OriginURL, "GET", p, r.Admin, nil)
		e := r.do(r.EdgeURL, "GET", p, r.Admin, nil)
		if o.Status != e.Status || (p == "/v1/stores" && string(o.Body) != string(e.Body)) {
			t.Fatalf("GET %s: edge %d %s, origin %d %s", p, e.Status, e.Body, o.Status, o.Body)
		}
	}
	// Sync reads are the edge's own answers; those it cannot give (an
	// admin token, unknown at the edge; a store created since the last
	// feed) are the origin's.
	if e := r.sameAnswer(t, "GET", "/v1/stores/demo/checkpoint", ""); e.Header.Get(edge.HeaderEdge) != "1" {
		t.Fatalf("sync read not answered by the edge: %v", e.Header)
	}
	r.admin("PUT", "/v1/admin/stores/fresh", map[string]string{"name": "Fresh"}).want(t, 200)
	for _, tc := range []struct{ path, token string }{{"/v1/stores/demo/checkpoint", r.Admin}, {"/v1/stores/fresh/checkpoint", ""}} {
		e := r.sameAnswer(t, "GET", tc.path, tc.token)
		if e.Status != 200 || e.Header.Get(edge.HeaderEdge) != "" {
			t.Fatalf("GET %s: %d, %s %q (want the origin's answer)", tc.path, e.Status, edge.HeaderEdge, e.Header.Get(edge.HeaderEdge))
		}
	}
}

func TestWorkerdPushThenEdge(t *testing.T) { testPushThenEdge(t, workerRig(t, false)) }

// TestWorkerdFailsOverToOrigin: a Worker whose database is missing answers
// 503 itself, and with ORIGIN_URL its sync reads are the origin's.
func TestWorkerdFailsOverToOrigin(t *testing.T) {
	bin := wranglerBin(t)
	built := buildWorker(t)
	// The same build, without its D1 binding.
	dir := t.TempDir()
	toml, err := os.ReadFile(filepath.Join(built, "wrangler.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cut := strings.Index(string(toml), "[[d1_databases]]")
	end := strings.Index(string(toml), "[vars]")
	if cut < 0 || end < cut {
		t.Fatalf("wrangler.toml has no [[d1_databases]] block before [vars]:\n%s", toml)
	}
	noDB := string(toml[:cut]) + string(toml[end:])
	if err := os.WriteFile(filepath.Join(dir, "wrangler.toml"), []byte(noDB), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"edge.mjs", "build"} {
		if err := os.Symlink(filepath.Join(built, f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	var alone string
	r := newRigOpts(t, rigOpts{noFeed: true, startEdge: func(originURL string) string {
		alone = startWorkerIn(t, bin, dir, "", http.StatusServiceUnavailable)
		return startWorkerIn(t, bin, dir, originURL, http.StatusServiceUnavailable)
	}})
	if a := r.do(alone, "GET", "/v1/stores/demo/checkpoint", "", nil); a.Status != 503 || a.ErrCode() != string(catalog.Unavailable) {
		t.Fatalf("a Worker without its database: %d %s", a.Status, a.Body)
	}
	e := r.sameAnswer(t, "GET", "/v1/stores/demo/checkpoint", "")
	if e.Status != 200 || e.Header.Get(edge.HeaderEdge) != "" {
		t.Fatalf("failed-over sync read: %d %v", e.Status, e.Header)
	}
}
