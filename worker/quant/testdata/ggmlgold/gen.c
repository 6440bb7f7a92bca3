// Generates golden vectors from llama.cpp's own quantizers and x86 dot
// products (see README.md). Build instructions in README.md.
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "ggml.h"
#include "ggml-quants.h"

void quantize_row_q8_0(const float * x, void * y, int64_t k);
void quantize_row_q8_K(const float * x, void * y, int64_t k);
void ggml_vec_dot_q8_0_q8_0(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);
void ggml_vec_dot_q4_0_q8_0(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);
void ggml_vec_dot_q5_0_q8_0(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);
void ggml_vec_dot_q4_K_q8_K(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);
void ggml_vec_dot_q5_K_q8_K(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);
void ggml_vec_dot_q6_K_q8_K(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);

static uint64_t st = 0x9E3779B97F4A7C15ull;
static double urand(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return (st >> 11) * (1.0/9007199254740992.0); }
static float gauss(void) { double u = urand(), v = urand(); if (u < 1e-300) u = 1e-300; return (float)(sqrt(-2*log(u))*cos(6.283185307179586*v)); }

#define N 8192
#define ROWS 8
#define COLS 1024
#define NACT 4

static void wr(FILE *f, const void *p, size_t n) { fwrite(p, 1, n, f); }

#ifdef PREBUILT
void ggml_cpu_init(void);
#endif

int main(int argc, char **argv) {
#ifdef PREBUILT
    ggml_cpu_init();
#endif
    static float x[N];
    // values: Gaussian blocks at several scales, zero blocks, blocks of exact ties, outliers
    for (int i = 0; i < N; i++) {
        int blk = i / 256;
        float scale = (blk % 4 == 0) ? 1e-3f : (blk % 4 == 1) ? 1.f : (blk % 4 == 2) ? 37.f : 0.05f;
        x[i] = gauss() * scale;
        if (blk == 5) x[i] = 0;
        if (blk == 6) x[i] = (float)((i % 9) - 4) * 0.5f - 0.25f; // many exact halves after scaling
        if (blk == 7 && i % 64 == 3) x[i] *= 40;
    }
    FILE *f = fopen(argv[1], "wb");
    wr(f, x, sizeof x);
    static uint8_t buf[N * 4];
    // reference quantizers (what llama-quantize writes)
    quantize_row_q8_0_ref(x, (block_q8_0*)buf, N); wr(f, buf, N/32*34);
    quantize_row_q4_0_ref(x, (block_q4_0*)buf, N); wr(f, buf, N/32*18);
    quantize_row_q4_K_ref(x, (block_q4_K*)buf, N); wr(f, buf, N/256*144);
    quantize_row_q5_K_ref(x, (block_q5_K*)buf, N); wr(f, buf, N/256*176);
    quantize_row_q6_K_ref(x, (block_q6_K*)buf, N); wr(f, buf, N/256*210);
    quantize_row_q8_K_ref(x, (block_q8_K*)buf, N); wr(f, buf, N/256*292);
    for (int i = 0; i < N; i++) ((uint16_t*)buf)[i] = ggml_fp32_to_fp16(x[i]); wr(f, buf, N*2);
    for (int i = 0; i < N; i++) ((ggml_bf16_t*)buf)[i] = ggml_fp32_to_bf16(x[i]); wr(f, buf, N*2);
    // the CPU backend's activation quantizers (x86 build)
    quantize_row_q8_0(x, buf, N); wr(f, buf, N/32*34);
    quantize_row_q8_K(x, buf, N); wr(f, buf, N/256*292);
    // dot products: weights = rows of x quantized (ROWS x COLS), activations = NACT fresh vectors
    static float a[NACT*COLS];
    for (int i = 0; i < NACT*COLS; i++) a[i] = gauss() * (i < COLS ? 1.f : 0.3f);
    wr(f, a, sizeof a);
    static uint8_t w[N*2], aq0[NACT*COLS/32*34], aqk[NACT*COLS/256*292];
    quantize_row_q8_0(a, aq0, NACT*COLS);
    quantize_row_q8_K(a, aqk, NACT*COLS);
    float s[ROWS*NACT];
    struct { int qk, bb, ab; void (*q)(const float*, void*, int64_t);
             void (*dot)(int, float*, size_t, const void*, size_t, const void*, size_t, int); } ts[] = {
        {32, 34, 34, (void*)quantize_row_q8_0_ref, ggml_vec_dot_q8_0_q8_0},
        {32, 18, 34, (void*)quantize_row_q4_0_ref, ggml_vec_dot_q4_0_q8_0},
        {256, 144, 292, (void*)quantize_row_q4_K_ref, ggml_vec_dot_q4_K_q8_K},
        {256, 176, 292, (void*)quantize_row_q5_K_ref, ggml_vec_dot_q5_K_q8_K},
        {256, 210, 292, (void*)quantize_row_q6_K_ref, ggml_vec_dot_q6_K_q8_K},
        {32, 22, 34, (void*)quantize_row_q5_0_ref, ggml_vec_dot_q5_0_q8_0},
    };
    // appended later: Q5_0 quantization of x, before the Q5_0 dot products
    for (int t = 0; t < 6; t++) {
        if (t == 5) { quantize_row_q5_0_ref(x, (block_q5_0*)buf, N); wr(f, buf, N/32*22); }
        ts[t].q(x, w, ROWS*COLS);
        size_t rb = COLS/ts[t].qk*ts[t].bb, abytes = COLS/ts[t].qk*ts[t].ab;
        const uint8_t *aq = ts[t].ab == 34 ? aq0 : aqk;
        for (int r = 0; r < ROWS; r++)
            for (int j = 0; j < NACT; j++)
                ts[t].dot(COLS, &s[r*NACT+j], 0, w + r*rb, 0, aq + j*abytes, 0, 1);
        wr(f, s, sizeof s);
    }
    fclose(f);
    return 0;
}
