/* The reference direct 3-channel conv (plain C, the oracle) and the
 * selector. The selector lives here because this file is built on every
 * architecture (CMakeLists.txt builds every kernel family's -ref.c file).
 *
 * Packed layout: q[n][taps * 3] as int8, row-major (k = tap * 3 + c). */
#include "i8c3-conv/i8c3-conv.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "t2i8-gemm/t2i8-gemm.h"

static size_t ref_packed_size(size_t n, size_t taps)
{
    return n * taps * 3;
}

static void ref_pack_terms(size_t n, size_t taps, int nterms, const uint8_t *w, size_t w_row_bytes,
                           size_t plane_stride, void *packed)
{
    assert(nterms >= 1 && nterms <= BF_T2I8_MAX_TERMS);
    int8_t *q = packed;
    for (size_t ch = 0; ch < n; ch++)
        for (size_t k = 0; k < taps * 3; k++)
            q[ch * taps * 3 + k] = (int8_t)bf_t2_decode_terms(w + ch * w_row_bytes, k, nterms, plane_stride);
}

static void ref_conv(const bf_i8c3_geom *g, size_t n, const int8_t *in, size_t m0, size_t rows, const void *packed,
                     int32_t *acc, size_t ldc)
{
    assert(ldc >= n && g->out_w >= 1);
    const int8_t *q = packed;
    const size_t k = (size_t)g->kh * (size_t)g->kw * 3;
    for (size_t r = 0; r < rows; r++) {
        const size_t m = m0 + r;
        const int oy = (int)(m / (size_t)g->out_w), ox = (int)(m % (size_t)g->out_w);
        for (size_t ch = 0; ch < n; ch++) {
            /* int64: the loader keeps the true sum inside int32 (see the header) */
            int64_t s = 0;
            for (int ky = 0; ky < g->kh; ky++)
                for (int kx = 0; kx < g->kw; kx++) {
                    const int iy = oy * g->stride + ky - g->pad, ix = ox * g->stride + kx - g->pad;
                    const bool inside = iy >= 0 && iy < g->in_h && ix >= 0 && ix < g->in_w;
                    const int8_t *px = in + ((size_t)(inside ? iy : 0) * (size_t)g->in_w + (size_t)(inside ? ix : 0)) * 3;
                    const int8_t *qk = q + ch * k + (size_t)(ky * g->kw + kx) * 3;
                    for (int c = 0; c < 3; c++)
                        s += (int64_t)(inside ? px[c] : g->zero_point) * qk[c];
                }
            acc[r * ldc + ch] = (int32_t)s;
        }
    }
}

const bf_i8c3_conv_config bf_i8c3_conv_ref = {
    .isa = "ref",
    .packed_size = ref_packed_size,
    .pack_terms = ref_pack_terms,
    .conv = ref_conv,
    .max_terms = BF_T2I8_MAX_TERMS, /* int64 sums */
};

typedef struct entry {
    const char *isa;
    const bf_i8c3_conv_config *config;
    bool (*can_run)(const bf_cpu_flags *);
} entry;

#define BF_I8C3_CONV(arch, name, config, check, feature) BF_ON_##arch({#name, &config, check}, )
static const entry table[] = {
#include "i8c3-conv/i8c3-conv.inc"
    {NULL, NULL, NULL},
};
#undef BF_I8C3_CONV

const bf_i8c3_conv_config *bf_i8c3_conv_select(const char *gemm_isa)
{
    const char *env = getenv("BITFALCON_DIRECT_CONV");
    if (gemm_isa == NULL || (env != NULL && strcmp(env, "0") == 0))
        return NULL;
    const bf_cpu_flags *f = bf_cpu_detect();
    for (size_t i = 0; table[i].isa != NULL; i++)
        if (strcmp(gemm_isa, table[i].isa) == 0)
            return table[i].can_run(f) ? table[i].config : NULL;
    return NULL;
}
