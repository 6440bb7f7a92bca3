package gguf

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"aisle/worker/quant"
)

const stories = "../testdata/models/stories260K.gguf"

func TestOpenStories(t *testing.T) {
	f, err := Open(stories)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Version != 3 {
		t.Errorf("version = %d, want 3", f.Version)
	}
	if arch, _ := f.Metadata.String("general.architecture"); arch != "llama" {
		t.Errorf("architecture = %q, want llama", arch)
	}
	if n, ok := f.Metadata.Uint32("llama.embedding_length"); !ok || n != 64 {
		t.Errorf("embedding_length = %d, %v; want 64", n, ok)
	}
	toks, ok := f.Metadata.Strings("tokenizer.ggml.tokens")
	if !ok || len(toks) != 512 {
		t.Fatalf("tokens: %d, %v; want 512", len(toks), ok)
	}
	emb, ok := f.Tensor("token_embd.weight")
	if !ok {
		t.Fatal("no token_embd.weight")
	}
	if !reflect.DeepEqual(emb.Shape, []uint64{64, 512}) || emb.Type != quant.F32 {
		t.Errorf("token_embd = %v %v, want [64 512] F32", emb.Shape, emb.Type)
	}
	data, err := f.TensorData("token_embd.weight")
	if err != nil || len(data) != 64*512*4 {
		t.Fatalf("data: %d bytes, %v", len(data), err)
	}
}

// TestRoundTrip writes every metadata type and several tensor types, reads them back from a
// byte slice and from shards cut at awkward places, and compares everything.
func TestRoundTrip(t *testing.T) {
	w := NewWriter()
	w.SetString("general.architecture", "llama")
	w.SetUint32("llama.block_count", 2)
	w.SetInt32("neg", -7)
	w.SetUint64("big", 1<<40)
	w.SetFloat32("eps", 1e-5)
	w.SetBool("flag", true)
	w.SetStrings("toks", []string{"a", "", "ü🙂"})
	w.SetFloat32s("scores", []float32{0, -1.5, 3})
	w.SetInt32s("types", []int32{1, 2, 3})
	w.Set("u8s", Value{Type: TypeArray, ElemType: TypeUint8, V: []uint8{1, 2}})
	w.Set("f64", Value{Type: TypeFloat64, V: 2.5})
	f32 := make([]byte, 4*8*3)
	for i := range f32 {
		f32[i] = byte(i)
	}
	q8 := make([]byte, quant.Q8_0.BlockBytes()*2)
	for i := range q8 {
		q8[i] = byte(3 * i)
	}
	mustNil(t, w.AddTensor("a", quant.F32, []uint64{8, 3}, f32))
	mustNil(t, w.AddTensor("b", quant.Q8_0, []uint64{64}, q8))
	if err := w.AddTensor("a", quant.F32, []uint64{8, 3}, f32); err == nil {
		t.Error("duplicate tensor accepted")
	}
	if err := w.AddTensor("c", quant.Q8_0, []uint64{33}, q8); err == nil {
		t.Error("row not a multiple of the block size accepted")
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	check := func(name string, f *File) {
		t.Helper()
		md := f.Metadata
		if s, _ := md.String("general.architecture"); s != "llama" {
			t.Errorf("%s: arch %q", name, s)
		}
		if v, _ := md.Int64("neg"); v != -7 {
			t.Errorf("%s: neg %d", name, v)
		}
		if _, ok := md.Uint32("neg"); ok {
			t.Errorf("%s: negative value read as uint32", name)
		}
		if v, _ := md.Int64("big"); v != 1<<40 {
			t.Errorf("%s: big %d", name, v)
		}
		if v, _ := md.Float32("eps"); v != 1e-5 {
			t.Errorf("%s: eps %v", name, v)
		}
		if v, _ := md.Bool("flag"); !v {
			t.Errorf("%s: flag", name)
		}
		if v, _ := md.Strings("toks"); !reflect.DeepEqual(v, []string{"a", "", "ü🙂"}) {
			t.Errorf("%s: toks %q", name, v)
		}
		if v, _ := md.Float32s("scores"); !reflect.DeepEqual(v, []float32{0, -1.5, 3}) {
			t.Errorf("%s: scores %v", name, v)
		}
		if v, _ := md.Int32s("types"); !reflect.DeepEqual(v, []int32{1, 2, 3}) {
			t.Errorf("%s: types %v", name, v)
		}
		if v, _ := md.Int32s("u8s"); !reflect.DeepEqual(v, []int32{1, 2}) {
			t.Errorf("%s: u8s %v", name, v)
		}
		if got := md.Keys(); len(got) != 11 || got[0] != "general.architecture" {
			t.Errorf("%s: keys %v", name, got)
		}
		for tn, want := range map[string][]byte{"a": f32, "b": q8} {
			got, err := f.TensorData(tn)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: tensor %s: %v", name, tn, err)
			}
		}
		if ti, _ := f.Tensor("b"); ti.Offset%32 != 0 || ti.Type != quant.Q8_0 {
			t.Errorf("%s: tensor b %+v", name, ti)
		}
	}
	f, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	check("bytes", f)
	for _, cut := range [][]int{{1}, {len(raw) - 40}, {100, 101, 250}, {len(raw) - 1}} {
		var shards [][]byte
		prev := 0
		for _, c := range cut {
			shards = append(shards, raw[prev:c])
			prev = c
		}
		shards = append(shards, raw[prev:])
		fs, err := OpenShards(shards)
		if err != nil {
			t.Fatalf("shards %v: %v", cut, err)
		}
		check("shards", fs)
	}
	// Open (memory map) from disk.
	p := filepath.Join(t.TempDir(), "m.gguf")
	mustNil(t, os.WriteFile(p, raw, 0o644))
	fm, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	check("mmap", fm)
	mustNil(t, fm.Close())
}

