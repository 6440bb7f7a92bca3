package assistant

import (
	"errors"
	"strings"
	"testing"

	"aisle/sync/catalog"
)

// gateRun feeds text to a proseGate in pieces of `piece` bytes (as tokens arrive) and returns
// what was shown, what emit received and why it stopped.
func gateRun(t *testing.T, s *Store, text string, piece int) (shown, emitted, stopped string) {
	t.Helper()
	var got strings.Builder
	g := newProseGate(s, func(x string) error { got.WriteString(x); return nil })
	var err error
	for i := 0; i < len(text) && err == nil; i += piece {
		err = g.write(text[i:min(i+piece, len(text))])
	}
	if err == nil {
		err = g.flush(true)
	}
	if err != nil && !errors.Is(err, errStopped) {
		t.Fatal(err)
	}
	if (g.stopped != "") != errors.Is(err, errStopped) && err != nil {
		t.Errorf("stopped %q with error %v", g.stopped, err)
	}
	return g.text(), got.String(), g.stopped
}

func TestProseGate(t *testing.T) {
	latin := &Store{Info: catalog.Store{Name: "Metro Electronics"},
		Items: []*Item{{Product: catalog.Product{Name: "Apple iPhone 15, 128 GB"}}}}
	greek := &Store{Info: catalog.Store{Name: "Φαρμακείο Κέντρο"}}
	for _, tc := range []struct {
		name          string
		s             *Store
		text          string
		shown, reason string
	}{
		{"prose passes whole", latin, " Yes, we have the Apple iPhone 15 (€899.00) in aisle 3B!\nAnything else?",
			"Yes, we have the Apple iPhone 15 (€899.00) in aisle 3B!\nAnything else?", ""},
		{"short answer", latin, "Yes.", "Yes.", ""},
		{"another script", latin, "vehicle上cognizer);</ vendor", "", stopUnreadable},
		{"garbage after prose: the three words before it go too", latin,
			"Yes, it costs €6.95 and it is in aisle 2A. getListPartial chains",
			"Yes, it costs €6.95 and it is", stopUnreadable},
		{"code characters", latin, "You will find it in {aisle} 2", "You will", stopUnreadable},
		{"mixed case not the store's", latin, "Our iPad is here", "", stopUnreadable},
		{"the store's script", greek, "Ναι, το έχουμε στον διάδρομο 2.", "Ναι, το έχουμε στον διάδρομο 2.", ""},
		{"latin in a greek store", greek, "Yes, aisle 2.", "Yes, aisle 2.", ""},
		{"cyrillic in a greek store", greek, "Да", "", stopUnreadable},
		{"repeating", latin, "It is in aisle 2A. It is in aisle 2A. It is in aisle 2A.",
			"It is in aisle 2A.", stopRepeating},
		{"repeating a phrase later", latin, "We have it in stock, we have it in stock today",
			"We have it in stock,", stopRepeating},
		{"nothing", latin, "  \n ", "", ""},
	} {
		for _, piece := range []int{1, 3, 1000} {
			shown, emitted, reason := gateRun(t, tc.s, tc.text, piece)
			if shown != tc.shown || reason != tc.reason {
				t.Errorf("%s (pieces of %d): shown %q stopped %q, want %q %q", tc.name, piece, shown, reason, tc.shown, tc.reason)
			}
			if emitted != shown {
				t.Errorf("%s: emitted %q, shown %q", tc.name, emitted, shown)
			}
		}
	}
}

// An answer cut at the token limit loses its last words: the figure being written may be cut.
func TestProseGateCut(t *testing.T) {
	s := &Store{}
	var got strings.Builder
	g := newProseGate(s, func(x string) error { got.WriteString(x); return nil })
	if err := g.write("Ibuprofen is in aisle 2A and costs €6."); err != nil {
		t.Fatal(err)
	}
	if err := g.flush(false); err != nil {
		t.Fatal(err)
	}
	if g.text() != "Ibuprofen is in aisle" || got.String() != g.text() || g.stopped != stopCut {
		t.Errorf("shown %q, emitted %q, stopped %q", g.text(), got.String(), g.stopped)
	}
}

// Ungated (for measuring) passes every word.
func TestProseGateOff(t *testing.T) {
	var got strings.Builder
	g := newProseGate(&Store{}, func(x string) error { got.WriteString(x); return nil })
	g.off = true
	text := "vehicle上cognizer);</ vendor It is in aisle 2A. It is in aisle 2A."
	if err := g.write(text); err != nil {
		t.Fatal(err)
	}
	if err := g.flush(true); err != nil {
		t.Fatal(err)
	}
	if g.text() != text || got.String() != text || g.stopped != "" {
		t.Errorf("shown %q, emitted %q, stopped %q", g.text(), got.String(), g.stopped)
	}
}
