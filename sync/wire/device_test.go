package wire

import (
	"strings"
	"testing"
)

func TestDeviceID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id := NewDeviceID()
		if !ValidDeviceID(id) || seen[id] {
			t.Fatalf("NewDeviceID: %q (valid %v, repeated %v)", id, ValidDeviceID(id), seen[id])
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "short", strings.Repeat("A", 21), strings.Repeat("A", 23),
		strings.Repeat("A", 21) + "B", // non-zero unused bits
		strings.Repeat("A", 20) + "+A", strings.Repeat("A", 20) + "/A", strings.Repeat("A", 20) + "=A",
		strings.Repeat("A", 20) + " A", strings.Repeat("A", 20) + "éA"[:1] + "A"} {
		if ValidDeviceID(bad) {
			t.Errorf("ValidDeviceID(%q) = true", bad)
		}
	}
	if !ValidDeviceID(strings.Repeat("A", 21) + "Q") {
		t.Error("a valid ID refused")
	}
}
