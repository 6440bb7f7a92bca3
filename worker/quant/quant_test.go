package quant

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

var allTypes = []Type{F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K, Q8_K}

// dotTypes are the weight types with a dot product.
var dotTypes = []Type{F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K}

func TestTypeInfo(t *testing.T) {
	tests := []struct {
		typ        Type
		id         uint32
		name       string
		size, byts int
	}{
		{F32, 0, "F32", 1, 4}, {F16, 1, "F16", 1, 2}, {Q4_0, 2, "Q4_0", 32, 18}, {Q5_0, 6, "Q5_0", 32, 22},
		{Q8_0, 8, "Q8_0", 32, 34}, {Q4_K, 12, "Q4_K", 256, 144}, {Q5_K, 13, "Q5_K", 256, 176},
		{Q6_K, 14, "Q6_K", 256, 210}, {Q8_K, 15, "Q8_K", 256, 292}, {BF16, 30, "BF16", 1, 2},
	}
	for _, tt := range tests {
		if uint32(tt.typ) != tt.id || tt.typ.String() != tt.name || !tt.typ.Supported() ||
			tt.typ.BlockSize() != tt.size || tt.typ.BlockBytes() != tt.byts {
			t.Errorf("%v: got id %d name %q supported %v block %d/%d, want %d %q %d/%d", tt.typ, uint32(tt.typ),
				tt.typ.String(), tt.typ.Supported(), tt.typ.BlockSize(), tt.typ.BlockBytes(), tt.id, tt.name, tt.size, tt.byts)
		}
		got, err := tt.typ.RowBytes(3 * tt.size)
		if err != nil || got != 3*tt.byts {
			t.Errorf("%v.RowBytes(%d) = %d, %v; want %d", tt.typ, 3*tt.size, got, err, 3*tt.byts)
		}
		if tt.size > 1 {
			if _, err := tt.typ.RowBytes(tt.size + 1); err == nil {
				t.Errorf("%v.RowBytes(%d): no error for a partial block", tt.typ, tt.size+1)
			}
		}
		if _, err := tt.typ.RowBytes(-tt.size); err == nil {
			t.Errorf("%v.RowBytes(negative): no error", tt.typ)
		}
	}
	for _, bad := range []Type{3, 7, 10, 11, 16, 29, 31, 1 << 31} {
		if bad.Supported() || bad.BlockSize() != 0 || bad.BlockBytes() != 0 || !strings.HasPrefix(bad.String(), "type(") {
			t.Errorf("type %d: reported as supported", uint32(bad))
		}
		if _, err := bad.RowBytes(32); err == nil {
			t.Errorf("type %d: RowBytes gave no error", uint32(bad))
		}
		if _, err := Quantize(bad, make([]float32, 32)); err == nil {
			t.Errorf("type %d: Quantize gave no error", uint32(bad))
		}
		if err := Dequantize(bad, make([]byte, 64), make([]float32, 32)); err == nil {
			t.Errorf("type %d: Dequantize gave no error", uint32(bad))
		}
	}
	if _, err := Quantize(Q8_0, []float32{float32(math.NaN())}); err == nil {
		t.Error("Quantize accepted a partial block")
	}
	nan := make([]float32, 32)
	nan[5] = float32(math.Inf(1))
	if _, err := Quantize(Q8_0, nan); err == nil {
		t.Error("Quantize accepted an infinite value")
	}
	if err := Dequantize(Q4_K, make([]byte, 143), make([]float32, 256)); err == nil {
		t.Error("Dequantize accepted a short source")
	}
}

