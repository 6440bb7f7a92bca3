package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"aisle/api/store"
	"aisle/sync/catalog"
)

// MaxImportRows bounds one bulk import.
const MaxImportRows = 100_000

// maxReportedErrors bounds the per-row errors returned.
const maxReportedErrors = 200

// ImportBatchRows is how many records an import (bulk or store file)
// writes per transaction, so that no import holds the database's write
// lock for long: other writes, such as a price fix, go through between its
// batches.
//
// The contract: every row is validated before anything is written, so a
// file with invalid rows writes nothing. An import of at most
// ImportBatchRows records is one transaction, all or nothing. A larger one
// writes its records in order, each batch all or nothing. When a batch
// fails as it is written (a row naming a record that is missing, or that
// changed meanwhile; a full disk; the request's deadline), the batches
// before it stay written: a 4xx error says how many records were, and
// names the failing row; a 5xx says only to retry. Importing is
// idempotent (a record already written changes nothing when sent again),
// so the remedy is always to fix what the error names and send the same
// import again.
const ImportBatchRows = 2000

// writeBatches writes an import's ops in order, ImportBatchRows per
// transaction. It returns the items of the batches committed, and the
// error of the batch that failed with its rows (FieldError.Row) numbered
// within ops.
func (s *Server) writeBatches(ctx context.Context, a store.Actor, ops []store.Op) ([]store.Item, error) {
	its := make([]store.Item, 0, len(ops))
	for start := 0; start < len(ops); start += ImportBatchRows {
		out, err := s.store.Write(ctx, a, ops[start:min(start+ImportBatchRows, len(ops))])
		if err != nil {
			return its, shiftRows(err, start)
		}
		its = append(its, out...)
	}
	return its, nil
}

// shiftRows returns err with the rows its fields name moved by offset.
func shiftRows(err error, offset int) error {
	var ce *catalog.Error
	if offset == 0 || !errors.As(err, &ce) {
		return err
	}
	out := *ce
	out.Fields = make([]catalog.FieldError, len(ce.Fields))
	for i, f := range ce.Fields {
		if f.Row > 0 {
			f.Row += offset
		}
		out.Fields[i] = f
	}
	return &out
}

// importWriteFailed words the error of an import whose write failed after
// written of its total records (unit: what they are) were committed:
// rejected, nothing written, when none were.
func importWriteFailed(err error, written, total int, unit string) error {
	var ce *catalog.Error
	if written == 0 || !errors.As(err, &ce) || ce.Code == catalog.Internal || ce.Code == catalog.Unavailable {
		return rejected(err)
	}
	out := *ce
	if len(out.Fields) > maxReportedErrors {
		out.Fields = out.Fields[:maxReportedErrors]
	}
	out.Message = fmt.Sprintf("import stopped: %s; the first %d of its %d %s were written (imports commit in batches of %d), the rest were not; "+
		"fix this and send the import again: what was written changes nothing", ce.Message, written, total, unit, ImportBatchRows)
	return &out
}

// importResult is the body of a successful import.
type importResult struct {
	Entity  store.Entity `json:"entity"`
	Rows    int          `json:"rows"`    // rows read
	Changed int          `json:"changed"` // rows that changed a record
	Version int64        `json:"version"` // the log's version after the import
	// DryRun: ?dry_run=true; every row was valid and nothing was written
	// (Changed is 0, Version the log's current version).
	DryRun bool `json:"dry_run,omitempty"`
}

// csvColumns lists, per entity, the accepted CSV header names; those marked
// with a leading '*' are required. Products also accept "attr:<name>"
// columns. Lists (tags, skus) are separated by '|'.
var csvColumns = map[store.Entity][]string{
	store.Stores:     {"*id", "*name", "time_zone", "address", "nightly_at"},
	store.Products:   {"*sku", "*name", "description", "category", "brand", "*price", "currency", "image_url", "active", "cost", "supplier", "notes"},
	store.Stock:      {"*sku", "*quantity", "aisle", "backroom", "notes"},
	store.FAQs:       {"*id", "store", "*question", "*answer", "tags"},
	store.Promotions: {"*id", "store", "*title", "description", "*skus", "*discount_percent", "*starts", "*ends"},
}

