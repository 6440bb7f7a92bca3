package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"aisle/worker/quant"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is the data alignment when general.alignment is absent.
const DefaultAlignment = 32

// MaxDims is the most dimensions a tensor may have (as in ggml).
const MaxDims = 4

// ErrFormat is wrapped by every error about a malformed file.
var ErrFormat = errors.New("gguf: malformed file")

// TensorInfo describes one tensor. Shape is in ggml order: Shape[0] is the innermost (contiguous)
// dimension, so a weight matrix of `rows` rows of `cols` elements has Shape = [cols, rows].
// Offset is relative to the start of the data section.
type TensorInfo struct {
	Name   string
	Type   quant.Type
	Shape  []uint64
	Offset uint64
	Size   uint64 // bytes of data
}

// Elements is the number of elements of the tensor.
func (t TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Rows is the number of rows (the product of all but the first dimension); Cols is Shape[0].
func (t TensorInfo) Rows() int { return int(t.Elements() / max(t.Shape[0], 1)) }

// Cols is the row length in elements (Shape[0]).
func (t TensorInfo) Cols() int { return int(t.Shape[0]) }

// File is a parsed GGUF file. Tensor data stays in the underlying source (memory map, byte
// slice or shards) until asked for.
type File struct {
	Version   uint32
	Metadata  Metadata
	Tensors   []TensorInfo
	Alignment uint64
	DataStart uint64 // absolute offset of the data section

	byName map[string]int
	src    source
	closer func() error
}

// Tensor returns the descriptor of the named tensor.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

// TensorData returns the bytes of the named tensor. It does not copy when the tensor lies in one
// contiguous piece of the source (always, for Open and Parse); the slice is read-only and valid
// until Close.
func (f *File) TensorData(name string) ([]byte, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("gguf: no tensor %q", name)
	}
	return f.src.slice(f.DataStart+t.Offset, t.Size)
}

// TensorRange returns n bytes of the named tensor from byte off of its data, on the same terms as
// TensorData.
func (f *File) TensorRange(name string, off, n uint64) ([]byte, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("gguf: no tensor %q", name)
	}
	if off > t.Size || n > t.Size-off {
		return nil, fmt.Errorf("gguf: bytes [%d, +%d) of tensor %q (%d bytes)", off, n, name, t.Size)
	}
	return f.src.slice(f.DataStart+t.Offset+off, n)
}

// ReadTensorRange copies len(dst) bytes of the named tensor, from byte off of its data, into dst.
func (f *File) ReadTensorRange(name string, off uint64, dst []byte) error {
	t, ok := f.Tensor(name)
	if !ok {
		return fmt.Errorf("gguf: no tensor %q", name)
	}
	if off > t.Size || uint64(len(dst)) > t.Size-off {
		return fmt.Errorf("gguf: bytes [%d, +%d) of tensor %q (%d bytes)", off, len(dst), name, t.Size)
	}
	return f.src.readAt(dst, f.DataStart+t.Offset+off)
}

// Size is the total size of the file in bytes.
func (f *File) Size() uint64 { return f.src.size() }

// Close releases the memory map, if any (slices returned by TensorData become invalid), or the
// shard a file from OpenLazyShards holds (a later read loads it again).
func (f *File) Close() error {
	if s, ok := f.src.(*lazySource); ok {
		s.release()
	}
	if f.closer != nil {
		c := f.closer
		f.closer = nil
		return c()
	}
	return nil
}

// Parse reads a GGUF file held in memory. The returned File refers to data without copying.
func Parse(data []byte) (*File, error) { return parse(bytesSource(data)) }

// OpenShards reads a GGUF file held as consecutive byte shards (the file is their concatenation).
// Tensors that straddle a shard boundary are copied when asked for; all others are not.
func OpenShards(shards [][]byte) (*File, error) {
	s, err := newShardSource(shards)
	if err != nil {
		return nil, err
	}
	return parse(s)
}

