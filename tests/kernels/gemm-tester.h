/*
 * GEMM micro-kernel tester (XNNPACK test/gemm-microkernel-tester.h, in C):
 * runs one bf_t2i8_gemm_config on one shape and compares it bit for bit with
 * an oracle config (the reference).
 *
 *   bf_gemm_case t = bf_gemm_case_default(m, n, k);   // then set lda, ldc, ...
 *   if (!bf_gemm_check(&bf_t2i8_gemm_avx2, &bf_t2i8_gemm_ref, &t, &rg)) fail
 *
 * Contract checks on every case:
 *   - C equals the oracle's, element by element (first difference printed with
 *     the seed, shape and index);
 *   - A's last row ends at a page boundary followed by an inaccessible page, and
 *     the packed weights likewise: any read past K or past the packed size
 *     faults. Bytes between rows (lda > K) are random, so using them shows;
 *   - C's last element ends at a guard page; the ldc gaps hold a sentinel that
 *     must survive: nothing is written outside M x N;
 *   - the T2 rows carry nonzero codes in their padding (k >= K), which the
 *     packers must ignore.
 */
#ifndef BF_GEMM_TESTER_H
#define BF_GEMM_TESTER_H

#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu.h"
#include "rng.h" /* tests/common: the tests' one seeded generator */
#include "t2i8-gemm/t2i8-gemm.h"

/* The reference's predicate in the programs' path tables: every CPU runs it. */
static inline bool bf_kernel_test_always(const bf_cpu_flags *f)
{
    (void)f;
    return true;
}

/* The kernel test programs' common start: 77 (skip, saying why) when the
 * path `isa` of `family` is not built for this architecture (can_run NULL:
 * not in the program's table) or this CPU cannot run it; else 0. */
static inline int bf_kernel_test_skip(const char *family, const char *isa, bool (*can_run)(const bf_cpu_flags *))
{
    if (can_run == NULL) {
        fprintf(stderr, "SKIP: %s path '%s' is not built for this architecture\n", family, isa);
        return 77;
    }
    char cpu[256];
    const bf_cpu_flags *flags = bf_cpu_detect();
    if (!can_run(flags)) {
        fprintf(stderr, "SKIP: this CPU cannot run %s (has: %s)\n", isa, bf_cpu_describe(flags, cpu, sizeof cpu));
        return 77;
    }
    return 0;
}

/* The run's seed (main sets it from test_seed(), which honours BF_TEST_SEED),
 * for the failure messages. */
static uint64_t bf_gemm_test_seed;


/* A buffer whose last byte is followed by an inaccessible page. */
typedef struct bf_guarded {
    void *map;
    size_t map_size;
    void *ptr;
} bf_guarded;

static inline void *bf_guarded_alloc(bf_guarded *g, size_t size)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t body = (size + page - 1) / page * page;
    g->map_size = body + page;
    g->map = mmap(NULL, g->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->map == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    if (mprotect((char *)g->map + body, page, PROT_NONE) != 0) {
        perror("mprotect");
        exit(2);
    }
    g->ptr = (char *)g->map + body - size;
    return g->ptr;
}

static inline void bf_guarded_free(bf_guarded *g)
{
    if (g->map != NULL)
        munmap(g->map, g->map_size);
    g->map = NULL;
}

/* How the random operands are drawn. */
enum bf_fill {
    BF_FILL_RANDOM = 0,  /* A uniform int8 with extra -128/127; W ternary, random sparsity */
    BF_FILL_EXTREME = 1, /* A all -128, W all -1: the largest positive sums */
    BF_FILL_EXTREME2 = 2 /* A all -128, W all +1; A 127 on odd rows */
};

typedef struct bf_gemm_case {
    size_t m, n, k;
    size_t lda;         /* >= k */
    size_t ldc;         /* >= n */
    size_t w_row_bytes; /* >= ceil(k/4); the file uses ceil(k/64)*16 */
    int fill;
    int iterations; /* how many random draws of this shape */
} bf_gemm_case;

static inline bf_gemm_case bf_gemm_case_default(size_t m, size_t n, size_t k)
{
    bf_gemm_case t = {m, n, k, k, n, (k + 63) / 64 * 16, BF_FILL_RANDOM, 1};
    return t;
}

static inline void bf_t2_put(uint8_t *row, size_t k, unsigned code)
{
    row[k >> 2] = (uint8_t)((row[k >> 2] & ~(3u << ((k & 3) * 2))) | (code << ((k & 3) * 2)));
}

/* Fills A (m x k at lda, gaps random) and W (n rows of T2 codes, padding
 * codes random but never within k). */
static inline void bf_gemm_fill(const bf_gemm_case *t, rng *rg, int8_t *a, uint8_t *w)
{
    const unsigned sparsity = (unsigned)rng_size(rg, 0, 4); /* P(w = 0) = sparsity / 5 */
    for (size_t i = 0; i < t->m; i++) {
        const size_t row_len = i + 1 < t->m ? t->lda : t->k;
        for (size_t kk = 0; kk < row_len; kk++) {
            int8_t v;
            if (t->fill == BF_FILL_EXTREME || t->fill == BF_FILL_EXTREME2) {
                v = (t->fill == BF_FILL_EXTREME2 && (i & 1)) ? 127 : -128;
            } else {
                const uint64_t r = rng_u64(rg);
                v = (r & 7) == 0 ? -128 : (r & 7) == 1 ? 127 : (int8_t)(r >> 8);
            }
            a[i * t->lda + kk] = v;
        }
    }
    for (size_t j = 0; j < t->n; j++) {
        uint8_t *row = w + j * t->w_row_bytes;
        for (size_t kk = 0; kk < t->w_row_bytes * 4; kk++) {
            unsigned code;
            if (kk >= t->k) {
                code = (unsigned)(rng_u64(rg) & 3); /* padding: packers must ignore */
            } else if (t->fill == BF_FILL_EXTREME) {
                code = 2;
            } else if (t->fill == BF_FILL_EXTREME2) {
                code = 1;
            } else {
                const unsigned r = (unsigned)(rng_u64(rg) % 10);
                code = r < 2 * sparsity ? 0 : (r & 1) ? 1 : 2;
            }
            bf_t2_put(row, kk, code);
        }
    }
}

