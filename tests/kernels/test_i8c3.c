/*
 * kernels_i8c3_conv_<isa>: a direct 3-channel conv path (kernels/i8c3-conv/)
 * bit for bit against a naive oracle written here from the definition (the
 * im2col order k = (ky * kw + kx) * 3 + c, the zero point outside the image,
 * q = sum_i 3^i T_i over all planes): random geometries, kernel sizes 1..7,
 * strides 1..3, pads, channel counts 1..80, 1..5 planes, extreme inputs, and
 * the network's own stem (3x3 stride 2, 3 -> 16) at 64 and 640 and at
 * random sizes from 3x15 to 40x90, pads 0..2; planes up
 * to the path's max_terms. Each case
 * runs on a random sub-range of output pixels too. The input and the packed
 * weights end at an inaccessible page (a read past the input faults); the
 * rows of acc are ldc > n apart with a sentinel in the gaps that must
 * survive. Exits 77 (skip) when this CPU or build lacks the path.
 *
 *   kernels_test_i8c3 ISA      (ISA: ref or an i8c3-conv.inc name)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "gemm-tester.h"
#include "i8c3-conv/i8c3-conv.h"
#include "t2i8-gemm/t2i8-gemm.h"

typedef struct entry {
    const char *name;
    const bf_i8c3_conv_config *config;
    bool (*can_run)(const bf_cpu_flags *);
} entry;

#define BF_I8C3_CONV(arch, name, config, check, feature) BF_ON_##arch({#name, &config, check}, )
static const entry paths[] = {
#include "i8c3-conv/i8c3-conv.inc"
    {"ref", &bf_i8c3_conv_ref, bf_kernel_test_always},
};
#undef BF_I8C3_CONV

#define SENTINEL ((int32_t)0x5A5A5A5A)

typedef struct conv_case {
    int in_h, in_w, kh, kw, stride, pad, n, nterms;
    int fill; /* 0 random, 1 all -128 with all -1 weights, 2 all 127 */
} conv_case;

