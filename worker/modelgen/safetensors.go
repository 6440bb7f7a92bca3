package modelgen

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"

	"aisle/worker/quant"
)

// Safetensors is a parsed safetensors file: an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end)}, "__metadata__": {string: string}},
// then the tensors' bytes (offsets are relative to the end of the header).
type Safetensors struct {
	Metadata map[string]string
	Tensors  map[string]SafeTensor
}

// SafeTensor is one tensor of a safetensors file: its dtype ("F32", "BF16", ...), its shape
// (PyTorch order, row-major) and its little-endian bytes.
type SafeTensor struct {
	DType string
	Shape []int
	Data  []byte
}

// dtypeSizes are the element sizes of the safetensors dtypes.
var dtypeSizes = map[string]int{"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2,
	"I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}

// maxHeader bounds the JSON header (the reference implementation allows 100 MB).
const maxHeader = 100 << 20

// ParseSafetensors parses a whole safetensors file. The tensors' Data alias data. Every
// offset, shape and dtype is checked against the file before use.
func ParseSafetensors(data []byte) (*Safetensors, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("safetensors: file of %d bytes is truncated (no header length)", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > maxHeader || n > uint64(len(data)-8) {
		return nil, fmt.Errorf("safetensors: header length %d does not fit the file of %d bytes (truncated or not a safetensors file)", n, len(data))
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		return nil, fmt.Errorf("safetensors: header: %w", err)
	}
	body := data[8+n:]
	st := &Safetensors{Metadata: map[string]string{}, Tensors: map[string]SafeTensor{}}
	for name, raw := range header {
		if name == "__metadata__" {
			if err := json.Unmarshal(raw, &st.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: __metadata__ is not a map of strings: %w", err)
			}
			continue
		}
		var h struct {
			DType   string    `json:"dtype"`
			Shape   []int64   `json:"shape"`
			Offsets [2]uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &h); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %s: %w", name, err)
		}
		size, ok := dtypeSizes[h.DType]
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %s has unknown dtype %q", name, h.DType)
		}
		elems := uint64(1)
		shape := make([]int, len(h.Shape))
		for i, d := range h.Shape {
			if d < 0 || d > math.MaxInt32 {
				return nil, fmt.Errorf("safetensors: tensor %s has bad shape %v", name, h.Shape)
			}
			shape[i] = int(d)
			if elems *= uint64(d); elems > math.MaxInt64/8 {
				return nil, fmt.Errorf("safetensors: tensor %s has bad shape %v", name, h.Shape)
			}
		}
		begin, end := h.Offsets[0], h.Offsets[1]
		if begin > end || end > uint64(len(body)) {
			return nil, fmt.Errorf("safetensors: tensor %s: data [%d, %d) outside the %d data bytes (truncated file?)", name, begin, end, len(body))
		}
		if end-begin != elems*uint64(size) {
			return nil, fmt.Errorf("safetensors: tensor %s: %d bytes for %d %s elements", name, end-begin, elems, h.DType)
		}
		st.Tensors[name] = SafeTensor{DType: h.DType, Shape: shape, Data: body[begin:end]}
	}
	return st, nil
}

// Elements is the number of elements of the shape.
func (t SafeTensor) Elements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// floatDTypes are the dtypes Float32s converts.
var floatDTypes = map[string]bool{"F32": true, "BF16": true, "F16": true}

// Float32s converts the tensor's values to float32 (F32, BF16 and F16 tensors).
func (t SafeTensor) Float32s() ([]float32, error) {
	if !floatDTypes[t.DType] {
		return nil, fmt.Errorf("dtype %s is not supported (F32, BF16, F16)", t.DType)
	}
	if len(t.Data) != t.Elements()*dtypeSizes[t.DType] {
		return nil, fmt.Errorf("%d bytes for %d %s elements", len(t.Data), t.Elements(), t.DType)
	}
	out := make([]float32, t.Elements())
	d := t.Data
	switch t.DType {
	case "F32":
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case "BF16":
		for i := range out {
			out[i] = quant.BF16ToF32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case "F16":
		for i := range out {
			out[i] = quant.F16ToF32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	}
	return out, nil
}

// F32Tensor makes an F32 tensor of the given shape and values.
func F32Tensor(shape []int, vals []float32) SafeTensor {
	d := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(d[4*i:], math.Float32bits(v))
	}
	return SafeTensor{DType: "F32", Shape: shape, Data: d}
}

// BF16Tensor makes a BF16 tensor of the given shape, rounding the values to bfloat16.
func BF16Tensor(shape []int, vals []float32) SafeTensor {
	d := make([]byte, 2*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint16(d[2*i:], quant.F32ToBF16(v))
	}
	return SafeTensor{DType: "BF16", Shape: shape, Data: d}
}

// WriteSafetensors writes st as a safetensors file: tensors in name order, the header padded
// with spaces to a multiple of 8 bytes.
func WriteSafetensors(w io.Writer, st *Safetensors) error {
	names := make([]string, 0, len(st.Tensors))
	for name := range st.Tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	type entry struct {
		DType   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	header := map[string]any{}
	if len(st.Metadata) > 0 {
		header["__metadata__"] = st.Metadata
	}
	var off int64
	for _, name := range names {
		t := st.Tensors[name]
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[name] = entry{t.DType, shape, [2]int64{off, off + int64(len(t.Data))}}
		off += int64(len(t.Data))
	}
	h, err := json.Marshal(header)
	if err != nil {
		return err
	}
	h = append(h, bytes.Repeat([]byte(" "), (8-len(h)%8)%8)...)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(h)))
	if _, err := w.Write(append(n[:], h...)); err != nil {
		return err
	}
	for _, name := range names {
		if _, err := w.Write(st.Tensors[name].Data); err != nil {
			return err
		}
	}
	return nil
}
