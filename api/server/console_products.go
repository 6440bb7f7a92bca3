package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"aisle/api/store"
	"aisle/sync/catalog"
)

// formatMinor shows an amount in minor units with two decimals and its
// currency (display only: forms take minor units, as the API does).
func formatMinor(v int64, currency string) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, v/100, v%100, currency)
}

// productRow is a product as the store's product pages show it: the
// chain-wide record and this store's stock line (HasStock false: none).
type productRow struct {
	catalog.ProductRecord
	Stock         catalog.StockRecord
	HasStock      bool
	Version       int64 // the product's version (If-Match of a save)
	StockVersion  int64 // the stock line's (0: none yet)
	PriceInput    string
	QuantityInput string
	AisleInput    string
	ActiveInput   bool
	FieldErrors   map[string]string // by form field; "" for the form
}

// maxProductsShown bounds the rows of the products page.
const maxProductsShown = 200

// productsData is the products page's data.
type productsData struct {
	Query string
	Rows  []productRow
	More  bool // more matched than shown
}

// consoleProducts lists products with this store's stock, filtered by ?q
// (the words of the query must all match the SKU, name, brand or category,
// as the assistant's search matches words: catalog.SearchTerms).
func (s *Server) consoleProducts(c echo.Context) error {
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	q := strings.TrimSpace(c.QueryParam("q"))
	terms := catalog.SearchTerms(q)
	stock := map[string]catalog.StockRecord{}
	err = s.eachItem(ctx, store.Stock, store.ListQuery{Scope: &st.ID}, func(it store.Item) error {
		var r catalog.StockRecord
		if err := json.Unmarshal(it.Data, &r); err != nil {
			return err
		}
		stock[r.SKU] = r
		return nil
	})
	if err != nil {
		return err
	}
	d := productsData{Query: q}
	err = s.eachItem(ctx, store.Products, store.ListQuery{}, func(it store.Item) error {
		var p catalog.ProductRecord
		if err := json.Unmarshal(it.Data, &p); err != nil {
			return err
		}
		if len(terms) > 0 && !catalog.MatchTerms(terms, catalog.SearchTerms(strings.Join([]string{p.SKU, p.Name, p.Brand, p.Category}, " "))) {
			return nil
		}
		if len(d.Rows) == maxProductsShown {
			d.More = true
			return nil
		}
		r, ok := stock[p.SKU]
		d.Rows = append(d.Rows, productRow{ProductRecord: p, Stock: r, HasStock: ok})
		return nil
	})
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "products", page{Title: "Products of " + st.Name, Store: st.ID, Section: "products", Data: d})
}

// loadProductRow reads product sku and store's stock line of it.
func (s *Server) loadProductRow(c echo.Context, storeID, sku string) (productRow, error) {
	if !catalog.ValidID(sku) {
		return productRow{}, catalog.Errorf(catalog.Invalid, "bad SKU %q", sku)
	}
	ctx := c.Request().Context()
	it, err := s.store.Get(ctx, store.Products, sku)
	if err != nil {
		return productRow{}, err
	}
	row := productRow{Version: it.Version}
	if err := json.Unmarshal(it.Data, &row.ProductRecord); err != nil {
		return productRow{}, err
	}
	sit, err := s.store.Get(ctx, store.Stock, store.StockKey(storeID, sku))
	switch {
	case err == nil:
		row.HasStock, row.StockVersion = true, sit.Version
		if err := json.Unmarshal(sit.Data, &row.Stock); err != nil {
			return productRow{}, err
		}
	case catalog.IsCode(err, catalog.NotFound):
		row.Stock.SKU = sku
	default:
		return productRow{}, err
	}
	row.PriceInput = strconv.FormatInt(row.Price, 10)
	row.QuantityInput = strconv.FormatInt(row.Stock.Quantity, 10)
	row.AisleInput = row.Stock.Aisle
	row.ActiveInput = row.Active
	return row, nil
}

// consoleProductForm shows the edit form of one product in one store.
func (s *Server) consoleProductForm(c echo.Context) error {
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return err
	}
	row, err := s.loadProductRow(c, st.ID, c.Param("sku"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "product", page{Title: row.Name, Store: st.ID, Section: "products", Data: row})
}

