package shim

import (
	"strings"
	"testing"
)

func TestServiceWorkerVersion(t *testing.T) {
	js := ServiceWorker("0123456789abcdef")
	if !strings.Contains(js, "const VERSION = '0123456789abcdef';") || strings.Contains(js, "__AISLE_VERSION__") {
		t.Error("version not substituted")
	}
}

// TestPeriodicSync checks the contract between sw.js and the page (app.js): the tag the page
// registers and the message the page forwards to the inference worker.
func TestPeriodicSync(t *testing.T) {
	for _, want := range []string{"addEventListener('periodicsync'", "e.tag !== 'aisle-catalog'", "type: 'aisle-catalog-sync'"} {
		if !strings.Contains(SWJS, want) {
			t.Errorf("sw.js lacks %q", want)
		}
	}
}
