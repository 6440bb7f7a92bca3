package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// decodeStrict reads a JSON body into v (catalog.DecodeJSON: no unknown, repeated or miscased
// keys, no trailing data).
func decodeStrict(c echo.Context, v any) error {
	body, err := readJSONBody(c)
	if err != nil {
		return err
	}
	return catalog.DecodeJSON(body, v)
}

// readJSONBody reads a request body that must be JSON: a Content-Type other than
// application/json (or a +json type) is refused with 415 before the body is read.
func readJSONBody(c echo.Context) ([]byte, error) {
	if err := requireContentType(c, isJSON, "application/json"); err != nil {
		return nil, err
	}
	return readBody(c)
}

// requireContentType refuses a request whose Content-Type ok does not accept (missing
// included), naming the types the endpoint reads.
func requireContentType(c echo.Context, ok func(mediaType string) bool, want string) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !ok(mt) {
		return catalog.Errorf(catalog.MediaType, "Content-Type must be %s, not %q", want, ct)
	}
	return nil
}

func isJSON(mt string) bool { return mt == echo.MIMEApplicationJSON || strings.HasSuffix(mt, "+json") }

// readBody reads the request body whole (its size is bounded by the body limit middleware).
func readBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return nil, he
		}
		return nil, catalog.Wrap(err, catalog.Invalid, "cannot read the request body")
	}
	return b, nil
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
	if wire.ETagMatch(c.Request().Header.Get("If-None-Match"), etag) {
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
