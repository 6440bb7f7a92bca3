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
