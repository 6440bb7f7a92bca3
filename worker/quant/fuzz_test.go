package quant

import (
	"encoding/binary"
	"math"
	"testing"
)

// fuzzWeights turns fuzz bytes into rows*cols weights of type typ: float
// types go through Quantize from bounded floats; block types take the bytes
// as they are (any quant bits, any packed scales) with each fp16 scale
// forced finite and below 2 in magnitude.
func fuzzWeights(typ Type, rows, cols int, data []byte) []byte {
	rb := rowBytes(typ, cols)
	if typ.BlockSize() == 1 {
		x := make([]float32, rows*cols)
		for i := range x {
			x[i] = float32(int8(byteAt(data, i))) / 16
		}
		w, err := Quantize(typ, x)
		if err != nil {
			panic(err)
		}
		return w
	}
	w := make([]byte, rows*rb)
	for i := range w {
		w[i] = byteAt(data, i) ^ byte(i*131>>3)
	}
	var halves []int
	switch typ {
	case Q8_0, Q4_0, Q5_0:
		halves = []int{0}
	case Q4_K, Q5_K:
		halves = []int{0, 2}
	case Q6_K:
		halves = []int{208}
	}
	bb := typ.BlockBytes()
	for b := 0; b < len(w)/bb; b++ {
		for _, off := range halves {
			h := binary.LittleEndian.Uint16(w[b*bb+off:])
			binary.LittleEndian.PutUint16(w[b*bb+off:], h&0xbfff)
		}
	}
	return w
}

func byteAt(data []byte, i int) byte {
	if len(data) == 0 {
		return 0
	}
	return data[i%len(data)]
}

// FuzzMatMul holds MatMul and MatVec (the assembly kernels where the
// machine has them) to the reference dot products on arbitrary weight
// blocks, shapes and row ranges.
func FuzzMatMul(f *testing.F) {
	f.Add(uint8(3), uint8(17), uint8(9), uint8(2), uint8(1), []byte{1, 2, 3, 250, 7})
	f.Add(uint8(5), uint8(16), uint8(8), uint8(1), uint8(0), []byte{0xff, 0x80, 0x7f, 0})
	f.Add(uint8(7), uint8(3), uint8(1), uint8(3), uint8(2), []byte("weights"))
	f.Add(uint8(0), uint8(5), uint8(2), uint8(31), uint8(0), []byte{9})
	f.Fuzz(func(t *testing.T, ti, rows8, nb8, blocks8, skip8 uint8, data []byte) {
		typ := dotTypes[int(ti)%len(dotTypes)]
		rows := 1 + int(rows8)%40
		nb := 1 + int(nb8)%20
		bs := max(typ.BlockSize(), VecDotType(typ).BlockSize())
		cols := bs * (1 + int(blocks8)%8)
		if typ.BlockSize() == 1 {
			cols = 1 + int(blocks8)
		}
		r0 := int(skip8) % rows
		w := fuzzWeights(typ, rows, cols, data)
		x := make([]float32, nb*cols)
		for i := range x {
			x[i] = float32(int8(byteAt(data, 7*i+1))) * float32(1+i%5) / 37
		}
		checkMatMul(t, typ, rows, cols, nb, r0, rows, w, x)
		checkMatMul(t, typ, rows, cols, 1, r0, rows, w, x[:cols])
		checkExactIsRows(t, typ, rows, cols, nb, r0, w, x)
	})
}

// FuzzDequantize feeds arbitrary bytes, types and lengths: Dequantize
// either fails with an error or fills dst, and never panics.
func FuzzDequantize(f *testing.F) {
	f.Add(uint32(8), uint16(32), []byte{0x3c, 0, 1, 2})
	f.Add(uint32(12), uint16(256), make([]byte, 144))
	f.Add(uint32(99), uint16(3), []byte{})
	f.Fuzz(func(t *testing.T, typ uint32, n uint16, src []byte) {
		dst := make([]float32, int(n))
		err := Dequantize(Type(typ), src, dst)
		if err == nil {
			need, rerr := Type(typ).RowBytes(int(n))
			if rerr != nil || len(src) < need {
				t.Fatalf("type %d, %d values, %d bytes: no error", typ, n, len(src))
			}
		}
	})
}

