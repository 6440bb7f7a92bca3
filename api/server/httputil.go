package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"aisle/sync/catalog"
)

// decodeStrict reads a JSON body into v, refusing unknown fields and
// trailing data.
func decodeStrict(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return he
		}
		return catalog.Wrap(err, catalog.Invalid, "cannot read the request body")
	}
	return decodeJSON(body, v)
}

func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonErr(err)
	}
	if dec.More() {
		return catalog.Errorf(catalog.Invalid, "unexpected data after the JSON value")
	}
	return nil
}

func jsonErr(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return catalog.Errorf(catalog.Invalid, "malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return &catalog.Error{Code: catalog.Invalid, Message: "wrong JSON type",
			Fields: []catalog.FieldError{{Field: te.Field, Message: fmt.Sprintf("must be %s, not %s", te.Type, te.Value)}}}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return catalog.Errorf(catalog.Invalid, "empty or truncated JSON body")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return catalog.Errorf(catalog.Invalid, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return catalog.Errorf(catalog.Invalid, "invalid JSON: %v", err)
}

// etagMatch reports whether an If-None-Match header matches etag.
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// jsonCached writes v with a strong ETag over its bytes and answers 304 to
// a matching If-None-Match. Cache-Control defaults to no-cache (revalidate
// every time) unless the handler set one.
func (s *Server) jsonCached(c echo.Context, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return catalog.Wrap(err, catalog.Internal, "encode response")
	}
	sum := sha256.Sum256(body)
	return s.writeTagged(c, `"`+hex.EncodeToString(sum[:12])+`"`, body)
}

func (s *Server) writeTagged(c echo.Context, etag string, body []byte) error {
	h := c.Response().Header()
	h.Set("ETag", etag)
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "private, no-cache")
	}
	h.Add(echo.HeaderVary, echo.HeaderAuthorization)
	if etagMatch(c.Request().Header.Get("If-None-Match"), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.JSONBlob(http.StatusOK, body)
}

// queryInt reads an integer query parameter in [lo, hi] (def if absent).
func queryInt(c echo.Context, name string, def, lo, hi int64) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, &catalog.Error{Code: catalog.Invalid, Message: "bad query parameter",
			Fields: []catalog.FieldError{{Field: name, Message: fmt.Sprintf("must be an integer between %d and %d", lo, hi)}}}
	}
	return n, nil
}
