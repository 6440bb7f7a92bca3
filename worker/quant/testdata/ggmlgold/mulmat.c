// Golden mul_mat results from llama.cpp's own CPU backend, as llama.cpp runs it (weights in the
// CPU "extra" buffer type, so that Q4_0 and Q4_K are repacked; batched products through
// llamafile/tinyBLAS where it applies). Output: for each type, the weights' bytes and the
// products of M rows with N activation vectors for n = 1 (decode) and n = 7 (prefill).
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "ggml.h"
#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"

typedef ggml_backend_buffer_type_t * (*get_extra_t)(ggml_backend_dev_t);

static uint64_t st = 0xC0FFEE;
static float rnd(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return ((st >> 11) * (1.0/9007199254740992.0)) * 2 - 1; }

static void run(ggml_backend_t be, ggml_backend_buffer_type_t wbuft, enum ggml_type t, int M, int K, int N,
                const float *wf, const float *x, float *out) {
    struct ggml_init_params ip = { ggml_tensor_overhead()*4 + ggml_graph_overhead(), NULL, true };
    struct ggml_context *cw = ggml_init(ip);
    struct ggml_tensor *W = ggml_new_tensor_2d(cw, t, K, M);
    ggml_backend_buffer_t bw = ggml_backend_alloc_ctx_tensors_from_buft(cw, wbuft);
    size_t rb = ggml_row_size(t, K);
    void *wq = malloc(rb * M);
    ggml_quantize_chunk(t, wf, wq, 0, M, K, NULL);
    ggml_backend_tensor_set(W, wq, 0, rb * M);
    struct ggml_context *ca = ggml_init(ip);
    struct ggml_tensor *X = ggml_new_tensor_2d(ca, GGML_TYPE_F32, K, N);
    struct ggml_tensor *Y = ggml_mul_mat(ca, W, X);
    struct ggml_cgraph *g = ggml_new_graph(ca);
    ggml_build_forward_expand(g, Y);
    ggml_backend_buffer_t ba = ggml_backend_alloc_ctx_tensors(ca, be);
    ggml_backend_tensor_set(X, x, 0, sizeof(float) * K * N);
    if (ggml_backend_graph_compute(be, g) != GGML_STATUS_SUCCESS) { fprintf(stderr, "compute failed\n"); exit(1); }
    ggml_backend_tensor_get(Y, out, 0, sizeof(float) * M * N);
    free(wq);
    ggml_backend_buffer_free(ba); ggml_backend_buffer_free(bw);
    ggml_free(ca); ggml_free(cw);
}