// FuzzQuantize checks that Quantize of bounded finite values gives blocks
// that decode to finite values within the format's error bound: at most
// half a quantization step of the block's largest magnitude for Q8_K (and
// for Q8_0 as much again as its fp16 scale's rounding moves the largest
// level), and a step for the others (the K-quant searches trade the largest
// error for a smaller mean).
func FuzzQuantize(f *testing.F) {
	f.Add(uint8(3), []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(uint8(6), []byte{0, 0, 0, 0x80})
	f.Fuzz(func(t *testing.T, ti uint8, data []byte) {
		typ := allTypes[int(ti)%len(allTypes)]
		n := typ.BlockSize() * (1 + len(data)%3)
		if typ.BlockSize() == 1 {
			n = len(data)
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(int16(uint16(byteAt(data, 2*i))<<8|uint16(byteAt(data, 2*i+1)))) / 64
		}
		q, err := Quantize(typ, x)
		if err != nil {
			t.Fatal(err)
		}
		y := make([]float32, n)
		if err := Dequantize(typ, q, y); err != nil {
			t.Fatal(err)
		}
		levels := map[Type]float64{Q8_0: 127, Q8_K: 127, Q6_K: 31, Q5_K: 15, Q4_K: 7, Q4_0: 7, Q5_0: 15}
		bs := typ.BlockSize()
		for b := 0; b < n/bs; b++ {
			var amax float64
			for _, v := range x[b*bs : (b+1)*bs] {
				amax = math.Max(amax, math.Abs(float64(v)))
			}
			tol := 1e-6 * amax
			switch {
			case typ == F16:
				tol = math.Abs(float64(x[b])) / 1024
			case typ == BF16:
				tol = math.Abs(float64(x[b])) / 128
			case typ == Q8_0: // half a step, plus 127 times the fp16 rounding of d
				tol = amax/127*(0.5+127.0/2048) + 1e-6
			case typ == Q8_K: // d is a float32
				tol = amax/127*0.5*1.001 + 1e-6
			case levels[typ] > 0:
				tol = amax/levels[typ]*1.01 + 1e-3*amax + 1e-6
			}
			for i := b * bs; i < (b+1)*bs; i++ {
				if d := math.Abs(float64(y[i] - x[i])); !(d <= tol) {
					t.Fatalf("%v value %d: %v decodes to %v (|diff| %.4g > %.4g, block max %v)", typ, i, x[i], y[i], d, tol, amax)
				}
			}
		}
	})
}

// checkExactIsRows: MatMulExact gives MatVec's very values (MatMul's for
// Q4_0 and Q4_K where MatMul follows llama.cpp's batched order).
func checkExactIsRows(t *testing.T, typ Type, rows, cols, nb, r0 int, w []byte, x []float32) {
	t.Helper()
	ab := mustActBytes(t, typ, cols)
	a := make([]byte, nb*ab)
	for j := 0; j < nb; j++ {
		QuantizeActivations(typ, x[j*cols:(j+1)*cols], a[j*ab:(j+1)*ab])
	}
	got := make([]float32, nb*rows)
	MatMulExact(typ, w, cols, a, nb, got, rows, r0, rows)
	want := make([]float32, nb*rows)
	switch {
	case batchedMatchesGGML && (typ == Q4_0 || typ == Q4_K),
		rowKernelsMatchGGML && (typ == F32 || typ == F16 || typ == BF16):
		MatMul(typ, w, cols, a, nb, want, rows, r0, rows)
	default:
		for j := 0; j < nb; j++ {
			MatVec(typ, w, cols, a[j*ab:(j+1)*ab], want[j*rows:], r0, rows)
		}
	}
	for j := 0; j < nb; j++ {
		for r := r0; r < rows; r++ {
			g, wv := got[j*rows+r], want[j*rows+r]
			if g != wv && !(g != g && wv != wv) {
				t.Fatalf("%v %dx%d nb=%d vector %d row %d: MatMulExact %v, want %v", typ, rows, cols, nb, j, r, g, wv)
			}
		}
	}
}