static int check(const bf_i8c3_conv_config *cfg, const conv_case *t, rng *rg, uint64_t seed, int index)
{
    const int out_h = (t->in_h + 2 * t->pad - t->kh) / t->stride + 1;
    const int out_w = (t->in_w + 2 * t->pad - t->kw) / t->stride + 1;
    const size_t taps = (size_t)t->kh * (size_t)t->kw, k = taps * 3, n = (size_t)t->n;
    const size_t m = (size_t)out_h * (size_t)out_w, in_bytes = (size_t)t->in_h * (size_t)t->in_w * 3;
    const size_t row_bytes = (k + 3) / 4, plane = n * row_bytes, ldc = n + 3;
    bf_guarded gin = {0}, gw = {0}, gp = {0}, gc = {0};
    int8_t *in = bf_guarded_alloc(&gin, in_bytes);
    uint8_t *w = bf_guarded_alloc(&gw, plane * (size_t)t->nterms);
    void *packed = bf_guarded_alloc(&gp, cfg->packed_size(n, taps));
    int32_t *acc = bf_guarded_alloc(&gc, ((m - 1) * ldc + n) * sizeof(int32_t));
    const int8_t zp = t->fill == 1 ? -128 : t->fill == 2 ? 127 : (int8_t)rng_u64(rg);
    for (size_t i = 0; i < in_bytes; i++) {
        const uint64_t r = rng_u64(rg);
        in[i] = t->fill == 1 ? -128 : t->fill == 2 ? 127 : (r & 7) == 0 ? -128 : (r & 7) == 1 ? 127 : (int8_t)(r >> 8);
    }
    memset(w, 0, plane * (size_t)t->nterms);
    for (int p = 0; p < t->nterms; p++)
        for (size_t ch = 0; ch < n; ch++)
            for (size_t kk = 0; kk < k; kk++) {
                const unsigned code = t->fill == 1 ? 2u : t->fill == 2 ? 1u : (unsigned)(rng_u64(rg) % 3);
                bf_t2_put(w + (size_t)p * plane + ch * row_bytes, kk, code);
            }
    cfg->pack_terms(n, taps, t->nterms, w, row_bytes, plane, packed);
    const bf_i8c3_geom g = {t->in_h, t->in_w, out_w, t->kh, t->kw, t->stride, t->pad, zp};
    /* the whole layer, then a random sub-range written into a fresh acc */
    int fails = 0;
    for (int pass = 0; pass < 2 && fails == 0; pass++) {
        size_t m0 = 0, rows = m;
        if (pass == 1) {
            m0 = rng_size(rg, 0, m - 1);
            rows = rng_size(rg, 1, m - m0);
        }
        for (size_t i = 0; i < (m - 1) * ldc + n; i++)
            acc[i] = SENTINEL;
        cfg->conv(&g, n, in, m0, rows, packed, acc, ldc);
        for (size_t r = 0; r < rows && fails == 0; r++) {
            const size_t mm = m0 + r;
            const int oy = (int)(mm / (size_t)out_w), ox = (int)(mm % (size_t)out_w);
            for (size_t ch = 0; ch < n && fails == 0; ch++) {
                int64_t s = 0;
                for (int ky = 0; ky < t->kh; ky++)
                    for (int kx = 0; kx < t->kw; kx++)
                        for (int c = 0; c < 3; c++) {
                            const int iy = oy * t->stride + ky - t->pad, ix = ox * t->stride + kx - t->pad;
                            const int x = iy >= 0 && iy < t->in_h && ix >= 0 && ix < t->in_w
                                              ? in[((size_t)iy * (size_t)t->in_w + (size_t)ix) * 3 + (size_t)c]
                                              : zp;
                            s += (int64_t)x * bf_t2_decode_terms(w + ch * row_bytes,
                                                                 (size_t)(ky * t->kw + kx) * 3 + (size_t)c, t->nterms,
                                                                 plane);
                        }
                if (acc[r * ldc + ch] != (int32_t)s) {
                    fprintf(stderr,
                            "FAIL %s case %d (seed 0x%llx): %dx%d k%dx%d s%d p%d n%d terms %d fill %d, pixels "
                            "%zu+%zu: acc[%zu][%zu] = %d, want %lld\n",
                            cfg->isa, index, (unsigned long long)seed, t->in_h, t->in_w, t->kh, t->kw, t->stride,
                            t->pad, t->n, t->nterms, t->fill, m0, rows, r, ch, acc[r * ldc + ch], (long long)s);
                    fails++;
                }
            }
            for (size_t ch = n; ch < ldc && r + 1 < rows && fails == 0; ch++)
                if (acc[r * ldc + ch] != SENTINEL) {
                    fprintf(stderr, "FAIL %s case %d: wrote acc[%zu][%zu] past n = %zu\n", cfg->isa, index, r, ch, n);
                    fails++;
                }
        }
        for (size_t i = rows * ldc; i < (m - 1) * ldc + n && fails == 0; i++)
            if (acc[i] != SENTINEL) {
                fprintf(stderr, "FAIL %s case %d: wrote acc element %zu past row %zu\n", cfg->isa, index, i, rows);
                fails++;
            }
    }
    bf_guarded_free(&gin);
    bf_guarded_free(&gw);
    bf_guarded_free(&gp);
    bf_guarded_free(&gc);
    return fails;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s ISA\n", argv[0]);
        return 2;
    }
    const entry *e = NULL;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (strcmp(paths[i].name, argv[1]) == 0)
            e = &paths[i];
    const int skip = bf_kernel_test_skip("i8c3", argv[1], e != NULL ? e->can_run : NULL);
    if (skip != 0)
        return skip;
    const uint64_t seed = bf_gemm_test_seed = test_seed(0x5EEDB17FA1C0ull);
    rng rg;
    rng_init(&rg, seed);
    int fails = 0, cases = 0;
    /* the network's stem, then the extremes, then random geometries */
    const conv_case fixed[] = {
        {64, 64, 3, 3, 2, 1, 16, 3, 0},  {640, 640, 3, 3, 2, 1, 16, 2, 0}, {64, 64, 3, 3, 2, 1, 16, 5, 1},
        {64, 64, 3, 3, 2, 1, 16, 5, 2},  {1, 1, 1, 1, 1, 0, 1, 1, 0},      {1, 1, 3, 3, 1, 1, 17, 1, 0},
        {9, 7, 7, 7, 1, 3, 80, 4, 0},    {5, 6, 3, 3, 3, 2, 33, 1, 1},
    };
    const int max_terms = e->config->max_terms;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        conv_case t = fixed[i];
        if (t.nterms > max_terms)
            t.nterms = max_terms; /* the engine keeps im2col + GEMM for more */
        fails += check(e->config, &t, &rg, seed, cases++);
    }
    for (int i = 0; i < 400 && fails == 0; i++) {
        conv_case t;
        t.kh = (int)rng_size(&rg, 1, BF_I8C3_MAX_K);
        t.kw = rng_size(&rg, 0, 2) == 0 ? (int)rng_size(&rg, 1, BF_I8C3_MAX_K) : t.kh;
        t.stride = (int)rng_size(&rg, 1, 3);
        t.pad = (int)rng_size(&rg, 0, (size_t)(t.kh > t.kw ? t.kh : t.kw) - 1);
        t.in_h = (int)rng_size(&rg, 1, 24);
        t.in_w = (int)rng_size(&rg, 1, 24);
        if (t.in_h + 2 * t.pad < t.kh)
            t.in_h = t.kh - 2 * t.pad;
        if (t.in_w + 2 * t.pad < t.kw)
            t.in_w = t.kw - 2 * t.pad;
        t.n = (int)rng_size(&rg, 1, 80);
        t.nterms = (int)rng_size(&rg, 1, (size_t)max_terms);
        t.fill = rng_size(&rg, 0, 9) == 0 ? (int)rng_size(&rg, 1, 2) : 0;
        fails += check(e->config, &t, &rg, seed, cases++);
    }
    /* the 3x3 stride-2 stem shape at widths with runs of several 8-pixel
     * groups (the avx512vnni path reads those by its own block), pads 0..2:
     * with pad 0 the last run of the last row ends where its last word would
     * pass the input's end */
    for (int i = 0; i < 200 && fails == 0; i++) {
        conv_case t = {0};
        t.kh = t.kw = 3, t.stride = 2;
        t.pad = (int)rng_size(&rg, 0, 2);
        t.in_h = (int)rng_size(&rg, 3, 40);
        t.in_w = (int)rng_size(&rg, 15, 90);
        t.n = rng_size(&rg, 0, 1) == 0 ? 16 : (int)rng_size(&rg, 1, 80);
        t.nterms = (int)rng_size(&rg, 1, (size_t)max_terms);
        t.fill = rng_size(&rg, 0, 9) == 0 ? (int)rng_size(&rg, 1, 2) : 0;
        fails += check(e->config, &t, &rg, seed, cases++);
    }
    printf("%s: %d cases, %d failed (seed 0x%llx)\n", argv[1], cases, fails, (unsigned long long)seed);
    return fails == 0 ? 0 : 1;
}