int main(int argc, char **argv) {
    ggml_backend_t be = ggml_backend_cpu_init();
    ggml_backend_cpu_set_n_threads(be, argc > 2 ? atoi(argv[2]) : 1);
    ggml_backend_reg_t reg = ggml_backend_cpu_reg();
    ggml_backend_dev_t dev = ggml_backend_reg_dev_get(reg, 0);
    get_extra_t get_extra = (get_extra_t) ggml_backend_reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts");
    ggml_backend_buffer_type_t *extra = get_extra(dev);
    for (int i = 0; extra && extra[i]; i++) fprintf(stderr, "extra buft %d: %s\n", i, ggml_backend_buft_name(extra[i]));
    enum { M = 32, K = 512, NMAX = 7 };
    static float wf[M*K], x[NMAX*K], out[M*NMAX];
    for (int i = 0; i < M*K; i++) wf[i] = rnd();
    for (int i = 0; i < NMAX*K; i++) x[i] = rnd() * 3;
    FILE *f = fopen(argv[1], "wb");
    fwrite(wf, sizeof wf, 1, f);
    fwrite(x, sizeof x, 1, f);
    enum ggml_type types[] = { GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_Q5_0, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_F16, GGML_TYPE_F32 };
    int ns[] = { 1, 7 };
    for (unsigned ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        ggml_backend_buffer_type_t wbuft = ggml_backend_get_default_buffer_type(be);
        // llama.cpp puts a weight in CPU_REPACK when that buffer type has a repacked layout for it:
        // on x86 with AVX2, Q4_0 and Q4_K with a row count that is a multiple of 8
        if (extra && extra[0] && (types[ti] == GGML_TYPE_Q4_0 || types[ti] == GGML_TYPE_Q4_K)) wbuft = extra[0];
        fprintf(stderr, "%s: weights in %s\n", ggml_type_name(types[ti]), ggml_backend_buft_name(wbuft));
        for (int k = 0; k < 2; k++) {
            run(be, wbuft, types[ti], M, K, ns[k], wf, x, out);
            fwrite(out, sizeof(float), M * ns[k], f);
        }
    }
    // appended: ggml's dequantization (to_float, which get_rows uses) of each type's weights
    enum ggml_type dq[] = { GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_Q5_0, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_F16, GGML_TYPE_BF16 };
    for (unsigned ti = 0; ti < sizeof dq / sizeof dq[0]; ti++) {
        size_t rb = ggml_row_size(dq[ti], K);
        void *wq = malloc(rb * M);
        ggml_quantize_chunk(dq[ti], wf, wq, 0, M, K, NULL);
        static float back[4*K]; // the first 4 rows
        ggml_get_type_traits(dq[ti])->to_float(wq, back, (int64_t)4 * K);
        fwrite(back, sizeof back, 1, f);
        free(wq);
    }
    // appended: Q4_0 and Q4_K kept as they are (as llama.cpp keeps the token embedding matrix)
    enum ggml_type plain[] = { GGML_TYPE_Q4_0, GGML_TYPE_Q4_K };
    for (int ti = 0; ti < 2; ti++) {
        for (int k = 0; k < 2; k++) {
            run(be, ggml_backend_get_default_buffer_type(be), plain[ti], M, K, ns[k], wf, x, out);
            fwrite(out, sizeof(float), M * ns[k], f);
        }
    }
    // appended: BF16 (vec_dot_bf16 for n = 1, tinyBLAS for n = 7)
    for (int k = 0; k < 2; k++) {
        run(be, ggml_backend_get_default_buffer_type(be), GGML_TYPE_BF16, M, K, ns[k], wf, x, out);
        fwrite(out, sizeof(float), M * ns[k], f);
    }
    // appended: rows whose length is not a multiple of 64 (the row kernels' remainders) nor, for
    // 552, of 16 or 32 (the batched float kernels then fall back to the row products)
    int ks[] = { 544, 552 };
    for (int kk = 0; kk < 2; kk++) {
        int K2 = ks[kk];
        float *w2 = malloc(sizeof(float) * M * K2), *x2 = malloc(sizeof(float) * NMAX * K2), *o2 = malloc(sizeof(float) * M * NMAX);
        for (int i = 0; i < M*K2; i++) w2[i] = rnd();
        for (int i = 0; i < NMAX*K2; i++) x2[i] = rnd() * 3;
        fwrite(w2, sizeof(float), M*K2, f);
        fwrite(x2, sizeof(float), NMAX*K2, f);
        enum ggml_type tt[] = { GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_Q5_0, GGML_TYPE_F16, GGML_TYPE_F32, GGML_TYPE_BF16 };
        for (int ti = (K2 % 32 ? 3 : 0); ti < 6; ti++) {
            ggml_backend_buffer_type_t wbuft = ggml_backend_get_default_buffer_type(be);
            if (extra && extra[0] && tt[ti] == GGML_TYPE_Q4_0) wbuft = extra[0];
            for (int k = 0; k < 2; k++) {
                run(be, wbuft, tt[ti], M, K2, ns[k], w2, x2, o2);
                fwrite(o2, sizeof(float), M * ns[k], f);
            }
        }
        free(w2); free(x2); free(o2);
    }
    fclose(f);
    ggml_backend_free(be);
    return 0;
}
