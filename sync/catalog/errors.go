package catalog

import (
	"errors"
	"fmt"
)

// Code classifies an [Error]. Codes are stable strings: clients switch on
// them, and the HTTP adapter maps each one to a status in one place.
type Code string

// Error codes.
const (
	Invalid      Code = "invalid"                // the request or its data is malformed or breaks a rule
	NotFound     Code = "not_found"              // the addressed entity does not exist
	Unauthorized Code = "unauthorized"           // no valid credentials
	Expired      Code = "token_expired"          // the token was valid and has expired: like a revoked one, it will never work again
	Forbidden    Code = "forbidden"              // valid credentials, insufficient role or scope
	Conflict     Code = "conflict"               // the entity already exists, or others depend on it
	Precondition Code = "precondition_failed"    // an If-Match version did not match
	Gone         Code = "gone"                   // the requested cursor or checkpoint is no longer served
	TooLarge     Code = "too_large"              // a request body or import exceeds its limit
	RateLimited  Code = "rate_limited"           // too many requests from this client
	Unsupported  Code = "unsupported"            // protocol or schema version not supported
	MediaType    Code = "unsupported_media_type" // the body's Content-Type is not one the endpoint reads
	Unavailable  Code = "unavailable"            // a dependency (database, disk) is temporarily failing
	Internal     Code = "internal"               // a bug or unexpected failure; details are only logged
)

// HTTPStatus is the HTTP status of an error of code c: the one mapping,
// for the server and the edge replica alike (numbers, so that the domain's
// WebAssembly builds do not link net/http for it).
func (c Code) HTTPStatus() int {
	switch c {
	case Invalid, Unsupported:
		return 400 // Bad Request
	case Unauthorized, Expired:
		return 401 // Unauthorized
	case Forbidden:
		return 403 // Forbidden
	case NotFound:
		return 404 // Not Found
	case Conflict:
		return 409 // Conflict
	case Gone:
		return 410 // Gone
	case Precondition:
		return 412 // Precondition Failed
	case TooLarge:
		return 413 // Content Too Large
	case MediaType:
		return 415 // Unsupported Media Type
	case RateLimited:
		return 429 // Too Many Requests
	case Unavailable:
		return 503 // Service Unavailable
	default:
		return 500 // Internal Server Error
	}
}

// FieldError names one invalid field, and for bulk imports the row
// (1-based, as a spreadsheet shows it) that holds it.
type FieldError struct {
	Row     int    `json:"row,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error is the one error type of the domain. Message and Fields are safe to
// show to clients; Err (the cause) is for logs only.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if len(e.Fields) > 0 {
		s += fmt.Sprintf(" (%d field errors; first: %s %s)", len(e.Fields), e.Fields[0].Field, e.Fields[0].Message)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code and message whose cause is err (logged,
// never sent to clients). Wrap(nil, ...) returns nil.
func Wrap(err error, code Code, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, Internal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// IsCode reports whether err carries code.
func IsCode(err error, code Code) bool { return ErrorCode(err) == code }

// fieldErrors accumulates validation failures.
type fieldErrors []FieldError

func (fe *fieldErrors) add(field, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (fe fieldErrors) err(what string) error {
	if len(fe) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "invalid " + what, Fields: fe}
}
