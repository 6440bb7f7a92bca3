#include "textflag.h"

// Kernels whose rounding follows ggml's AVX-512 build exactly (see ggml.go for the reference
// forms). A 16-lane ggml accumulator is held here as two 8-lane AVX2 registers, lo (lanes 0-7) and
// hi (lanes 8-15); every lane sees the same operations in the same order, so results are identical.

// REDUCE16(lo, hi) leaves reduce16 of the 16 lanes (lo, hi) in the low lane of lo's X register:
// t = lo + hi; u = t[0:4] + t[4:8]; (u0 + u2) + (u1 + u3). Clobbers hi.
#define REDUCE16(lo, hi, xlo, xhi) \
	VADDPS hi, lo, lo \
	VEXTRACTF128 $1, lo, xhi \
	VADDPS xhi, xlo, xlo \
	VMOVHLPS xlo, xlo, xhi \
	VADDPS xhi, xlo, xlo \
	VMOVSHDUP xlo, xhi \
	VADDSS xhi, xlo, xlo

// func dot64AVX2(a, b *float32, n int) float32
// ggml_vec_dot_f32 without its scalar tail: n is a positive multiple of 64. Four 16-lane
// accumulators acc_j = (Y(2j), Y(2j+1)) take elements [i+16j, i+16j+16) of each 64.
TEXT ·dot64AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
dot64loop:
	VMOVUPS 0(SI), Y8
	VMOVUPS 32(SI), Y9
	VMOVUPS 64(SI), Y10
	VMOVUPS 96(SI), Y11
	VFMADD231PS 0(DI), Y8, Y0
	VFMADD231PS 32(DI), Y9, Y1
	VFMADD231PS 64(DI), Y10, Y2
	VFMADD231PS 96(DI), Y11, Y3
	VMOVUPS 128(SI), Y12
	VMOVUPS 160(SI), Y13
	VMOVUPS 192(SI), Y14
	VMOVUPS 224(SI), Y15
	VFMADD231PS 128(DI), Y12, Y4
	VFMADD231PS 160(DI), Y13, Y5
	VFMADD231PS 192(DI), Y14, Y6
	VFMADD231PS 224(DI), Y15, Y7
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JNZ  dot64loop
	// acc0 += acc2; acc1 += acc3; acc0 += acc1
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	REDUCE16(Y0, Y1, X0, X1)
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dot64RowsAVX2(out, a *float32, stride int, b *float32, n, rows int)
// out[r] = dot64AVX2(a + r*stride, b, n) for r < rows (rows > 0; stride in elements): the
// attention's many short dot products in one call.
TEXT ·dot64RowsAVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), R8
	MOVQ a+8(FP), R9
	MOVQ stride+16(FP), DX
	SHLQ $2, DX
	MOVQ b+24(FP), R10
	MOVQ n+32(FP), R11
	MOVQ rows+40(FP), R12
rowsloop:
	MOVQ R9, SI
	MOVQ R10, DI
	MOVQ R11, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
rowsinner:
	VMOVUPS 0(SI), Y8
	VMOVUPS 32(SI), Y9
	VMOVUPS 64(SI), Y10
	VMOVUPS 96(SI), Y11
	VFMADD231PS 0(DI), Y8, Y0
	VFMADD231PS 32(DI), Y9, Y1
	VFMADD231PS 64(DI), Y10, Y2
	VFMADD231PS 96(DI), Y11, Y3
	VMOVUPS 128(SI), Y12
	VMOVUPS 160(SI), Y13
	VMOVUPS 192(SI), Y14
	VMOVUPS 224(SI), Y15
	VFMADD231PS 128(DI), Y12, Y4
	VFMADD231PS 160(DI), Y13, Y5
	VFMADD231PS 192(DI), Y14, Y6
	VFMADD231PS 224(DI), Y15, Y7
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JNZ  rowsinner
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	REDUCE16(Y0, Y1, X0, X1)
	MOVSS X0, 0(R8)
	ADDQ $4, R8
	ADDQ DX, R9
	DECQ R12
	JNZ  rowsloop
	VZEROUPPER
	RET

