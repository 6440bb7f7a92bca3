#include <stdio.h>
#include <stdlib.h>
#include <immintrin.h>
#include "ggml.h"
#include "ggml-impl.h"
float ggml_table_f32_f16[1 << 16];
float ggml_table_f32_e8m0_half[256];
float ggml_table_f32_ue4m3[256];
__attribute__((constructor)) static void init(void) { for (int i = 0; i < 65536; i++) ggml_table_f32_f16[i] = _cvtsh_ss((unsigned short)i); }
void ggml_abort(const char *file, int line, const char *fmt, ...) { fprintf(stderr, "abort %s:%d %s\n", file, line, fmt); abort(); }
ggml_fp16_t ggml_fp32_to_fp16(float x) { return _cvtss_sh(x, 0); }
ggml_bf16_t ggml_fp32_to_bf16(float x) { return ggml_compute_fp32_to_bf16(x); }
size_t ggml_row_size(enum ggml_type t, int64_t ne) { abort(); }
const char * ggml_type_name(enum ggml_type t) { return "?"; }
size_t ggml_type_size(enum ggml_type t) { abort(); }
