//go:build amd64 && !purego

#include "textflag.h"

DATA g2ones<>+0(SB)/4, $0x00010001
GLOBL g2ones<>(SB), RODATA|NOPTR, $4

// func gemmAVX2(w *byte, stride, vecs, mins int, a *byte, gsize int, meta *byte, ngroups int, out *float32)
//
// AVX2 batched product of 8 weight rows × 4 activation vectors over the
// layout of gemm2_amd64.go: per group, vecs vectors of 64 bytes holding the
// signed values of 16 rows × 4 consecutive values (this call uses the 32
// bytes of 8 rows that w points into), then vecs vectors of their absolute
// values, then 16 float32 row scales and (when mins != 0) 16 row mins.
// a points to the first of the 4 vectors' G bytes of group 0 (the group
// stride is 8*G, as prepActs lays them out), meta to their {_, scale,
// min scale, _} records. out receives 4 × 8 float32.
//
// Each product |w| × (a with w's sign) is exact: |w| <= 128 and activations
// lie in [-127, 127], so VPMADDUBSW's pair sums stay below 2^15.
TEXT ·gemmAVX2(SB), NOSPLIT, $0-72
	MOVQ w+0(FP), SI
	MOVQ stride+8(FP), R10
	MOVQ vecs+16(FP), R9
	MOVQ a+32(FP), DI
	MOVQ gsize+40(FP), R14
	MOVQ meta+48(FP), BX
	MOVQ ngroups+56(FP), CX
	MOVQ out+64(FP), R8
	VPBROADCASTD g2ones<>(SB), Y15
	MOVQ R9, R11
	SHLQ $6, R11 // bytes of the value vectors = offset of the |v| vectors
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
g2group:
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	MOVQ SI, R13
	MOVQ DI, AX
	LEAQ (DI)(R14*2), DX
	ADDQ R14, DX // DX = a + 3G
	MOVQ R9, R12
g2vec:
	VMOVDQU (R13), Y8
	VMOVDQU (R13)(R11*1), Y9
	VPBROADCASTD (AX), Y10
	VPSIGNB Y8, Y10, Y10
	VPMADDUBSW Y10, Y9, Y10
	VPMADDWD Y15, Y10, Y10
	VPADDD Y10, Y4, Y4
	VPBROADCASTD (AX)(R14*1), Y11
	VPSIGNB Y8, Y11, Y11
	VPMADDUBSW Y11, Y9, Y11
	VPMADDWD Y15, Y11, Y11
	VPADDD Y11, Y5, Y5
	VPBROADCASTD (AX)(R14*2), Y12
	VPSIGNB Y8, Y12, Y12
	VPMADDUBSW Y12, Y9, Y12
	VPMADDWD Y15, Y12, Y12
	VPADDD Y12, Y6, Y6
	VPBROADCASTD (DX), Y13
	VPSIGNB Y8, Y13, Y13
	VPMADDUBSW Y13, Y9, Y13
	VPMADDWD Y15, Y13, Y13
	VPADDD Y13, Y7, Y7
	ADDQ $64, R13
	ADDQ $4, AX
	ADDQ $4, DX
	DECQ R12
	JNZ g2vec
	// R13 now points at the |v| vectors; the scales follow them
	VMOVUPS (R13)(R11*1), Y11
	VCVTDQ2PS Y4, Y4
	VCVTDQ2PS Y5, Y5
	VCVTDQ2PS Y6, Y6
	VCVTDQ2PS Y7, Y7
	VBROADCASTSS 4(BX), Y10
	VMULPS Y10, Y11, Y10
	VFMADD231PS Y10, Y4, Y0
	VBROADCASTSS 20(BX), Y10
	VMULPS Y10, Y11, Y10
	VFMADD231PS Y10, Y5, Y1
	VBROADCASTSS 36(BX), Y10
	VMULPS Y10, Y11, Y10
	VFMADD231PS Y10, Y6, Y2
	VBROADCASTSS 52(BX), Y10
	VMULPS Y10, Y11, Y10
	VFMADD231PS Y10, Y7, Y3
	CMPQ mins+24(FP), $0
	JEQ g2next
	VMOVUPS 64(R13)(R11*1), Y11
	VBROADCASTSS 8(BX), Y10
	VFMADD231PS Y10, Y11, Y0
	VBROADCASTSS 24(BX), Y10
	VFMADD231PS Y10, Y11, Y1
	VBROADCASTSS 40(BX), Y10
	VFMADD231PS Y10, Y11, Y2
	VBROADCASTSS 56(BX), Y10
	VFMADD231PS Y10, Y11, Y3
g2next:
	ADDQ R10, SI
	MOVQ R14, AX
	SHLQ $3, AX
	ADDQ AX, DI
	ADDQ $128, BX
	DECQ CX
	JNZ g2group
	VMOVUPS Y0, 0(R8)
	VMOVUPS Y1, 32(R8)
	VMOVUPS Y2, 64(R8)
	VMOVUPS Y3, 96(R8)
	VZEROUPPER
	RET