// TestF16Exhaustive checks every binary16 value converts to float32 and
// back unchanged, and that every midpoint between neighbours rounds to the
// even one while values just beside it round to the nearer one.
func TestF16Exhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		if math.IsNaN(float64(f)) {
			if g := F32ToF16(f); g&0x7c00 != 0x7c00 || g&0x3ff == 0 {
				t.Fatalf("NaN %#04x -> %#04x, not a NaN", h, g)
			}
			continue
		}
		if g := F32ToF16(f); g != uint16(h) {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, g)
		}
		if h&0x7fff >= 0x7bff { // the largest finite and Inf have no upper neighbour here
			continue
		}
		next := F16ToF32(uint16(h + 1))
		if h&0x8000 != 0 && h&0x7fff == 0 {
			continue // -0 -> the next code is a negative subnormal, below it
		}
		mid := float32((float64(f) + float64(next)) / 2) // exact in float32
		want := uint16(h)
		if h&1 == 1 {
			want = uint16(h + 1)
		}
		if g := F32ToF16(mid); g != want {
			t.Fatalf("midpoint %v of %#04x and %#04x -> %#04x, want %#04x", mid, h, h+1, g, want)
		}
		below := math.Nextafter32(mid, f)
		above := math.Nextafter32(mid, next)
		if g := F32ToF16(below); g != uint16(h) {
			t.Fatalf("%v just below the midpoint of %#04x -> %#04x", below, h, g)
		}
		if g := F32ToF16(above); g != uint16(h+1) {
			t.Fatalf("%v just above the midpoint of %#04x -> %#04x", above, h, g)
		}
	}
	tests := []struct {
		given float32
		want  uint16
	}{
		{65504, 0x7bff}, {65519.99, 0x7bff}, {65520, 0x7c00}, {1e10, 0x7c00}, {-1e10, 0xfc00},
		{float32(math.Inf(-1)), 0xfc00}, {1e-10, 0}, {-1e-10, 0x8000}, {5.960464477539063e-08, 1},
		{2.98023223876953125e-08, 0}, {2.98023224e-08 * 1.0000001, 1}, {1, 0x3c00}, {-2, 0xc000},
	}
	for _, tt := range tests {
		if got := F32ToF16(tt.given); got != tt.want {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", tt.given, got, tt.want)
		}
	}
}

func TestBF16(t *testing.T) {
	tests := []struct {
		given float32
		want  uint16
	}{
		{1, 0x3f80}, {-2, 0xc000}, {math.Float32frombits(0x3f808000), 0x3f80}, // tie to even (down)
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie to even (up)
		{math.Float32frombits(0x3f808001), 0x3f81}, {math.Float32frombits(0x7f7fffff), 0x7f80},
		{float32(math.Inf(1)), 0x7f80},
	}
	for _, tt := range tests {
		if got := F32ToBF16(tt.given); got != tt.want {
			t.Errorf("F32ToBF16(%v) = %#04x, want %#04x", tt.given, got, tt.want)
		}
	}
	if g := F32ToBF16(float32(math.NaN())); !math.IsNaN(float64(BF16ToF32(g))) {
		t.Errorf("NaN -> %#04x", g)
	}
	for h := 0; h < 1<<16; h++ {
		f := BF16ToF32(uint16(h))
		if !math.IsNaN(float64(f)) && F32ToBF16(f) != uint16(h) {
			t.Fatalf("bf16 %#04x does not round-trip", h)
		}
	}
}

// TestLayouts decodes hand-built blocks whose values are known.
func TestLayouts(t *testing.T) {
	one := uint16(0x3c00) // fp16 1.0
	two := uint16(0x4000)
	t.Run("Q8_0", func(t *testing.T) {
		b := make([]byte, 34)
		le.PutUint16(b, two)
		b[2], b[33] = 0x7f, 0x81 // 127, -127
		got := mustDequant(t, Q8_0, b, 32)
		if got[0] != 254 || got[31] != -254 || got[1] != 0 {
			t.Errorf("got %v", got)
		}
	})
	t.Run("Q4_0", func(t *testing.T) {
		b := make([]byte, 18)
		le.PutUint16(b, one)
		b[2] = 0x1f // value 0 -> 15-8, value 16 -> 1-8
		b[17] = 0x80
		got := mustDequant(t, Q4_0, b, 32)
		if got[0] != 7 || got[16] != -7 || got[15] != -8 || got[31] != 0 {
			t.Errorf("got %v", got)
		}
	})
	t.Run("Q4_K", func(t *testing.T) {
		b := make([]byte, 144)
		le.PutUint16(b, one)
		le.PutUint16(b[2:], two)
		sc := b[4:16]
		// sub-block 0: scale 3, min 5; sub-block 5: scale 0x2a (42), min 0x31 (49)
		sc[0], sc[4] = 3, 5
		sc[9] = 0xa | 0x1<<4 // low nibbles of scale 42 and min 49
		sc[1] |= 2 << 6      // top bits of scale 42
		sc[5] |= 3 << 6      // top bits of min 49
		b[16] = 0x0f         // value 0: q=15 (sub-block 0)
		b[16+32] = 0xe0      // value 64+32 = 96, sub-block 3 (sc/min 0): q=14
		b[16+32+5] = 0xf0    // value 96+5: sub-block 3
		b[16+64+7] = 0x90    // value 128+32+7 = 167: sub-block 5, q=9
		got := mustDequant(t, Q4_K, b, 256)
		if sc5, m5 := scaleMinK4(5, sc); sc5 != 42 || m5 != 49 {
			t.Fatalf("scaleMinK4(5) = %d, %d", sc5, m5)
		}
		if got[0] != 1*3*15-2*5 || got[1] != -10 || got[96] != 0 || got[167] != 42*9-2*49 {
			t.Errorf("got [0]=%v [1]=%v [96]=%v [167]=%v", got[0], got[1], got[96], got[167])
		}
	})
	t.Run("Q5_K", func(t *testing.T) {
		b := make([]byte, 176)
		le.PutUint16(b, one)
		b[4+10] = 7       // sub-block 6: scale 7 (low nibble of scales[10])
		b[16+3] = 1 << 6  // fifth bit of value 6*32+3
		b[48+96+3] = 0x20 // high nibble of qs[96+3]: sub-block 7... and low nibble 0 for sub-block 6
		got := mustDequant(t, Q5_K, b, 256)
		if got[6*32+3] != 7*16 {
			t.Errorf("value 195 = %v, want %v", got[195], 7*16)
		}
	})
	t.Run("Q6_K", func(t *testing.T) {
		b := make([]byte, 210)
		le.PutUint16(b[208:], one)
		for i := 192; i < 208; i++ {
			b[i] = byte(i - 190) // scales 2..17
		}
		b[192+13] = 0xfe // scale -2 for sub-block 13 (values 208..223)
		// value 128+64+16+1 = 209: half 1, k=2, l=17 -> high nibble of ql[64+17], qh[32+17] bits 4-5
		b[64+17] = 0xa0 // q low 10
		b[128+32+17] = 2 << 4
		got := mustDequant(t, Q6_K, b, 256)
		if want := float32(-2 * (10 + 32 - 32)); got[209] != want {
			t.Errorf("value 209 = %v, want %v", got[209], want)
		}
		if got[0] != 2*-32 {
			t.Errorf("value 0 = %v, want -64", got[0])
		}
	})
}

