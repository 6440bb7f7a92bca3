package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"aisle/worker/quant"
)

// Writer builds a GGUF v3 file: metadata in the order it was set, then tensors in the order they
// were added, each aligned to the alignment (general.alignment if set, else 32).
type Writer struct {
	md      Metadata
	tensors []TensorInfo
	data    [][]byte
	names   map[string]bool
}

// NewWriter returns an empty writer.
func NewWriter() *Writer { return &Writer{md: newMetadata(), names: map[string]bool{}} }

// Set stores a metadata value as is (use the typed setters for the common cases).
func (w *Writer) Set(key string, v Value) { w.md.set(key, v) }

func (w *Writer) SetString(key, v string)        { w.Set(key, Value{Type: TypeString, V: v}) }
func (w *Writer) SetUint32(key string, v uint32) { w.Set(key, Value{Type: TypeUint32, V: v}) }
func (w *Writer) SetInt32(key string, v int32)   { w.Set(key, Value{Type: TypeInt32, V: v}) }
func (w *Writer) SetUint64(key string, v uint64) { w.Set(key, Value{Type: TypeUint64, V: v}) }
func (w *Writer) SetFloat32(key string, v float32) {
	w.Set(key, Value{Type: TypeFloat32, V: v})
}
func (w *Writer) SetBool(key string, v bool) { w.Set(key, Value{Type: TypeBool, V: v}) }
func (w *Writer) SetStrings(key string, v []string) {
	w.Set(key, Value{Type: TypeArray, ElemType: TypeString, V: v})
}
func (w *Writer) SetFloat32s(key string, v []float32) {
	w.Set(key, Value{Type: TypeArray, ElemType: TypeFloat32, V: v})
}
func (w *Writer) SetInt32s(key string, v []int32) {
	w.Set(key, Value{Type: TypeArray, ElemType: TypeInt32, V: v})
}

// CopyMetadata copies every key of md (for example a real model's tokenizer) into the writer.
func (w *Writer) CopyMetadata(md Metadata, keep func(key string) bool) {
	for _, k := range md.order {
		if keep == nil || keep(k) {
			w.md.set(k, md.kv[k])
		}
	}
}

// AddTensor appends a tensor. shape is in ggml order (shape[0] contiguous); data must be exactly
// the tensor's size for typ.
func (w *Writer) AddTensor(name string, typ quant.Type, shape []uint64, data []byte) error {
	if w.names[name] {
		return fmt.Errorf("gguf: duplicate tensor %q", name)
	}
	if len(shape) == 0 || len(shape) > MaxDims {
		return fmt.Errorf("gguf: tensor %q: %d dimensions", name, len(shape))
	}
	elems := uint64(1)
	for _, d := range shape {
		if d == 0 {
			return fmt.Errorf("gguf: tensor %q: zero dimension in %v", name, shape)
		}
		elems *= d
	}
	blockSize, blockBytes := layout(typ)
	bs := uint64(blockSize)
	if bs == 0 || shape[0]%bs != 0 {
		return fmt.Errorf("gguf: tensor %q: row length %d is not a multiple of the %s block size", name, shape[0], TypeName(typ))
	}
	size := elems / bs * uint64(blockBytes)
	if uint64(len(data)) != size {
		return fmt.Errorf("gguf: tensor %q: %d bytes of data, want %d", name, len(data), size)
	}
	w.names[name] = true
	w.tensors = append(w.tensors, TensorInfo{Name: name, Type: typ, Shape: append([]uint64(nil), shape...), Size: size})
	w.data = append(w.data, data)
	return nil
}

// WriteTo writes the file.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	align := uint64(DefaultAlignment)
	if w.md.Has("general.alignment") {
		a, ok := w.md.Uint32("general.alignment")
		if !ok || a == 0 || a&(a-1) != 0 {
			return 0, fmt.Errorf("gguf: general.alignment must be a power of two")
		}
		align = uint64(a)
	}
	var off uint64
	for i := range w.tensors {
		w.tensors[i].Offset = off
		off = alignUp(off+w.tensors[i].Size, align)
	}
	cw := &countingWriter{w: bufio.NewWriterSize(out, 1<<20)}
	e := &encoder{w: cw}
	e.raw([]byte(Magic))
	e.u32(3)
	e.u64(uint64(len(w.tensors)))
	e.u64(uint64(len(w.md.order)))
	for _, k := range w.md.order {
		e.str(k)
		e.value(w.md.kv[k])
	}
	for _, t := range w.tensors {
		e.str(t.Name)
		e.u32(uint32(len(t.Shape)))
		for _, d := range t.Shape {
			e.u64(d)
		}
		e.u32(uint32(t.Type))
		e.u64(t.Offset)
	}
	e.pad(align)
	for i := range w.tensors {
		e.raw(w.data[i])
		if i < len(w.tensors)-1 {
			e.pad(align)
		}
	}
	if e.err == nil {
		e.err = cw.w.(*bufio.Writer).Flush()
	}
	return cw.n, e.err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// encoder writes little-endian GGUF primitives, remembering the first error.
