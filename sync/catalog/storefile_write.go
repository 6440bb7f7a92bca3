package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteStoreFile writes sf as a STORE.json file that ParseStoreFile reads back to the same
// StoreFile: the store, then one product and one FAQ per line (diffs stay readable). A stock
// line's UpdatedAt is not part of the format. An FAQ whose id is the default for its position
// is written without one.
func WriteStoreFile(w io.Writer, sf *StoreFile) error {
	if len(sf.Stock) != len(sf.Products) {
		return fmt.Errorf("catalog: %d stock lines for %d products", len(sf.Stock), len(sf.Products))
	}
	type staffJSON struct {
		Backroom int64       `json:"backroom"`
		Supplier string      `json:"supplier,omitempty"`
		Cost     json.Number `json:"cost,omitempty"`
		Notes    string      `json:"notes,omitempty"`
	}
	type productJSON struct {
		SKU         string      `json:"sku"`
		Name        string      `json:"name"`
		Category    string      `json:"category,omitempty"`
		Brand       string      `json:"brand,omitempty"`
		Description string      `json:"description,omitempty"`
		Barcode     string      `json:"barcode,omitempty"`
		Price       json.Number `json:"price"`
		Currency    string      `json:"currency"`
		Stock       int64       `json:"stock"`
		Aisle       string      `json:"aisle,omitempty"`
		ImageURL    string      `json:"image_url,omitempty"`
		Staff       *staffJSON  `json:"staff,omitempty"`
	}
	type faqJSON struct {
		ID       string   `json:"id,omitempty"`
		Question string   `json:"question"`
		Answer   string   `json:"answer"`
		Tags     []string `json:"tags,omitempty"`
	}
	var err error
	line := func(v any) string {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		if err == nil {
			err = e.Encode(v)
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
	var b strings.Builder
	head := struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Timezone  string `json:"timezone"`
		Address   string `json:"address,omitempty"`
		NightlyAt string `json:"nightly_at,omitempty"`
	}{sf.Store.ID, sf.Store.Name, sf.Store.TimeZone, sf.Store.Address, sf.Store.NightlyAt}
	b.WriteString("{\n  \"store\": " + line(head) + ",\n  \"products\": [\n")
	for i, p := range sf.Products {
		st := sf.Stock[i]
		pj := productJSON{SKU: p.SKU, Name: p.Name, Category: p.Category, Brand: p.Brand, Description: p.Description,
			Barcode: p.Attributes[AttrBarcode], Price: json.Number(Major(p.Price)), Currency: p.Currency,
			Stock: st.Quantity, Aisle: st.Aisle, ImageURL: p.ImageURL}
		if st.Staff.Backroom != 0 || p.Staff != (ProductStaff{}) {
			pj.Staff = &staffJSON{Backroom: st.Staff.Backroom, Supplier: p.Staff.Supplier, Notes: p.Staff.Notes}
			if p.Staff.Cost != 0 {
				pj.Staff.Cost = json.Number(Major(p.Staff.Cost))
			}
		}
		b.WriteString("    " + line(pj) + separator(i, len(sf.Products)))
	}
	b.WriteString("  ],\n  \"faqs\": [\n")
	for i, f := range sf.FAQs {
		fj := faqJSON{ID: f.ID, Question: f.Question, Answer: f.Answer, Tags: f.Tags}
		if f.ID == defaultFAQID(sf.Store.ID, i) {
			fj.ID = ""
		}
		b.WriteString("    " + line(fj) + separator(i, len(sf.FAQs)))
	}
	b.WriteString("  ]\n}\n")
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// defaultFAQID is the id of the i-th FAQ (from 0) of a file that gives it none.
func defaultFAQID(store string, i int) string { return fmt.Sprintf("%s.faq-%d", store, i+1) }

func separator(i, n int) string {
	if i < n-1 {
		return ",\n"
	}
	return "\n"
}

// Major writes an amount in minor units in major units with two decimals: 1749 -> "17.49".
func Major(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}
