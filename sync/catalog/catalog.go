// Package catalog defines aisle's domain: a chain's stores, its products,
// per-store stock, FAQs and promotions, and the staff-only halves of
// products and stock.
//
// Staff-only data lives in separate types ([ProductStaff], [StockStaff]) so
// that it can only ever be serialised where a caller asked for it: the
// customer audience of the sync protocol never carries those types, and the
// admin API nests them under a "staff" key.
//
// Identifiers are strings (see [ValidID]); money is an integer number of
// minor units (cents) with an ISO 4217 currency, so every number fits a
// JavaScript double exactly.
package catalog

import (
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on field sizes. They bound memory on every device that stores the
// catalog and keep pages small.
const (
	MaxIDLen         = 64
	MaxNameLen       = 200
	MaxTextLen       = 4000
	MaxAttributes    = 50
	MaxAttrKeyLen    = 64
	MaxAttrValueLen  = 500
	MaxURLLen        = 2000
	MaxTags          = 20
	MaxTagLen        = 40
	MaxPromotionSKUs = 500
	MaxPrice         = 1_000_000_000_00 // one billion in major units
	MaxQuantity      = 1_000_000_000
	DefaultNightlyAt = "02:00"
	DefaultCurrency  = "EUR"
	MaxDiscountPerc  = 100
	MaxAisleLen      = 64
	maxAddressLen    = 500
)

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ValidID reports whether s is an acceptable identifier: 1 to 64 ASCII
// letters, digits, '.', '_' or '-', starting with a letter or digit.
func ValidID(s string) bool { return len(s) <= MaxIDLen && idRE.MatchString(s) }

// Store is one shop of the chain. Public: every device of the store gets it.
type Store struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TimeZone string `json:"time_zone"` // IANA name, e.g. "Europe/Paris"
	Address  string `json:"address,omitempty"`
	// NightlyAt is the local wall-clock time "HH:MM" at which the day's
	// changes are sealed into a checkpoint. Empty means DefaultNightlyAt.
	NightlyAt string `json:"nightly_at,omitempty"`
}

