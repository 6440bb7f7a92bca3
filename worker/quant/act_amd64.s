//go:build amd64 && !purego

#include "textflag.h"

// Activation conversions on AVX2 + F16C, bit-exact with the Go references
// in act.go (and so with llama.cpp's x86 quantize_row_q8_0 / q8_K).

DATA absmask<>+0(SB)/4, $0x7fffffff
GLOBL absmask<>(SB), RODATA|NOPTR, $4
DATA f127<>+0(SB)/4, $0x42fe0000
GLOBL f127<>(SB), RODATA|NOPTR, $4
DATA fm127<>+0(SB)/4, $0xc2fe0000
GLOBL fm127<>(SB), RODATA|NOPTR, $4
DATA fone<>+0(SB)/4, $0x3f800000
GLOBL fone<>(SB), RODATA|NOPTR, $4
DATA x80<>+0(SB)/4, $0x80808080
GLOBL x80<>(SB), RODATA|NOPTR, $4
DATA packperm<>+0(SB)/4, $0
DATA packperm<>+4(SB)/4, $4
DATA packperm<>+8(SB)/4, $1
DATA packperm<>+12(SB)/4, $5
DATA packperm<>+16(SB)/4, $2
DATA packperm<>+20(SB)/4, $6
DATA packperm<>+24(SB)/4, $3
DATA packperm<>+28(SB)/4, $7
GLOBL packperm<>(SB), RODATA|NOPTR, $32

// HMAX: X8 = the largest of the eight lanes of Y8 (in lane 0).
#define HMAX \
	VEXTRACTF128 $1, Y8, X9; \
	VMAXPS X9, X8, X8; \
	VMOVHLPS X8, X8, X9; \
	VMAXPS X9, X8, X8; \
	VMOVSHDUP X8, X9; \
	VMAXSS X9, X8, X8

// PACK32: multiply the 32 floats at off(SI) by Y10, round to nearest even,
// saturate to int8 and leave them in order in Y0. Clobbers Y1-Y3.
#define PACK32(off) \
	VMULPS (off+0)(SI), Y10, Y0; \
	VMULPS (off+32)(SI), Y10, Y1; \
	VMULPS (off+64)(SI), Y10, Y2; \
	VMULPS (off+96)(SI), Y10, Y3; \
	VROUNDPS $0, Y0, Y0; \
	VROUNDPS $0, Y1, Y1; \
	VROUNDPS $0, Y2, Y2; \
	VROUNDPS $0, Y3, Y3; \
	VCVTPS2DQ Y0, Y0; \
	VCVTPS2DQ Y1, Y1; \
	VCVTPS2DQ Y2, Y2; \
	VCVTPS2DQ Y3, Y3; \
	VPACKSSDW Y1, Y0, Y0; \
	VPACKSSDW Y3, Y2, Y2; \
	VPACKSSWB Y2, Y0, Y0; \
	VPERMD Y0, Y11, Y0

// ABSMAX32: Y8 = lane-wise max |x| of 32 floats at off(SI) and Y8.
#define ABSMAX32(off) \
	VANDPS (off+0)(SI), Y12, Y4; \
	VANDPS (off+32)(SI), Y12, Y5; \
	VANDPS (off+64)(SI), Y12, Y6; \
	VANDPS (off+96)(SI), Y12, Y7; \
	VMAXPS Y4, Y8, Y8; \
	VMAXPS Y5, Y8, Y8; \
	VMAXPS Y6, Y8, Y8; \
	VMAXPS Y7, Y8, Y8

// func quantQ8_0AVX2(x *float32, nblk int, dst *byte)
TEXT ·quantQ8_0AVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ nblk+8(FP), CX
	MOVQ dst+16(FP), DI
	VBROADCASTSS absmask<>(SB), Y12
	VMOVDQU packperm<>(SB), Y11
	VMOVSS f127<>(SB), X13
q8blk:
	VXORPS Y8, Y8, Y8
	ABSMAX32(0)
	HMAX
	// d = amax/127 as fp16
	VDIVSS X13, X8, X9
	VCVTPS2PH $0, X9, X9
	VPEXTRW $0, X9, AX
	MOVW AX, 0(DI)
	// id = amax != 0 ? 127/amax : 0
	VXORPS X10, X10, X10
	VUCOMISS X10, X8
	JEQ q8zero
	VDIVSS X8, X13, X10
q8zero:
	VBROADCASTSS X10, Y10
	PACK32(0)
	VMOVDQU Y0, 2(DI)
	ADDQ $128, SI
	ADDQ $34, DI
	DECQ CX
	JNZ q8blk
	VZEROUPPER
	RET

