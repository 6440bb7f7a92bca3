package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
)

func fieldsOf(err error) []string {
	ce, ok := err.(*Error)
	if !ok {
		return nil
	}
	var out []string
	for _, f := range ce.Fields {
		out = append(out, f.Field)
	}
	sort.Strings(out)
	return out
}

func TestProductValidate(t *testing.T) {
	good := func() ProductRecord {
		return ProductRecord{Product: Product{SKU: "A-1", Name: "Milk", Price: 100, Currency: "EUR", ImageURL: "https://img.example/a.png"}}
	}
	tests := []struct {
		name  string
		given func(*ProductRecord)
		want  []string // invalid fields; nil = valid
	}{
		{"valid", func(*ProductRecord) {}, nil},
		{"relative image path", func(p *ProductRecord) { p.ImageURL = "/img/a.png" }, nil},
		{"bad sku", func(p *ProductRecord) { p.SKU = "-x" }, []string{"sku"}},
		{"long sku", func(p *ProductRecord) { p.SKU = strings.Repeat("a", MaxIDLen+1) }, []string{"sku"}},
		{"blank name", func(p *ProductRecord) { p.Name = "  " }, []string{"name"}},
		{"negative price", func(p *ProductRecord) { p.Price = -1 }, []string{"price"}},
		{"lower-case currency", func(p *ProductRecord) { p.Currency = "eur" }, []string{"currency"}},
		{"script image", func(p *ProductRecord) { p.ImageURL = "javascript:alert(1)" }, []string{"image_url"}},
		{"protocol-relative image", func(p *ProductRecord) { p.ImageURL = "//evil.example/x" }, []string{"image_url"}},
		{"invalid utf-8", func(p *ProductRecord) { p.Description = "\xff" }, []string{"description"}},
		{"negative cost", func(p *ProductRecord) { p.Staff.Cost = -5 }, []string{"staff.cost"}},
		{"many at once", func(p *ProductRecord) { p.Name, p.Price = "", -1 }, []string{"name", "price"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good()
			tt.given(&p)
			err := p.Validate()
			if got := fieldsOf(err); fmt.Sprint(got) != fmt.Sprint(tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("got %v (%v), want %v", got, err, tt.want)
			}
			if err != nil && ErrorCode(err) != Invalid {
				t.Fatalf("code %q", ErrorCode(err))
			}
		})
	}
}

func TestStoreNormalizeValidate(t *testing.T) {
	s := Store{ID: "s1", Name: " Main "}
	s.Normalize()
	if s.Name != "Main" || s.TimeZone != "UTC" || s.NightlyAt != DefaultNightlyAt || s.Validate() != nil {
		t.Fatalf("normalized %+v: %v", s, s.Validate())
	}
	for _, bad := range []Store{{ID: "s1", Name: "x", TimeZone: "Mars/Base", NightlyAt: "02:00"}, {ID: "s1", Name: "x", TimeZone: "UTC", NightlyAt: "25:00"}, {ID: "s1", Name: "x", TimeZone: "Local", NightlyAt: "02:00"}} {
		if bad.Validate() == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

func TestPromotionAndFAQ(t *testing.T) {
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	p := Promotion{ID: "p", Title: " Sale ", SKUs: []string{"B", "A", "B", " "}, DiscountPercent: 10, Starts: now, Ends: now.Add(time.Hour)}
	p.Normalize()
	if err := p.Validate(); err != nil || fmt.Sprint(p.SKUs) != "[A B]" || p.Title != "Sale" {
		t.Fatalf("%+v %v", p, err)
	}
	if !p.ActiveAt(now) || p.ActiveAt(now.Add(time.Hour)) {
		t.Fatal("ActiveAt bounds")
	}
	p.Ends = p.Starts
	if got := fieldsOf(p.Validate()); fmt.Sprint(got) != "[ends]" {
		t.Fatalf("empty window: %v", got)
	}
	f := FAQ{ID: "f", Question: "Q?", Answer: "A", Tags: []string{"B", "a", "b", ""}}
	f.Normalize()
	if err := f.Validate(); err != nil || fmt.Sprint(f.Tags) != "[a b]" {
		t.Fatalf("%+v %v", f, err)
	}
}

func TestSearchTerms(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Crème Fraîche 30%", "[creme fraiche 30]"},
		{"  milk MILK milk-1L ", "[milk 1l]"},
		{"Ça coûte 2,50 €", "[ca coute 2 50]"},
		{"", "[]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(SearchTerms(tt.in)); got != tt.want {
			t.Errorf("SearchTerms(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if !MatchTerms(SearchTerms("cre fr"), SearchTerms("Crème fraîche")) || MatchTerms(SearchTerms("milk"), SearchTerms("Crème fraîche")) {
		t.Fatal("MatchTerms")
	}
}

func TestErrors(t *testing.T) {
	base := fmt.Errorf("disk: %w", Errorf(Unavailable, "full"))
	if ErrorCode(base) != Unavailable || !IsCode(base, Unavailable) || ErrorCode(fmt.Errorf("x")) != Internal || ErrorCode(nil) != "" {
		t.Fatal("ErrorCode")
	}
	if Wrap(nil, Internal, "x") != nil {
		t.Fatal("Wrap(nil)")
	}
}

func FuzzParseClock(f *testing.F) {
	for _, s := range []string{"00:00", "23:59", "24:00", "2:00", "ab:cd", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, m, ok := ParseClock(s)
		if ok && (h < 0 || h > 23 || m < 0 || m > 59 || fmt.Sprintf("%02d:%02d", h, m) != s) {
			t.Fatalf("ParseClock(%q) = %d, %d", s, h, m)
		}
	})
}

func FuzzSearchTerms(f *testing.F) {
	f.Add("Crème Fraîche 30%")
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range SearchTerms(s) {
			if w == "" || strings.ToLower(w) != w || strings.ContainsAny(w, " \t,.%") {
				t.Fatalf("bad term %q from %q", w, s)
			}
		}
	})
}

// FuzzAdminRecord: any JSON body the admin API may receive for a product is refused with an
// *Error or accepted as a record whose text is NFC and holds no refused character, and which
// survives its own JSON round trip.
func FuzzAdminRecord(f *testing.F) {
	for _, s := range []string{
		`{"sku":"A","name":"Tea","price":1}`,
		`{"sku":"A","sku":"B","name":"Tea","price":1}`,
		`{"SKU":"A","name":"Tea","price":1}`,
		`{"sku":"A","name":"Milk \u202e99","price":1}`,
		`{"sku":"A","name":"Cafe\u0301","price":1,"description":"a\r\nb","attributes":{"x":"y"},"staff":{"notes":"n"}}`,
		`[1,2]`, `{"sku":"A","name":"T","price":1}{}`, `{"attributes":{"a":"1","a":"2"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var p ProductRecord
		if err := DecodeJSON(body, &p); err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		p.Normalize()
		if p.Validate() != nil {
			return
		}
		for field, v := range map[string]string{"name": p.Name, "description": p.Description, "category": p.Category, "brand": p.Brand} {
			if !norm.NFC.IsNormalString(v) {
				t.Errorf("%s %q is not NFC", field, v)
			}
			if r, what := refusedRune(v, field == "description"); what != "" {
				t.Errorf("%s %q holds %U", field, v, r)
			}
		}
		b, _ := json.Marshal(p)
		var back ProductRecord
		if err := DecodeJSON(b, &back); err != nil {
			t.Fatalf("its own JSON is refused: %v\n%s", err, b)
		}
	})
}
