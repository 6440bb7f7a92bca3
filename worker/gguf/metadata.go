package gguf

import (
	"fmt"
	"math"
	"sort"
)

// ValueType is the type tag of a metadata value, as stored in the file.
type ValueType uint32

// Metadata value types (GGUF specification).
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
	"bool", "string", "array", "uint64", "int64", "float64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// fixedSize is the encoded size of a scalar of type t, or 0 for strings, arrays and unknown types.
func (t ValueType) fixedSize() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// Value is one metadata value. Scalars hold the Go type matching Type (uint8 … float64, bool,
// string); arrays hold a typed slice ([]uint8 … []float64, []bool, []string) and ElemType.
// Arrays of arrays are read but kept as [][]any-free raw form: []Value.
type Value struct {
	Type     ValueType
	ElemType ValueType // for arrays
	V        any
}

// Metadata is the key/value section of a GGUF file. Accessors return (value, ok): ok is false
// when the key is absent or holds a type that cannot represent the requested one exactly.
type Metadata struct {
	kv    map[string]Value
	order []string // keys in file order
}

func newMetadata() Metadata { return Metadata{kv: map[string]Value{}} }

// Has reports whether key is present.
func (m Metadata) Has(key string) bool { _, ok := m.kv[key]; return ok }

// Get returns the raw value of key.
func (m Metadata) Get(key string) (Value, bool) { v, ok := m.kv[key]; return v, ok }

// Keys returns the keys in file order.
func (m Metadata) Keys() []string { return append([]string(nil), m.order...) }

// SortedKeys returns the keys sorted.
func (m Metadata) SortedKeys() []string { k := m.Keys(); sort.Strings(k); return k }

// Len is the number of keys.
func (m Metadata) Len() int { return len(m.order) }

func (m *Metadata) set(key string, v Value) {
	if m.kv == nil {
		m.kv = map[string]Value{}
	}
	if _, dup := m.kv[key]; !dup {
		m.order = append(m.order, key)
	}
	m.kv[key] = v
}

// String returns a string value.
func (m Metadata) String(key string) (string, bool) {
	v, ok := m.kv[key]
	if !ok {
		return "", false
	}
	s, ok := v.V.(string)
	return s, ok
}

// Bool returns a bool value.
func (m Metadata) Bool(key string) (bool, bool) {
	v, ok := m.kv[key]
	if !ok {
		return false, false
	}
	b, ok := v.V.(bool)
	return b, ok
}

// Int64 returns any integer value that fits in an int64.
func (m Metadata) Int64(key string) (int64, bool) {
	v, ok := m.kv[key]
	if !ok {
		return 0, false
	}
	return asInt64(v.V)
}

// Uint32 returns any non-negative integer value that fits in a uint32.
func (m Metadata) Uint32(key string) (uint32, bool) {
	i, ok := m.Int64(key)
	if !ok || i < 0 || i > math.MaxUint32 {
		return 0, false
	}
	return uint32(i), true
}

// Float32 returns a float32 or float64 value (float64 rounded), or an integer converted.
func (m Metadata) Float32(key string) (float32, bool) {
	v, ok := m.kv[key]
	if !ok {
		return 0, false
	}
	switch x := v.V.(type) {
	case float32:
		return x, true
	case float64:
		return float32(x), true
	}
	if i, ok := asInt64(v.V); ok {
		return float32(i), true
	}
	return 0, false
}

// Strings returns an array of strings.
func (m Metadata) Strings(key string) ([]string, bool) {
	v, ok := m.kv[key]
	if !ok {
		return nil, false
	}
	s, ok := v.V.([]string)
	return s, ok
}

// Float32s returns an array of float32 (float64 arrays are converted).
func (m Metadata) Float32s(key string) ([]float32, bool) {
	v, ok := m.kv[key]
	if !ok {
		return nil, false
	}
	switch x := v.V.(type) {
	case []float32:
		return x, true
	case []float64:
		out := make([]float32, len(x))
		for i, f := range x {
			out[i] = float32(f)
		}
		return out, true
	}
	return nil, false
}

// Int32s returns an integer array whose every element fits in an int32.
func (m Metadata) Int32s(key string) ([]int32, bool) {
	v, ok := m.kv[key]
	if !ok {
		return nil, false
	}
	if x, ok := v.V.([]int32); ok {
		return x, true
	}
	n, ok := arrayLen(v.V)
	if !ok {
		return nil, false
	}
	out := make([]int32, n)
	for i := range out {
		e, ok := asInt64(arrayElem(v.V, i))
		if !ok || e < math.MinInt32 || e > math.MaxInt32 {
			return nil, false
		}
		out[i] = int32(e)
	}
	return out, true
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

func arrayLen(v any) (int, bool) {
	switch x := v.(type) {
	case []uint8:
		return len(x), true
	case []int8:
		return len(x), true
	case []uint16:
		return len(x), true
	case []int16:
		return len(x), true
	case []uint32:
		return len(x), true
	case []int32:
		return len(x), true
	case []uint64:
		return len(x), true
	case []int64:
		return len(x), true
	}
	return 0, false
}

func arrayElem(v any, i int) any {
	switch x := v.(type) {
	case []uint8:
		return x[i]
	case []int8:
		return x[i]
	case []uint16:
		return x[i]
	case []int16:
		return x[i]
	case []uint32:
		return x[i]
	case []int32:
		return x[i]
	case []uint64:
		return x[i]
	case []int64:
		return x[i]
	}
	return nil
}
