//go:build amd64 && !purego

#include "textflag.h"

// Weight repacking for the VNNI kernels (gemm_amd64.s) by AVX-512
// gathers: lane r of every gather reads row r (byte offset rowoff[r] from
// the matrix), so each gather collects one dword of a group from 16 rows.
// mask has bit r set for each row present; absent rows' lanes are zero.

DATA rp80<>+0(SB)/4, $0x80808080
GLOBL rp80<>(SB), RODATA|NOPTR, $4
DATA rp0f<>+0(SB)/4, $0x0f0f0f0f
GLOBL rp0f<>(SB), RODATA|NOPTR, $4
DATA rp78<>+0(SB)/4, $0x78787878
GLOBL rp78<>(SB), RODATA|NOPTR, $4
DATA rp70<>+0(SB)/4, $0x70707070
GLOBL rp70<>(SB), RODATA|NOPTR, $4
DATA rp10<>+0(SB)/4, $0x00000010
GLOBL rp10<>(SB), RODATA|NOPTR, $4

// GATHER(off, dst): dst = for each present row r, the dword at
// off(SI)+rowoff[r]; clobbers K2.
#define GATHER(off, dst) \
	VPXORD dst, dst, dst; \
	KMOVW K1, K2; \
	VPGATHERDD off(SI)(Z31*1), K2, dst

// SCALE16(off): Z8 = the 16 rows' fp16 values at off(SI), as float32.
#define SCALE16(off) \
	GATHER(off, Z8); \
	VPMOVDW Z8, Y8; \
	VCVTPH2PS Y8, Z8

