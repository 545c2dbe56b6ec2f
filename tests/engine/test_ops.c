/*
 * test_ops.c - src/core/ops.c against naive per-element implementations
 * written here from docs/model-format.md: random shapes (odd channel counts,
 * rectangular maps, kernels 1..7, strides 1..4, any pad < k), non-zero zero
 * points on the padding, all three conv epilogues, multi-ternary convs
 * (n_terms 1..5, the planes folded into 1..max_terms per GEMM: bf_conv_pack
 * with a random fold, from one GEMM per plane to one for all), and the conv
 * run in several M ranges (as a thread pool would split it).
 */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "model_builder.h"
#include "naive_ref.h"
#include "ops.h"
#include "test_util.h"

static int8_t *random_i8(rng *r, size_t n)
{
    int8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (int8_t)rng_int(r, -128, 127);
    return p;
}

static int32_t random_mult(rng *r)
{
    switch (rng_int(r, 0, 3)) {
    case 0: return rng_int(r, 0, 3);
    case 1: return (int32_t)(rng_u64(r) & 0x7fffffff);
    default: return rng_int(r, 1 << 10, 1 << 20);
    }
}

static void test_rounding(rng *r)
{
    /* halves round towards +infinity */
    static const struct { int64_t v; int s; int64_t want; } cases[] = {
        {1, 1, 1}, {-1, 1, 0}, {3, 1, 2}, {-3, 1, -1}, {-2, 1, -1}, {5, 2, 1}, {6, 2, 2}, {-6, 2, -1},
        {-7, 2, -2}, {0, 62, 0}, {(int64_t)1 << 61, 62, 1}, {-((int64_t)1 << 61), 62, 0}, {123, 0, 123},
        {-((int64_t)1 << 61) - 1, 62, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(bf_rshift_round(cases[i].v, cases[i].s) == cases[i].want, "rshift_round(%lld, %d) = %lld, want %lld",
              (long long)cases[i].v, cases[i].s, (long long)bf_rshift_round(cases[i].v, cases[i].s),
              (long long)cases[i].want);
        CHECK(naive_rshift_round(cases[i].v, cases[i].s) == cases[i].want, "naive rshift_round(%lld, %d)",
              (long long)cases[i].v, cases[i].s);
    }
    for (int i = 0; i < 200000; i++) {
        int s = rng_int(r, 0, 62);
        int64_t v = (int64_t)(rng_u64(r) >> 2) * (rng_int(r, 0, 1) ? 1 : -1); /* |v| < 2^62 */
        if (rng_int(r, 0, 1))
            v >>= rng_int(r, 0, 60);
        CHECK(bf_rshift_round(v, s) == naive_rshift_round(v, s), "rshift_round(%lld, %d)", (long long)v, s);
        int32_t acc = (int32_t)(uint32_t)rng_u64(r), mult = random_mult(r);
        int32_t sh = rng_int(r, 0, 62);
        CHECK(bf_requant(acc, mult, sh) == naive_clamp8(naive_rshift_round((int64_t)acc * mult, sh)),
              "requant(%d, %d, %d)", acc, mult, sh);
        if (check_failures > 20)
            return;
    }
}

/* Packs w[n][k] (-1/0/1) into the file's T2 rows (row_bytes = ceil(k/64)*16). */
static uint8_t *pack_t2(const int8_t *w, size_t n, size_t k, size_t *row_bytes)
{
    *row_bytes = (k + 63) / 64 * 16;
    uint8_t *p = calloc(n, *row_bytes);
    for (size_t o = 0; o < n; o++)
        for (size_t i = 0; i < k; i++) {
            int v = w[o * k + i];
            unsigned code = v == 0 ? 0u : v > 0 ? 1u : 2u;
            p[o * *row_bytes + i / 4] |= (uint8_t)(code << (2 * (i % 4)));
        }
    return p;
}

/* The kernel paths this build and CPU run (bf_t2i8_gemm_available). */
static const bf_t2i8_gemm_config *paths[16];
static int n_paths = 0;

static void find_paths(void)
{
    char names[256];
    snprintf(names, sizeof names, "%s", bf_t2i8_gemm_available());
    for (char *tok = strtok(names, " "); tok != NULL && n_paths < 16; tok = strtok(NULL, " ")) {
        char why[200];
        const bf_t2i8_gemm_config *g = bf_t2i8_gemm_select(tok, why, sizeof why);
        if (g != NULL)
            paths[n_paths++] = g;
        else
            fprintf(stderr, "path %s is not run: %s\n", tok, why);
    }
    if (n_paths == 0)
        paths[n_paths++] = &bf_t2i8_gemm_ref;
    fprintf(stderr, "conv tests run on:");
    for (int i = 0; i < n_paths; i++)
        fprintf(stderr, " %s", paths[i]->isa);
    fprintf(stderr, "\n");
}

static void test_conv_case(rng *r, int iter)
{
    bf_conv_params p;
    memset(&p, 0, sizeof p);
    int big = iter % 5 == 0;
    p.in_h = rng_int(r, 1, big ? 40 : 12);
    p.in_w = rng_int(r, 1, big ? 40 : 12);
    p.in_c = rng_int(r, 1, big ? 70 : 19);
    p.out_c = rng_int(r, 1, big ? 70 : 23);
    if (iter % 4 == 0) {
        p.kh = p.kw = 1;
        p.stride = 1; /* the direct path */
    } else {
        p.kh = rng_int(r, 1, 7);
        p.kw = rng_int(r, 1, 7);
        p.stride = rng_int(r, 1, 4);
        int kmin = p.kh < p.kw ? p.kh : p.kw;
        p.pad = rng_int(r, 0, kmin - 1);
    }
    p.out_h = (p.in_h + 2 * p.pad - p.kh) / p.stride + 1;
    p.out_w = (p.in_w + 2 * p.pad - p.kw) / p.stride + 1;
    if (p.out_h < 1 || p.out_w < 1 || p.in_h + 2 * p.pad < p.kh || p.in_w + 2 * p.pad < p.kw)
        return; /* kernel larger than the padded input: not a valid layer */
    p.in_zero_point = (int8_t)rng_int(r, -128, 127);
    p.act = rng_int(r, 0, 2);
    /* multi-ternary (n_terms k): integer weights in [-L, L], L = (3^k - 1) / 2 */
    const int terms = iter % 3 == 0 ? 1 : rng_int(r, 1, 5);
    int levels = 1;
    for (int t = 1; t < terms; t++)
        levels = 3 * levels + 1;
    const size_t k = bf_conv_params_k(&p), n = (size_t)p.out_c, m = (size_t)p.out_h * (size_t)p.out_w;

    int8_t *w = malloc(n * k);
    for (size_t i = 0; i < n * k; i++)
        w[i] = (int8_t)(rng_int(r, 0, 7) == 0 ? (rng_int(r, 0, 1) ? levels : -levels) : rng_int(r, -levels, levels));
    int32_t *bias = malloc(n * 4), *mult = malloc(n * 4), *shift = malloc(n * 4);
    for (size_t o = 0; o < n; o++) {
        bias[o] = rng_int(r, -100000, 100000);
        mult[o] = random_mult(r);
        shift[o] = rng_int(r, 0, 62);
        if (rng_int(r, 0, 1)) { /* a useful scale rather than saturation */
            shift[o] = rng_int(r, 12, 24);
            mult[o] = rng_int(r, 1, ((1 << (shift[o] - 6)) + levels - 1) / levels);
        }
    }
    int8_t silu[256];
    for (int i = 0; i < 256; i++)
        silu[i] = (int8_t)rng_int(r, -128, 127);
    p.bias = bias;
    p.mult = mult;
    p.shift = shift;
    p.silu = silu;
    size_t row_bytes = (k + 63) / 64 * 16;
    uint8_t *file_w;
    if (terms == 1) {
        file_w = pack_t2(w, n, k, &row_bytes);
    } else {
        /* the file's k planes, each packed on its own as the executor does */
        file_w = calloc((size_t)terms * n, row_bytes);
        CHECK(mb_pack_planes(w, n, k, terms, file_w) == 0, "weights out of range");
    }
    p.gemm = paths[iter % n_paths];
    /* planes per GEMM: 1 .. what the path folds, its maximum half the time */
    const int fold_max = bf_t2i8_gemm_fold(p.gemm);
    const int fold = rng_int(r, 0, 1) ? fold_max : rng_int(r, 0, fold_max); /* 0 means 1 */
    const int parts = bf_conv_parts(terms, fold);
    const size_t part = (p.gemm->packed_size(n, k) + 63) / 64 * 64 + (size_t)rng_int(r, 0, 1) * 64;
    uint8_t *packed = malloc(part * (size_t)parts + 1);
    p.n_terms = terms == 1 && rng_int(r, 0, 1) ? 0 : terms; /* 0 means 1 */
    p.fold = fold;
    p.part_stride = part;
    bf_conv_pack(p.gemm, n, k, p.n_terms, fold, file_w, row_bytes, part, packed);
    p.packed = packed;

    int8_t *in = random_i8(r, (size_t)p.in_h * (size_t)p.in_w * (size_t)p.in_c);
    size_t esz = p.act == 2 ? 4 : 1;
    uint8_t *out = malloc(m * n * esz);
    p.tile_m = (size_t)rng_int(r, 1, 200); /* any tile size gives the same result */
    int8_t *im2col = malloc(p.tile_m * k);
    int32_t *acc = malloc(bf_conv_acc_elems(p.act, parts, p.tile_m, n) * 4 + 4);
    /* Split M in up to three ranges, as workers would. */
    size_t a = (size_t)rng_int(r, 0, (int)m), b = (size_t)rng_int(r, 0, (int)m);
    if (a > b) {
        size_t t = a;
        a = b;
        b = t;
    }
    bf_conv_rows(&p, in, out, 0, a, im2col, acc);
    bf_conv_rows(&p, in, out, a, b, im2col, acc);
    bf_conv_rows(&p, in, out, b, m, im2col, acc);

    int reported = 0;
    for (int oy = 0; oy < p.out_h; oy++)
        for (int ox = 0; ox < p.out_w; ox++)
            for (int o = 0; o < p.out_c; o++) {
                int64_t s = bias[o];
                for (int ky = 0; ky < p.kh; ky++)
                    for (int kx = 0; kx < p.kw; kx++)
                        for (int ic = 0; ic < p.in_c; ic++) {
                            int iy = oy * p.stride + ky - p.pad, ix = ox * p.stride + kx - p.pad;
                            int x = (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w)
                                        ? p.in_zero_point
                                        : in[((size_t)iy * p.in_w + ix) * p.in_c + ic];
                            s += (int64_t)x * w[(size_t)o * k + ((size_t)ky * p.kw + kx) * p.in_c + ic];
                        }
                size_t at = ((size_t)oy * p.out_w + ox) * n + o;
                int64_t want, got;
                if (p.act == 2) {
                    int32_t g;
                    memcpy(&g, out + at * 4, 4);
                    got = g;
                    want = s;
                } else {
                    got = ((int8_t *)out)[at];
                    want = naive_clamp8(naive_rshift_round(s * mult[o], shift[o]));
                    if (p.act == 1)
                        want = silu[want + 128];
                }
                if (got != want && !reported) {
                    reported = 1;
                    CHECK(0, "conv iter %d [%s] (%dx%dx%d -> %dx%dx%d, k %dx%d, stride %d, pad %d, zp %d, act %d, "
                          "n_terms %d, fold %d: %d GEMMs): [%d][%d][%d] = %lld, want %lld",
                          iter, p.gemm->isa, p.in_h, p.in_w, p.in_c, p.out_h, p.out_w, p.out_c, p.kh, p.kw, p.stride, p.pad,
                          p.in_zero_point, p.act, terms, fold, parts, oy, ox, o, (long long)got, (long long)want);
                }
            }
    free(w);
    free(bias);
    free(mult);
    free(shift);
    free(file_w);
    free(packed);
    free(in);
    free(out);
    free(im2col);
    free(acc);
}

static void test_elementwise(rng *r, int iter)
{
    const int h = rng_int(r, 1, 9), w = rng_int(r, 1, 9);
    const size_t px = (size_t)h * (size_t)w;
    /* add */
    {
        int c = rng_int(r, 1, 17);
        size_t n = px * (size_t)c;
        int8_t *a = random_i8(r, n), *b = random_i8(r, n), *o = malloc(n);
        int32_t ma = random_mult(r), mbv = random_mult(r), s = rng_int(r, 0, 62);
        if (iter & 1)
            s = rng_int(r, 0, 20), ma = rng_int(r, 0, 1 << s), mbv = rng_int(r, 0, 1 << s);
        bf_add(a, b, o, n, ma, mbv, s);
        for (size_t i = 0; i < n; i++)
            if (o[i] != naive_clamp8(naive_rshift_round((int64_t)a[i] * ma + (int64_t)b[i] * mbv, s))) {
                CHECK(0, "add iter %d element %zu", iter, i);
                break;
            }
        free(a);
        free(b);
        free(o);
    }
    /* concat */
    {
        int n_in = rng_int(r, 1, 8), total = 0;
        const int8_t *ins[8];
        int8_t *bufs[8];
        int chans[8];
        int32_t mult[8], shift[8];
        for (int i = 0; i < n_in; i++) {
            chans[i] = rng_int(r, 1, 13);
            total += chans[i];
            bufs[i] = random_i8(r, px * (size_t)chans[i]);
            ins[i] = bufs[i];
            shift[i] = rng_int(r, 0, 30);
            mult[i] = rng_int(r, 0, 2) == 0 ? (int32_t)1 << shift[i] : random_mult(r);
        }
        int8_t *o = malloc(px * (size_t)total);
        bf_concat(ins, chans, mult, shift, n_in, px, o);
        int bad = 0;
        for (size_t p = 0; p < px && !bad; p++) {
            int oc = 0;
            for (int i = 0; i < n_in; i++)
                for (int c = 0; c < chans[i]; c++, oc++) {
                    int want = naive_clamp8(naive_rshift_round((int64_t)ins[i][p * chans[i] + c] * mult[i], shift[i]));
                    if (o[p * total + oc] != want)
                        bad = 1;
                }
        }
        CHECK(!bad, "concat iter %d", iter);
        for (int i = 0; i < n_in; i++)
            free(bufs[i]);
        free(o);
    }
    /* slice */
    {
        int c = rng_int(r, 1, 21), first = rng_int(r, 0, c - 1), count = rng_int(r, 1, c - first);
        int8_t *in = random_i8(r, px * (size_t)c), *o = malloc(px * (size_t)count);
        bf_slice(in, c, first, count, px, o);
        int bad = 0;
        for (size_t p = 0; p < px; p++)
            for (int j = 0; j < count; j++)
                bad |= o[p * count + j] != in[p * c + first + j];
        CHECK(!bad, "slice iter %d", iter);
        free(in);
        free(o);
    }
    /* maxpool: now and then rows wider than the separable path's buffer
     * (ops.c, BF_MAXPOOL_ROW_BYTES), which take the direct k x k walk */
    {
        const int mw = iter % 40 == 0 ? rng_int(r, 1500, 1700) : w;
        const size_t mpx = (size_t)h * (size_t)mw;
        int c = rng_int(r, 1, 11), k = rng_int(r, 1, 7), s = rng_int(r, 1, 4), pad = rng_int(r, 0, k - 1);
        int oh = (h + 2 * pad - k) / s + 1, ow = (mw + 2 * pad - k) / s + 1;
        if (h + 2 * pad >= k && mw + 2 * pad >= k) {
            int8_t *in = random_i8(r, mpx * (size_t)c), *o = malloc((size_t)oh * ow * c);
            bf_maxpool(in, h, mw, c, k, s, pad, oh, ow, o);
            int bad = 0;
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                    for (int ch = 0; ch < c; ch++) {
                        int best = -999;
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = y * s + ky - pad, ix = x * s + kx - pad;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < mw && in[((size_t)iy * mw + ix) * c + ch] > best)
                                    best = in[((size_t)iy * mw + ix) * c + ch];
                            }
                        if (best == -999)
                            continue; /* a window with no tap: not a valid layer */
                        bad |= o[((size_t)y * ow + x) * c + ch] != best;
                    }
            CHECK(!bad, "maxpool iter %d (%dx%dx%d k %d s %d p %d)", iter, h, mw, c, k, s, pad);
            free(in);
            free(o);
        }
    }
    /* upsample */
    {
        int c = rng_int(r, 1, 9), f = rng_int(r, 1, 4);
        int8_t *in = random_i8(r, px * (size_t)c), *o = malloc(px * (size_t)(f * f * c));
        bf_upsample(in, h, w, c, f, o);
        int bad = 0;
        for (int y = 0; y < h * f; y++)
            for (int x = 0; x < w * f; x++)
                for (int ch = 0; ch < c; ch++)
                    bad |= o[((size_t)y * w * f + x) * c + ch] != in[((size_t)(y / f) * w + x / f) * c + ch];
        CHECK(!bad, "upsample iter %d", iter);
        free(in);
        free(o);
    }
}

int main(void)
{
    rng r;
    rng_init(&r, test_seed(1234));
    test_rounding(&r);
    find_paths();
    for (int i = 0; i < 400 * n_paths; i++) {
        test_conv_case(&r, i);
        CHECK_LIMIT();
    }
    for (int i = 0; i < 400; i++) {
        test_elementwise(&r, i);
        CHECK_LIMIT();
    }
    if (check_failures) {
        fprintf(stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    fprintf(stderr, "ok\n");
    return 0;
}