func mustDequant(t *testing.T, typ Type, b []byte, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	if err := Dequantize(typ, b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func randVec(r *rand.Rand, n int, scale float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64()) * scale
	}
	return x
}

// TestRoundTrip bounds the error of Quantize followed by Dequantize on
// Gaussian data: the relative RMS error per type (what each format is
// known to reach) and, for the 8-bit types, the largest error per value.
func TestRoundTrip(t *testing.T) {
	bounds := map[Type]float64{
		F32: 0, F16: 5e-4, BF16: 4e-3, Q8_0: 6.5e-3, Q8_K: 8.5e-3,
		Q6_K: 2.2e-2, Q5_K: 4e-2, Q4_K: 8e-2, Q4_0: 1.2e-1, Q5_0: 6e-2,
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range allTypes {
		for _, scale := range []float32{1e-3, 1, 300} {
			x := randVec(r, 4096, scale)
			x[100] = 0
			q, err := Quantize(typ, x)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := typ.RowBytes(len(x)); len(q) != n {
				t.Fatalf("%v: %d bytes, want %d", typ, len(q), n)
			}
			y := mustDequant(t, typ, q, len(x))
			var se, sx float64
			for i := range x {
				d := float64(y[i] - x[i])
				se += d * d
				sx += float64(x[i]) * float64(x[i])
			}
			rel := math.Sqrt(se / sx)
			if rel > bounds[typ] {
				t.Errorf("%v scale %v: relative RMS error %.4g > %.4g", typ, scale, rel, bounds[typ])
			}
			t.Logf("%v scale %v: relative RMS error %.4g", typ, scale, rel)
		}
		zero, _ := Quantize(typ, make([]float32, 512))
		for i, v := range mustDequant(t, typ, zero, 512) {
			if v != 0 {
				t.Fatalf("%v: zeros decode to %v at %d", typ, v, i)
			}
		}
	}
}

// TestQuantizeActivations checks ggml's activation rounding on crafted
// values: ties round to even for Q8_0 (x*127/amax), and Q8_K's scale
// maps the largest-magnitude value to -127 with bsums matching qs.
func TestQuantizeActivations(t *testing.T) {
	x := make([]float32, 32)
	x[0] = 127 // amax: id = 1
	x[1], x[2], x[3], x[4] = 2.5, 3.5, -2.5, 0.49999997
	dst := make([]byte, 34)
	QuantizeActivations(Q8_0, x, dst)
	if got := []int8{int8(dst[2]), int8(dst[3]), int8(dst[4]), int8(dst[5]), int8(dst[6])}; got[0] != 127 || got[1] != 2 || got[2] != 4 || got[3] != -2 || got[4] != 0 {
		t.Errorf("Q8_0 values %v, want [127 2 4 -2 0]", got)
	}
	if d := F16ToF32(le.Uint16(dst)); d != 1 {
		t.Errorf("Q8_0 d = %v, want 1", d)
	}
	r := rand.New(rand.NewPCG(3, 4))
	xs := randVec(r, 512, 2)
	xs[300] = -9 // largest magnitude of block 1
	a := make([]byte, 2*292)
	QuantizeActivations(Q4_K, xs, a)
	blk := a[292:]
	if q := int8(blk[4+300-256]); q != -127 {
		t.Errorf("Q8_K: largest negative value -> %d, want -127 (iscale = -127/max)", q)
	}
	if d := math.Float32frombits(le.Uint32(blk)); d != 1/(-127/float32(-9)) {
		t.Errorf("Q8_K d = %v", d)
	}
	for j := 0; j < 16; j++ {
		s := 0
		for i := 0; i < 16; i++ {
			s += int(int8(blk[4+16*j+i]))
		}
		if got := int(int16(le.Uint16(blk[260+2*j:]))); got != s {
			t.Errorf("bsums[%d] = %d, want %d", j, got, s)
		}
	}
	// The fast conversion paths agree with the Go reference bit for bit.
	for _, n := range []int{32, 64, 96, 1024, 4096} {
		x := randVec(r, n, 3)
		x[n/2] = 0
		for i := 0; i < 32; i++ { // a block with exact ties
			x[i] = float32(i%5) - 2.5
		}
		got, want := make([]byte, n/32*34), make([]byte, n/32*34)
		QuantizeActivations(Q8_0, x, got)
		quantizeQ8_0ActGo(x, want)
		if string(got) != string(want) {
			t.Fatalf("Q8_0 activations of %d values differ from the reference", n)
		}
		if n%256 == 0 {
			x[300%n] = -x[0] // two values of the largest magnitude: the first one's sign wins
			x[0] = 100
			x[n-1] = -100
			got, want = make([]byte, n/256*292), make([]byte, n/256*292)
			QuantizeActivations(Q6_K, x, got)
			quantizeQ8K(x, want)
			if string(got) != string(want) {
				t.Fatalf("Q8_K activations of %d values differ from the reference", n)
			}
			if n >= 512 {
				clear(x[256:512]) // an all-zero block
				QuantizeActivations(Q6_K, x, got)
				quantizeQ8K(x, want)
				if string(got) != string(want) {
					t.Fatalf("Q8_K activations with a zero block differ from the reference")
				}
			}
		}
		got, want = make([]byte, 2*n), make([]byte, 2*n)
		QuantizeActivations(F16, x, got)
		quantizeF16Go(x, want)
		if string(got) != string(want) {
			t.Fatalf("F16 activations of %d values differ from the reference", n)
		}
	}
}

// TestRefDotMatchesDequant checks the reference integer dot products
// against the float dot product of the dequantized weight and activation.
func TestRefDotMatchesDequant(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, typ := range dotTypes {
		for _, n := range []int{256, 512, 2048} {
			w, _ := Quantize(typ, randVec(r, n, 0.5))
			x := randVec(r, n, 1)
			a := make([]byte, mustActBytes(t, typ, n))
			QuantizeActivations(typ, x, a)
			wf := mustDequant(t, typ, w, n)
			af := mustDequant(t, VecDotType(typ), a, n)
			var want, mag float64
			for i := range wf {
				want += float64(wf[i]) * float64(af[i])
				mag += math.Abs(float64(wf[i]) * float64(af[i]))
			}
			got := vecDotRef(typ, n, w, a)
			if d := math.Abs(float64(got) - want); d > 1e-5*mag {
				t.Errorf("%v n=%d: reference dot %v, dequantized dot %v (|diff| %.3g > 1e-5 * %.3g)", typ, n, got, want, d, mag)
			}
		}
	}
}

func mustActBytes(t testing.TB, typ Type, n int) int {
	t.Helper()
	ab, err := ActivationBytes(typ, n)
	if err != nil {
		t.Fatal(err)
	}
	return ab
}

// TestQuantizeActivationsNonFinite: NaN and Inf activations (a diverging
// model) give garbage values but never hang or panic.
func TestQuantizeActivationsNonFinite(t *testing.T) {
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		for _, typ := range dotTypes {
			x := make([]float32, 512)
			for i := range x {
				x[i] = v
			}
			x[7] = 1
			QuantizeActivations(typ, x, make([]byte, mustActBytes(t, typ, 512)))
		}
	}
}
