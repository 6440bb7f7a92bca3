package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// storeImportResult is the body of a successful STORE.json import.
type storeImportResult struct {
	Store    string `json:"store"`
	Products int    `json:"products"` // products the file lists
	Stock    int    `json:"stock"`    // stock lines the file lists
	FAQs     int    `json:"faqs"`     // FAQs the file lists
	Changed  int    `json:"changed"`  // records created or changed (vectors included with their entity)
	// RemovedStock and RemovedFAQs list what ?replace=true deleted: SKUs of
	// the store's stock lines and IDs of its own FAQs that the file lacks.
	RemovedStock []string         `json:"removed_stock,omitempty"`
	RemovedFAQs  []string         `json:"removed_faqs,omitempty"`
	Version      int64            `json:"version"`              // the log's version after the import
	Checkpoint   *wire.Checkpoint `json:"checkpoint,omitempty"` // with ?publish=true
	// DryRun: ?dry_run=true; the file is valid and nothing was written
	// (Changed is 0, Version the log's current version).
	DryRun bool `json:"dry_run,omitempty"`
}

// importStore imports one whole store from a STORE.json body
// (catalog.ParseStoreFile): the store, its products with their staff
// fields, its stock lines and its FAQs, each product's and FAQ's vector
// with it, in batches as ImportBatchRows describes. A file with any
// problem is refused with every problem (Row: the line, Field: the JSON
// path) and nothing is written.
//
// Products are chain-wide, so a store's file does not erase what it does
// not carry: a product field the file leaves empty (description, category,
// brand, image URL), attributes other than the barcode, the staff block of
// a product listed without one, and the active flag of an existing product
// keep their stored values; likewise an empty aisle, the stock's staff
// notes, and the store's address, time zone and nightly time when the file
// omits them. Every record read to merge is written back only if its
// version has not moved meanwhile (If-Match), and new ones only if still
// absent, so a concurrent edit fails the import (412/409) instead of being
// overwritten.
//
// ?replace=true also removes the store's stock lines and store-scoped FAQs
// that the file does not list (products stay: they are chain-wide);
// ?publish=true publishes a checkpoint of the store afterwards and tells
// its devices; ?dry_run=true checks and plans everything and writes
// nothing (see storeImportOptions).
func (s *Server) importStore(c echo.Context) error {
	replace, err := queryBool(c, "replace")
	if err != nil {
		return err
	}
	publish, err := queryBool(c, "publish")
	if err != nil {
		return err
	}
	dryRun, err := queryBool(c, "dry_run")
	if err != nil {
		return err
	}
	body, err := readJSONBody(c)
	if err != nil {
		return err
	}
	res, err := s.runStoreImport(c, body, storeImportOptions{Replace: replace, Publish: publish, DryRun: dryRun})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// storeImportOptions are importStore's query flags. DryRun parses,
// validates and plans the import exactly as a real one (reading the stored
// records it would merge) and writes nothing; Publish is ignored with it.
type storeImportOptions struct {
	Replace, Publish, DryRun bool
	// Store, when set, is the only store the file may describe (the admin
	// console imports into the store on screen).
	Store string
}

// runStoreImport is importStore after the HTTP parsing, shared by the API
// and the admin console: one copy of every rule.
func (s *Server) runStoreImport(c echo.Context, body []byte, o storeImportOptions) (storeImportResult, error) {
	file, err := catalog.ParseStoreFile(bytes.NewReader(body))
	if err != nil {
		return storeImportResult{}, rejected(err)
	}
	if o.Store != "" && file.Store.ID != o.Store {
		return storeImportResult{}, rejected(&catalog.Error{Code: catalog.Invalid, Message: "the file describes another store",
			Fields: []catalog.FieldError{{Field: "store.id", Message: fmt.Sprintf("is %q, expected %q", file.Store.ID, o.Store)}}})
	}
	ctx := c.Request().Context()
	plan, err := s.planStoreImport(c, file, body, o.Replace)
	if err != nil {
		return storeImportResult{}, rejected(err)
	}
	before, err := s.store.Stats(ctx)
	if err != nil {
		return storeImportResult{}, err
	}
	res := storeImportResult{Store: file.Store.ID, Products: len(file.Products), Stock: len(file.Stock), FAQs: len(file.FAQs), Version: before.Version}
	if o.DryRun {
		res.DryRun = true
		return res, nil
	}
	its, err := s.writeBatches(ctx, s.actor(c), plan.ops)
	if err != nil {
		return storeImportResult{}, importWriteFailed(plan.relabel(err), len(its), len(plan.ops), "records (the store, then products, stock lines and FAQs in file order)")
	}
	for i, it := range its {
		switch {
		case plan.ops[i].Prune && it.Entity == store.Stock:
			for _, k := range it.Pruned {
				res.RemovedStock = append(res.RemovedStock, k[len(file.Store.ID)+1:])
			}
		case plan.ops[i].Prune:
			res.RemovedFAQs = it.Pruned
		case it.Changed:
			res.Changed++
		}
		res.Version = max(res.Version, it.Version)
	}
	if o.Publish {
		cp, err := s.publishStore(ctx, s.actor(c), file.Store.ID)
		if err != nil {
			return storeImportResult{}, catalog.Wrap(err, catalog.ErrorCode(err), "the store was imported (log version %d) but not published; publish it again", res.Version)
		}
		res.Checkpoint = &cp
	}
	return res, nil
}

// rejected bounds an invalid import's field errors and says nothing was
// written.
func rejected(err error) error {
	var ce *catalog.Error
	if !errors.As(err, &ce) || ce.Code == catalog.Internal || ce.Code == catalog.Unavailable {
		return err
	}
	out := *ce
	if len(out.Fields) > maxReportedErrors {
		out.Fields = out.Fields[:maxReportedErrors]
	}
	out.Message = "import rejected: " + ce.Message + "; nothing was written"
	return &out
}

func queryBool(c echo.Context, name string) (bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &catalog.Error{Code: catalog.Invalid, Message: "bad query parameter",
			Fields: []catalog.FieldError{{Field: name, Message: "must be true or false"}}}
	}
	return b, nil
}

