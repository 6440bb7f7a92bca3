//go:build amd64 && !purego

#include "textflag.h"

// Activation preparation for the batched kernels (see prepActs): for one
// activation vector, copy each group's bytes into the tile layout and write
// its meta record {-128*sum, d, d*sum, 0}.

DATA pr80<>+0(SB)/4, $0x80808080
GLOBL pr80<>(SB), RODATA|NOPTR, $4

// func prepQ8_0(src *byte, ngroups int, aq *byte, aqStride int, meta *byte, metaStride int)
TEXT ·prepQ8_0(SB), NOSPLIT, $0-48
	MOVQ src+0(FP), SI
	MOVQ ngroups+8(FP), CX
	MOVQ aq+16(FP), DI
	MOVQ aqStride+24(FP), R9
	MOVQ meta+32(FP), BX
	MOVQ metaStride+40(FP), R10
	VPBROADCASTD pr80<>(SB), Y14
	VPXOR Y13, Y13, Y13
p8loop:
	VMOVDQU 2(SI), Y0
	VMOVDQU Y0, (DI)
	// sum of the 32 signed bytes: SAD of the biased bytes against zero
	VPXOR Y14, Y0, Y1
	VPSADBW Y13, Y1, Y1
	VEXTRACTI128 $1, Y1, X2
	VPADDQ X2, X1, X1
	VPSHUFD $0x4e, X1, X2
	VPADDQ X2, X1, X1
	VMOVD X1, AX
	SUBL $4096, AX // 32 * 128
	// d as float32, d*sum
	MOVWLZX 0(SI), DX
	VMOVD DX, X3
	VCVTPH2PS X3, X3
	VCVTSI2SSL AX, X4, X4
	VMULSS X3, X4, X4
	MOVL AX, DX
	IMULL $-128, DX
	MOVL DX, 0(BX)
	VMOVSS X3, 4(BX)
	VMOVSS X4, 8(BX)
	MOVL $0, 12(BX)
	ADDQ $34, SI
	ADDQ R9, DI
	ADDQ R10, BX
	DECQ CX
	JNZ p8loop
	VZEROUPPER
	RET

// func prepQ8K(src *byte, nblocks, gsize, intsum int, aq *byte, aqStride int, meta *byte, metaStride int)
// gsize is 32 (groups of two bsums) or 16 (one bsum per group); with intsum
// set the records are {-128*sum, sum, d, 0} instead.
TEXT ·prepQ8K(SB), NOSPLIT, $0-64
	MOVQ src+0(FP), SI
	MOVQ nblocks+8(FP), CX
	MOVQ gsize+16(FP), R11
	MOVQ intsum+24(FP), R14
	MOVQ aq+32(FP), DI
	MOVQ aqStride+40(FP), R9
	MOVQ meta+48(FP), BX
	MOVQ metaStride+56(FP), R10
pkblock:
	VMOVSS 0(SI), X3
	MOVQ $0, R12 // byte offset of the group in qs
	MOVQ $0, R13 // byte offset of its first bsum
pkgroup:
	CMPQ R11, $16
	JEQ pk16
	VMOVDQU 4(SI)(R12*1), Y0
	VMOVDQU Y0, (DI)
	MOVWLSX 260(SI)(R13*1), AX
	MOVWLSX 262(SI)(R13*1), DX
	ADDL DX, AX
	ADDQ $4, R13
	JMP pkmeta
pk16:
	VMOVDQU 4(SI)(R12*1), X0
	VMOVDQU X0, (DI)
	MOVWLSX 260(SI)(R13*1), AX
	ADDQ $2, R13
pkmeta:
	MOVL AX, DX
	IMULL $-128, DX
	MOVL DX, 0(BX)
	MOVL $0, 12(BX)
	TESTQ R14, R14
	JZ pkfloat
	MOVL AX, 4(BX)
	VMOVSS X3, 8(BX)
	JMP pknext
pkfloat:
	VCVTSI2SSL AX, X4, X4
	VMULSS X3, X4, X4
	VMOVSS X3, 4(BX)
	VMOVSS X4, 8(BX)
pknext:
	ADDQ R9, DI
	ADDQ R10, BX
	ADDQ R11, R12
	CMPQ R12, $256
	JLT pkgroup
	ADDQ $292, SI
	DECQ CX
	JNZ pkblock
	VZEROUPPER
	RET

// func prefetchRange(p *byte, n int)
// Prefetches the n bytes at p (n > 0) into the cache, a line at a time.
TEXT ·prefetchRange(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	ADDQ SI, CX
pfloop:
	PREFETCHT1 (SI)
	ADDQ $64, SI
	CMPQ SI, CX
	JLT pfloop
	RET