// TestTruncatedEverywhere cuts a real model at many lengths: every prefix must fail cleanly.
func TestTruncatedEverywhere(t *testing.T) {
	raw, err := os.ReadFile(stories)
	if err != nil {
		t.Fatal(err)
	}
	step := 1
	for n := 0; n < len(raw); n += step {
		if n > 20000 {
			step = 4099
		}
		if _, err := Parse(raw[:n]); err == nil {
			t.Fatalf("prefix of %d bytes parsed without error", n)
		} else if !errors.Is(err, ErrFormat) {
			t.Fatalf("prefix %d: error %v does not wrap ErrFormat", n, err)
		}
	}
}

func TestCorruptHeaders(t *testing.T) {
	good, err := os.ReadFile(stories)
	if err != nil {
		t.Fatal(err)
	}
	patch := func(off int, b ...byte) []byte {
		c := append([]byte(nil), good...)
		copy(c[off:], b)
		return c
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "need 4 bytes"},
		{"magic", patch(0, 'G', 'G', 'M', 'L'), "not a GGUF file"},
		{"version 1", patch(4, 1, 0, 0, 0), "unsupported GGUF version 1"},
		{"big endian", patch(4, 0, 0, 0, 3), "big-endian"},
		{"huge tensor count", patch(8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), "tensor count"},
		{"huge kv count", patch(16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), "metadata count"},
		{"huge key length", patch(24, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), "string of"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing.gguf")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("directory opened")
	}
}

func FuzzParse(f *testing.F) {
	raw, err := os.ReadFile(stories)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw[:4096])
	w := NewWriter()
	w.SetStrings("s", []string{"x", "y"})
	w.SetUint32("n", 1)
	_ = w.AddTensor("t", quant.F32, []uint64{4}, make([]byte, 16))
	var buf bytes.Buffer
	_, _ = w.WriteTo(&buf)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		for _, ti := range file.Tensors {
			b, err := file.TensorData(ti.Name)
			if err != nil || uint64(len(b)) != ti.Size {
				t.Fatalf("tensor %q listed but unreadable: %v", ti.Name, err)
			}
		}
	})
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestOpenLazyShards: a file read lazily from shards cut anywhere (mid-header, mid-tensor) gives
// the same header and tensor bytes as the whole file, keeps at most two shards, loads each once
// when tensors are read in file order, and returns a shard's load error or wrong size as is.
func TestOpenLazyShards(t *testing.T) {
	data, err := os.ReadFile(stories)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{997, 64 << 10, len(data)} {
		var sizes []uint64
		for off := 0; off < len(data); off += size {
			sizes = append(sizes, uint64(min(size, len(data)-off)))
		}
		load := func(i int) (io.ReaderAt, error) {
			return bytes.NewReader(data[i*size : i*size+int(sizes[i])]), nil
		}
		f, err := OpenLazyShards(sizes, load)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(f.Metadata, whole.Metadata) || !reflect.DeepEqual(f.Tensors, whole.Tensors) {
			t.Fatalf("shards of %d: the header differs from the whole file's", size)
		}
		for _, ti := range whole.Tensors { // file order
			got, err := f.TensorData(ti.Name)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := whole.TensorData(ti.Name)
			if !bytes.Equal(got, want) {
				t.Fatalf("shards of %d: tensor %s differs", size, ti.Name)
			}
		}
		if f.ShardLoads() != len(sizes) {
			t.Errorf("shards of %d: %d loads for %d shards read in order", size, f.ShardLoads(), len(sizes))
		}
		for _, ti := range whole.Tensors {
			want, _ := whole.TensorData(ti.Name)
			part, err := f.TensorRange(ti.Name, ti.Size/3, ti.Size/2)
			if err != nil || !bytes.Equal(part, want[ti.Size/3:ti.Size/3+ti.Size/2]) {
				t.Fatalf("shards of %d: a range of tensor %s differs (%v)", size, ti.Name, err)
			}
			dst := make([]byte, ti.Size/2)
			if err := f.ReadTensorRange(ti.Name, ti.Size/3, dst); err != nil || !bytes.Equal(dst, part) {
				t.Fatalf("shards of %d: ReadTensorRange of tensor %s differs (%v)", size, ti.Name, err)
			}
		}
	}
	if _, err := whole.TensorRange(whole.Tensors[0].Name, whole.Tensors[0].Size, 1); err == nil {
		t.Error("a range past a tensor's end was read")
	}

	sizes := []uint64{uint64(len(data) / 2), uint64(len(data) - len(data)/2)}
	boom := errors.New("shard is damaged")
	if _, err := OpenLazyShards(sizes, func(int) (io.ReaderAt, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("a load error: %v, want it as is", err)
	}
	f, err := OpenLazyShards(sizes, func(i int) (io.ReaderAt, error) {
		if i == 1 {
			return bytes.NewReader(data[sizes[0] : len(data)-1]), nil // one byte short
		}
		return bytes.NewReader(data[:sizes[0]]), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	last := whole.Tensors[len(whole.Tensors)-1]
	if _, err := f.TensorData(last.Name); err == nil || !errors.Is(err, ErrFormat) {
		t.Errorf("a shard of the wrong size: %v, want ErrFormat", err)
	}
}
