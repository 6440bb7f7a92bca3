package replica

import (
	"context"
	"sort"
	"strings"

	"aisle/sync/catalog"
)

// Catalog answers the local queries the service worker and the assistant
// ask, from the applied checkpoint only (never from staged pages). Misses
// are NotFound errors. Staff fields are nil for a customer replica.
type Catalog interface {
	StoreInfo(ctx context.Context) (catalog.Store, error)
	Product(ctx context.Context, sku string) (ProductView, error)
	// SearchProducts returns active products whose name, brand or category
	// words start with every word of query (see catalog.SearchTerms),
	// ordered by name then SKU, at most limit (<= 0: 20).
	SearchProducts(ctx context.Context, query string, limit int) ([]catalog.Product, error)
	Stock(ctx context.Context, sku string) (StockView, error)
	// FAQs returns FAQs whose question or tags match every word of query
	// as SearchProducts does (empty query: all), ordered by ID, at most
	// limit (<= 0: 20).
	FAQs(ctx context.Context, query string, limit int) ([]catalog.FAQ, error)
	// Contents returns everything the assistant indexes, from the applied
	// checkpoint, in one consistent read (the assistant builds its
	// in-memory index from it after each sync). An empty replica gives
	// empty Contents with Checkpoint.Seq 0, not an error.
	Contents(ctx context.Context) (Contents, error)
}

// StockView is the stock of one product in the replica's store.
type StockView struct {
	Stock      *catalog.Stock      `json:"stock,omitempty"`
	StockStaff *catalog.StockStaff `json:"stock_staff,omitempty"`
}

// ProductView is a product with everything the replica knows about it.
type ProductView struct {
	Product catalog.Product       `json:"product"`
	Staff   *catalog.ProductStaff `json:"staff,omitempty"`
	StockView
	Promotions []catalog.Promotion `json:"promotions,omitempty"`
}

// DefaultQueryLimit is the result count of searches given limit <= 0.
const DefaultQueryLimit = 20

func notFoundOr(err error, what, id string) error {
	if err != nil {
		return err
	}
	return catalog.Errorf(catalog.NotFound, "%s %q not found locally", what, id)
}

// ProductTerms are the words a product is found by.
func ProductTerms(p catalog.Product) []string {
	return catalog.SearchTerms(p.Name + " " + p.Brand + " " + p.Category)
}

// FAQTerms are the words an FAQ is found by.
func FAQTerms(f catalog.FAQ) []string {
	return catalog.SearchTerms(f.Question + " " + strings.Join(f.Tags, " "))
}

// SearchProducts filters and orders products as Catalog.SearchProducts says.
func SearchProducts(all []catalog.Product, query string, limit int) []catalog.Product {
	if limit <= 0 {
		limit = DefaultQueryLimit
	}
	q := catalog.SearchTerms(query)
	var out []catalog.Product
	for _, p := range all {
		if p.Active && catalog.MatchTerms(q, ProductTerms(p)) {
			out = append(out, p)
		}
	}
	SortProducts(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// SortProducts orders by lower-case name, then SKU.
func SortProducts(ps []catalog.Product) {
	sort.Slice(ps, func(i, j int) bool {
		a, b := strings.ToLower(ps[i].Name), strings.ToLower(ps[j].Name)
		if a != b {
			return a < b
		}
		return ps[i].SKU < ps[j].SKU
	})
}

// SearchFAQs filters and orders FAQs as Catalog.FAQs says.
func SearchFAQs(all []catalog.FAQ, query string, limit int) []catalog.FAQ {
	if limit <= 0 {
		limit = DefaultQueryLimit
	}
	q := catalog.SearchTerms(query)
	var out []catalog.FAQ
	for _, f := range all {
		if catalog.MatchTerms(q, FAQTerms(f)) {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// PromotionsFor returns the promotions naming sku, ordered by ID.
func PromotionsFor(sku string, all []catalog.Promotion) []catalog.Promotion {
	var out []catalog.Promotion
	for _, p := range all {
		for _, s := range p.SKUs {
			if s == sku {
				out = append(out, p)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
