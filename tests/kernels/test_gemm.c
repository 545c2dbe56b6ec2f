/*
 * Bit-exactness of one GEMM path against its oracle (gemm-tester.h).
 *
 *   kernels_test_gemm t2i8 ISA [--quick]   ISA: ref or a t2i8-gemm.inc name
 *   kernels_test_gemm b1   ISA [--quick]   ISA: ref or a b1-gemm.inc name
 *
 * t2i8 ref is checked against a naive oracle written here (decoded weights,
 * one multiply per term); every other t2i8 path and every b1 path (ref
 * included) against the t2i8 reference. t2i8 paths then run the
 * multi-ternary sweep (gemm-tester.h bf_gemm_sweep_terms: n_terms 1..5, the
 * planes folded by pack_terms up to the path's max_terms, split into several
 * GEMMs above it) against the oracle run once per plane, and, where the path
 * has an indirect GEMM, the igemm sweep (bf_igemm_sweep: rows gathered from
 * runs anywhere in a pool) against the oracle on the gathered rows. Exits 77 (skip) when
 * this CPU cannot run the path, 1 on any difference. BF_TEST_SEED replays a
 * run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b1-gemm/b1-gemm.h"
#include "cpu.h"
#include "gemm-tester.h"
#include "t2i8-gemm/t2i8-gemm.h"

/* --- naive oracle: weights decoded to int8 at pack time ------------------ */
static size_t naive_packed_size(size_t n, size_t k)
{
    return n * k;
}

static void naive_pack(size_t n, size_t k, const uint8_t *w, size_t w_row_bytes, void *packed)
{
    int8_t *out = packed;
    for (size_t j = 0; j < n; j++) {
        const uint8_t *row = w + j * w_row_bytes;
        for (size_t kk = 0; kk < k; kk++) {
            const unsigned code = (row[kk / 4] >> (2 * (kk % 4))) & 3u;
            out[j * k + kk] = code == 1 ? 1 : code == 2 ? -1 : 0;
        }
    }
}

static void naive_gemm(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed, int32_t *c,
                       size_t ldc)
{
    const int8_t *w = packed;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            long long s = 0;
            for (size_t kk = 0; kk < k; kk++)
                s += (long long)a[i * lda + kk] * w[j * k + kk];
            c[i * ldc + j] = (int32_t)s;
        }
}

static const bf_t2i8_gemm_config naive = {
    .isa = "naive", .packed_size = naive_packed_size, .pack = naive_pack, .gemm = naive_gemm, .mr = 1, .max_terms = 1};

typedef struct entry {
    const char *name;
    const bf_t2i8_gemm_config *config;
    bool (*can_run)(const bf_cpu_flags *);
    int max_terms; /* what the enumerator says the path folds; 0 = not checked (b1) */
} entry;

#define BF_T2I8_GEMM(arch, name, config, check, feature, max_terms) BF_ON_##arch({#name, &config, check, max_terms}, )
static const entry t2i8_paths[] = {
#include "t2i8-gemm/t2i8-gemm.inc"
    {"ref", &bf_t2i8_gemm_ref, bf_kernel_test_always, 1},
};
#undef BF_T2I8_GEMM
#define BF_B1_GEMM(arch, name, config, check, feature) BF_ON_##arch({#name, &config, check, 0}, )
static const entry b1_paths[] = {
#include "b1-gemm/b1-gemm.inc"
    {"ref", &bf_b1_gemm_ref, bf_kernel_test_always, 0},
};
#undef BF_B1_GEMM

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s t2i8|b1 ISA [--quick]\n", argv[0]);
        return 2;
    }
    const bool quick = argc > 3 && strcmp(argv[3], "--quick") == 0;
    const bool b1 = strcmp(argv[1], "b1") == 0;
    if (!b1 && strcmp(argv[1], "t2i8") != 0) {
        fprintf(stderr, "unknown family '%s'\n", argv[1]);
        return 2;
    }
    const entry *table = b1 ? b1_paths : t2i8_paths;
    const size_t n = b1 ? sizeof b1_paths / sizeof b1_paths[0] : sizeof t2i8_paths / sizeof t2i8_paths[0];
    const entry *e = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].name, argv[2]) == 0)
            e = &table[i];
    const int skip = bf_kernel_test_skip(argv[1], argv[2], e != NULL ? e->can_run : NULL);
    if (skip != 0)
        return skip;
    const bf_t2i8_gemm_config *oracle = (!b1 && e->config == &bf_t2i8_gemm_ref) ? &naive : &bf_t2i8_gemm_ref;
    bf_gemm_test_seed = test_seed(0x5EEDB17FA1C0ull);
    rng rg;
    rng_init(&rg, bf_gemm_test_seed);
    fprintf(stderr, "%s vs %s, BF_TEST_SEED=0x%llx%s\n", e->config->isa, oracle->isa,
            (unsigned long long)bf_gemm_test_seed, quick ? " (quick)" : "");
    int failures = bf_gemm_sweep(e->config, oracle, &rg, quick);
    if (!b1) {
        /* the fold each path promises (t2i8-gemm.inc): a path folding fewer
         * planes than it could is slow, one folding more is not exact */
        if (bf_t2i8_gemm_fold(e->config) != e->max_terms || strcmp(e->config->isa, e->name) != 0) {
            fprintf(stderr, "FAIL %s: folds %d planes per GEMM, expected %d (config isa '%s')\n", e->name,
                    bf_t2i8_gemm_fold(e->config), e->max_terms, e->config->isa);
            failures++;
        }
        failures += bf_gemm_sweep_terms(e->config, oracle, &rg, quick);
        failures += bf_igemm_sweep(e->config, oracle, &rg, quick);
    }
    return failures == 0 ? 0 : 1;
}