// consoleProductSave writes the form's price and active flag (admins only:
// a manager's form has neither) to the product and its quantity and aisle to the store's stock line (created
// only when the form gives a quantity or an aisle), in one transaction (all or nothing), through store.PutProduct and
// store.PutStock: the API's validation. Each write is guarded by the
// version the form was loaded with, so a concurrent edit is reported, not
// overwritten. On any error nothing changes and the form comes back with
// the message next to its field.
func (s *Server) consoleProductSave(c echo.Context) error {
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return err
	}
	row, err := s.loadProductRow(c, st.ID, c.Param("sku"))
	if err != nil {
		return err
	}
	manager := managedStore(c) != ""
	row.QuantityInput = c.FormValue("quantity")
	row.AisleInput = c.FormValue("aisle")
	fe := map[string]string{}
	price := row.Price
	if !manager { // prices and flags are chain-wide: read-only for a manager
		row.PriceInput = c.FormValue("price")
		row.ActiveInput = c.FormValue("active") == "on"
		if price, err = strconv.ParseInt(strings.TrimSpace(row.PriceInput), 10, 64); err != nil {
			fe["price"] = "must be a whole number of minor units (cents)"
		}
	}
	qty, err := strconv.ParseInt(strings.TrimSpace(row.QuantityInput), 10, 64)
	if err != nil {
		fe["quantity"] = "must be a whole number"
	}
	if v := c.FormValue("version"); v != strconv.FormatInt(row.Version, 10) || c.FormValue("stock_version") != strconv.FormatInt(row.StockVersion, 10) {
		fe[""] = "This product changed since the form was loaded: the form now shows the stored values; make your change again."
		return s.productFormError(c, st, row, fe, true)
	}
	if len(fe) > 0 {
		return s.productFormError(c, st, row, fe, false)
	}
	p := row.ProductRecord
	p.Price, p.Active = price, row.ActiveInput
	stock := row.Stock
	stock.Quantity, stock.Aisle, stock.UpdatedAt = qty, row.AisleInput, s.now().UTC()
	pop, perr := store.PutProduct(p)
	sop, serr := store.PutStock(st.ID, stock)
	for _, err := range []error{perr, serr} {
		for k, v := range fieldErrors(err) {
			if err != nil && fe[k] == "" {
				fe[k] = v
			}
		}
	}
	if len(fe) > 0 {
		return s.productFormError(c, st, row, fe, false)
	}
	var ops []store.Op
	if !manager {
		ops = append(ops, guard(pop, row.Version))
	}
	if row.HasStock || qty != 0 || stock.Aisle != "" {
		// No stock line is created for a product this store does not
		// carry unless the form gives it one.
		ops = append(ops, guard(sop, row.StockVersion))
	}
	if _, err := s.store.Write(c.Request().Context(), s.actor(c), ops); err != nil {
		return s.productFormError(c, st, row, fieldErrors(err), false)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/stores/"+st.ID+"/products?done=saved&q="+url.QueryEscape(row.SKU))
}

// productFormError shows the form again with fe (status 422; with reload,
// the stored values replace what was typed).
func (s *Server) productFormError(c echo.Context, st catalog.Store, row productRow, fe map[string]string, reload bool) error {
	if reload {
		fresh, err := s.loadProductRow(c, st.ID, row.SKU)
		if err != nil {
			return err
		}
		row = fresh
	}
	row.FieldErrors = fe
	msg := fe[""]
	if msg == "" {
		msg = "Nothing was saved: fix the fields marked below."
	}
	return s.render(c, http.StatusUnprocessableEntity, "product", page{Title: row.Name, Store: st.ID, Section: "products", Error: msg, Data: row})
}

// consoleProductDeactivate marks a product inactive (chain-wide: products
// are shared by every store; admins only), guarded by the version shown.
func (s *Server) consoleProductDeactivate(c echo.Context) error {
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return err
	}
	if managedStore(c) != "" {
		return catalog.Errorf(catalog.Forbidden, "products are chain-wide: only an admin may deactivate one")
	}
	row, err := s.loadProductRow(c, st.ID, c.Param("sku"))
	if err != nil {
		return err
	}
	p := row.ProductRecord
	p.Active = false
	op, err := store.PutProduct(p)
	if err != nil {
		return s.productFormError(c, st, row, fieldErrors(err), false)
	}
	v, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	if _, err := s.store.Write(c.Request().Context(), s.actor(c), []store.Op{guard(op, max(v, 1))}); err != nil {
		return s.productFormError(c, st, row, fieldErrors(err), true)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/stores/"+st.ID+"/products?done=deactivated&q="+url.QueryEscape(row.SKU))
}