// func dot16x4AVX2(a *float32, stride int, b *float32, n int, out *float32)
// out[r] = dot16(a[r*stride:][:n], b[:n]) for r = 0..3 (llamafile's F32 tinyBLAS order: one
// 16-lane accumulator per output); n is a positive multiple of 16, stride is in elements.
TEXT ·dot16x4AVX2(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ stride+8(FP), DX
	SHLQ $2, DX
	MOVQ b+16(FP), DI
	MOVQ n+24(FP), CX
	MOVQ out+32(FP), R8
	LEAQ (SI)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ AX, AX
dot16x4loop:
	VMOVUPS 0(DI)(AX*4), Y8
	VMOVUPS 32(DI)(AX*4), Y9
	VFMADD231PS 0(SI)(AX*4), Y8, Y0
	VFMADD231PS 32(SI)(AX*4), Y9, Y1
	VFMADD231PS 0(R9)(AX*4), Y8, Y2
	VFMADD231PS 32(R9)(AX*4), Y9, Y3
	VFMADD231PS 0(R10)(AX*4), Y8, Y4
	VFMADD231PS 32(R10)(AX*4), Y9, Y5
	VFMADD231PS 0(R11)(AX*4), Y8, Y6
	VFMADD231PS 32(R11)(AX*4), Y9, Y7
	ADDQ $16, AX
	CMPQ AX, CX
	JLT  dot16x4loop
	REDUCE16(Y0, Y1, X0, X1)
	MOVSS X0, 0(R8)
	REDUCE16(Y2, Y3, X2, X3)
	MOVSS X2, 4(R8)
	REDUCE16(Y4, Y5, X4, X5)
	MOVSS X4, 8(R8)
	REDUCE16(Y6, Y7, X6, X7)
	MOVSS X6, 12(R8)
	VZEROUPPER
	RET

// func dot16AVX2(a, b *float32, n int) float32
// One output of the tinyBLAS order; n is a positive multiple of 16.
TEXT ·dot16AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
dot16loop:
	VMOVUPS 0(SI), Y8
	VMOVUPS 32(SI), Y9
	VFMADD231PS 0(DI), Y8, Y0
	VFMADD231PS 32(DI), Y9, Y1
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ  dot16loop
	REDUCE16(Y0, Y1, X0, X1)
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// Constants of ggml_v_expf (see ggml.go), and helpers for 2^n.
DATA expk<>+0(SB)/4, $0x4b400000  // 0x1.8p23
DATA expk<>+4(SB)/4, $0x3fb8aa3b  // log2(e)
DATA expk<>+8(SB)/4, $0x3f317200  // ln2 hi
DATA expk<>+12(SB)/4, $0x35bfbe8e // ln2 lo
DATA expk<>+16(SB)/4, $0x3c072010 // c5
DATA expk<>+20(SB)/4, $0x3d2b9f17 // c4
DATA expk<>+24(SB)/4, $0x3e2aaf33 // c3
DATA expk<>+28(SB)/4, $0x3efffedb // c2
DATA expk<>+32(SB)/4, $0x3f7ffff6 // c1
DATA expk<>+36(SB)/4, $0x3f800000 // 1.0
DATA expk<>+40(SB)/4, $0x42fc0000 // 126.0: largest |n| for which 2^n is a normal float
DATA expk<>+44(SB)/4, $0x7fffffff // abs mask
DATA expk<>+48(SB)/4, $127        // exponent bias
GLOBL expk<>(SB), RODATA|NOPTR, $52

// EXPSETUP loads the constants EXP8 keeps in registers (Y8-Y14).
#define EXPSETUP \
	VBROADCASTSS expk<>+0(SB), Y8 \
	VBROADCASTSS expk<>+4(SB), Y9 \
	VBROADCASTSS expk<>+8(SB), Y10 \
	VBROADCASTSS expk<>+12(SB), Y11 \
	VBROADCASTSS expk<>+16(SB), Y12 \
	VBROADCASTSS expk<>+32(SB), Y13 \
	VBROADCASTSS expk<>+24(SB), Y14

// EXP8(slow) sets Y1 = ggml_v_expf(Y0) lane by lane; clobbers Y2-Y7 and BX. If a lane's n is
// outside [-126, 126] (or NaN), where 2^n is not a normal float, it jumps to slow instead.
// Steps: z = x*log2e + 0x1.8p23; n = z - 0x1.8p23; b = (x - n*ln2hi) - n*ln2lo (fused);
// u = b*b; j = ((c5*b + c4)*u + (c3*b + c2))*u + (c1*b + 1) (each a fused multiply-add);
// range check; 2^n built from its exponent bits; result j * 2^n.
#define EXP8(slow) \
	VMOVAPS Y8, Y2 \
	VFMADD231PS Y9, Y0, Y2 \
	VSUBPS Y8, Y2, Y2 \
	VMOVAPS Y0, Y3 \
	VFNMADD231PS Y10, Y2, Y3 \
	VFNMADD231PS Y11, Y2, Y3 \
	VMULPS Y3, Y3, Y4 \
	VBROADCASTSS expk<>+20(SB), Y5 \
	VFMADD231PS Y12, Y3, Y5 \
	VBROADCASTSS expk<>+28(SB), Y6 \
	VFMADD231PS Y14, Y3, Y6 \
	VFMADD231PS Y4, Y5, Y6 \
	VBROADCASTSS expk<>+36(SB), Y7 \
	VFMADD231PS Y13, Y3, Y7 \
	VFMADD231PS Y4, Y6, Y7 \
	VBROADCASTSS expk<>+44(SB), Y5 \
	VANDPS Y5, Y2, Y5 \
	VBROADCASTSS expk<>+40(SB), Y6 \
	VCMPPS $6, Y6, Y5, Y5 \
	VMOVMSKPS Y5, BX \
	TESTL BX, BX \
	JNZ slow \
	VCVTPS2DQ Y2, Y5 \
	VPBROADCASTD expk<>+48(SB), Y6 \
	VPADDD Y6, Y5, Y5 \
	VPSLLD $23, Y5, Y5 \
	VMULPS Y5, Y7, Y1

// func expSubAVX2(y, x *float32, n int, m float32) int
// y[i] = ggml_v_expf(x[i] - m) for groups of 8 while i < n (n a multiple of 8); returns how many
// elements were done: n, or the start of the first group that needs the scalar form.
TEXT ·expSubAVX2(SB), NOSPLIT, $0-40
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Y15
	EXPSETUP
	XORQ AX, AX
expsubloop:
	CMPQ AX, CX
	JGE  expsubdone
	VMOVUPS (SI)(AX*4), Y0
	VSUBPS Y15, Y0, Y0
	EXP8(expsubdone)
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ $8, AX
	JMP  expsubloop
expsubdone:
	VZEROUPPER
	MOVQ AX, ret+32(FP)
	RET

// func swigluAVX2(gate, up *float32, n int) int
// g[i] = g[i] / (1 + ggml_v_expf(0 - g[i])) * u[i] for groups of 8 while i < n (n a multiple of
// 8); returns how many elements were done, as expSubAVX2.
TEXT ·swigluAVX2(SB), NOSPLIT, $0-32
	MOVQ gate+0(FP), DI
	MOVQ up+8(FP), SI
	MOVQ n+16(FP), CX
	EXPSETUP
	XORQ AX, AX
swigluloop:
	CMPQ AX, CX
	JGE  swigludone
	VMOVUPS (DI)(AX*4), Y15
	VXORPS Y0, Y0, Y0
	VSUBPS Y15, Y0, Y0        // 0 - x
	EXP8(swigludone)
	VBROADCASTSS expk<>+36(SB), Y2
	VADDPS Y2, Y1, Y1         // 1 + e^-x
	VDIVPS Y1, Y15, Y1        // x / (1 + e^-x)
	VMULPS (SI)(AX*4), Y1, Y1
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ $8, AX
	JMP  swigluloop
swigludone:
	VZEROUPPER
	MOVQ AX, ret+24(FP)
	RET