// Product is the public part of a catalog item; products are chain-wide.
type Product struct {
	SKU         string            `json:"sku"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Category    string            `json:"category,omitempty"`
	Brand       string            `json:"brand,omitempty"`
	Price       int64             `json:"price"`    // minor units (cents)
	Currency    string            `json:"currency"` // ISO 4217, upper case
	Attributes  map[string]string `json:"attributes,omitempty"`
	ImageURL    string            `json:"image_url,omitempty"`
	Active      bool              `json:"active"`
}

// ProductStaff is the staff-only part of a product, keyed by the same SKU.
type ProductStaff struct {
	Cost     int64  `json:"cost"` // minor units, same currency as the price
	Supplier string `json:"supplier,omitempty"`
	Notes    string `json:"notes,omitempty"`
}

// ProductRecord is a product as administrators see and write it.
type ProductRecord struct {
	Product
	Staff ProductStaff `json:"staff"`
}

// Stock is the public stock of one product in one store.
type Stock struct {
	SKU       string    `json:"sku"`
	Quantity  int64     `json:"quantity"` // on the shelf, >= 0
	Aisle     string    `json:"aisle,omitempty"`
	UpdatedAt time.Time `json:"updated_at"` // set by the server on every write
}

// StockStaff is the staff-only part of a stock line.
type StockStaff struct {
	Backroom int64  `json:"backroom"` // units in the back room, >= 0
	Notes    string `json:"notes,omitempty"`
}

// StockRecord is a stock line as administrators and staff write it.
type StockRecord struct {
	Stock
	Staff StockStaff `json:"staff"`
}

// FAQ is a question and answer shown by the assistant. Store "" means the
// FAQ is global: every store's devices get it.
type FAQ struct {
	ID       string   `json:"id"`
	Store    string   `json:"store,omitempty"`
	Question string   `json:"question"`
	Answer   string   `json:"answer"`
	Tags     []string `json:"tags,omitempty"`
}

// Promotion is a time-boxed discount on some products. Store "" means
// chain-wide.
type Promotion struct {
	ID              string    `json:"id"`
	Store           string    `json:"store,omitempty"`
	Title           string    `json:"title"`
	Description     string    `json:"description,omitempty"`
	SKUs            []string  `json:"skus"`
	DiscountPercent int       `json:"discount_percent"` // 1..100
	Starts          time.Time `json:"starts"`
	Ends            time.Time `json:"ends"`
}

// Active reports whether the promotion runs at t.
func (p Promotion) ActiveAt(t time.Time) bool { return !t.Before(p.Starts) && t.Before(p.Ends) }

// checkLine checks a one-line text field (a name, a title, an aisle): valid UTF-8, at most max
// characters, none that a text field refuses (refusedRune).
func checkLine(fe *fieldErrors, field, v string, max int, required bool) {
	checkText(fe, field, v, max, required, false)
}

// checkParagraphs checks a text field that may hold line breaks and tabs (a description, an
// answer, notes).
func checkParagraphs(fe *fieldErrors, field, v string, max int, required bool) {
	checkText(fe, field, v, max, required, true)
}

func checkText(fe *fieldErrors, field, v string, max int, required, multiline bool) {
	switch {
	case required && strings.TrimSpace(v) == "":
		fe.add(field, "is required")
	case !utf8.ValidString(v):
		fe.add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(v) > max:
		fe.add(field, "is longer than %d characters", max)
	default:
		if r, what := refusedRune(v, multiline); what != "" {
			fe.add(field, "contains %s (%U); remove it", what, r)
		}
	}
}

func checkID(fe *fieldErrors, field, v string) {
	if !ValidID(v) {
		fe.add(field, "must be 1-%d letters, digits, '.', '_' or '-', starting with a letter or digit", MaxIDLen)
	}
}

// ParseClock parses "HH:MM" (24-hour) into hours and minutes.
func ParseClock(s string) (h, m int, ok bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, 0, false
		}
	}
	h = int(s[0]-'0')*10 + int(s[1]-'0')
	m = int(s[3]-'0')*10 + int(s[4]-'0')
	return h, m, h < 24 && m < 60
}

// Normalize fills defaults. Validate reports problems; call Normalize first.
func (s *Store) Normalize() {
	s.Name = line(s.Name)
	s.Address = line(s.Address)
	if s.NightlyAt == "" {
		s.NightlyAt = DefaultNightlyAt
	}
	if s.TimeZone == "" {
		s.TimeZone = "UTC"
	}
}

// Validate reports every invalid field as one Invalid *Error.
func (s Store) Validate() error {
	var fe fieldErrors
	checkID(&fe, "id", s.ID)
	checkLine(&fe, "name", s.Name, MaxNameLen, true)
	checkLine(&fe, "address", s.Address, maxAddressLen, false)
	if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "" || s.TimeZone == "Local" {
		fe.add("time_zone", "unknown time zone %q", s.TimeZone)
	}
	if _, _, ok := ParseClock(s.NightlyAt); !ok {
		fe.add("nightly_at", "must be HH:MM (24-hour)")
	}
	return fe.err("store")
}

// Normalize trims text and fills the default currency.
func (p *ProductRecord) Normalize() {
	p.Name = line(p.Name)
	p.Description = paragraphs(p.Description)
	p.Category = line(p.Category)
	p.Brand = line(p.Brand)
	p.Staff.Supplier = line(p.Staff.Supplier)
	p.Staff.Notes = paragraphs(p.Staff.Notes)
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	if p.Currency == "" {
		p.Currency = DefaultCurrency
	}
	if len(p.Attributes) == 0 {
		p.Attributes = nil
	}
	for k, v := range p.Attributes {
		p.Attributes[k] = line(v)
	}
}

// Validate reports every invalid field as one Invalid *Error.
func (p ProductRecord) Validate() error {
	var fe fieldErrors
	checkID(&fe, "sku", p.SKU)
	checkLine(&fe, "name", p.Name, MaxNameLen, true)
	checkParagraphs(&fe, "description", p.Description, MaxTextLen, false)
	checkLine(&fe, "category", p.Category, MaxNameLen, false)
	checkLine(&fe, "brand", p.Brand, MaxNameLen, false)
	if p.Price < 0 || p.Price > MaxPrice {
		fe.add("price", "must be between 0 and %d minor units", int64(MaxPrice))
	}
	if len(p.Currency) != 3 || strings.ToUpper(p.Currency) != p.Currency || strings.Trim(p.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		fe.add("currency", "must be a three-letter ISO 4217 code")
	}
	if len(p.Attributes) > MaxAttributes {
		fe.add("attributes", "has more than %d entries", MaxAttributes)
	}
	for k, v := range p.Attributes {
		checkLine(&fe, "attributes."+k, v, MaxAttrValueLen, false)
		if k == "" || len(k) > MaxAttrKeyLen || !utf8.ValidString(k) {
			fe.add("attributes", "key %q must be 1-%d characters", k, MaxAttrKeyLen)
		}
	}
	if p.ImageURL != "" {
		u, err := url.Parse(p.ImageURL)
		switch {
		case len(p.ImageURL) > MaxURLLen:
			fe.add("image_url", "is longer than %d characters", MaxURLLen)
		case err != nil:
			fe.add("image_url", "is not a URL")
		case !(u.Scheme == "https" || u.Scheme == "http" || (u.Scheme == "" && strings.HasPrefix(p.ImageURL, "/") && !strings.HasPrefix(p.ImageURL, "//"))):
			fe.add("image_url", "must be an http(s) URL or a path starting with /")
		}
	}
	if p.Staff.Cost < 0 || p.Staff.Cost > MaxPrice {
		fe.add("staff.cost", "must be between 0 and %d minor units", int64(MaxPrice))
	}
	checkLine(&fe, "staff.supplier", p.Staff.Supplier, MaxNameLen, false)
	checkParagraphs(&fe, "staff.notes", p.Staff.Notes, MaxTextLen, false)
	return fe.err("product")
}

// Normalize trims and normalises text.
func (s *StockRecord) Normalize() {
	s.Aisle = line(s.Aisle)
	s.Staff.Notes = paragraphs(s.Staff.Notes)
}

// Validate reports every invalid field as one Invalid *Error.
func (s StockRecord) Validate() error {
	var fe fieldErrors
	checkID(&fe, "sku", s.SKU)
	if s.Quantity < 0 || s.Quantity > MaxQuantity {
		fe.add("quantity", "must be between 0 and %d", MaxQuantity)
	}
	checkLine(&fe, "aisle", s.Aisle, MaxAisleLen, false)
	if s.Staff.Backroom < 0 || s.Staff.Backroom > MaxQuantity {
		fe.add("staff.backroom", "must be between 0 and %d", MaxQuantity)
	}
	checkParagraphs(&fe, "staff.notes", s.Staff.Notes, MaxTextLen, false)
	return fe.err("stock")
}

// Normalize trims text and lower-cases, sorts and de-duplicates tags.
func (f *FAQ) Normalize() {
	f.Question = line(f.Question)
	f.Answer = paragraphs(f.Answer)
	f.Tags = normTags(f.Tags)
}

func normTags(tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		t = strings.ToLower(line(t))
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sortStrings(out)
	return out
}

// Validate reports every invalid field as one Invalid *Error.
func (f FAQ) Validate() error {
	var fe fieldErrors
	checkID(&fe, "id", f.ID)
	if f.Store != "" {
		checkID(&fe, "store", f.Store)
	}
	checkLine(&fe, "question", f.Question, MaxNameLen*2, true)
	checkParagraphs(&fe, "answer", f.Answer, MaxTextLen, true)
	if len(f.Tags) > MaxTags {
		fe.add("tags", "has more than %d tags", MaxTags)
	}
	for _, t := range f.Tags {
		checkLine(&fe, "tags", t, MaxTagLen, true)
	}
	return fe.err("faq")
}

// Normalize trims text and sorts and de-duplicates SKUs.
func (p *Promotion) Normalize() {
	p.Title = line(p.Title)
	p.Description = paragraphs(p.Description)
	seen := map[string]bool{}
	var skus []string
	for _, s := range p.SKUs {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			skus = append(skus, s)
		}
	}
	sortStrings(skus)
	p.SKUs = skus
	p.Starts = p.Starts.UTC()
	p.Ends = p.Ends.UTC()
}

// Validate reports every invalid field as one Invalid *Error.
func (p Promotion) Validate() error {
	var fe fieldErrors
	checkID(&fe, "id", p.ID)
	if p.Store != "" {
		checkID(&fe, "store", p.Store)
	}
	checkLine(&fe, "title", p.Title, MaxNameLen, true)
	checkParagraphs(&fe, "description", p.Description, MaxTextLen, false)
	if len(p.SKUs) == 0 || len(p.SKUs) > MaxPromotionSKUs {
		fe.add("skus", "must list 1-%d SKUs", MaxPromotionSKUs)
	}
	for _, s := range p.SKUs {
		if !ValidID(s) {
			fe.add("skus", "invalid SKU %q", s)
			break
		}
	}
	if p.DiscountPercent < 1 || p.DiscountPercent > MaxDiscountPerc {
		fe.add("discount_percent", "must be between 1 and 100")
	}
	if p.Starts.IsZero() || p.Ends.IsZero() || !p.Ends.After(p.Starts) {
		fe.add("ends", "must be after starts (both required, RFC 3339)")
	}
	return fe.err("promotion")
}

// Vector is the embedding of a product or an FAQ, computed by the server whenever the entity
// changes (package aisle/worker/assistant/embed) and shipped to devices with the sync, so that
// a device compares a question's vector with the catalog's without computing them. Model names
// the embedding function: a device ignores vectors of a model it does not compute itself.
type Vector struct {
	Model string `json:"model"`
	V     string `json:"v"` // base64 of the int8 components
}
