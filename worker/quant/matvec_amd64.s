//go:build amd64 && !purego

#include "textflag.h"

// Row-by-row dot products on AVX2 + FMA + F16C for MatVec (decode): every
// function computes out[r] for nrows consecutive rows of rb bytes starting
// at w, against one activation vector a of the type's vec-dot type.
// Integer parts are exact; each block's integer sum is scaled into eight
// float32 lanes that are summed at the end of the row.
//
// The signed int8 × int8 products use the usual AVX2 idiom: |w| (unsigned)
// times a with w's sign applied, by VPMADDUBSW; the 16-bit pair sums cannot
// saturate because activations lie in [-127, 127] (QuantizeActivations
// never produces -128).

DATA ones16<>+0(SB)/4, $0x00010001
GLOBL ones16<>(SB), RODATA|NOPTR, $4
DATA nib<>+0(SB)/4, $0x0f0f0f0f
GLOBL nib<>(SB), RODATA|NOPTR, $4
DATA eight<>+0(SB)/4, $0x08080808
GLOBL eight<>(SB), RODATA|NOPTR, $4
DATA bit4<>+0(SB)/4, $0x10101010
GLOBL bit4<>(SB), RODATA|NOPTR, $4
DATA bits45<>+0(SB)/4, $0x30303030
GLOBL bits45<>(SB), RODATA|NOPTR, $4