// importBulk imports many records of one entity from CSV or JSON (an array
// of admin records), in batches as ImportBatchRows describes. Errors name
// the data row (1 = the first record, after any CSV header).
// ?dry_run=true validates every row exactly as a real import does
// (bulkOps) and answers the same result with dry_run set and nothing
// written; the admin console's preview is this step.
func (s *Server) importBulk(c echo.Context) error {
	ent := store.Entity(c.QueryParam("entity"))
	dryRun, err := queryBool(c, "dry_run")
	if err != nil {
		return err
	}
	if err := requireContentType(c, func(mt string) bool { return mt == "text/csv" || isJSON(mt) }, "text/csv or application/json"); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	ops, err := s.bulkOps(ent, c.QueryParam("store"), mt == "text/csv", body)
	if err != nil {
		return err
	}
	res, err := s.writeBulk(c.Request().Context(), s.actor(c), ent, ops, dryRun)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// bulkOps parses and validates a bulk import of ent (CSV when isCSV, else
// a JSON array) into its write ops without writing anything. Every rule
// an import applies before writing lives here, for the API and the admin
// console alike: an invalid row fails the whole import with every row's
// errors (at most maxReportedErrors).
func (s *Server) bulkOps(ent store.Entity, storeID string, isCSV bool, body []byte) ([]store.Op, error) {
	if _, ok := csvColumns[ent]; !ok {
		return nil, &catalog.Error{Code: catalog.Invalid, Message: "unknown entity",
			Fields: []catalog.FieldError{{Field: "entity", Message: "must be stores, products, stock, faqs or promotions"}}}
	}
	if ent == store.Stock && !catalog.ValidID(storeID) {
		return nil, &catalog.Error{Code: catalog.Invalid, Message: "stock imports need ?store=<id>",
			Fields: []catalog.FieldError{{Field: "store", Message: "is required"}}}
	}
	var raws [][]byte
	var convErrs map[int][]catalog.FieldError
	var err error
	if isCSV {
		raws, convErrs, err = csvRecords(ent, body)
	} else {
		raws, err = jsonRecords(body)
	}
	if err != nil {
		return nil, err
	}
	if len(raws) > MaxImportRows {
		return nil, catalog.Errorf(catalog.TooLarge, "at most %d rows per import", MaxImportRows)
	}
	var fe []catalog.FieldError
	ops := make([]store.Op, 0, len(raws))
	for i, raw := range raws {
		conv := convErrs[i+1]
		fe = append(fe, conv...)
		op, err := s.opFor(ent, raw, "", storeID)
		if err != nil {
			// Report validation failures too, except on cells that did
			// not even convert.
			for _, f := range rowErrors(i+1, err) {
				if !slices.ContainsFunc(conv, func(c catalog.FieldError) bool { return c.Field == f.Field }) {
					fe = append(fe, f)
				}
			}
			continue
		}
		if len(conv) > 0 {
			continue
		}
		ops = append(ops, op)
	}
	if len(fe) > 0 {
		if len(fe) > maxReportedErrors {
			fe = fe[:maxReportedErrors]
		}
		return nil, &catalog.Error{Code: catalog.Invalid, Message: fmt.Sprintf("import rejected: %d rows invalid; nothing was written", countRows(fe)), Fields: fe}
	}
	return ops, nil
}

// writeBulk writes the ops of a bulk import of ent in batches (see
// ImportBatchRows); with dryRun it writes nothing and reports the rows
// that would be written against the log's current version.
func (s *Server) writeBulk(ctx context.Context, a store.Actor, ent store.Entity, ops []store.Op, dryRun bool) (importResult, error) {
	before, err := s.store.Stats(ctx)
	if err != nil {
		return importResult{}, err
	}
	if dryRun {
		return importResult{Entity: ent, Rows: len(ops), Version: before.Version, DryRun: true}, nil
	}
	its, err := s.writeBatches(ctx, a, ops)
	if err != nil {
		return importResult{}, importWriteFailed(err, len(its), len(ops), "rows")
	}
	res := importResult{Entity: ent, Rows: len(its), Version: before.Version}
	for _, it := range its {
		if it.Changed {
			res.Changed++
		}
		res.Version = max(res.Version, it.Version)
	}
	return res, nil
}

func countRows(fe []catalog.FieldError) int {
	rows := map[int]bool{}
	for _, f := range fe {
		rows[f.Row] = true
	}
	return len(rows)
}

func rowErrors(row int, err error) []catalog.FieldError {
	var ce *catalog.Error
	if !errors.As(err, &ce) {
		return []catalog.FieldError{{Row: row, Message: "invalid row"}}
	}
	if len(ce.Fields) == 0 {
		return []catalog.FieldError{{Row: row, Message: ce.Message}}
	}
	out := make([]catalog.FieldError, len(ce.Fields))
	for i, f := range ce.Fields {
		f.Row = row
		out[i] = f
	}
	return out
}

func jsonRecords(body []byte) ([][]byte, error) {
	var arr []json.RawMessage
	if err := catalog.DecodeJSON(body, &arr); err != nil {
		return nil, err
	}
	out := make([][]byte, len(arr))
	for i, r := range arr {
		out[i] = r
	}
	return out, nil
}

// csvRecords converts CSV rows to the JSON admin records opFor decodes, so
// CSV and JSON share validation. Cells that do not convert (a price that is
// not a number) are reported per row in convErrs, keyed by row.
func csvRecords(ent store.Entity, body []byte) (out [][]byte, convErrs map[int][]catalog.FieldError, err error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))))
	r.FieldsPerRecord = 0
	header, err := r.Read()
	if err == io.EOF {
		return nil, nil, catalog.Errorf(catalog.Invalid, "empty CSV: a header row is required")
	} else if err != nil {
		return nil, nil, catalog.Errorf(catalog.Invalid, "malformed CSV header: %v", err)
	}
	allowed := map[string]bool{}
	for _, col := range csvColumns[ent] {
		allowed[strings.TrimPrefix(col, "*")] = true
	}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		header[i] = h
		if !(allowed[h] || (ent == store.Products && strings.HasPrefix(h, "attr:") && len(h) > 5)) || seen[h] {
			return nil, nil, &catalog.Error{Code: catalog.Invalid, Message: "bad CSV header",
				Fields: []catalog.FieldError{{Field: h, Message: "unknown or repeated column; allowed: " + strings.Join(csvColumns[ent], ", ")}}}
		}
		seen[h] = true
	}
	for _, col := range csvColumns[ent] {
		if strings.HasPrefix(col, "*") && !seen[col[1:]] {
			return nil, nil, &catalog.Error{Code: catalog.Invalid, Message: "bad CSV header",
				Fields: []catalog.FieldError{{Field: col[1:], Message: "required column missing"}}}
		}
	}
	convErrs = map[int][]catalog.FieldError{}
	for row := 1; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, &catalog.Error{Code: catalog.Invalid, Message: "malformed CSV",
				Fields: []catalog.FieldError{{Row: row, Message: err.Error()}}}
		}
		if len(out) >= MaxImportRows {
			return nil, nil, catalog.Errorf(catalog.TooLarge, "at most %d rows per import", MaxImportRows)
		}
		obj, errs := csvObject(ent, header, rec)
		for _, e := range errs {
			e.Row = row
			convErrs[row] = append(convErrs[row], e)
		}
		b, _ := json.Marshal(obj)
		out = append(out, b)
	}
	return out, convErrs, nil
}

