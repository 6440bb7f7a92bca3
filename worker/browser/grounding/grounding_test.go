package grounding

import (
	"context"
	"errors"
	"strings"
	"testing"

	"aisle/sync/catalog"
	"aisle/sync/replica"
)

// fakeCatalog answers like a replica, with the replica's own search helpers.
type fakeCatalog struct {
	products []catalog.Product
	stock    map[string]replica.StockView
	faqs     []catalog.FAQ
	err      error
}

func (c *fakeCatalog) StoreInfo(context.Context) (catalog.Store, error) { return catalog.Store{}, nil }
func (c *fakeCatalog) Product(_ context.Context, sku string) (replica.ProductView, error) {
	return replica.ProductView{}, catalog.Errorf(catalog.NotFound, "no %s", sku)
}
func (c *fakeCatalog) SearchProducts(_ context.Context, q string, limit int) ([]catalog.Product, error) {
	if c.err != nil {
		return nil, c.err
	}
	return replica.SearchProducts(c.products, q, limit), nil
}
func (c *fakeCatalog) Stock(_ context.Context, sku string) (replica.StockView, error) {
	v, ok := c.stock[sku]
	if !ok {
		return v, catalog.Errorf(catalog.NotFound, "no stock for %s", sku)
	}
	return v, nil
}
func (c *fakeCatalog) FAQs(_ context.Context, q string, limit int) ([]catalog.FAQ, error) {
	return replica.SearchFAQs(c.faqs, q, limit), nil
}

func demo() *fakeCatalog {
	return &fakeCatalog{
		products: []catalog.Product{
			{SKU: "milk-oat", Name: "Oat Milk 1L", Brand: "Oaty", Category: "Dairy alternatives", Price: 249, Currency: "EUR", Active: true},
			{SKU: "milk-whole", Name: "Whole Milk 1L", Category: "Dairy", Price: 119, Currency: "EUR", Active: true},
			{SKU: "bread", Name: "Sourdough Bread", Category: "Bakery", Price: 350, Currency: "EUR", Active: true},
			{SKU: "old", Name: "Oat Bar", Price: 99, Currency: "EUR", Active: false},
		},
		stock: map[string]replica.StockView{
			"milk-oat":   {Stock: &catalog.Stock{SKU: "milk-oat", Quantity: 12, Aisle: "4"}, StockStaff: &catalog.StockStaff{Backroom: 77, Notes: "SECRET"}},
			"milk-whole": {Stock: &catalog.Stock{SKU: "milk-whole", Quantity: 0, Aisle: "4"}},
		},
		faqs: []catalog.FAQ{
			{ID: "cards", Question: "Do you take cards?", Answer: "Yes,\nall major cards.", Tags: []string{"payment"}},
			{ID: "hours", Question: "When are you open?", Answer: "8 to 20 every day.", Tags: []string{"hours"}},
		},
	}
}

