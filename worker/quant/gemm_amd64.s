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