type encoder struct {
	w   *countingWriter
	err error
	buf [8]byte
}

func (e *encoder) raw(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}
func (e *encoder) u8(v uint8)   { e.raw([]byte{v}) }
func (e *encoder) u16(v uint16) { binary.LittleEndian.PutUint16(e.buf[:2], v); e.raw(e.buf[:2]) }
func (e *encoder) u32(v uint32) { binary.LittleEndian.PutUint32(e.buf[:4], v); e.raw(e.buf[:4]) }
func (e *encoder) u64(v uint64) { binary.LittleEndian.PutUint64(e.buf[:8], v); e.raw(e.buf[:8]) }
func (e *encoder) str(s string) { e.u64(uint64(len(s))); e.raw([]byte(s)) }

func (e *encoder) pad(align uint64) {
	n := alignUp(uint64(e.w.n), align) - uint64(e.w.n)
	if n > 0 {
		e.raw(make([]byte, n))
	}
}

func (e *encoder) value(v Value) {
	e.u32(uint32(v.Type))
	if v.Type == TypeArray {
		e.u32(uint32(v.ElemType))
		e.array(v)
		return
	}
	e.scalar(v.Type, v.V)
}

func (e *encoder) array(v Value) {
	switch x := v.V.(type) {
	case []string:
		e.u64(uint64(len(x)))
		for _, s := range x {
			e.str(s)
		}
	case []Value:
		e.u64(uint64(len(x)))
		for _, s := range x {
			e.u32(uint32(s.ElemType))
			e.array(s)
		}
	case []float32:
		e.u64(uint64(len(x)))
		for _, f := range x {
			e.u32(math.Float32bits(f))
		}
	case []int32:
		e.u64(uint64(len(x)))
		for _, i := range x {
			e.u32(uint32(i))
		}
	case []uint32:
		e.u64(uint64(len(x)))
		for _, i := range x {
			e.u32(i)
		}
	case []uint8:
		e.u64(uint64(len(x)))
		e.raw(x)
	case []int8:
		e.u64(uint64(len(x)))
		for _, i := range x {
			e.u8(uint8(i))
		}
	case []bool:
		e.u64(uint64(len(x)))
		for _, b := range x {
			e.scalar(TypeBool, b)
		}
	case []uint16:
		e.u64(uint64(len(x)))
		for _, i := range x {
			e.u16(i)
		}
	case []int16:
		e.u64(uint64(len(x)))
		for _, i := range x {
			e.u16(uint16(i))
		}
	case []uint64:
		e.u64(uint64(len(x)))
		for _, i := range x {
			e.u64(i)
		}
	case []int64:
		e.u64(uint64(len(x)))
		for _, i := range x {
			e.u64(uint64(i))
		}
	case []float64:
		e.u64(uint64(len(x)))
		for _, f := range x {
			e.u64(math.Float64bits(f))
		}
	default:
		if e.err == nil {
			e.err = fmt.Errorf("gguf: cannot encode array of %T", v.V)
		}
	}
}

func (e *encoder) scalar(t ValueType, v any) {
	ok := true
	switch x := v.(type) {
	case uint8:
		e.u8(x)
	case int8:
		e.u8(uint8(x))
	case bool:
		if x {
			e.u8(1)
		} else {
			e.u8(0)
		}
	case uint16:
		e.u16(x)
	case int16:
		e.u16(uint16(x))
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	case string:
		e.str(x)
	default:
		ok = false
	}
	if (!ok || scalarType(v) != t) && e.err == nil {
		e.err = fmt.Errorf("gguf: value %v (%T) does not match type %s", v, v, t)
	}
}

func scalarType(v any) ValueType {
	switch v.(type) {
	case uint8:
		return TypeUint8
	case int8:
		return TypeInt8
	case bool:
		return TypeBool
	case uint16:
		return TypeUint16
	case int16:
		return TypeInt16
	case uint32:
		return TypeUint32
	case int32:
		return TypeInt32
	case float32:
		return TypeFloat32
	case uint64:
		return TypeUint64
	case int64:
		return TypeInt64
	case float64:
		return TypeFloat64
	case string:
		return TypeString
	}
	return ValueType(math.MaxUint32)
}
