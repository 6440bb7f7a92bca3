package catalog

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
)

// DecodeJSON reads one JSON value into v as the admin API accepts it: no key twice in an
// object, no key that is not one of the target's field names exactly (encoding/json alone
// would keep the last of two "sku" keys and read "SKU" as "sku"), and nothing after the value.
// Errors are Invalid *Errors that name the field.
func DecodeJSON(data []byte, v any) error {
	if err := checkKeys(data, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return Errorf(Invalid, "unexpected data after the JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return Errorf(Invalid, "malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return &Error{Code: Invalid, Message: "wrong JSON type",
			Fields: []FieldError{{Field: te.Field, Message: fmt.Sprintf("must be %s, not %s", te.Type, te.Value)}}}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(Invalid, "empty or truncated JSON body")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return Errorf(Invalid, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return Errorf(Invalid, "invalid JSON: %v", err)
}

// checkKeys walks the JSON value in data beside type t. Malformed JSON is left to the decoder.
func checkKeys(data []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	err := walkKeys(dec, t, "")
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// walkKeys checks the next value of dec; t is the Go type it decodes into (nil: any).
func walkKeys(dec *json.Decoder, t reflect.Type, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)) {
		t = nil // its own format (time.Time, json.RawMessage): only repeated keys are refused
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch delim {
	case '{':
		var fields map[string]reflect.Type
		var elem reflect.Type
		if t != nil {
			switch t.Kind() {
			case reflect.Struct:
				fields = jsonFields(t)
			case reflect.Map:
				elem = t.Elem()
			}
		}
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			field := key
			if path != "" {
				field = path + "." + key
			}
			if seen[key] {
				return &Error{Code: Invalid, Message: "a key appears twice in one JSON object",
					Fields: []FieldError{{Field: field, Message: "is given twice"}}}
			}
			seen[key] = true
			vt := elem
			if fields != nil {
				ft, ok := fields[key]
				if !ok {
					return &Error{Code: Invalid, Message: fmt.Sprintf("unknown field %q", field),
						Fields: []FieldError{{Field: field, Message: "is not a field here (names are case-sensitive)"}}}
				}
				vt = ft
			}
			if err := walkKeys(dec, vt, field); err != nil {
				return err
			}
		}
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := walkKeys(dec, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields returns the JSON names of struct t's fields (those of embedded structs promoted, as
// encoding/json does) and their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			for k, v := range jsonFields(ft) {
				if _, own := m[k]; !own {
					m[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	fieldCache.Store(t, m)
	return m
}
