package server

import (
	"encoding/json"
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