func TestTerms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"Where is the OAT milk?", 6, "oat milk"},
		{"how much does it cost", 6, ""},
		{"crème brûlée, a b cd", 6, "creme brulee"},
		{"one two three four", 2, "one two"},
	} {
		if got := strings.Join(Terms(tc.in, tc.max), " "); got != tc.want {
			t.Errorf("Terms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPrice(t *testing.T) {
	for minor, want := range map[int64]string{249: "2.49 EUR", 5: "0.05 EUR", 1000: "10.00 EUR", -150: "-1.50 EUR"} {
		if got := Price(minor, "EUR"); got != want {
			t.Errorf("Price(%d) = %q, want %q", minor, got, want)
		}
	}
}

func TestGroundPrompt(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, question string
		lim            Limits
		want           string // whole system message; "" means no message added
	}{
		{
			name:     "products ranked by matched words, stock and aisle",
			question: "Where is the oat milk?",
			want: "Store catalog facts (answer from these; say so if something is not listed):\n" +
				"- Oat Milk 1L: 2.49 EUR, 12 in stock, aisle 4\n" +
				"- Whole Milk 1L: 1.19 EUR, out of stock, aisle 4",
		},
		{
			name:     "no stock line, FAQ with its newline collapsed",
			question: "sourdough bread, and do you take cards?",
			want: "Store catalog facts (answer from these; say so if something is not listed):\n" +
				"- Sourdough Bread: 3.50 EUR, stock unknown\n" +
				"- FAQ: Do you take cards? Yes, all major cards.",
		},
		{
			name:     "bounded: whole lines only",
			question: "oat milk",
			lim:      Limits{MaxBytes: 130},
			want: "Store catalog facts (answer from these; say so if something is not listed):\n" +
				"- Oat Milk 1L: 2.49 EUR, 12 in stock, aisle 4",
		},
		{
			name:     "product count limit",
			question: "milk",
			lim:      Limits{Products: 1},
			want: "Store catalog facts (answer from these; say so if something is not listed):\n" +
				"- Oat Milk 1L: 2.49 EUR, 12 in stock, aisle 4",
		},
		{name: "nothing found", question: "bicycles"},
		{name: "not one fact fits", question: "oat milk", lim: Limits{MaxBytes: 90}},
		{name: "only stop words", question: "how much is it?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []Message{{Role: "system", Content: "You are helpful."}, {Role: "user", Content: tc.question}}
			out, err := Ground(ctx, demo(), in, tc.lim)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if len(out) != len(in) {
					t.Fatalf("added a message: %q", out[0].Content)
				}
				return
			}
			if len(out) != len(in)+1 || out[0].Role != "system" || out[1] != in[0] || out[2] != in[1] {
				t.Fatalf("messages = %+v", out)
			}
			if out[0].Content != tc.want {
				t.Errorf("prompt:\n%s\nwant:\n%s", out[0].Content, tc.want)
			}
			max := tc.lim.withDefaults().MaxBytes
			if len(out[0].Content) > max {
				t.Errorf("prompt is %d bytes, over %d", len(out[0].Content), max)
			}
			for _, secret := range []string{"77", "SECRET", "Oat Bar"} {
				if strings.Contains(out[0].Content, secret) {
					t.Errorf("prompt leaks %q (staff-only or inactive)", secret)
				}
			}
		})
	}
}

func TestGroundUsesLastUserMessage(t *testing.T) {
	in := []Message{{Role: "user", Content: "bread"}, {Role: "assistant", Content: "oat milk?"}, {Role: "user", Content: "whole milk"}}
	out, err := Ground(context.Background(), demo(), in, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 4 || !strings.Contains(out[0].Content, "Whole Milk 1L") || strings.Contains(out[0].Content, "Sourdough") {
		t.Fatalf("grounded on the wrong message: %+v", out)
	}
	if out, _ := Ground(context.Background(), demo(), in[1:2], Limits{}); len(out) != 1 {
		t.Fatalf("grounded a chat with no user message: %+v", out)
	}
}

func TestGroundCatalogError(t *testing.T) {
	c := demo()
	c.err = catalog.Errorf(catalog.Unavailable, "database closed")
	in := []Message{{Role: "user", Content: "oat milk"}}
	out, err := Ground(context.Background(), c, in, Limits{})
	if err == nil || !errors.Is(err, c.err) && catalog.ErrorCode(err) != catalog.Unavailable {
		t.Fatalf("err = %v, want the catalog's error", err)
	}
	if len(out) != 1 {
		t.Fatalf("messages changed on error: %+v", out)
	}
}

// FuzzGround checks that any question, with any limits, grounds without error or panic and
// within the byte bound, and that the facts message never carries staff-only data.
func FuzzGround(f *testing.F) {
	f.Add("Where is the oat milk?", 0)
	f.Add("cards bread milk oat whole", 60)
	f.Add("\x00\xff é ü milk\n\n", 1)
	f.Fuzz(func(t *testing.T, q string, maxBytes int) {
		lim := Limits{MaxBytes: maxBytes % 2000}
		out, err := Ground(context.Background(), demo(), []Message{{Role: "user", Content: q}}, lim)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) == 2 {
			if max := lim.withDefaults().MaxBytes; len(out[0].Content) > max || !strings.Contains(out[0].Content, "\n- ") {
				t.Fatalf("prompt of %d bytes over %d", len(out[0].Content), max)
			}
			if strings.Contains(out[0].Content, "SECRET") {
				t.Fatal("staff notes in the prompt")
			}
		}
	})
}
