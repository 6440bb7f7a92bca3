package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// StoreFile is one whole store in one JSON file (STORE.json): what `slm ask -catalog` reads and
// what the admin API imports all or nothing (POST /v1/admin/import/store). Shape:
//
//	{"store": {"id", "name", "timezone", "address"?},
//	 "products": [{"sku", "name", "category"?, "brand"?, "description"?, "barcode"?,
//	               "price", "currency", "stock", "aisle"?,
//	               "staff"?: {"backroom", "supplier", "cost", "notes"}}],
//	 "faqs": [{"id"?, "question", "answer", "tags"?}]}
//
// Prices and costs are in major units (17.49) with at most two decimals; stock is the integer
// quantity on the shelf. Every product listed is carried by the store (it gets a stock line).
// An FAQ without an id gets "<store id>.faq-<n>" (n its 1-based position), so the same file
// always gives the same IDs. Unknown keys are ignored.
type StoreFile struct {
	Store    Store
	Products []ProductRecord
	Stock    []StockRecord // one per product, same order
	FAQs     []FAQ
}

// storeFileJSON mirrors the file; numbers stay json.Number so prices convert exactly.
type storeFileJSON struct {
	Store struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Timezone  string `json:"timezone"`
		TimeZone  string `json:"time_zone"` // the catalog's own spelling, accepted too
		Address   string `json:"address"`
		NightlyAt string `json:"nightly_at"`
	} `json:"store"`
}

type storeFileProduct struct {
	SKU         *string         `json:"sku"`
	Name        string          `json:"name"`
	Category    string          `json:"category"`
	Brand       string          `json:"brand"`
	Description string          `json:"description"`
	Barcode     json.RawMessage `json:"barcode"` // a string or a number
	Price       json.Number     `json:"price"`
	Currency    string          `json:"currency"`
	Stock       json.Number     `json:"stock"`
	Aisle       string          `json:"aisle"`
	ImageURL    string          `json:"image_url"`
	Staff       *struct {
		Backroom json.Number `json:"backroom"`
		Supplier string      `json:"supplier"`
		Cost     json.Number `json:"cost"`
		Notes    string      `json:"notes"`
	} `json:"staff"`
}

type storeFileFAQ struct {
	ID       string   `json:"id"`
	Question string   `json:"question"`
	Answer   string   `json:"answer"`
	Tags     []string `json:"tags"`
}

// AttrBarcode is the product attribute that holds a barcode (EAN/UPC digits).
const AttrBarcode = "barcode"

// MaxStoreFileBytes bounds a store file.
const MaxStoreFileBytes = 64 << 20

// ParseStoreFile reads and validates a store file. Every problem is reported in one Invalid
// *Error whose Fields name the line (Row) and the field ("products[3].price"); the first one
// is the one a command line shows (see [FirstProblem]).
func ParseStoreFile(r io.Reader) (*StoreFile, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxStoreFileBytes+1))
	if err != nil {
		return nil, Wrap(err, Invalid, "cannot read the store file: %v", err)
	}
	if len(data) > MaxStoreFileBytes {
		return nil, Errorf(TooLarge, "the store file is larger than %d MiB", MaxStoreFileBytes>>20)
	}
	// keys the format does not know are skipped (files may carry more), but a key given twice is
	// ambiguous: which price did the author mean?
	if err := checkKeys(data, nil); err != nil {
		return nil, err
	}
	p := &storeFileParser{data: data}
	return p.parse()
}

// FirstProblem renders err as one line: "line 12: products[3].price: must not be negative".
func FirstProblem(err error) string {
	var ce *Error
	if errors.As(err, &ce) && len(ce.Fields) > 0 {
		f := ce.Fields[0]
		s := ""
		if f.Row > 0 {
			s = fmt.Sprintf("line %d: ", f.Row)
		}
		if f.Field != "" {
			s += f.Field + ": "
		}
		s += f.Message
		if n := len(ce.Fields) - 1; n > 0 {
			s += fmt.Sprintf(" (and %d more problems)", n)
		}
		return s
	}
	if ce != nil {
		return ce.Message
	}
	return err.Error()
}

type storeFileParser struct {
	data []byte
	fe   fieldErrors
}

func (p *storeFileParser) line(off int64) int {
	return bytes.Count(p.data[:min(int(off), len(p.data))], []byte{'\n'}) + 1
}

func (p *storeFileParser) add(off int64, field, format string, args ...any) {
	p.fe = append(p.fe, FieldError{Row: p.line(off), Field: field, Message: fmt.Sprintf(format, args...)})
}