#define BF_C_SENTINEL ((int32_t)0x7EADBEEF)

/* A fault on a guard page (a read past A or the packed weights, a write past
 * C) would kill the test silently: the handler names the case first. */
static char bf_gemm_current[512];

static void bf_gemm_on_fault(int sig)
{
    static const char head[] = "FAULT (read or write outside the buffers) in case: ";
    ssize_t r = write(2, head, sizeof head - 1);
    r = write(2, bf_gemm_current, strlen(bf_gemm_current));
    (void)r;
    signal(sig, SIG_DFL);
    raise(sig);
}

static inline void bf_gemm_catch_faults(void)
{
    static bool installed;
    if (installed)
        return;
    installed = true;
    signal(SIGSEGV, bf_gemm_on_fault);
    signal(SIGBUS, bf_gemm_on_fault);
}

/* Runs `cfg` and `oracle` on the case; returns true when identical. */
static inline bool bf_gemm_check(const bf_t2i8_gemm_config *cfg, const bf_t2i8_gemm_config *oracle,
                                 const bf_gemm_case *t, rng *rg)
{
    if (t->m < 1 || t->n < 1 || t->k < 1 || t->lda < t->k || t->ldc < t->n || t->w_row_bytes < (t->k + 3) / 4) {
        fprintf(stderr, "tester bug: invalid case m=%zu n=%zu k=%zu lda=%zu ldc=%zu w_row_bytes=%zu\n", t->m, t->n,
                t->k, t->lda, t->ldc, t->w_row_bytes);
        exit(2);
    }
    const size_t a_size = (t->m - 1) * t->lda + t->k;
    const size_t w_size = t->n * t->w_row_bytes;
    const size_t c_elems = (t->m - 1) * t->ldc + t->n;
    bool ok = true;
    bf_gemm_catch_faults();
    for (int it = 0; it < t->iterations && ok; it++) {
        const uint64_t case_state = rg->s;
        snprintf(bf_gemm_current, sizeof bf_gemm_current,
                 "%s: m=%zu n=%zu k=%zu lda=%zu ldc=%zu w_row_bytes=%zu fill=%d (BF_TEST_SEED=0x%" PRIx64
                 ", case rng state 0x%" PRIx64 ")\n",
                 cfg->isa, t->m, t->n, t->k, t->lda, t->ldc, t->w_row_bytes, t->fill, bf_gemm_test_seed, case_state);
        bf_guarded ga = {0}, gw = {0}, gp = {0}, gq = {0}, gc = {0};
        int8_t *a = bf_guarded_alloc(&ga, a_size);
        uint8_t *w = bf_guarded_alloc(&gw, w_size);
        bf_gemm_fill(t, rg, a, w);
        const size_t ps = cfg->packed_size(t->n, t->k), qs = oracle->packed_size(t->n, t->k);
        void *packed = bf_guarded_alloc(&gp, ps ? ps : 1);
        void *packed_ref = bf_guarded_alloc(&gq, qs ? qs : 1);
        cfg->pack(t->n, t->k, w, t->w_row_bytes, packed);
        oracle->pack(t->n, t->k, w, t->w_row_bytes, packed_ref);
        int32_t *c = bf_guarded_alloc(&gc, c_elems * sizeof(int32_t));
        int32_t *c_ref = malloc(c_elems * sizeof(int32_t));
        if (c_ref == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        for (size_t i = 0; i < c_elems; i++)
            c[i] = c_ref[i] = BF_C_SENTINEL;
        oracle->gemm(t->m, t->n, t->k, a, t->lda, packed_ref, c_ref, t->ldc);
        cfg->gemm(t->m, t->n, t->k, a, t->lda, packed, c, t->ldc);
        for (size_t i = 0; i < t->m && ok; i++)
            for (size_t j = 0; j < t->ldc && ok; j++) {
                const size_t at = i * t->ldc + j;
                if (at >= c_elems)
                    break;
                const int32_t want = j < t->n ? c_ref[at] : BF_C_SENTINEL;
                if (c[at] != want) {
                    fprintf(stderr,
                            "FAIL %s vs %s: m=%zu n=%zu k=%zu lda=%zu ldc=%zu w_row_bytes=%zu fill=%d "
                            "(BF_TEST_SEED=0x%" PRIx64 ", case rng state 0x%" PRIx64 "): C[%zu][%zu] = %" PRId32
                            ", expected %" PRId32 "%s\n",
                            cfg->isa, oracle->isa, t->m, t->n, t->k, t->lda, t->ldc, t->w_row_bytes, t->fill,
                            bf_gemm_test_seed, case_state, i, j, c[at], want,
                            j < t->n ? "" : " (written outside M x N)");
                    ok = false;
                }
            }
        free(c_ref);
        bf_guarded_free(&gc);
        bf_guarded_free(&gq);
        bf_guarded_free(&gp);
        bf_guarded_free(&gw);
        bf_guarded_free(&ga);
    }
    return ok;
}

/* The sweep every GEMM path runs (tile ==, <, >, multiples; K tails; strides;
 * extremes; the network's shapes; random shapes). `tile_m` is the path's row
 * tile. Returns the number of failing cases. */
static inline int bf_gemm_sweep(const bf_t2i8_gemm_config *cfg, const bf_t2i8_gemm_config *oracle, rng *rg,
                                bool quick)
{
    int failures = 0, cases = 0;
#define BF_RUN(tc)                                                                                                    \
    do {                                                                                                              \
        cases++;                                                                                                      \
        if (!bf_gemm_check(cfg, oracle, &(tc), rg) && ++failures >= 10)                                              \
            goto done;                                                                                                \
    } while (0)
    const size_t mr = cfg->mr ? cfg->mr : 1;
    { /* M = 0: nothing read or written */
        int8_t a0[8] = {0};
        int32_t c0[4] = {BF_C_SENTINEL, BF_C_SENTINEL, BF_C_SENTINEL, BF_C_SENTINEL};
        uint8_t w0[4 * 16] = {0x55, 0x55};
        void *p0 = malloc(cfg->packed_size(4, 8) + 1);
        cfg->pack(4, 8, w0, 16, p0);
        cfg->gemm(0, 4, 8, a0, 8, p0, c0, 4);
        free(p0);
        cases++;
        if (c0[0] != BF_C_SENTINEL || c0[3] != BF_C_SENTINEL) {
            fprintf(stderr, "FAIL %s: m = 0 wrote C\n", cfg->isa);
            failures++;
        }
    }
    static const size_t ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 128};
    static const size_t ns[] = {1,  2,  3,  4,  5,  7,  8,  9,  11, 13,  15,  16,  17,  23,  24,  31,
                                32, 33, 40, 47, 48, 49, 63, 64, 65, 79, 80, 81, 96, 112, 127, 128, 129, 255, 256, 257};
    static const size_t ks[] = {1,  2,  3,  4,  5,  6,  7,  8,   9,   11,  12,  13,  15,  16,  17,   19,   23,
                                27, 31, 32, 33, 47, 48, 63, 64,  65,  67,  80,  96,  127, 128, 129,  144,  191,
                                192, 255, 256, 257, 288, 383, 384, 509, 512, 576, 720, 1031, 1152, 2304, 2311};
    /* M around the tile */
    for (size_t d = 0; d < 3 * mr + 2; d++) {
        bf_gemm_case t = bf_gemm_case_default(d + 1, 37, 71);
        BF_RUN(t);
    }
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        bf_gemm_case t = bf_gemm_case_default(ms[i], 80, 27);
        BF_RUN(t);
    }
    /* every M up to 34 for each channel count that picks a different tile
     * (paths choose their row tile from N: 16, 12, 8, 6, 5 rows ...) */
    static const size_t tile_ns[] = {8, 16, 24, 32, 48, 64, 80, 96};
    for (size_t i = 0; i < sizeof tile_ns / sizeof tile_ns[0]; i++)
        for (size_t m = 1; m <= (quick ? 18 : 34); m++) {
            bf_gemm_case t = bf_gemm_case_default(m, tile_ns[i], m % 3 ? 21 : 64);
            BF_RUN(t);
        }
    /* N across block sizes, K across every tail */
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        bf_gemm_case t = bf_gemm_case_default(mr + 1, ns[i], 37);
        BF_RUN(t);
        t.k = 16;
        BF_RUN(t);
    }
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        bf_gemm_case t = bf_gemm_case_default(2 * mr + 1, 19, ks[i]);
        BF_RUN(t);
        t = bf_gemm_case_default(3, 64, ks[i]);
        BF_RUN(t);
    }
    /* every K 1..130 on a small tile (all residues mod 4, 16, 32, 64) */
    for (size_t k = 1; k <= 130; k++) {
        bf_gemm_case t = bf_gemm_case_default(mr + 3, 17, k);
        BF_RUN(t);
    }
    /* strides: lda > K, ldc > N, tight and loose weight rows */
    for (size_t s = 1; s < 70; s += 7) {
        bf_gemm_case t = bf_gemm_case_default(2 * mr + 3, 33, 45);
        t.lda = 45 + s;
        t.ldc = 33 + s;
        t.w_row_bytes = (45 + 3) / 4 + (s % 3);
        BF_RUN(t);
    }
    /* extremes: A = -128 with W = -1 (and +1), large K */
    static const size_t kx[] = {1, 3, 64, 255, 2304, 4099};
    for (size_t i = 0; i < sizeof kx / sizeof kx[0]; i++) {
        bf_gemm_case t = bf_gemm_case_default(mr + 1, 35, kx[i]);
        t.fill = BF_FILL_EXTREME;
        BF_RUN(t);
        t.fill = BF_FILL_EXTREME2;
        BF_RUN(t);
    }
    /* the network's shapes (docs/model-format.md; bench/yolov8n-shapes.h) with a few rows */
    static const size_t net[][2] = {{16, 27},  {32, 144},  {32, 32},   {16, 144}, {32, 48},  {64, 288},
                                    {64, 64},  {32, 288},  {64, 128},  {128, 576}, {128, 128}, {64, 576},
                                    {128, 256}, {256, 1152}, {256, 256}, {128, 1152}, {256, 384}, {256, 512},
                                    {128, 384}, {128, 192}, {64, 192}, {64, 96}, {80, 576}, {80, 720},
                                    {80, 80},  {64, 1152}, {80, 1152}, {64, 2304}, {80, 2304}};
    for (size_t i = 0; i < sizeof net / sizeof net[0]; i++) {
        bf_gemm_case t = bf_gemm_case_default(quick ? mr + 1 : 4 * mr + 5, net[i][0], net[i][1]);
        BF_RUN(t);
    }
    /* random shapes, some with strides */
    const int n_random = quick ? 40 : 250;
    for (int r = 0; r < n_random; r++) {
        const size_t m = rng_size(rg, 1, 3 * mr + 5);
        const size_t n = rng_size(rg, 1, (r & 3) == 0 ? 300 : 90);
        const size_t k = rng_size(rg, 1, (r & 7) == 0 ? 3000 : 400);
        bf_gemm_case t = bf_gemm_case_default(m, n, k);
        if (r & 1) {
            t.lda = k + rng_size(rg, 0, 80);
            t.ldc = n + rng_size(rg, 0, 20);
            t.w_row_bytes = (k + 3) / 4 + rng_size(rg, 0, 40);
        }
        BF_RUN(t);
    }