// storeImportPlan is the write of one store file: its ops, and per op the
// place in the file it comes from (for errors the write reports by op).
type storeImportPlan struct {
	ops    []store.Op
	labels []string
}

func (p *storeImportPlan) add(label string, op store.Op, err error) error {
	if err != nil {
		return relabelFields(err, label)
	}
	p.ops, p.labels = append(p.ops, op), append(p.labels, label)
	return nil
}

// relabel turns a write error naming an op by row into one naming the
// file's element ("products[3].sku").
func (p *storeImportPlan) relabel(err error) error {
	var ce *catalog.Error
	if !errors.As(err, &ce) {
		return err
	}
	out := *ce
	out.Fields = nil
	for _, f := range ce.Fields {
		if f.Row >= 1 && f.Row <= len(p.labels) {
			f.Field = join(p.labels[f.Row-1], f.Field)
			f.Row = 0
		}
		out.Fields = append(out.Fields, f)
	}
	return &out
}

func relabelFields(err error, label string) error {
	var ce *catalog.Error
	if !errors.As(err, &ce) {
		return err
	}
	out := *ce
	out.Fields = nil
	for _, f := range ce.Fields {
		f.Field = join(label, f.Field)
		out.Fields = append(out.Fields, f)
	}
	if len(out.Fields) == 0 {
		out.Fields = []catalog.FieldError{{Field: label, Message: ce.Message}}
	}
	return &out
}

func join(label, field string) string {
	if field == "" {
		return label
	}
	return label + "." + field
}

// guard makes op fail if the record changed since it was read (version
// > 0) or appeared since it was found absent (version 0).
func guard(op store.Op, version int64) store.Op {
	if version > 0 {
		op.IfVersion = version
	} else {
		op.Create = true
	}
	return op
}

