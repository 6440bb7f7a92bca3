package server_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"aisle/api/server"
	"aisle/sync/catalog"
)

// TestAdminWritesAreStrict: the admin API reads JSON only when it is sent as JSON, and refuses a
// key given twice or in another case (encoding/json alone keeps the last and ignores case), and
// nothing is written.
func TestAdminWritesAreStrict(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	for name, tc := range map[string]struct {
		body, ctype string
		want        int
		says        string
	}{
		"repeated key":   {`{"sku":"T1","sku":"T2","name":"Tea","price":100}`, "application/json", 400, "twice"},
		"miscased key":   {`{"SKU":"T1","name":"Tea","price":100}`, "application/json", 400, "unknown field"},
		"nested miscase": {`{"sku":"T1","name":"Tea","price":100,"staff":{"Cost":1}}`, "application/json", 400, "staff.Cost"},
		"unknown key":    {`{"sku":"T1","name":"Tea","price":100,"colour":"red"}`, "application/json", 400, "colour"},
		"text/plain":     {`{"sku":"T1","name":"Tea","price":100}`, "text/plain", 415, "Content-Type"},
		"form":           {`{"sku":"T1","name":"Tea","price":100}`, "application/x-www-form-urlencoded", 415, "Content-Type"},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.do("POST", "/v1/admin/products", e.Admin, tc.body, "Content-Type", tc.ctype).want(t, tc.want)
			if !strings.Contains(string(r.Body), tc.says) {
				t.Errorf("the error does not say %q: %s", tc.says, r.Body)
			}
		})
	}
	e.do("GET", "/v1/admin/products/T1", e.Admin, nil).want(t, 404)
	e.do("GET", "/v1/admin/products/T2", e.Admin, nil).want(t, 404)
	// a JSON type with a charset, or a +json type, is JSON
	e.do("POST", "/v1/admin/products", e.Admin, `{"sku":"T1","name":"Tea","price":100}`, "Content-Type", "application/json; charset=utf-8").want(t, 201)
	// an attribute map's keys are the admin's own: any case, but not twice
	e.do("PUT", "/v1/admin/products/T1", e.Admin, `{"name":"Tea","price":100,"attributes":{"Size":"1","size":"2"}}`).want(t, 200)
	e.do("PUT", "/v1/admin/products/T1", e.Admin, `{"name":"Tea","price":100,"attributes":{"size":"1","size":"2"}}`).want(t, 400)
	// bulk JSON imports hold each record to the same rules
	e.do("POST", "/v1/admin/import?entity=products", e.Admin, `[{"sku":"T3","name":"A","price":1,"name":"B"}]`).want(t, 400)
	e.do("GET", "/v1/admin/products/T3", e.Admin, nil).want(t, 404)
}

// TestTextFieldsRefuseInvisibleCharacters: text that customers read is stored in NFC, and a
// control, bidirectional or invisible character is refused with the field named; line breaks
// are kept where paragraphs belong.
func TestTextFieldsRefuseInvisibleCharacters(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	for name, tc := range map[string]struct{ field, value string }{
		"RTL override":     {"name", "Milk \u202e99.1€"},
		"NUL":              {"name", "Milk\x00"},
		"ANSI escape":      {"brand", "\x1b[31mRed"},
		"line break":       {"name", "Milk\nFree"},
		"zero-width space": {"category", "Da\u200biry"},
		"isolate":          {"description", "Fresh \u2067milk\u2069"},
		"BOM":              {"name", "\ufeffMilk"},
		"carriage return":  {"name", "Milk\rFree"},
		"line separator":   {"name", "Milk\u2028Free"},
		"attribute value":  {"attributes.size", "1\u202eL"},
	} {
		t.Run(name, func(t *testing.T) {
			p := map[string]any{"sku": "M1", "name": "Milk", "price": 100}
			switch {
			case strings.HasPrefix(tc.field, "staff."):
				p["staff"] = map[string]any{strings.TrimPrefix(tc.field, "staff."): tc.value}
			case strings.HasPrefix(tc.field, "attributes."):
				p["attributes"] = map[string]any{strings.TrimPrefix(tc.field, "attributes."): tc.value}
			default:
				p[tc.field] = tc.value
			}
			r := e.do("POST", "/v1/admin/products", e.Admin, p).want(t, 400)
			var body struct {
				Error catalog.Error `json:"error"`
			}
			r.JSON(t, &body)
			if len(body.Error.Fields) != 1 || body.Error.Fields[0].Field != tc.field {
				t.Errorf("fields %+v, want one naming %q", body.Error.Fields, tc.field)
			}
		})
	}
	e.do("GET", "/v1/admin/products/M1", e.Admin, nil).want(t, 404)

	// NFC: "e" + combining acute is stored as "é"; paragraphs keep their line breaks (CRLF as LF)
	e.do("POST", "/v1/admin/products", e.Admin, map[string]any{"sku": "C1", "name": "Cafe\u0301 noir", "price": 300,
		"description": "Dark roast.\r\nWhole beans.", "staff": map[string]any{"notes": "a\rb"}, "attributes": map[string]any{"origin": "Pe\u0301rou"}}).want(t, 201)
	var got catalog.ProductRecord
	e.do("GET", "/v1/admin/products/C1", e.Admin, nil).want(t, 200).JSON(t, &got)
	if got.Name != "Café noir" || got.Description != "Dark roast.\nWhole beans." || got.Attributes["origin"] != "Pérou" || got.Staff.Notes != "a\nb" {
		t.Errorf("stored %q %q %q %q", got.Name, got.Description, got.Attributes["origin"], got.Staff.Notes)
	}
	// joiners stay: emoji sequences and Persian need them
	e.do("POST", "/v1/admin/faqs", e.Admin, map[string]any{"question": "Cooking class? 👩\u200d🍳", "answer": "می\u200cخواهم"}).want(t, 201)
}

