//go:build amd64 && !purego

#include "textflag.h"

// exactQ8_0 is a batched Q8_0 product in llama.cpp's order (ggml_vec_dot
// and its tinyBLAS kernel): for each (row, vector) eight float lanes, each
// block adding d_w*d_a × (the lane's integer sum of four products) by one
// FMA, then hsum_float_8. A zmm holds the lanes of two vectors (a pair)
// for one row; the call covers 4 rows × 4 pairs.
//
//   w    the 4 rows' blocks as ggml stores them (row stride rb)
//   dw   per block, the 4 rows' d as float32 (16 bytes a block)
//   a    per block, per pair: 64 bytes (the two vectors' 32 int8), then 64
//        bytes of int32 -128*Σ4 lanes, then 64 bytes of float32 d_a (×8 each)
//        (768 bytes a block)
//   out  4 pairs × 4 rows × 2 vectors float32: out[(p*4+r)*2+v]

DATA ex80<>+0(SB)/4, $0x80808080
GLOBL ex80<>(SB), RODATA|NOPTR, $4

#define EXW(r, reg) \
	VBROADCASTI32X8 2(SI)(r), reg; \
	VPXORD Z31, reg, reg

#define EXPAIR(p, da) \
	VMOVUPS (p*192+128)(DI), da

// EXRP(r, p, W, DA, ACC): ACC += (dw_r * DA) × float(lanes of W·a_p + corr_p)
#define EXRP(r, p, W, DA, ACC) \
	VMOVDQU32 (p*192+64)(DI), Z28; \
	VPDPBUSD (p*192)(DI), W, Z28; \
	VCVTDQ2PS Z28, Z28; \
	VMULPS.BCST (r*4)(BX), DA, Z29; \
	VFMADD231PS Z29, Z28, ACC

// func exactQ8_0(w *byte, rb int, dw *float32, a *byte, nblk int, out *float32)
TEXT ·exactQ8_0(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), SI
	MOVQ rb+8(FP), R9
	MOVQ dw+16(FP), BX
	MOVQ a+24(FP), DI
	MOVQ nblk+32(FP), CX
	MOVQ out+40(FP), R8
	LEAQ (R9)(R9*2), R10 // 3*rb
	VPBROADCASTD ex80<>(SB), Z31
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
exblk:
	MOVQ $0, AX
	EXW(AX*1, Z16)
	EXW(R9*1, Z17)
	EXW(R9*2, Z18)
	EXW(R10*1, Z19)
	EXPAIR(0, Z20)
	EXPAIR(1, Z21)
	EXPAIR(2, Z22)
	EXPAIR(3, Z23)
	EXRP(0, 0, Z16, Z20, Z0)
	EXRP(1, 0, Z17, Z20, Z1)
	EXRP(2, 0, Z18, Z20, Z2)
	EXRP(3, 0, Z19, Z20, Z3)
	EXRP(0, 1, Z16, Z21, Z4)
	EXRP(1, 1, Z17, Z21, Z5)
	EXRP(2, 1, Z18, Z21, Z6)
	EXRP(3, 1, Z19, Z21, Z7)
	EXRP(0, 2, Z16, Z22, Z8)
	EXRP(1, 2, Z17, Z22, Z9)
	EXRP(2, 2, Z18, Z22, Z10)
	EXRP(3, 2, Z19, Z22, Z11)
	EXRP(0, 3, Z16, Z23, Z12)
	EXRP(1, 3, Z17, Z23, Z13)
	EXRP(2, 3, Z18, Z23, Z14)
	EXRP(3, 3, Z19, Z23, Z15)
	ADDQ $34, SI
	ADDQ $16, BX
	ADDQ $768, DI
	DECQ CX
	JNZ exblk
	// the accumulators go out as 16 lanes each; hsum8x reduces them
exdone:
	VMOVUPS Z0, 0(R8)
	VMOVUPS Z1, 64(R8)
	VMOVUPS Z2, 128(R8)
	VMOVUPS Z3, 192(R8)
	VMOVUPS Z4, 256(R8)
	VMOVUPS Z5, 320(R8)
	VMOVUPS Z6, 384(R8)
	VMOVUPS Z7, 448(R8)
	VMOVUPS Z8, 512(R8)
	VMOVUPS Z9, 576(R8)
	VMOVUPS Z10, 640(R8)
	VMOVUPS Z11, 704(R8)
	VMOVUPS Z12, 768(R8)
	VMOVUPS Z13, 832(R8)
	VMOVUPS Z14, 896(R8)
	VMOVUPS Z15, 960(R8)
	VZEROUPPER
	RET

// func hsum8x(lanes *float32, n int, out *float32)
// out[i] = hsum_float_8 of lanes[8i:8i+8], for i < n.
TEXT ·hsum8x(SB), NOSPLIT, $0-24
	MOVQ lanes+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ out+16(FP), DI
hsloop:
	VMOVUPS (SI), Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X0, X1, X0
	VMOVHLPS X0, X0, X1
	VADDPS X1, X0, X0
	VMOVSHDUP X0, X1
	VADDSS X1, X0, X0
	VMOVSS X0, (DI)
	ADDQ $32, SI
	ADDQ $4, DI
	DECQ CX
	JNZ hsloop
	VZEROUPPER
	RET