// planStoreImport builds the ops of a store file, merged with the stored
// records as importStore describes.
func (s *Server) planStoreImport(c echo.Context, file *catalog.StoreFile, body []byte, replace bool) (*storeImportPlan, error) {
	ctx := c.Request().Context()
	p := &storeImportPlan{}
	id := file.Store.ID

	// The store: what the file omits keeps its stored value.
	var given struct {
		Store map[string]json.RawMessage `json:"store"`
	}
	if err := json.Unmarshal(body, &given); err != nil { // parsed once already: cannot fail
		return nil, catalog.Wrap(err, catalog.Invalid, "malformed store file")
	}
	st := file.Store
	var storeVersion int64
	if it, err := s.store.Get(ctx, store.Stores, id); err == nil {
		var old catalog.Store
		if err := json.Unmarshal(it.Data, &old); err != nil {
			return nil, catalog.Wrap(err, catalog.Internal, "decode store %q", id)
		}
		if given.Store["timezone"] == nil && given.Store["time_zone"] == nil {
			st.TimeZone = old.TimeZone
		}
		if given.Store["nightly_at"] == nil {
			st.NightlyAt = old.NightlyAt
		}
		if st.Address == "" {
			st.Address = old.Address
		}
		storeVersion = it.Version
	} else if !catalog.IsCode(err, catalog.NotFound) {
		return nil, err
	}
	op, err := store.PutStore(st)
	if err := p.add("store", guard(op, storeVersion), err); err != nil {
		return nil, err
	}

	// Products, chain-wide: merged with the stored record.
	for i, rec := range file.Products {
		label := fmt.Sprintf("products[%d]", i)
		var version int64
		if it, err := s.store.Get(ctx, store.Products, rec.SKU); err == nil {
			var old catalog.ProductRecord
			if err := json.Unmarshal(it.Data, &old); err != nil {
				return nil, catalog.Wrap(err, catalog.Internal, "decode product %q", rec.SKU)
			}
			rec = mergeProduct(rec, old)
			version = it.Version
		} else if !catalog.IsCode(err, catalog.NotFound) {
			return nil, err
		}
		op, err := store.PutProduct(rec)
		if err := p.add(label, guard(op, version), err); err != nil {
			return nil, err
		}
	}

	// Stock lines of this store.
	stored := map[string]store.Item{}
	for after := ""; ; {
		scope := id
		items, next, err := s.store.List(ctx, store.Stock, store.ListQuery{Scope: &scope, After: after, Limit: store.MaxListLimit})
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			stored[it.Ref] = it
		}
		if next == "" {
			break
		}
		after = next
	}
	now := s.now().UTC()
	keepStock := make([]string, 0, len(file.Stock))
	for i, line := range file.Stock {
		label := fmt.Sprintf("products[%d]", i)
		line.UpdatedAt = now
		var version int64
		if it, ok := stored[line.SKU]; ok {
			var old catalog.StockRecord
			if err := json.Unmarshal(it.Data, &old); err != nil {
				return nil, catalog.Wrap(err, catalog.Internal, "decode stock %q", it.Key)
			}
			line = mergeStock(line, file.Products[i].Staff, old)
			version = it.Version
		}
		op, err := store.PutStock(id, line)
		if err := p.add(label, guard(op, version), err); err != nil {
			return nil, err
		}
		keepStock = append(keepStock, store.StockKey(id, line.SKU))
	}

	// FAQs of this store: the file's replace the stored ones; an ID that
	// belongs to another store or to the chain is refused.
	keepFAQs := make([]string, 0, len(file.FAQs))
	var fe []catalog.FieldError
	for i, f := range file.FAQs {
		label := fmt.Sprintf("faqs[%d]", i)
		var version int64
		if it, err := s.store.Get(ctx, store.FAQs, f.ID); err == nil {
			switch {
			case it.Scope == "":
				fe = append(fe, catalog.FieldError{Field: label + ".id", Message: fmt.Sprintf("%q is a chain-wide FAQ; give this store's FAQ another id", f.ID)})
			case it.Scope != id:
				fe = append(fe, catalog.FieldError{Field: label + ".id", Message: fmt.Sprintf("%q is an FAQ of store %q; give this store's FAQ another id", f.ID, it.Scope)})
			}
			version = it.Version
		} else if !catalog.IsCode(err, catalog.NotFound) {
			return nil, err
		}
		op, err := store.PutFAQ(f)
		if err := p.add(label, guard(op, version), err); err != nil {
			return nil, err
		}
		keepFAQs = append(keepFAQs, f.ID)
	}
	if len(fe) > 0 {
		return nil, &catalog.Error{Code: catalog.Invalid, Message: "FAQ ids taken", Fields: fe}
	}
	if replace {
		p.ops, p.labels = append(p.ops, store.Prune(store.Stock, id, keepStock), store.Prune(store.FAQs, id, keepFAQs)), append(p.labels, "replace", "replace")
	}
	return p, nil
}

// mergeProduct returns the record a store file writes for a stored product:
// the file's name, price, currency and barcode; its other fields where it
// gives them; the stored values elsewhere (see importStore).
func mergeProduct(file, old catalog.ProductRecord) catalog.ProductRecord {
	out := file
	out.Active = old.Active
	if out.Description == "" {
		out.Description = old.Description
	}
	if out.Category == "" {
		out.Category = old.Category
	}
	if out.Brand == "" {
		out.Brand = old.Brand
	}
	if out.ImageURL == "" {
		out.ImageURL = old.ImageURL
	}
	if len(old.Attributes) > 0 {
		attrs := make(map[string]string, len(old.Attributes)+len(file.Attributes))
		for k, v := range old.Attributes {
			attrs[k] = v
		}
		for k, v := range file.Attributes {
			attrs[k] = v
		}
		out.Attributes = attrs
	}
	if file.Staff == (catalog.ProductStaff{}) {
		out.Staff = old.Staff
	}
	return out
}

// mergeStock returns the stock line a store file writes over a stored one:
// quantity from the file, aisle where it gives one, back-room count when
// the product has a staff block, the stored staff notes; and the stored
// timestamp when nothing changed, so that re-importing a file writes
// nothing.
func mergeStock(file catalog.StockRecord, staff catalog.ProductStaff, old catalog.StockRecord) catalog.StockRecord {
	out := file
	if out.Aisle == "" {
		out.Aisle = old.Aisle
	}
	out.Staff.Notes = old.Staff.Notes
	if staff == (catalog.ProductStaff{}) && file.Staff == (catalog.StockStaff{}) {
		out.Staff = old.Staff
	}
	if out.Quantity == old.Quantity && out.Aisle == old.Aisle && out.Staff == old.Staff {
		out.UpdatedAt = old.UpdatedAt
	}
	return out
}