// shufK4: for sub-block j (0..7), a VPSHUFB mask broadcasting 16-bit word j
// of a 128-bit lane to all eight words of both lanes.
DATA shufK4<>+0(SB)/8, $0x0100010001000100
DATA shufK4<>+8(SB)/8, $0x0100010001000100
DATA shufK4<>+16(SB)/8, $0x0100010001000100
DATA shufK4<>+24(SB)/8, $0x0100010001000100
DATA shufK4<>+32(SB)/8, $0x0302030203020302
DATA shufK4<>+40(SB)/8, $0x0302030203020302
DATA shufK4<>+48(SB)/8, $0x0302030203020302
DATA shufK4<>+56(SB)/8, $0x0302030203020302
DATA shufK4<>+64(SB)/8, $0x0504050405040504
DATA shufK4<>+72(SB)/8, $0x0504050405040504
DATA shufK4<>+80(SB)/8, $0x0504050405040504
DATA shufK4<>+88(SB)/8, $0x0504050405040504
DATA shufK4<>+96(SB)/8, $0x0706070607060706
DATA shufK4<>+104(SB)/8, $0x0706070607060706
DATA shufK4<>+112(SB)/8, $0x0706070607060706
DATA shufK4<>+120(SB)/8, $0x0706070607060706
DATA shufK4<>+128(SB)/8, $0x0908090809080908
DATA shufK4<>+136(SB)/8, $0x0908090809080908
DATA shufK4<>+144(SB)/8, $0x0908090809080908
DATA shufK4<>+152(SB)/8, $0x0908090809080908
DATA shufK4<>+160(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA shufK4<>+168(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA shufK4<>+176(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA shufK4<>+184(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA shufK4<>+192(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA shufK4<>+200(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA shufK4<>+208(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA shufK4<>+216(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA shufK4<>+224(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA shufK4<>+232(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA shufK4<>+240(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA shufK4<>+248(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL shufK4<>(SB), RODATA|NOPTR, $256

// shufK6: for chunk c (0..7), a 16-byte VPSHUFB mask giving byte 2c eight
// times then byte 2c+1 eight times.
DATA shufK6<>+0(SB)/8, $0x0000000000000000
DATA shufK6<>+8(SB)/8, $0x0101010101010101
DATA shufK6<>+16(SB)/8, $0x0202020202020202
DATA shufK6<>+24(SB)/8, $0x0303030303030303
DATA shufK6<>+32(SB)/8, $0x0404040404040404
DATA shufK6<>+40(SB)/8, $0x0505050505050505
DATA shufK6<>+48(SB)/8, $0x0606060606060606
DATA shufK6<>+56(SB)/8, $0x0707070707070707
DATA shufK6<>+64(SB)/8, $0x0808080808080808
DATA shufK6<>+72(SB)/8, $0x0909090909090909
DATA shufK6<>+80(SB)/8, $0x0a0a0a0a0a0a0a0a
DATA shufK6<>+88(SB)/8, $0x0b0b0b0b0b0b0b0b
DATA shufK6<>+96(SB)/8, $0x0c0c0c0c0c0c0c0c
DATA shufK6<>+104(SB)/8, $0x0d0d0d0d0d0d0d0d
DATA shufK6<>+112(SB)/8, $0x0e0e0e0e0e0e0e0e
DATA shufK6<>+120(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL shufK6<>(SB), RODATA|NOPTR, $128

// HSUM8 leaves the sum of the eight lanes of Y0 in X0's lowest lane, added
// in the order of ggml's hsum_float_8 ((x0+x4)+(x2+x6)) + ((x1+x5)+(x3+x7)),
// so that with the same per-lane FMAs the row sums are bit-identical to
// llama.cpp's x86 dot products.
#define HSUM8 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS X0, X1, X0; \
	HSUM4(X0, X1)

// HSUM4(x, t): x's lowest lane = (x0+x2) + (x1+x3); clobbers t.
#define HSUM4(x, t) \
	VMOVHLPS x, x, t; \
	VADDPS t, x, x; \
	VMOVSHDUP x, t; \
	VADDSS t, x, x

// IHSUM8(y, x, t): the lowest int32 lane of x (the low half of y) = the sum of
// the eight int32 lanes of y (exact); clobbers t.
#define IHSUM8(y, x, t) \
	VEXTRACTI128 $1, y, t; \
	VPADDD t, x, x; \
	VPSHUFD $0x4e, x, t; \
	VPADDD t, x, x; \
	VPSHUFD $0xb1, x, t; \
	VPADDD t, x, x

// Q8DOT: Y5 = eight int32 partial sums of w·a for 32 bytes at wq and aq
// (both signed); clobbers Y1-Y4. Y15 = 16-bit ones.
#define Q8DOT(wq, aq) \
	VMOVDQU wq, Y1; \
	VMOVDQU aq, Y2; \
	VPSIGNB Y1, Y1, Y3; \
	VPSIGNB Y1, Y2, Y4; \
	VPMADDUBSW Y4, Y3, Y5; \
	VPMADDWD Y15, Y5, Y5

// BLOCKSCALE: Y6 = broadcast of f16(w) * f16(a) for the fp16 scales at the
// given addresses; clobbers AX, BX, X7.
#define BLOCKSCALE(wd, ad) \
	MOVWLZX wd, AX; \
	MOVWLZX ad, BX; \
	VMOVD AX, X6; \
	VPINSRW $1, BX, X6, X6; \
	VCVTPH2PS X6, X6; \
	VMOVSHDUP X6, X7; \
	VMULSS X7, X6, X6; \
	VBROADCASTSS X6, Y6

// func matVecQ8_0(w *byte, rb, nrows int, a *byte, nblk int, out *float32)
TEXT ·matVecQ8_0(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
	VPBROADCASTD ones16<>(SB), Y15
q80row:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ nblk+32(FP), CX
	VXORPS Y0, Y0, Y0
q80blk:
	Q8DOT(2(SI), 2(DI))
	VCVTDQ2PS Y5, Y5
	BLOCKSCALE(0(SI), 0(DI))
	VFMADD231PS Y6, Y5, Y0
	ADDQ $34, SI
	ADDQ $34, DI
	DECQ CX
	JNZ q80blk
	HSUM8
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ q80row
	VZEROUPPER
	RET

// func matVecQ4_0(w *byte, rb, nrows int, a *byte, nblk int, out *float32)
//
// llama.cpp multiplies Q4_0 weights in its repacked form (q4_0_8x8), which
// adds each block's whole integer sum to the row's sum by one scalar FMA
// with d_w*d_a; so does this kernel, to give the very same values.
TEXT ·matVecQ4_0(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
	VPBROADCASTD ones16<>(SB), Y15
	VPBROADCASTD nib<>(SB), Y14
	VPBROADCASTD eight<>(SB), Y13
q40row:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ nblk+32(FP), CX
	VXORPS Y0, Y0, Y0
q40blk:
	VMOVDQU 2(SI), X1
	VPSRLW $4, X1, X2
	VINSERTI128 $1, X2, Y1, Y1
	VPAND Y14, Y1, Y1
	VPSUBB Y13, Y1, Y1
	VMOVDQU 2(DI), Y2
	VPSIGNB Y1, Y1, Y3
	VPSIGNB Y1, Y2, Y4
	VPMADDUBSW Y4, Y3, Y5
	VPMADDWD Y15, Y5, Y5
	IHSUM8(Y5, X5, X3)
	VCVTDQ2PS X5, X5
	BLOCKSCALE(0(SI), 0(DI))
	VFMADD231SS X6, X5, X0
	ADDQ $18, SI
	ADDQ $34, DI
	DECQ CX
	JNZ q40blk
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ q40row
	VZEROUPPER
	RET

// KSCALES unpacks the 12 packed scale bytes of a Q4_K/Q5_K block at off(SI)
// into Y9 = the eight 6-bit scales as 16-bit words (in both 128-bit lanes)
// and X10 = the eight mins as 16-bit words. Clobbers AX, BX, R11, R12, R13.
#define KSCALES(off) \
	MOVL (off+0)(SI), AX; \
	MOVL (off+4)(SI), BX; \
	MOVL (off+8)(SI), R11; \
	MOVL R11, R12; \
	ANDL $0x0f0f0f0f, R12; \
	MOVL AX, R13; \
	SHRL $6, R13; \
	ANDL $0x03030303, R13; \
	SHLL $4, R13; \
	ORL R13, R12; \
	ANDL $0x3f3f3f3f, AX; \
	VMOVD AX, X9; \
	VPINSRD $1, R12, X9, X9; \
	VPMOVZXBW X9, X9; \
	VINSERTI128 $1, X9, Y9, Y9; \
	SHRL $4, R11; \
	ANDL $0x0f0f0f0f, R11; \
	MOVL BX, R12; \
	SHRL $6, R12; \
	ANDL $0x03030303, R12; \
	SHLL $4, R12; \
	ORL R12, R11; \
	ANDL $0x3f3f3f3f, BX; \
	VMOVD BX, X10; \
	VPINSRD $1, R11, X10, X10; \
	VPMOVZXBW X10, X10

// KMINS: X8 (4 int32) = mins · (sums of the 8 sub-blocks of activations),
// from the Q8_K bsums at off(DI); needs X10 from KSCALES.
#define KMINS(off) \
	VMOVDQU (off)(DI), X8; \
	VMOVDQU (off+16)(DI), X7; \
	VPHADDW X7, X8, X8; \
	VPMADDWD X10, X8, X8

// KSUB: Y11 += scale of sub-block j (Y9) × (unsigned q in Y2 · signed a at aq).
#define KSUB(j, aq) \
	VPMADDUBSW aq, Y2, Y2; \
	VPSHUFB shufK4<>+(j*32)(SB), Y9, Y3; \
	VPMADDWD Y3, Y2, Y2; \
	VPADDD Y2, Y11, Y11

// KFINISH4 is KFINISH in the order of llama.cpp's repacked Q4_K product
// (q4_K_8x8), which it uses for Q4_K weights: one scalar FMA per
// super-block of the whole integer sums, X0 += d*da × Σsums, X12 +=
// dmin*da × Σmins.
#define KFINISH4 \
	IHSUM8(Y11, X11, X3); \
	VCVTDQ2PS X11, X11; \
	VPSHUFD $0x4e, X8, X7; \
	VPADDD X7, X8, X8; \
	VPSHUFD $0xb1, X8, X7; \
	VPADDD X7, X8, X8; \
	VCVTDQ2PS X8, X8; \
	MOVWLZX 0(SI), AX; \
	MOVWLZX 2(SI), BX; \
	VMOVD AX, X6; \
	VPINSRW $1, BX, X6, X6; \
	VCVTPH2PS X6, X6; \
	VBROADCASTSS 0(DI), X7; \
	VMULPS X7, X6, X6; \
	VMOVSHDUP X6, X7; \
	VFMADD231SS X6, X11, X0; \
	VFMADD231SS X7, X8, X12

// KFINISH: Y0 += d*da × sums (Y11), X12 += dmin*da × mins (X8), for the
// Q4_K/Q5_K block at SI and the Q8_K block at DI.
#define KFINISH \
	VCVTDQ2PS Y11, Y11; \
	VCVTDQ2PS X8, X8; \
	MOVWLZX 0(SI), AX; \
	MOVWLZX 2(SI), BX; \
	VMOVD AX, X6; \
	VPINSRW $1, BX, X6, X6; \
	VCVTPH2PS X6, X6; \
	VBROADCASTSS 0(DI), X7; \
	VMULPS X7, X6, X6; \
	VMOVSHDUP X6, X7; \
	VBROADCASTSS X6, Y6; \
	VBROADCASTSS X7, X7; \
	VFMADD231PS Y6, Y11, Y0; \
	VFMADD231PS X7, X8, X12

// KFINISH5 is KFINISH for Q5_K, whose mins ggml adds as one scalar per
// block: X12 = fma(dmin*da, float(Σ mins·sums), X12).
#define KFINISH5 \
	VCVTDQ2PS Y11, Y11; \
	VPSHUFD $0x4e, X8, X7; \
	VPADDD X7, X8, X8; \
	VPSHUFD $0xb1, X8, X7; \
	VPADDD X7, X8, X8; \
	VCVTDQ2PS X8, X8; \
	MOVWLZX 0(SI), AX; \
	MOVWLZX 2(SI), BX; \
	VMOVD AX, X6; \
	VPINSRW $1, BX, X6, X6; \
	VCVTPH2PS X6, X6; \
	VBROADCASTSS 0(DI), X7; \
	VMULPS X7, X6, X6; \
	VMOVSHDUP X6, X7; \
	VBROADCASTSS X6, Y6; \
	VBROADCASTSS X7, X7; \
	VFMADD231PS Y6, Y11, Y0; \
	VFMADD231SS X7, X8, X12

// func matVecQ4K(w *byte, rb, nrows int, a *byte, nblk int, out *float32)
TEXT ·matVecQ4K(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
	VPBROADCASTD nib<>(SB), Y14
q4krow:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ nblk+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS X12, X12, X12
q4kblk:
	KSCALES(4)
	KMINS(260)
	VPXOR Y11, Y11, Y11
	// chunk c: 32 bytes at 16+32c(SI); low nibbles = sub-block 2c, high = 2c+1
	VMOVDQU 16(SI), Y1
	VPAND Y14, Y1, Y2
	KSUB(0, 4(DI))
	VPSRLW $4, Y1, Y2
	VPAND Y14, Y2, Y2
	KSUB(1, 36(DI))
	VMOVDQU 48(SI), Y1
	VPAND Y14, Y1, Y2
	KSUB(2, 68(DI))
	VPSRLW $4, Y1, Y2
	VPAND Y14, Y2, Y2
	KSUB(3, 100(DI))
	VMOVDQU 80(SI), Y1
	VPAND Y14, Y1, Y2
	KSUB(4, 132(DI))
	VPSRLW $4, Y1, Y2
	VPAND Y14, Y2, Y2
	KSUB(5, 164(DI))
	VMOVDQU 112(SI), Y1
	VPAND Y14, Y1, Y2
	KSUB(6, 196(DI))
	VPSRLW $4, Y1, Y2
	VPAND Y14, Y2, Y2
	KSUB(7, 228(DI))
	KFINISH4
	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ q4kblk
	VSUBSS X12, X0, X0
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ q4krow
	VZEROUPPER
	RET

// Q5HI_L/R: Y2 |= bit j of each qh byte (Y13) moved to bit 4 (Y15 = 0x10 bytes).
#define Q5HI_L(s) \
	VPSLLW $s, Y13, Y3; \
	VPAND Y15, Y3, Y3; \
	VPOR Y3, Y2, Y2
#define Q5HI_R(s) \
	VPSRLW $s, Y13, Y3; \
	VPAND Y15, Y3, Y3; \
	VPOR Y3, Y2, Y2

// func matVecQ5K(w *byte, rb, nrows int, a *byte, nblk int, out *float32)
TEXT ·matVecQ5K(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
	VPBROADCASTD nib<>(SB), Y14
	VPBROADCASTD bit4<>(SB), Y15
q5krow:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ nblk+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS X12, X12, X12
q5kblk:
	KSCALES(4)
	KMINS(260)
	VMOVDQU 16(SI), Y13
	VPXOR Y11, Y11, Y11
	VMOVDQU 48(SI), Y1
	VPAND Y14, Y1, Y2
	Q5HI_L(4)
	KSUB(0, 4(DI))
	VPSRLW $4, Y1, Y2
	VPAND Y14, Y2, Y2
	Q5HI_L(3)
	KSUB(1, 36(DI))
	VMOVDQU 80(SI), Y1
	VPAND Y14, Y1, Y2
	Q5HI_L(2)
	KSUB(2, 68(DI))
	VPSRLW $4, Y1, Y2
	VPAND Y14, Y2, Y2
	Q5HI_L(1)
	KSUB(3, 100(DI))
	VMOVDQU 112(SI), Y1
	VPAND Y14, Y1, Y2
	VPAND Y15, Y13, Y3
	VPOR Y3, Y2, Y2
	KSUB(4, 132(DI))
	VPSRLW $4, Y1, Y2
	VPAND Y14, Y2, Y2
	Q5HI_R(1)
	KSUB(5, 164(DI))
	VMOVDQU 144(SI), Y1
	VPAND Y14, Y1, Y2
	Q5HI_R(2)
	KSUB(6, 196(DI))
	VPSRLW $4, Y1, Y2
	VPAND Y14, Y2, Y2
	Q5HI_R(3)
	KSUB(7, 228(DI))
	KFINISH5
	ADDQ $176, SI
	ADDQ $292, DI
	DECQ CX
	JNZ q5kblk
	HSUM8
	VSUBSS X12, X0, X0
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ q5krow
	VZEROUPPER
	RET

// Q6CHUNK: for chunk c (sub-blocks 2c, 2c+1) with Y2 = its 6-bit values,
// Y11 += scales × (values · a at aq). X9 holds the 16 int8 scales.
#define Q6CHUNK(c, aq) \
	VPMADDUBSW aq, Y2, Y2; \
	VPSHUFB shufK6<>+(c*16)(SB), X9, X3; \
	VPMOVSXBW X3, Y3; \
	VPMADDWD Y3, Y2, Y2; \
	VPADDD Y2, Y11, Y11

// Q6LO(off, sh): Y2 = nibbles of the 32 ql bytes at off(SI), high ones when sh = 4.
#define Q6LO0(off) \
	VMOVDQU off(SI), Y2; \
	VPAND Y14, Y2, Y2
#define Q6LO4(off) \
	VMOVDQU off(SI), Y2; \
	VPSRLW $4, Y2, Y2; \
	VPAND Y14, Y2, Y2
// Q6HI_L/R: Y2 |= bits 2k..2k+1 of the qh bytes (Y13) moved to bits 4-5.
#define Q6HI_L(s) \
	VPSLLW $s, Y13, Y3; \
	VPAND Y12, Y3, Y3; \
	VPOR Y3, Y2, Y2

// func matVecQ6K(w *byte, rb, nrows int, a *byte, nblk int, out *float32)
TEXT ·matVecQ6K(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
	VPBROADCASTD nib<>(SB), Y14
	VPBROADCASTD bits45<>(SB), Y12
q6krow:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ nblk+32(FP), CX
	VXORPS Y0, Y0, Y0
q6kblk:
	VMOVDQU 192(SI), X9
	VPXOR Y11, Y11, Y11
	// half 0: ql at 0(SI), qh at 128(SI)
	VMOVDQU 128(SI), Y13
	Q6LO0(0)
	Q6HI_L(4)
	Q6CHUNK(0, 4(DI))
	Q6LO0(32)
	Q6HI_L(2)
	Q6CHUNK(1, 36(DI))
	Q6LO4(0)
	VPAND Y12, Y13, Y3
	VPOR Y3, Y2, Y2
	Q6CHUNK(2, 68(DI))
	Q6LO4(32)
	VPSRLW $2, Y13, Y3
	VPAND Y12, Y3, Y3
	VPOR Y3, Y2, Y2
	Q6CHUNK(3, 100(DI))
	// half 1: ql at 64(SI), qh at 160(SI)
	VMOVDQU 160(SI), Y13
	Q6LO0(64)
	Q6HI_L(4)
	Q6CHUNK(4, 132(DI))
	Q6LO0(96)
	Q6HI_L(2)
	Q6CHUNK(5, 164(DI))
	Q6LO4(64)
	VPAND Y12, Y13, Y3
	VPOR Y3, Y2, Y2
	Q6CHUNK(6, 196(DI))
	Q6LO4(96)
	VPSRLW $2, Y13, Y3
	VPAND Y12, Y3, Y3
	VPOR Y3, Y2, Y2
	Q6CHUNK(7, 228(DI))
	// minus 32 × Σ scale_s × bsum_s
	VPMOVSXBW X9, Y3
	VMOVDQU 260(DI), Y4
	VPMADDWD Y4, Y3, Y3
	VPSLLD $5, Y3, Y3
	VPSUBD Y3, Y11, Y11
	VCVTDQ2PS Y11, Y11
	MOVWLZX 208(SI), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS 0(DI), X6, X6
	VBROADCASTSS X6, Y6
	VFMADD231PS Y6, Y11, Y0
	ADDQ $210, SI
	ADDQ $292, DI
	DECQ CX
	JNZ q6kblk
	HSUM8
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ q6krow
	VZEROUPPER
	RET

// q5shuf: VPSHUFB mask sending byte k/8 of the broadcast qh dword to byte k.
DATA q5shuf<>+0(SB)/8, $0x0000000000000000
DATA q5shuf<>+8(SB)/8, $0x0101010101010101
DATA q5shuf<>+16(SB)/8, $0x0202020202020202
DATA q5shuf<>+24(SB)/8, $0x0303030303030303
GLOBL q5shuf<>(SB), RODATA|NOPTR, $32
// q5bit: bit k%8 in byte k.
DATA q5bit<>+0(SB)/8, $0x8040201008040201
GLOBL q5bit<>(SB), RODATA|NOPTR, $8
DATA sixteen<>+0(SB)/4, $0x10101010
GLOBL sixteen<>(SB), RODATA|NOPTR, $4

// func matVecQ5_0(w *byte, rb, nrows int, a *byte, nblk int, out *float32)
TEXT ·matVecQ5_0(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
	VPBROADCASTD ones16<>(SB), Y15
	VPBROADCASTD nib<>(SB), Y14
	VPBROADCASTD sixteen<>(SB), Y13
	VMOVDQU q5shuf<>(SB), Y12
	VPBROADCASTQ q5bit<>(SB), Y11
q50row:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ nblk+32(FP), CX
	VXORPS Y0, Y0, Y0
q50blk:
	// fifth bits: byte k = 0x10 if bit k of qh is set
	VPBROADCASTD 2(SI), Y8
	VPSHUFB Y12, Y8, Y8
	VPAND Y11, Y8, Y8
	VPCMPEQB Y11, Y8, Y8
	VPAND Y13, Y8, Y8
	VMOVDQU 6(SI), X1
	VPSRLW $4, X1, X2
	VINSERTI128 $1, X2, Y1, Y1
	VPAND Y14, Y1, Y1
	VPOR Y8, Y1, Y1
	VPSUBB Y13, Y1, Y1
	VMOVDQU 2(DI), Y2
	VPSIGNB Y1, Y1, Y3
	VPSIGNB Y1, Y2, Y4
	VPMADDUBSW Y4, Y3, Y5
	VPMADDWD Y15, Y5, Y5
	VCVTDQ2PS Y5, Y5
	BLOCKSCALE(0(SI), 0(DI))
	VFMADD231PS Y6, Y5, Y0
	ADDQ $22, SI
	ADDQ $34, DI
	DECQ CX
	JNZ q50blk
	HSUM8
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ q50row
	VZEROUPPER
	RET

// The order of ggml_vec_dot_q4_0_q8_0 and ggml_vec_dot_q4_K_q8_K, which
// llama.cpp uses for Q4_0 and Q4_K weights it does not repack: eight float
// lanes per row, one FMA per block (super-block), summed as hsum_float_8.

// func matVecQ4_0VD(w *byte, rb, nrows int, a *byte, nblk int, out *float32)
TEXT ·matVecQ4_0VD(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
	VPBROADCASTD ones16<>(SB), Y15
	VPBROADCASTD nib<>(SB), Y14
	VPBROADCASTD eight<>(SB), Y13
q40vrow:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ nblk+32(FP), CX
	VXORPS Y0, Y0, Y0
q40vblk:
	VMOVDQU 2(SI), X1
	VPSRLW $4, X1, X2
	VINSERTI128 $1, X2, Y1, Y1
	VPAND Y14, Y1, Y1
	VPSUBB Y13, Y1, Y1
	VMOVDQU 2(DI), Y2
	VPSIGNB Y1, Y1, Y3
	VPSIGNB Y1, Y2, Y4
	VPMADDUBSW Y4, Y3, Y5
	VPMADDWD Y15, Y5, Y5
	VCVTDQ2PS Y5, Y5
	BLOCKSCALE(0(SI), 0(DI))
	VFMADD231PS Y6, Y5, Y0
	ADDQ $18, SI
	ADDQ $34, DI
	DECQ CX
	JNZ q40vblk
	HSUM8
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ q40vrow
	VZEROUPPER
	RET

// func matVecQ4KVD(w *byte, rb, nrows int, a *byte, nblk int, out *float32)
TEXT ·matVecQ4KVD(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
	VPBROADCASTD nib<>(SB), Y14
q4kvrow:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ nblk+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS X12, X12, X12
q4kvblk:
	KSCALES(4)
	KMINS(260)
	VPXOR Y11, Y11, Y11
	// chunk c: 32 bytes at 16+32c(SI); low nibbles = sub-block 2c, high = 2c+1
	VMOVDQU 16(SI), Y1
	VPAND Y14, Y1, Y2
	KSUB(0, 4(DI))
	VPSRLW $4, Y1, Y2
	VPAND Y14, Y2, Y2
	KSUB(1, 36(DI))
	VMOVDQU 48(SI), Y1
	VPAND Y14, Y1, Y2
	KSUB(2, 68(DI))
	VPSRLW $4, Y1, Y2
	VPAND Y14, Y2, Y2
	KSUB(3, 100(DI))
	VMOVDQU 80(SI), Y1
	VPAND Y14, Y1, Y2
	KSUB(4, 132(DI))
	VPSRLW $4, Y1, Y2
	VPAND Y14, Y2, Y2
	KSUB(5, 164(DI))
	VMOVDQU 112(SI), Y1
	VPAND Y14, Y1, Y2
	KSUB(6, 196(DI))
	VPSRLW $4, Y1, Y2
	VPAND Y14, Y2, Y2
	KSUB(7, 228(DI))
	KFINISH
	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ q4kvblk
	HSUM8
	HSUM4(X12, X1)
	VSUBSS X12, X0, X0
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ q4kvrow
	VZEROUPPER
	RET

// BF16 products in llama.cpp's order (x86, AVX512-BF16 build): VDPBF16PS
// accumulates into each float lane the exact product of the odd bf16 pair
// then that of the even one, rounding after each; these kernels do the same
// with 8-lane halves (lo: the first 16 values of a 32-value chunk, hi: the
// next 16) and reduce the 16 lanes in the order of _mm512_reduce_add_ps.
DATA bfhi<>+0(SB)/4, $0xffff0000
GLOBL bfhi<>(SB), RODATA|NOPTR, $4

// DPBF(off, lo, hi): lo, hi += the 32 bf16 products at off(SI), off(DI).
#define DPBF(off, lo, hi) \
	VMOVDQU (off)(SI), Y4; \
	VMOVDQU (off)(DI), Y5; \
	VPAND Y15, Y4, Y6; \
	VPAND Y15, Y5, Y7; \
	VMULPS Y7, Y6, Y6; \
	VADDPS Y6, lo, lo; \
	VPSLLD $16, Y4, Y6; \
	VPSLLD $16, Y5, Y7; \
	VMULPS Y7, Y6, Y6; \
	VADDPS Y6, lo, lo; \
	VMOVDQU (off+32)(SI), Y4; \
	VMOVDQU (off+32)(DI), Y5; \
	VPAND Y15, Y4, Y6; \
	VPAND Y15, Y5, Y7; \
	VMULPS Y7, Y6, Y6; \
	VADDPS Y6, hi, hi; \
	VPSLLD $16, Y4, Y6; \
	VPSLLD $16, Y5, Y7; \
	VMULPS Y7, Y6, Y6; \
	VADDPS Y6, hi, hi

// func matVecBF16GGML(w *byte, rb, nrows int, a *byte, n int, out *float32)
// ggml_vec_dot_bf16: two accumulators over 64-value steps, each reduced
// and added in double precision, then the rest one product at a time.
TEXT ·matVecBF16GGML(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
	VPBROADCASTD bfhi<>(SB), Y15
bfgrow:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ n+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
bfg64:
	CMPQ CX, $64
	JLT bfgsum
	DPBF(0, Y0, Y1)
	DPBF(64, Y2, Y3)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $64, CX
	JMP bfg64
bfgsum:
	VADDPS Y0, Y1, Y0
	HSUM8
	VCVTSS2SD X0, X0, X8 // sumf = reduce(c1)
	VADDPS Y2, Y3, Y0
	HSUM8
	VCVTSS2SD X0, X0, X0
	VADDSD X0, X8, X8 // sumf += reduce(c2)
	TESTQ CX, CX
	JZ bfgdone
bfgtail:
	MOVWLZX 0(SI), AX
	MOVWLZX 0(DI), BX
	SHLL $16, AX
	SHLL $16, BX
	VMOVD AX, X4
	VMOVD BX, X5
	VMULSS X5, X4, X4
	VCVTSS2SD X4, X4, X4
	VADDSD X4, X8, X8
	ADDQ $2, SI
	ADDQ $2, DI
	DECQ CX
	JNZ bfgtail
bfgdone:
	VCVTSD2SS X8, X8, X0
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ bfgrow
	VZEROUPPER
	RET

// func matVecBF16Tiny(w *byte, rb, nrows int, a *byte, n32 int, out *float32)
// llama.cpp's batched BF16 product (tinyBLAS): one accumulator over
// 32-value steps, reduced once (n is a multiple of 32).
TEXT ·matVecBF16Tiny(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
	VPBROADCASTD bfhi<>(SB), Y15
bftrow:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ n32+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
bftblk:
	DPBF(0, Y0, Y1)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ bftblk
	VADDPS Y0, Y1, Y0
	HSUM8
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ bftrow
	VZEROUPPER
	RET

// F32 and F16 products in llama.cpp's order (x86, AVX-512 build), each
// 16-lane zmm accumulator emulated by a pair of 8-lane halves (lo, hi).

// FMA16F32(off, lo, hi): lo, hi += the 16 products of float32 at off(SI), off(DI).
#define FMA16F32(off, lo, hi) \
	VMOVUPS (off)(SI), Y8; \
	VFMADD231PS (off)(DI), Y8, lo; \
	VMOVUPS (off+32)(SI), Y9; \
	VFMADD231PS (off+32)(DI), Y9, hi

// FMA16F16(off, lo, hi): the same for 16 fp16 values at off(SI), off(DI).
#define FMA16F16(off, lo, hi) \
	VCVTPH2PS (off)(SI), Y8; \
	VCVTPH2PS (off)(DI), Y10; \
	VFMADD231PS Y10, Y8, lo; \
	VCVTPH2PS (off+16)(SI), Y9; \
	VCVTPH2PS (off+16)(DI), Y11; \
	VFMADD231PS Y11, Y9, hi

// REDUCE4: ggml's GGML_F32x16_REDUCE of the accumulators (Y0,Y1) (Y2,Y3)
// (Y4,Y5) (Y6,Y7): x0 += x2, x1 += x3, x0 += x1, then _mm512_reduce_add_ps;
// leaves the float in X0.
#define REDUCE4 \
	VADDPS Y4, Y0, Y0; \
	VADDPS Y5, Y1, Y1; \
	VADDPS Y6, Y2, Y2; \
	VADDPS Y7, Y3, Y3; \
	VADDPS Y2, Y0, Y0; \
	VADDPS Y3, Y1, Y1; \
	VADDPS Y0, Y1, Y0; \
	HSUM8

#define ZERO8 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7

// func matVecF32GGML(w *byte, rb, nrows int, a *byte, n int, out *float32)
// ggml_vec_dot_f32: four accumulators over 64-value steps, reduced, then
// the rest added one rounded product at a time to the float sum.
TEXT ·matVecF32GGML(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
f32grow:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ n+32(FP), CX
	ZERO8
f32g64:
	CMPQ CX, $64
	JLT f32gsum
	FMA16F32(0, Y0, Y1)
	FMA16F32(64, Y2, Y3)
	FMA16F32(128, Y4, Y5)
	FMA16F32(192, Y6, Y7)
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JMP f32g64
f32gsum:
	REDUCE4
	TESTQ CX, CX
	JZ f32gdone
f32gtail:
	VMOVSS 0(SI), X4
	VMULSS 0(DI), X4, X4
	VADDSS X4, X0, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JNZ f32gtail
f32gdone:
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ f32grow
	VZEROUPPER
	RET

// func matVecF16GGML(w *byte, rb, nrows int, a *byte, n int, out *float32)
// ggml_vec_dot_f16: as F32, the sum kept in double precision and the rest
// added one exact product at a time.
TEXT ·matVecF16GGML(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
f16grow:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ n+32(FP), CX
	ZERO8
f16g64:
	CMPQ CX, $64
	JLT f16gsum
	FMA16F16(0, Y0, Y1)
	FMA16F16(32, Y2, Y3)
	FMA16F16(64, Y4, Y5)
	FMA16F16(96, Y6, Y7)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $64, CX
	JMP f16g64
f16gsum:
	REDUCE4
	VCVTSS2SD X0, X0, X8
	TESTQ CX, CX
	JZ f16gdone
f16gtail:
	MOVWLZX 0(SI), AX
	MOVWLZX 0(DI), BX
	VMOVD AX, X4
	VMOVD BX, X5
	VCVTPH2PS X4, X4
	VCVTPH2PS X5, X5
	VMULSS X5, X4, X4
	VCVTSS2SD X4, X4, X4
	VADDSD X4, X8, X8
	ADDQ $2, SI
	ADDQ $2, DI
	DECQ CX
	JNZ f16gtail
f16gdone:
	VCVTSD2SS X8, X8, X0
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ f16grow
	VZEROUPPER
	RET

// func matVecF32Tiny(w *byte, rb, nrows int, a *byte, n16 int, out *float32)
// llama.cpp's batched F32 product (tinyBLAS): one accumulator over 16-value
// steps, reduced once.
TEXT ·matVecF32Tiny(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
f32trow:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ n16+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
f32tblk:
	FMA16F32(0, Y0, Y1)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ f32tblk
	VADDPS Y0, Y1, Y0
	HSUM8
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ f32trow
	VZEROUPPER
	RET

// func matVecF16Tiny(w *byte, rb, nrows int, a *byte, n16 int, out *float32)
TEXT ·matVecF16Tiny(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), R10
	MOVQ rb+8(FP), R9
	MOVQ nrows+16(FP), DX
	MOVQ out+40(FP), R8
f16trow:
	MOVQ R10, SI
	MOVQ a+24(FP), DI
	MOVQ n16+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
f16tblk:
	FMA16F16(0, Y0, Y1)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ f16tblk
	VADDPS Y0, Y1, Y0
	HSUM8
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R9, R10
	DECQ DX
	JNZ f16trow
	VZEROUPPER
	RET
