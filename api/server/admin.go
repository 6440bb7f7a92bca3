package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// listBody is the shape of every list response.
type listBody struct {
	Items []json.RawMessage `json:"items"`
	Next  string            `json:"next,omitempty"` // pass as ?after= for the next page; absent at the end
}

// itemKey returns the store key addressed by the path.
func itemKey(c echo.Context, ent store.Entity) (string, error) {
	key := c.Param("key")
	if !catalog.ValidID(key) {
		return "", catalog.Errorf(catalog.Invalid, "bad id %q in path", key)
	}
	if ent == store.Stock {
		return store.StockKey(c.Param("store"), key), nil
	}
	return key, nil
}

func versionTag(v int64) string { return `"v` + strconv.FormatInt(v, 10) + `"` }

// ifMatch parses If-Match: "v<version>" (the ETag of GET).
func ifMatch(c echo.Context) (int64, error) {
	h := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if h == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(h, "W/"), `"v`), `"`), 10, 64)
	if err != nil || v <= 0 {
		return 0, catalog.Errorf(catalog.Invalid, `If-Match must be an ETag of this API ("v<version>")`)
	}
	return v, nil
}

func (s *Server) writeItem(c echo.Context, status int, it store.Item) error {
	h := c.Response().Header()
	h.Set("ETag", versionTag(it.Version))
	h.Set(echo.HeaderLastModified, it.UpdatedAt.UTC().Format(http.TimeFormat))
	h.Set("Cache-Control", "private, no-cache")
	if status == http.StatusOK && wire.ETagMatch(c.Request().Header.Get("If-None-Match"), versionTag(it.Version)) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.JSONBlob(status, it.Data)
}

func (s *Server) list(ent store.Entity) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit, err := queryInt(c, "limit", store.DefaultListLimit, 1, store.MaxListLimit)
		if err != nil {
			return err
		}
		q := store.ListQuery{After: c.QueryParam("after"), Limit: int(limit)}
		switch {
		case ent == store.Stock:
			sc := c.Param("store")
			q.Scope = &sc
			q.After = ""
			if a := c.QueryParam("after"); a != "" {
				q.After = store.StockKey(sc, a)
			}
		case c.QueryParams().Has("store"):
			sc := c.QueryParam("store")
			q.Scope = &sc
		}
		items, next, err := s.store.List(c.Request().Context(), ent, q)
		if err != nil {
			return err
		}
		if ent == store.Stock && next != "" {
			next = strings.TrimPrefix(next, c.Param("store")+"/")
		}
		out := listBody{Items: make([]json.RawMessage, 0, len(items)), Next: next}
		for _, it := range items {
			out.Items = append(out.Items, it.Data)
		}
		if wantsCSV(c) {
			return writeCSV(c, ent, out.Items, next)
		}
		return s.jsonCached(c, out)
	}
}

func (s *Server) get(ent store.Entity) echo.HandlerFunc {
	return func(c echo.Context) error {
		key, err := itemKey(c, ent)
		if err != nil {
			return err
		}
		it, err := s.store.Get(c.Request().Context(), ent, key)
		if err != nil {
			return err
		}
		return s.writeItem(c, http.StatusOK, it)
	}
}

// opFor decodes one admin record of ent from raw JSON into a write op.
// pathKey is the ID in the URL ("" for POST); storeID the store of a
// stock line.
func (s *Server) opFor(ent store.Entity, raw []byte, pathKey, storeID string) (store.Op, error) {
	fill := func(id *string, what string) error {
		switch {
		case *id == "" && pathKey != "":
			*id = pathKey
		case pathKey != "" && *id != pathKey:
			return &catalog.Error{Code: catalog.Invalid, Message: "the body names another record than the path",
				Fields: []catalog.FieldError{{Field: what, Message: fmt.Sprintf("is %q, path says %q", *id, pathKey)}}}
		}
		return nil
	}
	switch ent {
	case store.Stores:
		var v catalog.Store
		if err := catalog.DecodeJSON(raw, &v); err != nil {
			return store.Op{}, err
		}
		if err := fill(&v.ID, "id"); err != nil {
			return store.Op{}, err
		}
		return store.PutStore(v)
	case store.Products:
		var v catalog.ProductRecord
		if err := catalog.DecodeJSON(raw, &v); err != nil {
			return store.Op{}, err
		}
		if err := fill(&v.SKU, "sku"); err != nil {
			return store.Op{}, err
		}
		return store.PutProduct(v)
	case store.Stock:
		var v catalog.StockRecord
		if err := catalog.DecodeJSON(raw, &v); err != nil {
			return store.Op{}, err
		}
		if err := fill(&v.SKU, "sku"); err != nil {
			return store.Op{}, err
		}
		v.UpdatedAt = s.now().UTC()
		return store.PutStock(storeID, v)
	case store.FAQs:
		var v catalog.FAQ
		if err := catalog.DecodeJSON(raw, &v); err != nil {
			return store.Op{}, err
		}
		if err := fill(&v.ID, "id"); err != nil {
			return store.Op{}, err
		}
		if v.ID == "" {
			v.ID = newID("faq")
		}
		return store.PutFAQ(v)
	case store.Promotions:
		var v catalog.Promotion
		if err := catalog.DecodeJSON(raw, &v); err != nil {
			return store.Op{}, err
		}
		if err := fill(&v.ID, "id"); err != nil {
			return store.Op{}, err
		}
		if v.ID == "" {
			v.ID = newID("promo")
		}
		return store.PutPromotion(v)
	}
	return store.Op{}, catalog.Errorf(catalog.Invalid, "unknown entity %q", ent)
}

