// Package quant holds the numeric core of the engine's matrix products: the
// GGML tensor types with their exact byte layouts, conversions between them
// and float32, and the weight-row × activation dot products that llama.cpp's
// CPU backend computes, in a pure-Go reference form and in fast amd64
// assembly forms that are held to the reference by differential tests.
//
// # Block layouts (little-endian, packed, exactly those of ggml)
//
//	F32   4 bytes per value.
//	F16   2 bytes per value, IEEE 754 binary16.
//	BF16  2 bytes per value, the top half of a float32.
//	Q8_0  34 bytes per 32 values: fp16 d; int8 qs[32].        x[i] = d*qs[i]
//	Q4_0  18 bytes per 32 values: fp16 d; uint8 qs[16].       x[i] = d*((qs[i]&15)-8),
//	                                                          x[i+16] = d*((qs[i]>>4)-8)
//	Q5_0  22 bytes per 32 values: fp16 d; uint32 qh; uint8 qs[16]. As Q4_0 with
//	      5-bit values: bit i of qh is the fifth bit of value i, and x = d*(q-16).
//	Q4_K  144 bytes per 256 values: fp16 d; fp16 dmin; uint8 scales[12];
//	      uint8 qs[128]. Eight sub-blocks of 32 with 6-bit scale sc and 6-bit
//	      min m packed in scales (see scaleMinK4); x = d*sc*q - dmin*m with q a
//	      4-bit value: sub-blocks 2c and 2c+1 take the low and high nibbles of
//	      qs[32c:32c+32].
//	Q5_K  176 bytes per 256 values: fp16 d; fp16 dmin; uint8 scales[12];
//	      uint8 qh[32]; uint8 qs[128]. As Q4_K, with the fifth bit of value
//	      32j+l in bit j of qh[l].
//	Q6_K  210 bytes per 256 values: uint8 ql[128]; uint8 qh[64]; int8 scales[16];
//	      fp16 d. Sixteen sub-blocks of 16, x = d*scales[s]*(q-32), q a 6-bit value
//	      (low 4 bits in ql, high 2 bits in qh; see dequantQ6K).
//	Q8_K  292 bytes per 256 values: float32 d; int8 qs[256]; int16 bsums[16]
//	      (sums of each 16 consecutive qs). Used only for activations.
//
// # Kernels
//
// On amd64 with AVX2, FMA and F16C, MatVec runs assembly row kernels for
// every dot type (matvec_amd64.s) and QuantizeActivations assembly
// conversions (act_amd64.s). With AVX-512 F/BW/VL and VNNI as well, MatMul
// of 4 or more vectors stages 16 weight rows at a time, repacks them by
// gathers (repack_amd64.s) and multiplies them with 8 activation vectors per
// call, 64 multiply-adds per instruction (gemm_amd64.s); fewer vectors go
// through MatVec one at a time. With AVX2 only, MatMul runs Q8_0, Q4_0 and Q5_0 through
// an AVX2 kernel of 8 rows × 4 vectors (gemm2_amd64.s) and the K-quants,
// whose row kernels are faster there, through MatVec once per vector. Other
// architectures, and the purego build tag, use the pure-Go reference code.
// The selection is made once at start-up (golang.org/x/sys/cpu).
//
// Numerics: the integer part of every block's dot product is exact in every
// implementation; they differ only in the order in which the float32
// per-block terms are added (and, for F32/F16/BF16, how the products are
// accumulated), so two implementations agree within a few float32 epsilons
// of Σ|w_i*a_i| (the tests allow 1e-5 of it). The activation conversions are
// bit-exact with llama.cpp's, and the quantizers byte-exact with its
// reference quantizers (testdata/ggmlgold). Beyond that, on amd64 the
// products follow llama.cpp's own kernels' order of float operations and so
// give its very float32 values (checked against its prebuilt CPU backend's
// ggml_mul_mat in testdata/ggmlgold/mulmat.bin):
//
//   - MatVec (decode), with AVX2: every quantized type. llama.cpp multiplies
//     Q8_0, Q5_0, Q5_K and Q6_K with ggml_vec_dot_* and Q4_0 and Q4_K with
//     its repacked gemv kernels; the row kernels follow each (and
//     MatVecUnpacked the vec_dot order for Q4_0/Q4_K matrices llama.cpp does
//     not repack: LlamaCppRepacks).
//
//   - MatMul (prefill), with AVX-512 VNNI: Q4_0 and Q4_K (llama.cpp's
//     repacked gemm kernels for four vectors at a time, gemv for the rest).
//     For Q8_0, Q5_0, Q5_K and Q6_K its kernels add in another order than
//     the fast batched kernels here, and MatMulExact gives its values at
//     MatVec's rate.
//
//   - F32, F16 and BF16, with AVX2: MatVec as ggml_vec_dot_f32/f16/bf16
//     and MatMul as llama.cpp's batched tinyBLAS kernels (BF16 emulating
//     AVX512-BF16's VDPBF16PS: exact products, odd pair first, rounded after
//     each; subnormals aside).
//
// Dequantize, too, gives ggml's values (its get_rows: the embedding lookup).
// The portable code agrees within rounding.
//
// # Contracts
//
// Functions that take a Type and byte slices return an error for bad input
// (unsupported type, length not a multiple of the block size, slices too
// short). The hot-path functions (QuantizeActivations, VecDot, MatVec,
// MatMul) are called with sizes the caller already checked; they panic with
// a message naming the problem when a size contract is broken, as an index
// out of range would, and never read or write outside the slices given.
package quant