// csvObject builds the JSON object of one CSV row, converting typed
// columns.
func csvObject(ent store.Entity, header, rec []string) (map[string]any, []catalog.FieldError) {
	obj := map[string]any{}
	staff := map[string]any{}
	attrs := map[string]string{}
	var fe []catalog.FieldError
	num := func(col, v string) int64 {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			fe = append(fe, catalog.FieldError{Field: col, Message: "must be an integer"})
		}
		return n
	}
	list := func(v string) []string {
		var out []string
		for _, p := range strings.Split(v, "|") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	for i, col := range header {
		v := unneutralize(rec[i])
		switch {
		case strings.HasPrefix(col, "attr:"):
			if v != "" {
				attrs[col[5:]] = v
			}
		case col == "price" || col == "quantity" || col == "discount_percent":
			obj[col] = num(col, v)
		case col == "cost" || col == "backroom":
			if strings.TrimSpace(v) != "" {
				staff[col] = num(col, v)
			}
		case col == "supplier" || (col == "notes"):
			staff[col] = v
		case col == "active":
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "", "true", "1", "yes", "y":
				obj[col] = true
			case "false", "0", "no", "n":
				obj[col] = false
			default:
				fe = append(fe, catalog.FieldError{Field: col, Message: "must be true or false"})
			}
		case col == "tags" || col == "skus":
			obj[col] = list(v)
		case col == "starts" || col == "ends":
			t, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
			if err != nil {
				fe = append(fe, catalog.FieldError{Field: col, Message: "must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z"})
			}
			obj[col] = t
		default:
			obj[col] = v
		}
	}
	if ent == store.Products {
		if _, ok := obj["active"]; !ok {
			obj["active"] = true
		}
		if len(attrs) > 0 {
			obj["attributes"] = attrs
		}
	}
	if len(staff) > 0 {
		obj["staff"] = staff
	}
	return obj, fe
}
