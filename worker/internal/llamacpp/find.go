package llamacpp

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// EnvNodeModules names an environment variable that, when set, overrides where the test peers'
// node_modules folder is looked for (default: deploy/testpeers/node_modules under the module root).
const EnvNodeModules = "AISLE_NODE_MODULES"

// ModuleRoot returns the folder holding the repository's go.mod, found by walking up from the
// current working directory (go test runs each package in its own folder).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("llamacpp: working directory: %w", err)
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !st.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("llamacpp: no go.mod above the working directory")
		}
		dir = parent
	}
}

// NodeModules returns the node_modules folder of the project's npm test peers
// ($AISLE_NODE_MODULES, else MODULE_ROOT/deploy/testpeers/node_modules). It does not check
// what the folder holds; Available does.
func NodeModules() (string, error) {
	if d := os.Getenv(EnvNodeModules); d != "" {
		return filepath.Abs(d)
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "deploy", "testpeers", "node_modules"), nil
}

// NodeBinary returns the path of the node executable on $PATH.
func NodeBinary() (string, error) {
	p, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("llamacpp: node not found on PATH (install Node.js 20+): %w", err)
	}
	return p, nil
}

// Available reports why the llama.cpp peer cannot run here, or nil when it can: node on $PATH,
// node-llama-cpp and its prebuilt CPU package for this platform in NodeModules().
// It starts nothing.
func Available() error {
	if _, err := NodeBinary(); err != nil {
		return err
	}
	nm, err := NodeModules()
	if err != nil {
		return err
	}
	need := []string{
		filepath.Join(nm, "node-llama-cpp", "dist", "index.js"),
		filepath.Join(nm, "@node-llama-cpp", prebuiltPackage(), "package.json"),
	}
	for _, p := range need {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("llamacpp: test peer missing: %s (run `make test-deps`)", p)
		}
	}
	return nil
}

// prebuiltPackage names node-llama-cpp's prebuilt CPU package for this platform.
func prebuiltPackage() string {
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	return runtime.GOOS + "-" + arch
}

// Require stops the test when the peer is unavailable: it fails when the environment variable
// CI is "true" (CI must run every peer test) and skips with the reason otherwise.
func Require(tb testing.TB) {
	tb.Helper()
	RequirePeer(tb, Available)
}

// RequirePeer is Require for any test peer (node script, python module, ...): avail reports
// why the peer cannot run here, nil when it can.
// Under js/wasm (the engine's kernel tests run in Node, see pwa/kernels_test.go) no peer can be
// started: such tests skip there, CI or not, and run in the native test run.
func RequirePeer(tb testing.TB, avail func() error) {
	tb.Helper()
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		tb.Skipf("skipping: test peers run natively, not under %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	if err := avail(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("test peer required on CI: %v", err)
		}
		tb.Skipf("skipping: %v", err)
	}
}

// StartT calls Require, starts a peer for model and closes it when the test ends.
func StartT(tb testing.TB, model string, opts Options) *Peer {
	tb.Helper()
	Require(tb)
	p, err := Start(tb.Context(), model, opts)
	if err != nil {
		tb.Fatalf("start llama.cpp peer: %v", err)
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Errorf("close llama.cpp peer: %v", err)
		}
	})
	return p
}