// syntax turns a JSON decoding error into a field error at its offset.
func (p *storeFileParser) syntax(dec *json.Decoder, field string, err error) {
	off := dec.InputOffset()
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
		p.add(off, field, "malformed JSON: %v", se)
	case errors.As(err, &te):
		f := field
		if te.Field != "" {
			f += "." + te.Field
		}
		p.add(te.Offset, f, "must be %s, not a JSON %s", jsonKind(te.Type.String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		p.add(int64(len(p.data)), field, "the file ends too early (malformed JSON)")
	default:
		p.add(off, field, "malformed JSON: %v", err)
	}
}

func jsonKind(goType string) string {
	switch {
	case goType == "string", goType == "*string":
		return "a string"
	case goType == "json.Number":
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return "an object"
}

func (p *storeFileParser) fail() error {
	return &Error{Code: Invalid, Message: "invalid store file", Fields: p.fe}
}

func (p *storeFileParser) parse() (*StoreFile, error) {
	dec := json.NewDecoder(bytes.NewReader(p.data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		if err != nil {
			p.syntax(dec, "", err)
		} else {
			p.add(0, "", "the store file must be a JSON object {\"store\": ..., \"products\": [...], \"faqs\": [...]}")
		}
		return nil, p.fail()
	}
	out := &StoreFile{}
	var head storeFileJSON
	var prods []storeFileProduct
	var prodOff []int64
	var faqs []storeFileFAQ
	var faqOff []int64
	seen := map[string]bool{}
	for dec.More() {
		keyTok, err := dec.Token()
		if err != nil {
			p.syntax(dec, "", err)
			return nil, p.fail()
		}
		key, _ := keyTok.(string)
		seen[key] = true
		switch key {
		case "store":
			if err := dec.Decode(&head.Store); err != nil {
				p.syntax(dec, "store", err)
				return nil, p.fail()
			}
		case "products", "faqs":
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				if err != nil {
					p.syntax(dec, key, err)
				} else {
					p.add(dec.InputOffset(), key, "must be an array")
				}
				return nil, p.fail()
			}
			for i := 0; dec.More(); i++ {
				off := dec.InputOffset()
				// the offset is before the separating comma and white space; step past them
				for int(off) < len(p.data) && strings.IndexByte(", \t\r\n", p.data[off]) >= 0 {
					off++
				}
				field := fmt.Sprintf("%s[%d]", key, i)
				if key == "products" {
					var v storeFileProduct
					if err := dec.Decode(&v); err != nil {
						p.syntax(dec, field, err)
						return nil, p.fail()
					}
					prods, prodOff = append(prods, v), append(prodOff, off)
				} else {
					var v storeFileFAQ
					if err := dec.Decode(&v); err != nil {
						p.syntax(dec, field, err)
						return nil, p.fail()
					}
					faqs, faqOff = append(faqs, v), append(faqOff, off)
				}
			}
			if _, err := dec.Token(); err != nil {
				p.syntax(dec, key, err)
				return nil, p.fail()
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				p.syntax(dec, key, err)
				return nil, p.fail()
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		p.syntax(dec, "", err)
		return nil, p.fail()
	}
	if _, err := dec.Token(); err != io.EOF {
		p.add(dec.InputOffset(), "", "data after the JSON object")
		return nil, p.fail()
	}
	if !seen["store"] {
		p.add(0, "store", "is required")
		return nil, p.fail()
	}

	s := Store{ID: strings.TrimSpace(head.Store.ID), Name: head.Store.Name, TimeZone: head.Store.Timezone,
		Address: head.Store.Address, NightlyAt: head.Store.NightlyAt}
	if s.TimeZone == "" {
		s.TimeZone = head.Store.TimeZone
	}
	s.Normalize()
	p.fields(0, "store", s.Validate())
	out.Store = s

	skus := map[string]int{}
	now := time.Now().UTC()
	for i, v := range prods {
		off, field := prodOff[i], fmt.Sprintf("products[%d]", i)
		if v.SKU == nil || strings.TrimSpace(*v.SKU) == "" {
			p.add(off, field+".sku", "is required")
			continue
		}
		rec := ProductRecord{Product: Product{SKU: strings.TrimSpace(*v.SKU), Name: v.Name, Category: v.Category,
			Brand: v.Brand, Description: v.Description, Currency: v.Currency, ImageURL: v.ImageURL, Active: true}}
		if j, dup := skus[rec.SKU]; dup {
			p.add(off, field+".sku", "%q is listed twice (also products[%d])", rec.SKU, j)
		}
		skus[rec.SKU] = i
		if strings.TrimSpace(v.Currency) == "" {
			p.add(off, field+".currency", "is required (a three-letter ISO 4217 code such as EUR)")
		}
		if price, msg := majorToMinor(v.Price, true); msg != "" {
			p.add(off, field+".price", "%s", msg)
		} else {
			rec.Price = price
		}
		if bc := strings.Trim(strings.TrimSpace(string(v.Barcode)), `"`); bc != "" && bc != "null" {
			if strings.Trim(bc, "0123456789") != "" || len(bc) < 8 || len(bc) > 14 {
				p.add(off, field+".barcode", "must be 8 to 14 digits (EAN/UPC)")
			} else {
				rec.Attributes = map[string]string{AttrBarcode: bc}
			}
		}
		st := StockRecord{Stock: Stock{SKU: rec.SKU, Aisle: strings.TrimSpace(v.Aisle), UpdatedAt: now}}
		if q, msg := wholeNumber(v.Stock, true); msg != "" {
			p.add(off, field+".stock", "%s", msg)
		} else {
			st.Quantity = q
		}
		if v.Staff != nil {
			rec.Staff.Supplier, rec.Staff.Notes = v.Staff.Supplier, v.Staff.Notes
			if c, msg := majorToMinor(v.Staff.Cost, false); msg != "" {
				p.add(off, field+".staff.cost", "%s", msg)
			} else {
				rec.Staff.Cost = c
			}
			if b, msg := wholeNumber(v.Staff.Backroom, false); msg != "" {
				p.add(off, field+".staff.backroom", "%s", msg)
			} else {
				st.Staff.Backroom = b
			}
		}
		rec.Normalize()
		st.Normalize()
		p.fields(off, field, rec.Validate())
		p.fields(off, field, st.Validate())
		out.Products = append(out.Products, rec)
		out.Stock = append(out.Stock, st)
	}
	ids := map[string]int{}
	for i, v := range faqs {
		off, field := faqOff[i], fmt.Sprintf("faqs[%d]", i)
		f := FAQ{ID: strings.TrimSpace(v.ID), Store: s.ID, Question: v.Question, Answer: v.Answer, Tags: v.Tags}
		if f.ID == "" {
			f.ID = defaultFAQID(s.ID, i)
		}
		if j, dup := ids[f.ID]; dup {
			p.add(off, field+".id", "%q is used twice (also faqs[%d])", f.ID, j)
		}
		ids[f.ID] = i
		f.Normalize()
		p.fields(off, field, f.Validate())
		out.FAQs = append(out.FAQs, f)
	}
	if len(p.fe) > 0 {
		return nil, p.fail()
	}
	return out, nil
}

// fields adds the field errors of a Validate result under prefix.
func (p *storeFileParser) fields(off int64, prefix string, err error) {
	var ce *Error
	if !errors.As(err, &ce) {
		return
	}
	for _, f := range ce.Fields {
		p.add(off, prefix+"."+f.Field, "%s", f.Message)
	}
}

// majorToMinor converts a decimal amount in major units ("17.49", 17.5, "3") to minor units
// exactly. It returns a message instead when n is missing (and required), negative, has more
// than two decimals or is too large.
func majorToMinor(n json.Number, required bool) (int64, string) {
	s := strings.TrimSpace(n.String())
	if s == "" {
		if required {
			return 0, "is required (a number in major units, e.g. 17.49)"
		}
		return 0, ""
	}
	if strings.HasPrefix(s, "-") {
		return 0, "must not be negative"
	}
	whole, frac, _ := strings.Cut(s, ".")
	if strings.ContainsAny(s, "eE") || whole == "" || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return 0, fmt.Sprintf("%q is not a plain decimal amount such as 17.49", s)
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 2 {
		return 0, fmt.Sprintf("%s has more than two decimals", s)
	}
	if len(whole) > 12 {
		return 0, "is too large"
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "00")[:2], 10, 64)
	v := w*100 + f
	if v > MaxPrice {
		return 0, "is too large"
	}
	return v, ""
}

// wholeNumber parses a non-negative integer quantity.
func wholeNumber(n json.Number, required bool) (int64, string) {
	s := strings.TrimSpace(n.String())
	if s == "" {
		if required {
			return 0, "is required (a whole number, 0 or more)"
		}
		return 0, ""
	}
	if strings.HasPrefix(s, "-") {
		return 0, "must not be negative"
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(s, 64); ferr == nil && f == float64(int64(f)) {
			v = int64(f)
		} else {
			return 0, fmt.Sprintf("%q is not a whole number", s)
		}
	}
	if v > MaxQuantity {
		return 0, "is too large"
	}
	return v, ""
}