import (
	"errors"
	"fmt"
)

// Type is a GGML tensor element type; its values are GGML's type ids, as
// stored in GGUF tensor descriptors.
type Type uint32

// The supported GGML types.
const (
	F32  Type = 0
	F16  Type = 1
	Q4_0 Type = 2
	Q5_0 Type = 6
	Q8_0 Type = 8
	Q4_K Type = 12
	Q5_K Type = 13
	Q6_K Type = 14
	Q8_K Type = 15
	BF16 Type = 30
)

// QK is the number of values in a K-quant super-block.
const QK = 256

type typeInfo struct {
	name       string
	blockSize  int
	blockBytes int
}

// types is indexed by type id; unsupported ids have a zero entry.
var types = [...]typeInfo{
	F32:  {"F32", 1, 4},
	F16:  {"F16", 1, 2},
	BF16: {"BF16", 1, 2},
	Q8_0: {"Q8_0", 32, 34},
	Q4_0: {"Q4_0", 32, 18},
	Q5_0: {"Q5_0", 32, 22},
	Q4_K: {"Q4_K", QK, 144},
	Q5_K: {"Q5_K", QK, 176},
	Q6_K: {"Q6_K", QK, 210},
	Q8_K: {"Q8_K", QK, 292},
}

// ErrUnsupported is wrapped by errors about a type this package does not handle.
var ErrUnsupported = errors.New("unsupported tensor type")

// Supported reports whether t is one of the types this package handles.
func (t Type) Supported() bool { return t.info().blockSize != 0 }

func (t Type) info() typeInfo {
	if int(t) < len(types) {
		return types[t]
	}
	return typeInfo{}
}

// String returns GGML's name of the type ("Q8_0"), or "type(N)" when unknown.
func (t Type) String() string {
	if ti := t.info(); ti.blockSize != 0 {
		return ti.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// BlockSize is the number of values in one block (1 for F32, F16, BF16), or
// 0 for an unsupported type.
func (t Type) BlockSize() int { return t.info().blockSize }

// BlockBytes is the number of bytes of one block, or 0 for an unsupported type.
func (t Type) BlockBytes() int { return t.info().blockBytes }

// RowBytes is the number of bytes that n values take. It fails when t is
// unsupported, n is negative or n is not a multiple of the block size.
func (t Type) RowBytes(n int) (int, error) {
	ti := t.info()
	if ti.blockSize == 0 {
		return 0, fmt.Errorf("quant: %v: %w", t, ErrUnsupported)
	}
	if n < 0 || n%ti.blockSize != 0 {
		return 0, fmt.Errorf("quant: %v: %d values is not a multiple of the block size %d", t, n, ti.blockSize)
	}
	if n/ti.blockSize > maxInt/ti.blockBytes {
		return 0, fmt.Errorf("quant: %v: %d values overflow a size", t, n)
	}
	return n / ti.blockSize * ti.blockBytes, nil
}

const maxInt = int(^uint(0) >> 1)

// rowBytes is RowBytes for callers that already validated t and n.
func rowBytes(t Type, n int) int {
	ti := t.info()
	if ti.blockSize == 0 {
		panic(fmt.Sprintf("quant: %v: %v", t, ErrUnsupported))
	}
	if n%ti.blockSize != 0 {
		panic(fmt.Sprintf("quant: %v: %d values is not a multiple of the block size %d", t, n, ti.blockSize))
	}
	return n / ti.blockSize * ti.blockBytes
}
