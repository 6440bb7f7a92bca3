// A check, not part of the tests: llama.cpp's batched Q8_0 product (tinyBLAS, llamafile_sgemm)
// gives the very values of its ggml_vec_dot_q8_0_q8_0. Build against the prebuilt libraries as
// README.md shows for gen.c (-DPREBUILT is not needed) and run; it printed 128/128 identical (also
// with Q5_0 weights). This is why MatMulExact, built on the row kernels, matches llama.cpp.
#include <stdio.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <math.h>
#include "ggml.h"
#include "ggml-quants.h"
struct ggml_compute_params { int ith, nth; size_t wsize; void * wdata; void * threadpool; bool use_ref; };
bool llamafile_sgemm(const struct ggml_compute_params * params, int64_t m, int64_t n, int64_t k,
                     const void *A, int64_t lda, const void *B, int64_t ldb, void *C, int64_t ldc,
                     int Atype, int Btype, int Ctype);
void quantize_row_q8_0(const float * x, void * y, int64_t k);
void ggml_vec_dot_q8_0_q8_0(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);
void ggml_cpu_init(void);
static uint64_t st = 0x12345;
static float rnd(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return ((st >> 11) * (1.0/9007199254740992.0)) * 2 - 1; }
int main(void) {
    ggml_cpu_init();
    enum { M = 16, N = 8, K = 1024 };
    static float w[M*K], a[N*K], C[N*M];
    for (int i = 0; i < M*K; i++) w[i] = rnd();
    for (int i = 0; i < N*K; i++) a[i] = rnd();
    static uint8_t wq[M*K/32*34], aq[N*K/32*34];
    quantize_row_q8_0_ref(w, (void*)wq, M*K);
    quantize_row_q8_0(a, aq, N*K);
    struct ggml_compute_params p = {0, 1, 0, NULL, NULL, false};
    bool ok = llamafile_sgemm(&p, M, N, K/32, wq, K/32, aq, K/32, C, M, GGML_TYPE_Q8_0, GGML_TYPE_Q8_0, GGML_TYPE_F32);
    int same = 0, tot = 0;
    for (int j = 0; j < N; j++) for (int i = 0; i < M; i++) {
        float s; ggml_vec_dot_q8_0_q8_0(K, &s, 0, wq + i*(K/32*34), 0, aq + j*(K/32*34), 0, 1);
        tot++; if (s == C[j*M+i]) same++; else if (tot - same < 4) printf("diff %d %d: %.9g vs %.9g\n", i, j, s, C[j*M+i]);
    }
    printf("sgemm ok=%d: %d/%d identical to vec_dot\n", ok, same, tot);
}