func newID(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func (s *Server) write(c echo.Context, ent store.Entity, op store.Op) (store.Item, error) {
	its, err := s.store.Write(c.Request().Context(), s.actor(c), []store.Op{op})
	if err != nil {
		// A single write: the row number adds nothing.
		if ce, ok := err.(*catalog.Error); ok {
			for i := range ce.Fields {
				ce.Fields[i].Row = 0
			}
			if len(ce.Fields) == 1 && ce.Fields[0].Field == "" && ce.Fields[0].Message == ce.Message {
				ce.Fields = nil
			}
		}
		return store.Item{}, err
	}
	return its[0], nil
}

func (s *Server) create(ent store.Entity) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw, err := readJSONBody(c)
		if err != nil {
			return err
		}
		op, err := s.opFor(ent, raw, "", c.Param("store"))
		if err != nil {
			return err
		}
		op.Create = true
		it, err := s.write(c, ent, op)
		if err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderLocation, "/v1/admin/"+string(ent)+"/"+it.Ref)
		return s.writeItem(c, http.StatusCreated, it)
	}
}

func (s *Server) put(ent store.Entity) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := itemKey(c, ent); err != nil {
			return err
		}
		raw, err := readJSONBody(c)
		if err != nil {
			return err
		}
		op, err := s.opFor(ent, raw, c.Param("key"), c.Param("store"))
		if err != nil {
			return err
		}
		if op.IfVersion, err = ifMatch(c); err != nil {
			return err
		}
		it, err := s.write(c, ent, op)
		if err != nil {
			return err
		}
		return s.writeItem(c, http.StatusOK, it)
	}
}

func (s *Server) del(ent store.Entity) echo.HandlerFunc {
	return func(c echo.Context) error {
		key, err := itemKey(c, ent)
		if err != nil {
			return err
		}
		op := store.Delete(ent, key)
		if op.IfVersion, err = ifMatch(c); err != nil {
			return err
		}
		if _, err := s.write(c, ent, op); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

func (s *Server) audit(c echo.Context) error {
	before, err := queryInt(c, "before", 0, 0, wire.MaxVersion)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", store.DefaultListLimit, 1, store.MaxListLimit)
	if err != nil {
		return err
	}
	entries, next, err := s.store.Audit(c.Request().Context(), before, int(limit))
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []store.AuditEntry{}
	}
	body := map[string]any{"items": entries}
	if next > 0 {
		body["next"] = next
	}
	return s.jsonCached(c, body)
}

func (s *Server) stats(c echo.Context) error {
	st, err := s.store.Stats(c.Request().Context())
	if err != nil {
		return err
	}
	return s.jsonCached(c, st)
}

// refreshVectors recomputes every product's and FAQ's vector now and logs
// those that differ (ForceRefreshVectors): {"logged": n}.
func (s *Server) refreshVectors(c echo.Context) error {
	n, err := ForceRefreshVectors(c.Request().Context(), s.store, s.log)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"logged": n})
}

// compact raises the retention horizon: {"horizon": version}.
func (s *Server) compact(c echo.Context) error {
	var req struct {
		Horizon int64 `json:"horizon"`
	}
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	if err := s.store.Compact(c.Request().Context(), req.Horizon); err != nil {
		return err
	}
	s.pages.clear()
	return s.stats(c)
}