done:
    fprintf(stderr, "%s: %d cases, %d failed\n", cfg->isa, cases, failures);
    return failures;
#undef BF_RUN
}

/* --- multi-ternary weights (pack_terms) ----------------------------------
 *
 * A case of `nterms` balanced-ternary planes: integer weights q in [-L, L],
 * L = (3^nterms - 1) / 2, written as planes T_0..T_{nterms-1} (q = sum 3^i T_i),
 * plane i at w + i * plane_stride (the bytes between planes random). The path
 * under test folds its planes as the engine does (src/core/ops.c
 * bf_conv_pack): ceil(nterms / fold) parts of consecutive planes, as even as
 * possible, fold = bf_t2i8_gemm_fold(cfg) or a smaller `fold`; a part of one
 * plane goes through `pack`, of several through `pack_terms`, and the parts'
 * GEMMs are added with weights 3^(first plane) in int32. That must equal,
 * element by element, both the oracle's GEMM run once per plane and summed
 * with weights 3^i, and the plain sum of a * q (int64, q decoded here). Guard
 * pages and sentinels as in bf_gemm_check, for every part's GEMM. */
enum {
    BF_TFILL_RANDOM = 0,   /* A random with extra -128/127; q uniform, extra +-L, random sparsity */
    BF_TFILL_NEG = 1,      /* A all -128, q all -L: the largest positive sums */
    BF_TFILL_POS = 2,      /* q all +L; A -128 on even rows, 127 on odd rows */
    BF_TFILL_EXTREMES = 3, /* A and q random extremes only: -128/127 and -L/+L */
    BF_TFILL_COUNT = 4
};