// func repackQ8_0(w *byte, rowoff *int32, mask uint16, ng int, ws *byte)
TEXT ·repackQ8_0(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ rowoff+8(FP), AX
	VMOVDQU32 (AX), Z31
	KMOVW mask+16(FP), K1
	MOVQ ng+24(FP), CX
	MOVQ ws+32(FP), DI
	VPBROADCASTD rp80<>(SB), Z30
q8rp:
	GATHER(2, Z0)
	GATHER(6, Z1)
	GATHER(10, Z2)
	GATHER(14, Z3)
	GATHER(18, Z4)
	GATHER(22, Z5)
	GATHER(26, Z6)
	GATHER(30, Z7)
	SCALE16(0)
	VPXORD Z30, Z0, Z0
	VPXORD Z30, Z1, Z1
	VPXORD Z30, Z2, Z2
	VPXORD Z30, Z3, Z3
	VPXORD Z30, Z4, Z4
	VPXORD Z30, Z5, Z5
	VPXORD Z30, Z6, Z6
	VPXORD Z30, Z7, Z7
	VMOVDQU64 Z0, 0(DI)
	VMOVDQU64 Z1, 64(DI)
	VMOVDQU64 Z2, 128(DI)
	VMOVDQU64 Z3, 192(DI)
	VMOVDQU64 Z4, 256(DI)
	VMOVDQU64 Z5, 320(DI)
	VMOVDQU64 Z6, 384(DI)
	VMOVDQU64 Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	ADDQ $34, SI
	ADDQ $576, DI
	DECQ CX
	JNZ q8rp
	VZEROUPPER
	RET

// NIBBLES(src, lo, hi, bias): lo = (src & 0x0f..) + bias, hi = ((src >> 4) & 0x0f..) + bias
#define NIBBLES(src, lo, hi, bias) \
	VPSRLD $4, src, hi; \
	VPANDD Z29, src, lo; \
	VPANDD Z29, hi, hi; \
	VPADDB bias, lo, lo; \
	VPADDB bias, hi, hi

// func repackQ4_0(w *byte, rowoff *int32, mask uint16, ng int, ws *byte)
TEXT ·repackQ4_0(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ rowoff+8(FP), AX
	VMOVDQU32 (AX), Z31
	KMOVW mask+16(FP), K1
	MOVQ ng+24(FP), CX
	MOVQ ws+32(FP), DI
	VPBROADCASTD rp0f<>(SB), Z29
	VPBROADCASTD rp78<>(SB), Z28
q4rp:
	GATHER(2, Z10)
	GATHER(6, Z11)
	GATHER(10, Z12)
	GATHER(14, Z13)
	SCALE16(0)
	NIBBLES(Z10, Z0, Z4, Z28)
	NIBBLES(Z11, Z1, Z5, Z28)
	NIBBLES(Z12, Z2, Z6, Z28)
	NIBBLES(Z13, Z3, Z7, Z28)
	VMOVDQU64 Z0, 0(DI)
	VMOVDQU64 Z1, 64(DI)
	VMOVDQU64 Z2, 128(DI)
	VMOVDQU64 Z3, 192(DI)
	VMOVDQU64 Z4, 256(DI)
	VMOVDQU64 Z5, 320(DI)
	VMOVDQU64 Z6, 384(DI)
	VMOVDQU64 Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	ADDQ $18, SI
	ADDQ $576, DI
	DECQ CX
	JNZ q4rp
	VZEROUPPER
	RET

// SPREAD(s, dst): dst |= bits s..s+3 of Z9 (qh) moved to bit 4 of bytes 0..3.
#define SPREAD(s, dst) \
	VPSRLD $s, Z9, Z20; \
	VPSLLD $4, Z20, Z21; \
	VPANDD Z27, Z21, Z21; \
	VPSLLD $11, Z20, Z22; \
	VPSLLD $8, Z27, Z23; \
	VPANDD Z23, Z22, Z22; \
	VPORD Z22, Z21, Z21; \
	VPSLLD $18, Z20, Z22; \
	VPSLLD $16, Z27, Z23; \
	VPANDD Z23, Z22, Z22; \
	VPORD Z22, Z21, Z21; \
	VPSLLD $25, Z20, Z22; \
	VPSLLD $24, Z27, Z23; \
	VPANDD Z23, Z22, Z22; \
	VPORD Z22, Z21, Z21; \
	VPORD Z21, dst, dst

// func repackQ5_0(w *byte, rowoff *int32, mask uint16, ng int, ws *byte)
TEXT ·repackQ5_0(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ rowoff+8(FP), AX
	VMOVDQU32 (AX), Z31
	KMOVW mask+16(FP), K1
	MOVQ ng+24(FP), CX
	MOVQ ws+32(FP), DI
	VPBROADCASTD rp0f<>(SB), Z29
	VPBROADCASTD rp70<>(SB), Z28
	VPBROADCASTD rp10<>(SB), Z27
q5rp:
	GATHER(6, Z10)
	GATHER(10, Z11)
	GATHER(14, Z12)
	GATHER(18, Z13)
	GATHER(2, Z9)
	SCALE16(0)
	VPXORD Z26, Z26, Z26
	NIBBLES(Z10, Z0, Z4, Z26)
	NIBBLES(Z11, Z1, Z5, Z26)
	NIBBLES(Z12, Z2, Z6, Z26)
	NIBBLES(Z13, Z3, Z7, Z26)
	SPREAD(0, Z0)
	SPREAD(4, Z1)
	SPREAD(8, Z2)
	SPREAD(12, Z3)
	SPREAD(16, Z4)
	SPREAD(20, Z5)
	SPREAD(24, Z6)
	SPREAD(28, Z7)
	VPADDB Z28, Z0, Z0
	VPADDB Z28, Z1, Z1
	VPADDB Z28, Z2, Z2
	VPADDB Z28, Z3, Z3
	VPADDB Z28, Z4, Z4
	VPADDB Z28, Z5, Z5
	VPADDB Z28, Z6, Z6
	VPADDB Z28, Z7, Z7
	VMOVDQU64 Z0, 0(DI)
	VMOVDQU64 Z1, 64(DI)
	VMOVDQU64 Z2, 128(DI)
	VMOVDQU64 Z3, 192(DI)
	VMOVDQU64 Z4, 256(DI)
	VMOVDQU64 Z5, 320(DI)
	VMOVDQU64 Z6, 384(DI)
	VMOVDQU64 Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	ADDQ $22, SI
	ADDQ $576, DI
	DECQ CX
	JNZ q5rp
	VZEROUPPER
	RET

DATA rp3f<>+0(SB)/4, $0x3f3f3f3f
GLOBL rp3f<>(SB), RODATA|NOPTR, $4
DATA rp30<>+0(SB)/4, $0x30303030
GLOBL rp30<>(SB), RODATA|NOPTR, $4
DATA rpff<>+0(SB)/4, $0x000000ff
GLOBL rpff<>(SB), RODATA|NOPTR, $4
DATA rpsign<>+0(SB)/4, $0x80000000
GLOBL rpsign<>(SB), RODATA|NOPTR, $4
DATA rp01<>+0(SB)/4, $0x01010101
GLOBL rp01<>(SB), RODATA|NOPTR, $4
DATA rp03<>+0(SB)/4, $0x03030303
GLOBL rp03<>(SB), RODATA|NOPTR, $4
DATA rp60<>+0(SB)/4, $0x60606060
GLOBL rp60<>(SB), RODATA|NOPTR, $4

// KHEAD: for the K-quant super-block at SI, Z20 = d, Z21 = -dmin (float32
// per row), Z22/Z23 = scales 0-3/4-7 and Z24/Z25 = mins 0-3/4-7 as 6-bit
// bytes in each row's dword (the packing of scaleMinK4 undone).
#define KHEAD \
	GATHER(0, Z20); \
	VPSRLD $16, Z20, Z21; \
	VPMOVDW Z20, Y20; \
	VCVTPH2PS Y20, Z20; \
	VPMOVDW Z21, Y21; \
	VCVTPH2PS Y21, Z21; \
	VXORPS Z19, Z21, Z21; \
	GATHER(4, Z10); \
	GATHER(8, Z11); \
	GATHER(12, Z12); \
	VPANDD Z28, Z10, Z22; \
	VPANDD Z28, Z11, Z24; \
	VPSRLD $2, Z10, Z13; \
	VPANDD Z27, Z13, Z13; \
	VPANDD Z29, Z12, Z23; \
	VPORD Z13, Z23, Z23; \
	VPSRLD $2, Z11, Z13; \
	VPANDD Z27, Z13, Z13; \
	VPSRLD $4, Z12, Z25; \
	VPANDD Z29, Z25, Z25; \
	VPORD Z13, Z25, Z25

// KSCALE(src, sh, off): store float(byte sh/8 of src) * Z20 at off(DI) and
// the same byte of the mins (src+2 registers on) * Z21 at off+64(DI).
#define KSCALE(src, msrc, sh, off) \
	VPSRLD $sh, src, Z13; \
	VPANDD Z26, Z13, Z13; \
	VCVTDQ2PS Z13, Z13; \
	VMULPS Z20, Z13, Z13; \
	VMOVUPS Z13, off(DI); \
	VPSRLD $sh, msrc, Z13; \
	VPANDD Z26, Z13, Z13; \
	VCVTDQ2PS Z13, Z13; \
	VMULPS Z21, Z13, Z13; \
	VMOVUPS Z13, (off+64)(DI)

// KSCALES8: scales and mins of the 8 groups (stride 640) of the super-block.
#define KSCALES8 \
	KSCALE(Z22, Z24, 0, 512); \
	KSCALE(Z22, Z24, 8, 1152); \
	KSCALE(Z22, Z24, 16, 1792); \
	KSCALE(Z22, Z24, 24, 2432); \
	KSCALE(Z23, Z25, 0, 3072); \
	KSCALE(Z23, Z25, 8, 3712); \
	KSCALE(Z23, Z25, 16, 4352); \
	KSCALE(Z23, Z25, 24, 4992)

// Q4QS(c): the 32 bytes of chunk c at 16+32c(SI): low nibbles to group
// 2c, high nibbles to group 2c+1, as q|0x80.
#define Q4DW(c, m, gs) \
	GATHER(16+32*c+4*m, Z0); \
	VPANDD Z29, Z0, Z1; \
	VPORD Z30, Z1, Z1; \
	VMOVDQU64 Z1, (2*gs*c+64*m)(DI); \
	VPSRLD $4, Z0, Z1; \
	VPANDD Z29, Z1, Z1; \
	VPORD Z30, Z1, Z1; \
	VMOVDQU64 Z1, (2*gs*c+gs+64*m)(DI)
#define Q4QS(c, gs) \
	Q4DW(c, 0, gs); Q4DW(c, 1, gs); Q4DW(c, 2, gs); Q4DW(c, 3, gs); \
	Q4DW(c, 4, gs); Q4DW(c, 5, gs); Q4DW(c, 6, gs); Q4DW(c, 7, gs)

// KSCALEI(src, msrc, sh, off): for Q4_K's layout, store byte sh/8 of src
// (scales) as int32 at off(DI), of msrc (mins) at off+64(DI), and the
// super-block's d (Z20) and dmin (Z21, made positive) at off+128, off+192.
#define KSCALEI(src, msrc, sh, off) \
	VPSRLD $sh, src, Z13; \
	VPANDD Z26, Z13, Z13; \
	VMOVDQU32 Z13, off(DI); \
	VPSRLD $sh, msrc, Z13; \
	VPANDD Z26, Z13, Z13; \
	VMOVDQU32 Z13, (off+64)(DI); \
	VMOVUPS Z20, (off+128)(DI); \
	VMOVUPS Z21, (off+192)(DI)

#define KCONSTS \
	VPBROADCASTD rp80<>(SB), Z30; \
	VPBROADCASTD rp0f<>(SB), Z29; \
	VPBROADCASTD rp3f<>(SB), Z28; \
	VPBROADCASTD rp30<>(SB), Z27; \
	VPBROADCASTD rpff<>(SB), Z26; \
	VPBROADCASTD rpsign<>(SB), Z19

// Q4_K groups are 768 bytes (see gemmQ4K): values, int32 scales and mins,
// float32 d and dmin.
//
// func repackQ4K(w *byte, rowoff *int32, mask uint16, nsb int, ws *byte)
TEXT ·repackQ4K(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ rowoff+8(FP), AX
	VMOVDQU32 (AX), Z31
	KMOVW mask+16(FP), K1
	MOVQ nsb+24(FP), CX
	MOVQ ws+32(FP), DI
	KCONSTS
q4krp:
	KHEAD
	VXORPS Z19, Z21, Z21 // dmin, positive
	KSCALEI(Z22, Z24, 0, 512)
	KSCALEI(Z22, Z24, 8, 1280)
	KSCALEI(Z22, Z24, 16, 2048)
	KSCALEI(Z22, Z24, 24, 2816)
	KSCALEI(Z23, Z25, 0, 3584)
	KSCALEI(Z23, Z25, 8, 4352)
	KSCALEI(Z23, Z25, 16, 5120)
	KSCALEI(Z23, Z25, 24, 5888)
	Q4QS(0, 768)
	Q4QS(1, 768)
	Q4QS(2, 768)
	Q4QS(3, 768)
	ADDQ $144, SI
	ADDQ $6144, DI
	DECQ CX
	JNZ q4krp
	VZEROUPPER
	RET

// Q5DW(c, m): as Q4DW with the fifth bits: bit j of the qh dword m (Z2+m)
// for group j = 2c (low nibbles) and 2c+1 (high nibbles).
#define Q5DW(c, m, qh) \
	GATHER(48+32*c+4*m, Z0); \
	VPANDD Z29, Z0, Z1; \
	VPSRLD $(2*c), qh, Z14; \
	VPANDD Z18, Z14, Z14; \
	VPSLLD $4, Z14, Z14; \
	VPORD Z14, Z1, Z1; \
	VPORD Z30, Z1, Z1; \
	VMOVDQU64 Z1, (1280*c+64*m)(DI); \
	VPSRLD $4, Z0, Z1; \
	VPANDD Z29, Z1, Z1; \
	VPSRLD $(2*c+1), qh, Z14; \
	VPANDD Z18, Z14, Z14; \
	VPSLLD $4, Z14, Z14; \
	VPORD Z14, Z1, Z1; \
	VPORD Z30, Z1, Z1; \
	VMOVDQU64 Z1, (1280*c+640+64*m)(DI)
#define Q5QS(c) \
	Q5DW(c, 0, Z2); Q5DW(c, 1, Z3); Q5DW(c, 2, Z4); Q5DW(c, 3, Z5); \
	Q5DW(c, 4, Z6); Q5DW(c, 5, Z7); Q5DW(c, 6, Z8); Q5DW(c, 7, Z9)

// func repackQ5K(w *byte, rowoff *int32, mask uint16, nsb int, ws *byte)
TEXT ·repackQ5K(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ rowoff+8(FP), AX
	VMOVDQU32 (AX), Z31
	KMOVW mask+16(FP), K1
	MOVQ nsb+24(FP), CX
	MOVQ ws+32(FP), DI
	KCONSTS
	VPBROADCASTD rp01<>(SB), Z18
q5krp:
	KHEAD
	KSCALES8
	GATHER(16, Z2)
	GATHER(20, Z3)
	GATHER(24, Z4)
	GATHER(28, Z5)
	GATHER(32, Z6)
	GATHER(36, Z7)
	GATHER(40, Z8)
	GATHER(44, Z9)
	Q5QS(0)
	Q5QS(1)
	Q5QS(2)
	Q5QS(3)
	ADDQ $176, SI
	ADDQ $5120, DI
	DECQ CX
	JNZ q5krp
	VZEROUPPER
	RET

// Q6_K: group s (16 values) = half h = s/8, k = (s%8)/2, l0 = 16*(s%2):
// low nibbles from ql at 64h+32(k&1)+l0 (shifted by 4 when k >= 2), two
// high bits from qh at 128+32h+l0 (bits 2k, 2k+1); u = q + 96. Groups are
// 320 bytes: 4 vectors and the row scales d*sc[s].

// Q6DW(h, kodd, l0, m, qh): for the ql dword m of (h, kodd, l0), write
// vector m of groups k = kodd and k = kodd+2 (l0 picks the odd group).
#define Q6DW(h, kodd, l0, m, qh) \
	GATHER(64*h+32*kodd+l0+4*m, Z0); \
	VPANDD Z29, Z0, Z1; \
	VPSRLD $(2*kodd), qh, Z14; \
	VPANDD Z18, Z14, Z14; \
	VPSLLD $4, Z14, Z14; \
	VPORD Z14, Z1, Z1; \
	VPADDB Z17, Z1, Z1; \
	VMOVDQU64 Z1, (320*(8*h+2*kodd+l0/16)+64*m)(DI); \
	VPSRLD $4, Z0, Z1; \
	VPANDD Z29, Z1, Z1; \
	VPSRLD $(2*kodd+4), qh, Z14; \
	VPANDD Z18, Z14, Z14; \
	VPSLLD $4, Z14, Z14; \
	VPORD Z14, Z1, Z1; \
	VPADDB Z17, Z1, Z1; \
	VMOVDQU64 Z1, (320*(8*h+2*(kodd+2)+l0/16)+64*m)(DI)

// Q6HALF(h, l0): the groups of half h with offset l0 (all k).
#define Q6HALF(h, l0) \
	GATHER(128+32*h+l0, Z2); \
	GATHER(128+32*h+l0+4, Z3); \
	GATHER(128+32*h+l0+8, Z4); \
	GATHER(128+32*h+l0+12, Z5); \
	Q6DW(h, 0, l0, 0, Z2); Q6DW(h, 0, l0, 1, Z3); Q6DW(h, 0, l0, 2, Z4); Q6DW(h, 0, l0, 3, Z5); \
	Q6DW(h, 1, l0, 0, Z2); Q6DW(h, 1, l0, 1, Z3); Q6DW(h, 1, l0, 2, Z4); Q6DW(h, 1, l0, 3, Z5)

// Q6SC(s, src, sh): row scale of group s = d * (int8 byte of src at bit sh).
#define Q6SC(s, src, sh) \
	VPSLLD $(24-sh), src, Z13; \
	VPSRAD $24, Z13, Z13; \
	VCVTDQ2PS Z13, Z13; \
	VMULPS Z20, Z13, Z13; \
	VMOVUPS Z13, (320*(s)+256)(DI)
#define Q6SC4(s0, src) \
	Q6SC(s0, src, 0); Q6SC(s0+1, src, 8); Q6SC(s0+2, src, 16); Q6SC(s0+3, src, 24)

// func repackQ6K(w *byte, rowoff *int32, mask uint16, nsb int, ws *byte)
TEXT ·repackQ6K(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ rowoff+8(FP), AX
	VMOVDQU32 (AX), Z31
	KMOVW mask+16(FP), K1
	MOVQ nsb+24(FP), CX
	MOVQ ws+32(FP), DI
	VPBROADCASTD rp0f<>(SB), Z29
	VPBROADCASTD rp03<>(SB), Z18
	VPBROADCASTD rp60<>(SB), Z17
q6krp:
	GATHER(206, Z20) // d is the top half (the block ends at 210)
	VPSRLD $16, Z20, Z20
	VPMOVDW Z20, Y20
	VCVTPH2PS Y20, Z20
	GATHER(192, Z10)
	GATHER(196, Z11)
	GATHER(200, Z12)
	GATHER(204, Z15)
	Q6SC4(0, Z10)
	Q6SC4(4, Z11)
	Q6SC4(8, Z12)
	Q6SC4(12, Z15)
	Q6HALF(0, 0)
	Q6HALF(0, 16)
	Q6HALF(1, 0)
	Q6HALF(1, 16)
	ADDQ $210, SI
	ADDQ $5120, DI
	DECQ CX
	JNZ q6krp
	VZEROUPPER
	RET
