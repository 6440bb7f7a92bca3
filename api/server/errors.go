package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// codeOfStatus maps statuses raised by Echo itself (unknown route, body
// limit, rate limiter...) back to codes.
func codeOfStatus(status int) catalog.Code {
	switch status {
	case http.StatusNotFound:
		return catalog.NotFound
	case http.StatusMethodNotAllowed, http.StatusBadRequest:
		return catalog.Invalid
	case http.StatusUnsupportedMediaType:
		return catalog.MediaType
	case http.StatusUnauthorized:
		return catalog.Unauthorized
	case http.StatusForbidden:
		return catalog.Forbidden
	case http.StatusRequestEntityTooLarge:
		return catalog.TooLarge
	case http.StatusTooManyRequests:
		return catalog.RateLimited
	case http.StatusServiceUnavailable:
		return catalog.Unavailable
	}
	return catalog.Internal
}

// errorHandler writes every error as a wire.ErrorBody. Internal details are
// logged with the request ID, never sent.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var body wire.ErrorBody
	var status int
	var ce *catalog.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ce):
		status = ce.Code.HTTPStatus()
		body.Error = wire.ErrorDetail{Code: string(ce.Code), Message: ce.Message}
		for _, f := range ce.Fields {
			body.Error.Fields = append(body.Error.Fields, wire.FieldDetail(f))
		}
	case errors.As(err, &he):
		status = he.Code
		msg := http.StatusText(status)
		if m, ok := he.Message.(string); ok && status < 500 {
			msg = m
		}
		body.Error = wire.ErrorDetail{Code: string(codeOfStatus(status)), Message: msg}
	default:
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		code := catalog.ErrorCode(err)
		if ce == nil {
			code = catalog.Internal
		}
		s.log.Error("request failed", "id", c.Response().Header().Get(echo.HeaderXRequestID),
			"method", c.Request().Method, "path", c.Request().URL.Path, "code", code, "err", err)
		msg := "internal error"
		if code == catalog.Unavailable {
			msg = "service temporarily unavailable; retry later"
			c.Response().Header().Set("Retry-After", strconv.Itoa(5))
		}
		body.Error = wire.ErrorDetail{Code: string(code), Message: msg}
	}
	if status == http.StatusUnauthorized {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="aisle"`)
	}
	// A HEAD gets the same status and headers; net/http drops the body.
	if err := c.JSON(status, body); err != nil {
		s.log.Warn("write error response", "err", err)
	}
}