static inline int bf_terms_levels(int nterms)
{
    int l = 0;
    for (int i = 0; i < nterms; i++)
        l = 3 * l + 1;
    return l;
}

/* q -> its balanced-ternary digits (least significant first), as 2-bit codes */
static inline void bf_terms_digits(int q, int nterms, unsigned *codes)
{
    for (int i = 0; i < nterms; i++) {
        int d = ((q % 3) + 3) % 3; /* 0, 1, 2 */
        if (d == 2)
            d = -1;
        codes[i] = d == 0 ? 0u : d == 1 ? 1u : 2u;
        q = (q - d) / 3;
    }
}

static inline bool bf_gemm_check_terms(const bf_t2i8_gemm_config *cfg, const bf_t2i8_gemm_config *oracle,
                                       const bf_gemm_case *t, int nterms, int fold, size_t plane_gap, rng *rg)
{
    if (t->m < 1 || t->n < 1 || t->k < 1 || t->lda < t->k || t->ldc < t->n || t->w_row_bytes < (t->k + 3) / 4 ||
        nterms < 1 || nterms > BF_T2I8_MAX_TERMS) {
        fprintf(stderr, "tester bug: invalid terms case\n");
        exit(2);
    }
    const int fold_max = bf_t2i8_gemm_fold(cfg);
    if (fold < 1 || fold > fold_max)
        fold = fold_max;
    const int parts = (nterms + fold - 1) / fold;
    const int levels = bf_terms_levels(nterms);
    const size_t plane_stride = t->n * t->w_row_bytes + plane_gap;
    const size_t a_size = (t->m - 1) * t->lda + t->k;
    const size_t w_size = (size_t)(nterms - 1) * plane_stride + t->n * t->w_row_bytes;
    const size_t c_elems = (t->m - 1) * t->ldc + t->n;
    bf_gemm_catch_faults();
    const uint64_t case_state = rg->s;
    snprintf(bf_gemm_current, sizeof bf_gemm_current,
             "%s: %d terms in %d GEMM(s) (fold %d): m=%zu n=%zu k=%zu lda=%zu ldc=%zu w_row_bytes=%zu plane_gap=%zu "
             "fill=%d (BF_TEST_SEED=0x%" PRIx64 ", case rng state 0x%" PRIx64 ")\n",
             cfg->isa, nterms, parts, fold, t->m, t->n, t->k, t->lda, t->ldc, t->w_row_bytes, plane_gap, t->fill,
             bf_gemm_test_seed, case_state);
    bf_guarded ga = {0}, gw = {0}, gp = {0}, gc = {0};
    int8_t *a = bf_guarded_alloc(&ga, a_size);
    uint8_t *w = bf_guarded_alloc(&gw, w_size);
    int16_t *q = malloc(t->n * t->k * sizeof *q);
    int64_t *want = malloc(c_elems * sizeof *want), *direct = malloc(c_elems * sizeof *direct);
    uint32_t *got = malloc(c_elems * sizeof *got);
    int32_t *c_or = malloc(c_elems * sizeof *c_or);
    if (q == NULL || want == NULL || direct == NULL || got == NULL || c_or == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    /* A */
    for (size_t i = 0; i < t->m; i++) {
        const size_t row_len = i + 1 < t->m ? t->lda : t->k;
        for (size_t kk = 0; kk < row_len; kk++) {
            const uint64_t r = rng_u64(rg);
            int8_t v;
            switch (t->fill) {
            case BF_TFILL_NEG: v = -128; break;
            case BF_TFILL_POS: v = (i & 1) ? 127 : -128; break;
            case BF_TFILL_EXTREMES: v = (r & 1) ? 127 : -128; break;
            default: v = (r & 7) == 0 ? -128 : (r & 7) == 1 ? 127 : (int8_t)(r >> 8);
            }
            a[i * t->lda + kk] = v;
        }
    }
    /* q and its planes; the padding codes (k >= K, any of the four) and the
     * bytes between rows and planes stay random */
    for (size_t i = 0; i < w_size; i++)
        w[i] = (uint8_t)rng_u64(rg);
    const unsigned sparsity = (unsigned)rng_size(rg, 0, 4);
    for (size_t j = 0; j < t->n; j++)
        for (size_t kk = 0; kk < t->k; kk++) {
            const uint64_t r = rng_u64(rg);
            int v;
            switch (t->fill) {
            case BF_TFILL_NEG: v = -levels; break;
            case BF_TFILL_POS: v = levels; break;
            case BF_TFILL_EXTREMES: v = (r & 1) ? levels : -levels; break;
            default:
                if ((r % 5) < sparsity)
                    v = 0;
                else if ((r >> 8) % 6 == 0)
                    v = ((r >> 16) & 1) ? levels : -levels;
                else
                    v = (int)((r >> 16) % (uint64_t)(2 * levels + 1)) - levels;
            }
            q[j * t->k + kk] = (int16_t)v;
            unsigned codes[BF_T2I8_MAX_TERMS];
            bf_terms_digits(v, nterms, codes);
            for (int p = 0; p < nterms; p++)
                bf_t2_put(w + (size_t)p * plane_stride + j * t->w_row_bytes, kk, codes[p]);
        }
    /* the direct sum of a * q */
    for (size_t i = 0; i < t->m; i++)
        for (size_t j = 0; j < t->n; j++) {
            int64_t s = 0;
            for (size_t kk = 0; kk < t->k; kk++)
                s += (int64_t)a[i * t->lda + kk] * q[j * t->k + kk];
            direct[i * t->ldc + j] = s;
        }
    /* the oracle once per plane, weights 3^p */
    for (size_t i = 0; i < c_elems; i++)
        want[i] = 0;
    {
        bf_guarded go = {0};
        void *po = bf_guarded_alloc(&go, oracle->packed_size(t->n, t->k));
        int64_t weight = 1;
        for (int p = 0; p < nterms; p++, weight *= 3) {
            oracle->pack(t->n, t->k, w + (size_t)p * plane_stride, t->w_row_bytes, po);
            oracle->gemm(t->m, t->n, t->k, a, t->lda, po, c_or, t->ldc);
            for (size_t i = 0; i < t->m; i++)
                for (size_t j = 0; j < t->n; j++)
                    want[i * t->ldc + j] += weight * c_or[i * t->ldc + j];
        }
        bf_guarded_free(&go);
    }
    /* the path: parts, as the engine splits them */
    int32_t *c = bf_guarded_alloc(&gc, c_elems * sizeof(int32_t));
    void *packed = bf_guarded_alloc(&gp, cfg->packed_size(t->n, t->k));
    for (size_t i = 0; i < c_elems; i++)
        got[i] = 0;
    bool ok = true;
    for (int part = 0; part < parts && ok; part++) {
        const int base = nterms / parts, extra = nterms % parts;
        const int first = part * base + (part < extra ? part : extra), terms = base + (part < extra ? 1 : 0);
        uint32_t weight = 1;
        for (int i = 0; i < first; i++)
            weight *= 3;
        const uint8_t *src = w + (size_t)first * plane_stride;
        if (terms == 1)
            cfg->pack(t->n, t->k, src, t->w_row_bytes, packed);
        else
            cfg->pack_terms(t->n, t->k, terms, src, t->w_row_bytes, plane_stride, packed);
        for (size_t i = 0; i < c_elems; i++)
            c[i] = BF_C_SENTINEL;
        cfg->gemm(t->m, t->n, t->k, a, t->lda, packed, c, t->ldc);
        for (size_t i = 0; i < t->m && ok; i++)
            for (size_t j = t->n; j < t->ldc && i * t->ldc + j < c_elems; j++)
                if (c[i * t->ldc + j] != BF_C_SENTINEL) {
                    fprintf(stderr, "FAIL %s: C[%zu][%zu] written outside M x N in %s", cfg->isa, i, j,
                            bf_gemm_current);
                    ok = false;
                    break;
                }
        for (size_t i = 0; i < t->m; i++)
            for (size_t j = 0; j < t->n; j++)
                got[i * t->ldc + j] += weight * (uint32_t)c[i * t->ldc + j];
    }
    for (size_t i = 0; i < t->m && ok; i++)
        for (size_t j = 0; j < t->n && ok; j++) {
            const size_t at = i * t->ldc + j;
            if (want[at] != direct[at] || want[at] < INT32_MIN || want[at] > INT32_MAX) {
                fprintf(stderr, "tester bug: oracle %" PRId64 " vs direct %" PRId64 " at [%zu][%zu] in %s", want[at],
                        direct[at], i, j, bf_gemm_current);
                exit(2);
            }
            if ((int32_t)got[at] != want[at]) {
                fprintf(stderr, "FAIL %s vs %s per plane: C[%zu][%zu] = %" PRId32 ", expected %" PRId64 " in %s",
                        cfg->isa, oracle->isa, i, j, (int32_t)got[at], want[at], bf_gemm_current);
                ok = false;
            }
        }
    free(q);
    free(want);
    free(direct);
    free(got);
    free(c_or);
    bf_guarded_free(&gc);
    bf_guarded_free(&gp);
    bf_guarded_free(&gw);
    bf_guarded_free(&ga);
    return ok;
}

/* Every n_terms 1..5 on shapes around the tiles, every K tail (and the
 * K = 64 / 16 / 4 spans between avx2's int16 widenings for L = 4, 13, 40),
 * N tails, strides, gaps between planes, the extremes of A and q, the
 * network's shapes and random ones; each at the path's full fold, random
 * cases at a random smaller fold too. Returns the number of failing cases. */
static inline int bf_gemm_sweep_terms(const bf_t2i8_gemm_config *cfg, const bf_t2i8_gemm_config *oracle,
                                      rng *rg, bool quick)
{
    int failures = 0, cases = 0;
    const size_t mr = cfg->mr ? cfg->mr : 1;
    const int fold_max = bf_t2i8_gemm_fold(cfg);
#define BF_RUN_T(tc, nt, fold, gap)                                                                                   \
    do {                                                                                                              \
        cases++;                                                                                                      \
        if (!bf_gemm_check_terms(cfg, oracle, &(tc), (nt), (fold), (gap), rg) && ++failures >= 10)                   \
            goto done;                                                                                                \
    } while (0)
    static const size_t ns[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 49, 63, 64, 65, 79, 80, 81,
                                96, 127, 129};
    static const size_t ks[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,   13,  15,  16,  17,  19,  31,  32,  33,
                                47, 63, 64, 65, 67, 127, 128, 129, 191, 255, 256, 257, 259, 383, 513, 1031, 2311};
    static const size_t net[][2] = {{16, 27},  {32, 144}, {32, 32},   {64, 288},  {64, 64},   {128, 576},
                                    {128, 128}, {256, 1152}, {256, 256}, {80, 576}, {80, 720}, {64, 2304}};
    for (int nt = 1; nt <= BF_T2I8_MAX_TERMS; nt++) {
        /* M around the tile, every tile the paths pick from N */
        for (size_t d = 0; d < (quick ? 2 * mr : 3 * mr + 2); d++) {
            bf_gemm_case t = bf_gemm_case_default(d + 1, 37, 71);
            BF_RUN_T(t, nt, fold_max, 0);
        }
        static const size_t tile_ns[] = {8, 16, 24, 32, 48, 64, 80, 96};
        for (size_t i = 0; i < sizeof tile_ns / sizeof tile_ns[0]; i++) {
            bf_gemm_case t = bf_gemm_case_default(quick ? mr + 1 : 2 * mr + 3, tile_ns[i], 45);
            BF_RUN_T(t, nt, fold_max, 0);
        }
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            bf_gemm_case t = bf_gemm_case_default(mr + 1, ns[i], 37);
            BF_RUN_T(t, nt, fold_max, 0);
        }
        for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
            bf_gemm_case t = bf_gemm_case_default(mr + 2, 19, ks[i]);
            BF_RUN_T(t, nt, fold_max, 0);
            if (!quick) {
                t = bf_gemm_case_default(3, 64, ks[i]);
                BF_RUN_T(t, nt, fold_max, 0);
            }
        }
        /* strides and gaps between the planes */
        for (size_t s = 1; s < 40; s += 9) {
            bf_gemm_case t = bf_gemm_case_default(2 * mr + 3, 33, 45);
            t.lda = 45 + s;
            t.ldc = 33 + s;
            t.w_row_bytes = (45 + 3) / 4 + (s % 3);
            BF_RUN_T(t, nt, fold_max, s * 5);
        }
        /* extremes, up to large K */
        static const size_t kx[] = {1, 3, 4, 16, 64, 255, 256, 257, 1031, 2304, 4099};
        for (size_t i = 0; i < sizeof kx / sizeof kx[0]; i++)
            for (int f = BF_TFILL_NEG; f < BF_TFILL_COUNT; f++) {
                bf_gemm_case t = bf_gemm_case_default(mr + 1, 35, kx[i]);
                t.fill = f;
                BF_RUN_T(t, nt, fold_max, 0);
            }
        for (size_t i = 0; i < sizeof net / sizeof net[0]; i++) {
            bf_gemm_case t = bf_gemm_case_default(quick ? mr : 2 * mr + 1, net[i][0], net[i][1]);
            BF_RUN_T(t, nt, fold_max, 0);
        }
        /* random shapes, strides and gaps, any fill; half at a random fold */
        const int n_random = quick ? 12 : 50;
        for (int r = 0; r < n_random; r++) {
            const size_t m = rng_size(rg, 1, 3 * mr + 5);
            const size_t n = rng_size(rg, 1, (r & 3) == 0 ? 200 : 90);
            const size_t k = rng_size(rg, 1, (r & 7) == 0 ? 3000 : 400);
            bf_gemm_case t = bf_gemm_case_default(m, n, k);
            t.fill = (r & 7) == 5 ? (int)rng_size(rg, 1, BF_TFILL_COUNT - 1) : BF_TFILL_RANDOM;
            size_t gap = 0;
            if (r & 1) {
                t.lda = k + rng_size(rg, 0, 80);
                t.ldc = n + rng_size(rg, 0, 20);
                t.w_row_bytes = (k + 3) / 4 + rng_size(rg, 0, 40);
                gap = rng_size(rg, 0, 100);
            }
            const int fold = (r & 2) ? (int)rng_size(rg, 1, (size_t)fold_max) : fold_max;
            BF_RUN_T(t, nt, fold, gap);
        }
    }
