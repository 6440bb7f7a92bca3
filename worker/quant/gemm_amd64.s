//go:build amd64 && !purego

#include "textflag.h"

// Batched quantized products on AVX-512 VNNI, 16 weight rows × 8
// activation vectors per call, over repacked operands (see gemm_amd64.go):
//
//   w    per scale group g: G/4 vectors of 64 bytes, vector m holding for
//        each of the 16 rows r (dword lane r) the 4 bytes k = 4m..4m+3 of
//        the group as u = value+128; then 16 float32 row scales; then (the
//        Min variant) 16 float32 row mins.
//   a    per group: 8 vectors × G signed bytes.
//   meta per group: 8 × {int32 -128*sum(a group), float32 scale, float32 min
//        scale, pad}.
//   out  8 × 16 float32: out[j*16+r] = Σ_g scale_r*ascale_j*dot_g(r,j)
//        (+ min_r*aminscale_j).
//
// vpdpbusd multiplies the unsigned weight bytes by the signed activation
// bytes broadcast four at a time, so one instruction does 64 multiply-adds
// for 16 rows; the -128*sum term that the accumulator starts from makes the
// result exactly Σ value*a.

#define ACT32(j, acc) \
	VPBROADCASTD (j*16)(BX), Z18; \
	VPDPBUSD.BCST (j*32+0)(DI), Z0, Z18; \
	VPDPBUSD.BCST (j*32+4)(DI), Z1, Z18; \
	VPDPBUSD.BCST (j*32+8)(DI), Z2, Z18; \
	VPDPBUSD.BCST (j*32+12)(DI), Z3, Z18; \
	VPDPBUSD.BCST (j*32+16)(DI), Z4, Z18; \
	VPDPBUSD.BCST (j*32+20)(DI), Z5, Z18; \
	VPDPBUSD.BCST (j*32+24)(DI), Z6, Z18; \
	VPDPBUSD.BCST (j*32+28)(DI), Z7, Z18; \
	VCVTDQ2PS Z18, Z18; \
	VMULPS.BCST (j*16+4)(BX), Z8, Z19; \
	VFMADD231PS Z19, Z18, acc

#define ACT16(j, acc) \
	VPBROADCASTD (j*16)(BX), Z18; \
	VPDPBUSD.BCST (j*16+0)(DI), Z0, Z18; \
	VPDPBUSD.BCST (j*16+4)(DI), Z1, Z18; \
	VPDPBUSD.BCST (j*16+8)(DI), Z2, Z18; \
	VPDPBUSD.BCST (j*16+12)(DI), Z3, Z18; \
	VCVTDQ2PS Z18, Z18; \
	VMULPS.BCST (j*16+4)(BX), Z8, Z19; \
	VFMADD231PS Z19, Z18, acc

#define MIN(j, acc) \
	VFMADD231PS.BCST (j*16+8)(BX), Z9, acc

#define ZERO_ACC \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15; \
	VPXORD Z16, Z16, Z16; \
	VPXORD Z17, Z17, Z17

#define STORE_ACC \
	VMOVUPS Z10, 0(R8); \
	VMOVUPS Z11, 64(R8); \
	VMOVUPS Z12, 128(R8); \
	VMOVUPS Z13, 192(R8); \
	VMOVUPS Z14, 256(R8); \
	VMOVUPS Z15, 320(R8); \
	VMOVUPS Z16, 384(R8); \
	VMOVUPS Z17, 448(R8); \
	VZEROUPPER

#define LOAD_W8 \
	VMOVDQU64 0(SI), Z0; \
	VMOVDQU64 64(SI), Z1; \
	VMOVDQU64 128(SI), Z2; \
	VMOVDQU64 192(SI), Z3; \
	VMOVDQU64 256(SI), Z4; \
	VMOVDQU64 320(SI), Z5; \
	VMOVDQU64 384(SI), Z6; \
	VMOVDQU64 448(SI), Z7; \
	VMOVUPS 512(SI), Z8

