package pwa

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsGoOneWay holds the browser side's layering: both workers stand on shared packages
// (the port protocol worker/browser/wire, the JS bindings worker/browser/webapi, the model store
// worker/browser/modelstore, the delivery protocol sync/published), the service worker never
// imports the inference worker itself, nothing in worker/ or sync/ imports the service worker, and
// no browser program imports the server.
func TestImportsGoOneWay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	deps := func(pkgs ...string) []string {
		t.Helper()
		cmd := exec.Command("go", append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, pkgs...)...)
		cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v: %v", pkgs, err)
		}
		return strings.Fields(string(out))
	}
	shared := []string{"aisle/worker/browser/wire", "aisle/worker/browser/webapi", "aisle/worker/browser/modelstore", "aisle/sync/published"}
	// within reports whether package p is dir or below it, shared packages excepted.
	within := func(p string, dirs ...string) bool {
		for _, s := range shared {
			if p == s {
				return false
			}
		}
		for _, d := range dirs {
			if p == d || strings.HasPrefix(p, d+"/") {
				return true
			}
		}
		return false
	}
	check := func(what string, pkgs []string, forbidden ...string) {
		t.Helper()
		for _, p := range deps(pkgs...) {
			if within(p, forbidden...) {
				t.Errorf("%s depends on %s", what, p)
			}
		}
	}
	check("the service worker", []string{"aisle/sw/..."}, "aisle/worker/browser", "aisle/api")
	check("the inference worker", []string{"aisle/worker/browser/..."}, "aisle/sw", "aisle/api")
	check("sync", []string{"aisle/sync/..."}, "aisle/sw", "aisle/worker", "aisle/api")
	check("the shared packages", shared, "aisle/sw", "aisle/worker/browser", "aisle/api")
}