// TestPromotionsNameExistingProducts: one rule for references: a promotion, like a stock line,
// names only products that exist, and a product a promotion names cannot be deleted.
func TestPromotionsNameExistingProducts(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	e.do("POST", "/v1/admin/products", e.Admin, map[string]any{"sku": "P1", "name": "Pears", "price": 100}).want(t, 201)
	promo := func(skus ...string) map[string]any {
		return map[string]any{"title": "Autumn", "skus": skus, "discount_percent": 10,
			"starts": time.Now().UTC().Format(time.RFC3339), "ends": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)}
	}
	r := e.do("POST", "/v1/admin/promotions", e.Admin, promo("P1", "NOPE")).want(t, 400)
	if !strings.Contains(string(r.Body), `NOPE`) || !strings.Contains(string(r.Body), `"skus"`) {
		t.Errorf("the error does not name the missing SKU: %s", r.Body)
	}
	var created struct {
		ID string `json:"id"`
	}
	e.do("POST", "/v1/admin/promotions", e.Admin, promo("P1")).want(t, 201).JSON(t, &created)
	e.do("DELETE", "/v1/admin/products/P1", e.Admin, nil).want(t, http.StatusConflict)
	e.do("DELETE", "/v1/admin/promotions/"+created.ID, e.Admin, nil).want(t, 204)
	e.do("DELETE", "/v1/admin/products/P1", e.Admin, nil).want(t, 204)
}

// TestCSVExportNeutralisesFormulas: a list exported as CSV has the import's columns; a cell a
// spreadsheet would run as a formula starts with an apostrophe (OWASP's CSV injection rule), and
// the export imports back unchanged.
func TestCSVExportNeutralisesFormulas(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	names := map[string]string{
		"F1": `=HYPERLINK("http://evil.example","Click")`,
		"F2": `+cmd|' /C calc'!A0`,
		"F3": `@SUM(1+1)`,
		"F4": `-2 for 1`,
		"F5": `Plain tea`,
	}
	for sku, name := range names {
		e.do("POST", "/v1/admin/products", e.Admin, map[string]any{"sku": sku, "name": name, "price": 100,
			"attributes": map[string]any{"note": "=1+1"}, "staff": map[string]any{"supplier": "@evil"}}).want(t, 201)
	}
	r := e.do("GET", "/v1/admin/products?limit=100", e.Admin, nil, "Accept", "text/csv").want(t, 200)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("Content-Type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil || len(rows) < 1+len(names) {
		t.Fatalf("%d rows, %v:\n%s", len(rows), err, r.Body)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	seen := 0
	for _, row := range rows[1:] {
		want, ours := names[row[col["sku"]]]
		if !ours { // the seeded demo products
			continue
		}
		seen++
		if strings.ContainsAny(want[:1], "=+-@") {
			want = "'" + want
		}
		if row[col["name"]] != want || row[col["attr:note"]] != "'=1+1" || row[col["supplier"]] != "'@evil" {
			t.Errorf("row %q: name %q, want %q; attr %q, supplier %q", row[col["sku"]], row[col["name"]], want, row[col["attr:note"]], row[col["supplier"]])
		}
	}
	if seen != len(names) {
		t.Errorf("%d of our %d products exported", seen, len(names))
	}
	// the export imports back as it was: nothing changes
	var res struct {
		Rows, Changed int
	}
	e.do("POST", "/v1/admin/import?entity=products", e.Admin, string(r.Body), "Content-Type", "text/csv").want(t, 200).JSON(t, &res)
	if res.Rows != len(rows)-1 || res.Changed != 0 {
		t.Errorf("re-import: %+v, want %d rows and none changed", res, len(rows)-1)
	}
	var got catalog.ProductRecord
	e.do("GET", "/v1/admin/products/F1", e.Admin, nil).want(t, 200).JSON(t, &got)
	if got.Name != names["F1"] {
		t.Errorf("after the round trip: %q", got.Name)
	}
	// a page of the export links the next one
	r = e.do("GET", "/v1/admin/products?limit=2&format=csv", e.Admin, nil).want(t, 200)
	if link := r.Header.Get("Link"); !strings.Contains(link, "after=") || !strings.Contains(link, "format=csv") || !strings.Contains(link, `rel="next"`) {
		t.Errorf("Link %q", link)
	}
}