done:
    fprintf(stderr, "%s: multi-ternary (n_terms 1..%d, one GEMM folds up to %d): %d cases, %d failed\n", cfg->isa,
            BF_T2I8_MAX_TERMS, fold_max, cases, failures);
    return failures;
#undef BF_RUN_T
}

/* --- the indirect GEMM (igemm) --------------------------------------------
 *
 * Row i of A is `segs` runs of seg_k bytes, run s at ptrs[i * segs + s]. The
 * runs are drawn anywhere in one pool (overlapping, repeated, misaligned),
 * one of them ending at the pool's last byte, before an inaccessible page.
 * The oracle runs its plain GEMM on the gathered rows; C must match element
 * by element, nothing written outside M x N. nterms > 1: the weights are
 * packed from that many planes by pack_terms (the igemm reads the same
 * packing as gemm). */
static inline bool bf_igemm_check(const bf_t2i8_gemm_config *cfg, const bf_t2i8_gemm_config *oracle, size_t m,
                                  size_t n, size_t segs, size_t seg_k, size_t ldc, int nterms, int fill, rng *rg)
{
    const size_t k = segs * seg_k, w_row_bytes = (k + 63) / 64 * 16;
    const uint64_t case_state = rg->s;
    snprintf(bf_gemm_current, sizeof bf_gemm_current,
             "%s igemm: m=%zu n=%zu segs=%zu seg_k=%zu ldc=%zu nterms=%d fill=%d (BF_TEST_SEED=0x%" PRIx64
             ", case rng state 0x%" PRIx64 ")\n",
             cfg->isa, m, n, segs, seg_k, ldc, nterms, fill, bf_gemm_test_seed, case_state);
    bf_gemm_catch_faults();
    const size_t pool_size = seg_k + rng_size(rg, 0, m * k / 2 + 8);
    bf_guarded gpool = {0}, gw = {0}, gp = {0}, gc = {0};
    int8_t *pool = bf_guarded_alloc(&gpool, pool_size);
    for (size_t i = 0; i < pool_size; i++) {
        const uint64_t r = rng_u64(rg);
        pool[i] = fill ? (fill == 2 && (i & 1) ? 127 : -128) : (r & 7) == 0 ? -128 : (r & 7) == 1 ? 127 : (int8_t)(r >> 8);
    }
    const int8_t **ptrs = malloc(m * segs * sizeof *ptrs);
    int8_t *gathered = malloc(m * k);
    int32_t *c_ref = malloc(((m - 1) * ldc + n) * sizeof(int32_t));
    /* the oracle packs one plane (the reference folds none): the planes'
     * integer weights q, summed with weights 3^i over per-plane GEMMs */
    int32_t *c_plane = malloc(((m - 1) * ldc + n) * sizeof(int32_t));
    if (ptrs == NULL || gathered == NULL || c_ref == NULL || c_plane == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (size_t r = 0; r < m * segs; r++) {
        const size_t at = r == m * segs / 2 ? pool_size - seg_k : rng_size(rg, 0, pool_size - seg_k);
        ptrs[r] = pool + at;
        memcpy(gathered + (r / segs) * k + (r % segs) * seg_k, ptrs[r], seg_k);
    }
    const size_t plane_bytes = n * w_row_bytes;
    uint8_t *w = bf_guarded_alloc(&gw, plane_bytes * (size_t)nterms);
    for (int t = 0; t < nterms; t++) {
        bf_gemm_case wc = bf_gemm_case_default(1, n, k);
        wc.fill = fill;
        int8_t dummy[1];
        wc.m = 0; /* weights only */
        bf_gemm_fill(&wc, rg, dummy, w + (size_t)t * plane_bytes);
    }
    void *packed = bf_guarded_alloc(&gp, cfg->packed_size(n, k));
    if (nterms == 1)
        cfg->pack(n, k, w, w_row_bytes, packed);
    else
        cfg->pack_terms(n, k, nterms, w, w_row_bytes, plane_bytes, packed);
    const size_t c_elems = (m - 1) * ldc + n;
    for (size_t i = 0; i < c_elems; i++)
        c_ref[i] = 0;
    int32_t weight = 1;
    for (int t = 0; t < nterms; t++, weight *= 3) {
        void *packed_ref = malloc(oracle->packed_size(n, k) + 1);
        if (packed_ref == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        oracle->pack(n, k, w + (size_t)t * plane_bytes, w_row_bytes, packed_ref);
        oracle->gemm(m, n, k, gathered, k, packed_ref, c_plane, ldc);
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++)
                c_ref[i * ldc + j] += weight * c_plane[i * ldc + j];
        free(packed_ref);
    }
    int32_t *c = bf_guarded_alloc(&gc, c_elems * sizeof(int32_t));
    for (size_t i = 0; i < c_elems; i++)
        c[i] = BF_C_SENTINEL;
    cfg->igemm(m, n, segs, seg_k, ptrs, packed, c, ldc);
    bool ok = true;
    for (size_t at = 0; at < c_elems && ok; at++) {
        const size_t i = at / ldc, j = at % ldc;
        const int32_t want = j < n ? c_ref[at] : BF_C_SENTINEL;
        if (c[at] != want) {
            fprintf(stderr, "FAIL %s igemm vs %s: C[%zu][%zu] = %" PRId32 ", expected %" PRId32 "%s in case %s",
                    cfg->isa, oracle->isa, i, j, c[at], want, j < n ? "" : " (written outside M x N)",
                    bf_gemm_current);
            ok = false;
        }
    }
    free(c_plane);
    free(c_ref);
    free(gathered);
    free(ptrs);
    bf_guarded_free(&gc);
    bf_guarded_free(&gp);
    bf_guarded_free(&gw);
    bf_guarded_free(&gpool);
    return ok;
}

/* The igemm sweep: M around every tile, N across the tile choices, the
 * convolutions' runs (kw * in_c for 3x3 over 16..256 channels, 1-tap runs),
 * extremes, random shapes; planes up to the path's fold. */
static inline int bf_igemm_sweep(const bf_t2i8_gemm_config *cfg, const bf_t2i8_gemm_config *oracle, rng *rg,
                                 bool quick)
{
    if (cfg->igemm == NULL)
        return 0;
    int failures = 0, cases = 0;
    const int fold = bf_t2i8_gemm_fold(cfg);
#define BF_RUN_I(m, n, segs, seg_k, ldc, nt, fill)                                                                    \
    do {                                                                                                              \
        cases++;                                                                                                      \
        if (!bf_igemm_check(cfg, oracle, (m), (n), (segs), (seg_k), (ldc), (nt), (fill), rg) && ++failures >= 10)    \
            goto done;                                                                                                \
    } while (0)
    static const size_t ns[] = {1, 5, 16, 17, 31, 32, 33, 48, 64, 65, 80, 96, 112, 128, 144, 255, 256};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        for (size_t m = 1; m <= (quick ? 18 : 35); m += quick ? 3 : 1)
            BF_RUN_I(m, ns[i], 3, 12 + 4 * (m % 3), ns[i] + (m % 4 == 0 ? 7 : 0), 1, 0);
    /* the network's 3x3 convs: 3 runs of 3 * in_c bytes; 9 runs of in_c; 1 run */
    static const size_t conv[][2] = {{16, 16}, {32, 16}, {32, 32}, {64, 32}, {64, 64}, {128, 64}, {80, 64},
                                     {80, 80}, {64, 128}, {128, 128}, {256, 128}, {80, 128}, {64, 256}, {80, 256}};
    for (size_t i = 0; i < sizeof conv / sizeof conv[0]; i++) {
        const size_t m = quick ? 13 : 50;
        BF_RUN_I(m, conv[i][0], 3, 3 * conv[i][1], conv[i][0], 1, 0);
        BF_RUN_I(m, conv[i][0], 9, conv[i][1], conv[i][0], fold, 0);
        BF_RUN_I(7, conv[i][0], 1, 9 * conv[i][1], conv[i][0], 1, 0);
    }
    for (int nt = 2; nt <= fold; nt++)
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i += 3)
            BF_RUN_I(rng_size(rg, 1, 40), ns[i], rng_size(rg, 1, 9), 4 * rng_size(rg, 1, 40), ns[i], nt, 0);
    /* N <= 16 with K % 16 == 0 but runs that are not whole 16-k quads
     * (avx512vnni's quad tile takes those groups one at a time) */
    for (size_t n = 1; n <= 16; n += 5)
        for (size_t seg_k = 4; seg_k <= 28; seg_k += 8) {
            BF_RUN_I(quick ? 9 : 23, n, 16 / 4, seg_k, n, 1, 0);
            BF_RUN_I(quick ? 9 : 23, n, 8, seg_k + 4, n + 3, fold, 0);
        }
    /* extremes: A = -128 with W = -1 (and +1, A = 127 on odd bytes) */
    BF_RUN_I(17, 35, 9, 256, 35, 1, 1);
    BF_RUN_I(17, 35, 9, 256, 35, 1, 2);
    BF_RUN_I(5, 80, 3, 3 * 256, 80, 1, 1);
    for (int r = 0; r < (quick ? 30 : 200); r++) {
        const size_t n = rng_size(rg, 1, (r & 3) == 0 ? 300 : 90);
        BF_RUN_I(rng_size(rg, 1, 60), n, rng_size(rg, 1, 12), 4 * rng_size(rg, 1, (r & 7) == 0 ? 200 : 40),
                 n + rng_size(rg, 0, 9), (int)rng_size(rg, 1, (size_t)fold), 0);
    }
done:
    fprintf(stderr, "%s igemm: %d cases, %d failed\n", cfg->isa, cases, failures);
    return failures;
#undef BF_RUN_I
}

#endif /* BF_GEMM_TESTER_H */
