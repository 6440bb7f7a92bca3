package server

import (
	"encoding/json"
	"strings"
	"testing"

	"aisle/api/store"
)

// FuzzCSVRecords: any CSV either fails with a coded error or yields one
// JSON object per data row; never a panic.
func FuzzCSVRecords(f *testing.F) {
	f.Add("sku,name,price\nA,Apple,10\n")
	f.Add("sku,name,price,attr:colour,active\n\"A,1\",\"x\"\"y\",1e3,red,maybe\n")
	f.Add("\xef\xbb\xbfsku,quantity\nA,1\nB\n")
	f.Add("id,name\n")
	f.Add("sku,name,price\nA,'=HYPERLINK(\"x\"),1\nB,+cmd|' /C calc'!A0,2\nC,@SUM(1),3\n")
	f.Fuzz(func(t *testing.T, in string) {
		for _, ent := range []store.Entity{store.Products, store.Stock, store.FAQs, store.Promotions, store.Stores} {
			raws, conv, err := csvRecords(ent, []byte(in))
			if err != nil {
				continue
			}
			for _, r := range raws {
				if !json.Valid(r) {
					t.Fatalf("invalid JSON %s", r)
				}
			}
			for row := range conv {
				if row < 1 || row > len(raws) {
					t.Fatalf("error on row %d of %d", row, len(raws))
				}
			}
		}
	})
}

// FuzzCSVNeutralize: an exported cell never starts like a formula, and the import reads it back
// as it was.
func FuzzCSVNeutralize(f *testing.F) {
	for _, s := range []string{"=1+1", "+cmd", "-2", "@SUM(1)", "\tx", "\rx", "'=x", "'", "plain", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cell string) {
		out := neutralize(cell)
		if out != "" && strings.IndexByte(formulaStart, out[0]) >= 0 {
			t.Fatalf("neutralize(%q) = %q starts like a formula", cell, out)
		}
		if back := unneutralize(out); back != cell && !(strings.HasPrefix(cell, "'") && len(cell) > 1 && strings.IndexByte(formulaStart, cell[1]) >= 0) {
			t.Fatalf("unneutralize(neutralize(%q)) = %q", cell, back)
		}
	})
}