// OpenLazyShards reads a GGUF file held as consecutive shards of the given sizes that load(i)
// opens when they are first needed (the header's when opening, a tensor's when it is read). One
// shard is kept open (until Close), and every read copies out of it: a reader that copies the
// tensor bytes it keeps, in file order (ReadTensorRange), never holds the whole file and opens
// each shard once. A shard may stay outside Go memory (a browser's ArrayBuffer behind an
// io.ReaderAt). An error of load is returned as is by the call that needed the shard; a shard
// shorter than its size is ErrFormat.
func OpenLazyShards(sizes []uint64, load func(i int) (io.ReaderAt, error)) (*File, error) {
	s, err := newLazySource(sizes, load)
	if err != nil {
		return nil, err
	}
	return parse(s)
}

// ShardLoads is the number of shard opens a file from OpenLazyShards has made (0 for others).
func (f *File) ShardLoads() int {
	if s, ok := f.src.(*lazySource); ok {
		return s.loads
	}
	return 0
}

// reader walks the header with bounds checks against the source size.
type reader struct {
	src source
	off uint64
	buf [8]byte
}

func (r *reader) errf(format string, args ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrFormat, r.off, fmt.Sprintf(format, args...))
}

func (r *reader) remaining() uint64 { return r.src.size() - r.off }

func (r *reader) bytes(n uint64) ([]byte, error) {
	if n > r.remaining() {
		return nil, r.errf("need %d bytes, %d left (truncated file?)", n, r.remaining())
	}
	var b []byte
	if n <= uint64(len(r.buf)) {
		b = r.buf[:n]
		if err := r.src.readAt(b, r.off); err != nil {
			return nil, err
		}
	} else {
		var err error
		if b, err = r.src.slice(r.off, n); err != nil {
			return nil, err
		}
	}
	r.off += n
	return b, nil
}