// func gemmG32(w, a, meta *byte, ngroups int, out *float32)
TEXT ·gemmG32(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ meta+16(FP), BX
	MOVQ ngroups+24(FP), CX
	MOVQ out+32(FP), R8
	ZERO_ACC
loop:
	LOAD_W8
	ACT32(0, Z10)
	ACT32(1, Z11)
	ACT32(2, Z12)
	ACT32(3, Z13)
	ACT32(4, Z14)
	ACT32(5, Z15)
	ACT32(6, Z16)
	ACT32(7, Z17)
	ADDQ $576, SI
	ADDQ $256, DI
	ADDQ $128, BX
	DECQ CX
	JNZ loop
	STORE_ACC
	RET

// func gemmG32Min(w, a, meta *byte, ngroups int, out *float32)
TEXT ·gemmG32Min(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ meta+16(FP), BX
	MOVQ ngroups+24(FP), CX
	MOVQ out+32(FP), R8
	ZERO_ACC
loopm:
	LOAD_W8
	VMOVUPS 576(SI), Z9
	ACT32(0, Z10)
	MIN(0, Z10)
	ACT32(1, Z11)
	MIN(1, Z11)
	ACT32(2, Z12)
	MIN(2, Z12)
	ACT32(3, Z13)
	MIN(3, Z13)
	ACT32(4, Z14)
	MIN(4, Z14)
	ACT32(5, Z15)
	MIN(5, Z15)
	ACT32(6, Z16)
	MIN(6, Z16)
	ACT32(7, Z17)
	MIN(7, Z17)
	ADDQ $640, SI
	ADDQ $256, DI
	ADDQ $128, BX
	DECQ CX
	JNZ loopm
	STORE_ACC
	RET

// func gemmG16(w, a, meta *byte, ngroups int, out *float32)
TEXT ·gemmG16(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ meta+16(FP), BX
	MOVQ ngroups+24(FP), CX
	MOVQ out+32(FP), R8
	ZERO_ACC
loop16:
	VMOVDQU64 0(SI), Z0
	VMOVDQU64 64(SI), Z1
	VMOVDQU64 128(SI), Z2
	VMOVDQU64 192(SI), Z3
	VMOVUPS 256(SI), Z8
	ACT16(0, Z10)
	ACT16(1, Z11)
	ACT16(2, Z12)
	ACT16(3, Z13)
	ACT16(4, Z14)
	ACT16(5, Z15)
	ACT16(6, Z16)
	ACT16(7, Z17)
	ADDQ $320, SI
	ADDQ $128, DI
	ADDQ $128, BX
	DECQ CX
	JNZ loop16
	STORE_ACC
	RET

// gemmQ4K is the batched Q4_K product in the order of llama.cpp's repacked
// Q4_K kernel (q4_K_8x8 gemm), which multiplies Q4_K weights there: per pair
// of sub-blocks (64 values) and per row, the integer sum Σ sc_j·dot_j is
// added by one FMA with d·d_a, and the integer Σ m_j·sum_j (sums of the
// activations) by one FMA with dmin·d_a into a second accumulator that is
// subtracted at the end. Groups are 768 bytes: 8 vectors of u = q+128, the
// rows' int32 scales sc, int32 mins m, float32 d and float32 dmin; the meta
// records are {-128*sum, sum (int32), d_a, 0}. accmin is scratch for 8×16
// float32.

#define Q4KA(j, I) \
	VPBROADCASTD (j*16)(BX), I; \
	VPDPBUSD.BCST (j*32+0)(DI), Z0, I; \
	VPDPBUSD.BCST (j*32+4)(DI), Z1, I; \
	VPDPBUSD.BCST (j*32+8)(DI), Z2, I; \
	VPDPBUSD.BCST (j*32+12)(DI), Z3, I; \
	VPDPBUSD.BCST (j*32+16)(DI), Z4, I; \
	VPDPBUSD.BCST (j*32+20)(DI), Z5, I; \
	VPDPBUSD.BCST (j*32+24)(DI), Z6, I; \
	VPDPBUSD.BCST (j*32+28)(DI), Z7, I; \
	VPMULLD Z8, I, I

#define Q4KB(j, I, acc) \
	VPBROADCASTD (128+j*16)(BX), Z29; \
	VPDPBUSD.BCST (256+j*32+0)(DI), Z0, Z29; \
	VPDPBUSD.BCST (256+j*32+4)(DI), Z1, Z29; \
	VPDPBUSD.BCST (256+j*32+8)(DI), Z2, Z29; \
	VPDPBUSD.BCST (256+j*32+12)(DI), Z3, Z29; \
	VPDPBUSD.BCST (256+j*32+16)(DI), Z4, Z29; \
	VPDPBUSD.BCST (256+j*32+20)(DI), Z5, Z29; \
	VPDPBUSD.BCST (256+j*32+24)(DI), Z6, Z29; \
	VPDPBUSD.BCST (256+j*32+28)(DI), Z7, Z29; \
	VPMULLD Z8, Z29, Z29; \
	VPADDD Z29, I, I; \
	VCVTDQ2PS I, I; \
	VMULPS.BCST (j*16+8)(BX), Z11, Z30; \
	VFMADD231PS Z30, I, acc; \
	VPMULLD.BCST (j*16+4)(BX), Z9, Z29; \
	VPMULLD.BCST (128+j*16+4)(BX), Z10, Z31; \
	VPADDD Z31, Z29, Z29; \
	VCVTDQ2PS Z29, Z29; \
	VMULPS.BCST (j*16+8)(BX), Z12, Z30; \
	VMOVUPS (j*64)(R9), Z31; \
	VFMADD231PS Z30, Z29, Z31; \
	VMOVUPS Z31, (j*64)(R9)

#define Q4KW(off) \
	VMOVDQU64 (off+0)(SI), Z0; \
	VMOVDQU64 (off+64)(SI), Z1; \
	VMOVDQU64 (off+128)(SI), Z2; \
	VMOVDQU64 (off+192)(SI), Z3; \
	VMOVDQU64 (off+256)(SI), Z4; \
	VMOVDQU64 (off+320)(SI), Z5; \
	VMOVDQU64 (off+384)(SI), Z6; \
	VMOVDQU64 (off+448)(SI), Z7; \
	VMOVDQU32 (off+512)(SI), Z8

#define Q4KOUT(j, acc) \
	VMOVUPS (j*64)(R9), Z29; \
	VSUBPS Z29, acc, Z29; \
	VMOVUPS Z29, (j*64)(R8)

// func gemmQ4K(w, a, meta *byte, npairs int, out, accmin *float32)
TEXT ·gemmQ4K(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ meta+16(FP), BX
	MOVQ npairs+24(FP), CX
	MOVQ out+32(FP), R8
	MOVQ accmin+40(FP), R9
	VPXORD Z29, Z29, Z29
	MOVQ $0, AX
q4kz:
	VMOVUPS Z29, (R9)(AX*1)
	ADDQ $64, AX
	CMPQ AX, $512
	JLT q4kz
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
q4kloop:
	VMOVUPS 640(SI), Z11
	VMOVUPS 704(SI), Z12
	VMOVDQU32 576(SI), Z9
	VMOVDQU32 1344(SI), Z10
	Q4KW(0)
	Q4KA(0, Z13)
	Q4KA(1, Z14)
	Q4KA(2, Z15)
	Q4KA(3, Z16)
	Q4KA(4, Z17)
	Q4KA(5, Z18)
	Q4KA(6, Z19)
	Q4KA(7, Z20)
	Q4KW(768)
	Q4KB(0, Z13, Z21)
	Q4KB(1, Z14, Z22)
	Q4KB(2, Z15, Z23)
	Q4KB(3, Z16, Z24)
	Q4KB(4, Z17, Z25)
	Q4KB(5, Z18, Z26)
	Q4KB(6, Z19, Z27)
	Q4KB(7, Z20, Z28)
	ADDQ $1536, SI
	ADDQ $512, DI
	ADDQ $256, BX
	DECQ CX
	JNZ q4kloop
	Q4KOUT(0, Z21)
	Q4KOUT(1, Z22)
	Q4KOUT(2, Z23)
	Q4KOUT(3, Z24)
	Q4KOUT(4, Z25)
	Q4KOUT(5, Z26)
	Q4KOUT(6, Z27)
	Q4KOUT(7, Z28)
	VZEROUPPER
	RET