// BSUMS2(boff): from the 32 int8 in Y0, store the sums of its two halves
// of 16 as int16 at boff(DI) and boff+2(DI). Y13 = 0x80 bytes, Y14 = 0.
#define BSUMS2(boff) \
	VPXOR Y13, Y0, Y1; \
	VPSADBW Y14, Y1, Y1; \
	VEXTRACTI128 $1, Y1, X2; \
	VPSHUFD $0x4e, X1, X3; \
	VPADDQ X3, X1, X1; \
	VPSHUFD $0x4e, X2, X3; \
	VPADDQ X3, X2, X2; \
	VMOVD X1, AX; \
	SUBL $2048, AX; \
	MOVW AX, (boff)(DI); \
	VMOVD X2, AX; \
	SUBL $2048, AX; \
	MOVW AX, (boff+2)(DI)

// func quantQ8KAVX2(x *float32, nblk int, dst *byte)
TEXT ·quantQ8KAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ nblk+8(FP), CX
	MOVQ dst+16(FP), DI
	VBROADCASTSS absmask<>(SB), Y12
	VMOVDQU packperm<>(SB), Y11
	VPBROADCASTD x80<>(SB), Y13
	VPXOR Y14, Y14, Y14
qkblk:
	VXORPS Y8, Y8, Y8
	ABSMAX32(0)
	ABSMAX32(128)
	ABSMAX32(256)
	ABSMAX32(384)
	ABSMAX32(512)
	ABSMAX32(640)
	ABSMAX32(768)
	ABSMAX32(896)
	HMAX
	VXORPS X10, X10, X10
	VUCOMISS X10, X8
	JNE qknonzero
	// all zero: d = 0, qs = 0, bsums = 0
	VPXOR Y0, Y0, Y0
	MOVL $0, 0(DI)
	MOVQ $0, R8
qkzero:
	VMOVDQU Y0, 4(DI)(R8*1)
	ADDQ $32, R8
	CMPQ R8, $288
	JLT qkzero
	JMP qknext
qknonzero:
	// find the first value whose magnitude is amax: its sign picks the scale
	VBROADCASTSS X8, Y9
	MOVQ $0, R8
qkfind:
	CMPQ R8, $256
	JGE qknotfound // only when NaNs hide the maximum: keep it positive
	VANDPS (SI)(R8*4), Y12, Y4
	VCMPPS $0, Y9, Y4, Y4
	VMOVMSKPS Y4, AX
	TESTL AX, AX
	JNZ qkfound
	ADDQ $8, R8
	JMP qkfind
qkfound:
	BSFL AX, AX
	ADDQ AX, R8
	VMOVSS (SI)(R8*4), X4
	JMP qkscale
qknotfound:
	VMOVAPS X8, X4
qkscale:
	// iscale = -127/max; d = 1/iscale
	VMOVSS fm127<>(SB), X5
	VDIVSS X4, X5, X10
	VMOVSS fone<>(SB), X5
	VDIVSS X10, X5, X5
	VMOVSS X5, 0(DI)
	VBROADCASTSS X10, Y10
	PACK32(0)
	VMOVDQU Y0, 4(DI)
	BSUMS2(260)
	PACK32(128)
	VMOVDQU Y0, 36(DI)
	BSUMS2(264)
	PACK32(256)
	VMOVDQU Y0, 68(DI)
	BSUMS2(268)
	PACK32(384)
	VMOVDQU Y0, 100(DI)
	BSUMS2(272)
	PACK32(512)
	VMOVDQU Y0, 132(DI)
	BSUMS2(276)
	PACK32(640)
	VMOVDQU Y0, 164(DI)
	BSUMS2(280)
	PACK32(768)
	VMOVDQU Y0, 196(DI)
	BSUMS2(284)
	PACK32(896)
	VMOVDQU Y0, 228(DI)
	BSUMS2(288)
qknext:
	ADDQ $1024, SI
	ADDQ $292, DI
	DECQ CX
	JNZ qkblk
	VZEROUPPER
	RET

// func cvtF16AVX2(x *float32, n8 int, dst *byte)
TEXT ·cvtF16AVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n8+8(FP), CX
	MOVQ dst+16(FP), DI
f16loop:
	VMOVUPS (SI), Y0
	VCVTPS2PH $0, Y0, X0
	VMOVDQU X0, (DI)
	ADDQ $32, SI
	ADDQ $16, DI
	DECQ CX
	JNZ f16loop
	VZEROUPPER
	RET
