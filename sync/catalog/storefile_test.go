package catalog

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const sampleStoreFile = `{"store": {"id": "corner", "name": "Corner Shop", "timezone": "Europe/Paris", "address": "1 Rue Haute", "nightly_at": "03:30"},
 "products": [
  {"sku": "A-1", "name": "Brie de Meaux 300 g", "category": "Cheese", "brand": "Rouzaire", "description": "Soft cheese.",
   "barcode": "3256220000011", "price": 4.59, "currency": "EUR", "stock": 9, "aisle": "4A",
   "staff": {"backroom": 12, "supplier": "Fromages SA", "cost": 2.1, "notes": "keep cold"}},
  {"sku": "B-2", "name": "Baguette", "price": 1, "currency": "EUR", "stock": 0}
 ],
 "faqs": [
  {"question": "When are you open?", "answer": "8:00-20:00.", "tags": ["hours"]},
  {"id": "corner-returns", "question": "Can I return things?", "answer": "Within 14 days."}
 ]}`

// WriteStoreFile writes what ParseStoreFile reads back to the same StoreFile.
func TestStoreFileRoundTrip(t *testing.T) {
	sf, err := ParseStoreFile(strings.NewReader(sampleStoreFile))
	if err != nil {
		t.Fatal(FirstProblem(err))
	}
	if sf.FAQs[0].ID != "corner.faq-1" || sf.FAQs[1].ID != "corner-returns" {
		t.Fatalf("FAQ ids %q %q", sf.FAQs[0].ID, sf.FAQs[1].ID)
	}
	var out bytes.Buffer
	if err := WriteStoreFile(&out, sf); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 11 {
		t.Errorf("%d lines, want the store, one per product and FAQ:\n%s", n, out.String())
	}
	if strings.Contains(out.String(), "corner.faq-1") || !strings.Contains(out.String(), `"price":4.59`) ||
		!strings.Contains(out.String(), `"cost":2.10`) {
		t.Errorf("written:\n%s", out.String())
	}
	again, err := ParseStoreFile(&out)
	if err != nil {
		t.Fatal(FirstProblem(err))
	}
	for i := range sf.Stock { // not part of the format
		sf.Stock[i].UpdatedAt, again.Stock[i].UpdatedAt = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(sf, again) {
		t.Errorf("read back:\n%+v\nwant:\n%+v", again, sf)
	}
}

func TestWriteStoreFileMismatch(t *testing.T) {
	sf := &StoreFile{Store: Store{ID: "s"}, Products: []ProductRecord{{Product: Product{SKU: "A"}}}}
	if err := WriteStoreFile(&bytes.Buffer{}, sf); err == nil {
		t.Error("a product without its stock line was written")
	}
}

func TestMajor(t *testing.T) {
	for minor, want := range map[int64]string{0: "0.00", 5: "0.05", 1749: "17.49", 100: "1.00", -250: "-2.50"} {
		if got := Major(minor); got != want {
			t.Errorf("Major(%d) = %q, want %q", minor, got, want)
		}
	}
}

func TestStoreFileRefusesRepeatedKeys(t *testing.T) {
	_, err := ParseStoreFile(strings.NewReader(`{"store":{"id":"s","name":"S"},"products":[{"sku":"A","name":"Tea","price":1,"price":2}]}`))
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Fields) != 1 || ce.Fields[0].Field != "products[0].price" {
		t.Fatalf("a price given twice: %v", err)
	}
	if _, err := ParseStoreFile(strings.NewReader(`{"store":{"id":"s","name":"S"},"generator":"x","products":[{"sku":"A","name":"Tea","price":1,"currency":"EUR","stock":3,"Colour":"red"}]}`)); err != nil {
		t.Errorf("keys the format does not know are skipped: %v", err)
	}
}