func (r *reader) u32() (uint32, error) {
	b, err := r.bytes(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (r *reader) u64() (uint64, error) {
	b, err := r.bytes(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (r *reader) str() (string, error) {
	n, err := r.u64()
	if err != nil {
		return "", err
	}
	if n > r.remaining() {
		return "", r.errf("string of %d bytes but only %d left", n, r.remaining())
	}
	b, err := r.bytes(n)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func parse(src source) (*File, error) {
	r := &reader{src: src}
	magic, err := r.bytes(4)
	if err != nil {
		return nil, fmt.Errorf("read magic: %w", err)
	}
	if string(magic) != Magic {
		return nil, fmt.Errorf("%w: not a GGUF file (magic %q)", ErrFormat, magic)
	}
	f := &File{src: src, Metadata: newMetadata(), byName: map[string]int{}}
	if f.Version, err = r.u32(); err != nil {
		return nil, fmt.Errorf("read version: %w", err)
	}
	if f.Version != 2 && f.Version != 3 {
		if f.Version&0xffff == 0 {
			return nil, fmt.Errorf("%w: big-endian GGUF files are not supported", ErrFormat)
		}
		return nil, fmt.Errorf("%w: unsupported GGUF version %d (want 2 or 3)", ErrFormat, f.Version)
	}
	nTensors, err := r.u64()
	if err != nil {
		return nil, fmt.Errorf("read tensor count: %w", err)
	}
	nKV, err := r.u64()
	if err != nil {
		return nil, fmt.Errorf("read metadata count: %w", err)
	}
	// Each key/value needs at least 8 (key length) + 4 (type) + 1 bytes; each tensor at least 8+4+4+8.
	if nKV > r.remaining()/13 {
		return nil, r.errf("metadata count %d cannot fit in %d bytes", nKV, r.remaining())
	}
	for i := uint64(0); i < nKV; i++ {
		key, err := r.str()
		if err != nil {
			return nil, fmt.Errorf("read metadata key %d: %w", i, err)
		}
		if f.Metadata.Has(key) {
			return nil, r.errf("duplicate metadata key %q", key)
		}
		vt, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("read type of %q: %w", key, err)
		}
		v, err := r.value(ValueType(vt), 0)
		if err != nil {
			return nil, fmt.Errorf("read value of %q: %w", key, err)
		}
		f.Metadata.set(key, v)
	}
	if nTensors > r.remaining()/24 {
		return nil, r.errf("tensor count %d cannot fit in %d bytes", nTensors, r.remaining())
	}
	f.Alignment = DefaultAlignment
	if f.Metadata.Has("general.alignment") {
		a, ok := f.Metadata.Uint32("general.alignment")
		if !ok || a == 0 || a&(a-1) != 0 {
			return nil, fmt.Errorf("%w: general.alignment must be a power of two, got %v", ErrFormat, f.Metadata.kv["general.alignment"].V)
		}
		f.Alignment = uint64(a)
	}
	f.Tensors = make([]TensorInfo, 0, nTensors)
	for i := uint64(0); i < nTensors; i++ {
		t, err := r.tensorInfo()
		if err != nil {
			return nil, fmt.Errorf("read tensor %d: %w", i, err)
		}
		if _, dup := f.byName[t.Name]; dup {
			return nil, r.errf("duplicate tensor %q", t.Name)
		}
		if t.Offset%f.Alignment != 0 {
			return nil, r.errf("tensor %q offset %d is not aligned to %d", t.Name, t.Offset, f.Alignment)
		}
		f.byName[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}
	f.DataStart = alignUp(r.off, f.Alignment)
	if f.DataStart > src.size() && nTensors > 0 {
		return nil, fmt.Errorf("%w: data section starts at %d, past the end of the %d-byte file", ErrFormat, f.DataStart, src.size())
	}
	for _, t := range f.Tensors {
		end := f.DataStart + t.Offset + t.Size
		if t.Offset > src.size() || end < t.Offset || end > src.size() {
			return nil, fmt.Errorf("%w: tensor %q data [%d, +%d) runs past the end of the %d-byte file (truncated?)",
				ErrFormat, t.Name, f.DataStart+t.Offset, t.Size, src.size())
		}
	}
	return f, nil
}

func (r *reader) tensorInfo() (TensorInfo, error) {
	var t TensorInfo
	var err error
	if t.Name, err = r.str(); err != nil {
		return t, fmt.Errorf("name: %w", err)
	}
	nd, err := r.u32()
	if err != nil {
		return t, fmt.Errorf("%q dims: %w", t.Name, err)
	}
	if nd == 0 || nd > MaxDims {
		return t, r.errf("tensor %q has %d dimensions (want 1..%d)", t.Name, nd, MaxDims)
	}
	t.Shape = make([]uint64, nd)
	elems := uint64(1)
	for i := range t.Shape {
		if t.Shape[i], err = r.u64(); err != nil {
			return t, fmt.Errorf("%q shape: %w", t.Name, err)
		}
		d := t.Shape[i]
		if d == 0 || d > math.MaxInt64/elems {
			return t, r.errf("tensor %q has an invalid shape %v", t.Name, t.Shape[:i+1])
		}
		elems *= d
	}
	typ, err := r.u32()
	if err != nil {
		return t, fmt.Errorf("%q type: %w", t.Name, err)
	}
	t.Type = quant.Type(typ)
	if t.Offset, err = r.u64(); err != nil {
		return t, fmt.Errorf("%q offset: %w", t.Name, err)
	}
	blockSize, blockBytes := layout(t.Type)
	if blockSize <= 0 {
		return t, r.errf("tensor %q has unknown ggml type %d", t.Name, typ)
	}
	bs := uint64(blockSize)
	if t.Shape[0]%bs != 0 {
		return t, r.errf("tensor %q row length %d is not a multiple of the %s block size %d", t.Name, t.Shape[0], TypeName(t.Type), bs)
	}
	blocks := elems / bs
	if blocks > math.MaxInt64/uint64(blockBytes) {
		return t, r.errf("tensor %q is too large", t.Name)
	}
	t.Size = blocks * uint64(blockBytes)
	return t, nil
}

// value reads one metadata value of type vt. depth bounds nested arrays.
func (r *reader) value(vt ValueType, depth int) (Value, error) {
	v := Value{Type: vt}
	switch vt {
	case TypeString:
		s, err := r.str()
		v.V = s
		return v, err
	case TypeArray:
		if depth > 2 {
			return v, r.errf("arrays nested too deeply")
		}
		et, err := r.u32()
		if err != nil {
			return v, err
		}
		n, err := r.u64()
		if err != nil {
			return v, err
		}
		v.ElemType = ValueType(et)
		return r.array(v, n, depth)
	}
	size := vt.fixedSize()
	if size == 0 {
		return v, r.errf("unknown metadata value type %d", uint32(vt))
	}
	b, err := r.bytes(uint64(size))
	if err != nil {
		return v, err
	}
	v.V = decodeScalar(vt, b)
	if vt == TypeBool && b[0] > 1 {
		return v, r.errf("bool value %d is neither 0 nor 1", b[0])
	}
	return v, nil
}

func (r *reader) array(v Value, n uint64, depth int) (Value, error) {
	et := v.ElemType
	minSize := uint64(et.fixedSize())
	switch et {
	case TypeString:
		minSize = 8
	case TypeArray:
		minSize = 12
	}
	if minSize == 0 {
		return v, r.errf("unknown array element type %d", uint32(et))
	}
	if n > r.remaining()/minSize {
		return v, r.errf("array of %d %s elements cannot fit in %d bytes", n, et, r.remaining())
	}
	switch et {
	case TypeString:
		out := make([]string, n)
		for i := range out {
			s, err := r.str()
			if err != nil {
				return v, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = s
		}
		v.V = out
		return v, nil
	case TypeArray:
		out := make([]Value, n)
		for i := range out {
			e, err := r.value(TypeArray, depth+1)
			if err != nil {
				return v, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = e
		}
		v.V = out
		return v, nil
	}
	raw, err := r.bytes(n * minSize)
	if err != nil {
		return v, err
	}
	v.V = decodeArray(et, raw, int(n))
	if et == TypeBool {
		for i, b := range raw {
			if b > 1 {
				return v, r.errf("bool element %d is %d", i, b)
			}
		}
	}
	return v, nil
}

func decodeScalar(vt ValueType, b []byte) any {
	le := binary.LittleEndian
	switch vt {
	case TypeUint8:
		return b[0]
	case TypeInt8:
		return int8(b[0])
	case TypeBool:
		return b[0] != 0
	case TypeUint16:
		return le.Uint16(b)
	case TypeInt16:
		return int16(le.Uint16(b))
	case TypeUint32:
		return le.Uint32(b)
	case TypeInt32:
		return int32(le.Uint32(b))
	case TypeFloat32:
		return math.Float32frombits(le.Uint32(b))
	case TypeUint64:
		return le.Uint64(b)
	case TypeInt64:
		return int64(le.Uint64(b))
	case TypeFloat64:
		return math.Float64frombits(le.Uint64(b))
	}
	return nil
}

func decodeArray(et ValueType, raw []byte, n int) any {
	size := et.fixedSize()
	switch et {
	case TypeUint8:
		return append([]uint8(nil), raw...)
	case TypeInt8:
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(raw[i])
		}
		return out
	case TypeBool:
		out := make([]bool, n)
		for i := range out {
			out[i] = raw[i] != 0
		}
		return out
	}
	fill := func(set func(i int, b []byte)) {
		for i := 0; i < n; i++ {
			set(i, raw[i*size:(i+1)*size])
		}
	}
	le := binary.LittleEndian
	switch et {
	case TypeUint16:
		out := make([]uint16, n)
		fill(func(i int, b []byte) { out[i] = le.Uint16(b) })
		return out
	case TypeInt16:
		out := make([]int16, n)
		fill(func(i int, b []byte) { out[i] = int16(le.Uint16(b)) })
		return out
	case TypeUint32:
		out := make([]uint32, n)
		fill(func(i int, b []byte) { out[i] = le.Uint32(b) })
		return out
	case TypeInt32:
		out := make([]int32, n)
		fill(func(i int, b []byte) { out[i] = int32(le.Uint32(b)) })
		return out
	case TypeFloat32:
		out := make([]float32, n)
		fill(func(i int, b []byte) { out[i] = math.Float32frombits(le.Uint32(b)) })
		return out
	case TypeUint64:
		out := make([]uint64, n)
		fill(func(i int, b []byte) { out[i] = le.Uint64(b) })
		return out
	case TypeInt64:
		out := make([]int64, n)
		fill(func(i int, b []byte) { out[i] = int64(le.Uint64(b)) })
		return out
	case TypeFloat64:
		out := make([]float64, n)
		fill(func(i int, b []byte) { out[i] = math.Float64frombits(le.Uint64(b)) })
		return out
	}
	return nil
}

func alignUp(x, a uint64) uint64 { return (x + a - 1) / a * a }
