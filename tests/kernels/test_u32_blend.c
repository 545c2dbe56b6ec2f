/*
 * kernels_u32_blend_<isa>: a letterbox blend path (kernels/u32-blend/) bit
 * for bit against the reference: random row lengths 0..2000 (every tail),
 * horizontal sums anywhere in 0..255 * 2048 and at both ends, weights
 * wy1 = 0 (the copy form), 1, 2047 and random. The rows end at an
 * inaccessible page (a read past them faults) and the output has sentinels on
 * both sides that must survive. Exits 77 (skip) when this CPU or build lacks
 * the path.
 *
 *   kernels_test_u32_blend ISA      (ISA: ref or a u32-blend.inc name)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "gemm-tester.h"
#include "u32-blend/u32-blend.h"

typedef struct entry {
    const char *name;
    const bf_u32_blend_config *config;
    bool (*can_run)(const bf_cpu_flags *);
} entry;

static bool always(const bf_cpu_flags *f)
{
    (void)f;
    return true;
}

#define BF_U32_BLEND(arch, name, config, check, feature) BF_ON_##arch({#name, &config, check}, )
static const entry paths[] = {
#include "u32-blend/u32-blend.inc"
    {"ref", &bf_u32_blend_ref, always},
};
#undef BF_U32_BLEND

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
    const int skip = bf_kernel_test_skip("u32-blend", argv[1], e != NULL ? e->can_run : NULL);
    if (skip != 0)
        return skip;
    const uint64_t seed = test_seed(0xB1E4D5EEDull);
    rng rg;
    rng_init(&rg, seed);
    const uint32_t hmax = 255u * 2048u;
    int fails = 0, cases = 0;
    for (int it = 0; it < 600 && fails == 0; it++, cases++) {
        const size_t count = it < 64 ? (size_t)it : rng_size(&rg, 0, 2000);
        bf_guarded g0 = {0}, g1 = {0};
        uint32_t *h0 = bf_guarded_alloc(&g0, count * sizeof *h0), *h1 = bf_guarded_alloc(&g1, count * sizeof *h1);
        const int mode = rng_int(&rg, 0, 3); /* 0 random, 1 all 0, 2 all max, 3 mixed ends */
        for (size_t i = 0; i < count; i++) {
            const uint32_t r0 = (uint32_t)rng_u64(&rg) % (hmax + 1), r1 = (uint32_t)rng_u64(&rg) % (hmax + 1);
            h0[i] = mode == 1 ? 0 : mode == 2 ? hmax : mode == 3 ? (i & 1 ? hmax : 0) : r0;
            h1[i] = mode == 1 ? 0 : mode == 2 ? hmax : mode == 3 ? (i & 2 ? hmax : 0) : r1;
        }
        const uint32_t choices[] = {0, 1, 1024, 2047};
        const uint32_t wy1 = rng_int(&rg, 0, 2) == 0 ? choices[rng_int(&rg, 0, 3)] : (uint32_t)rng_int(&rg, 0, 2047);
        const uint32_t wy0 = 2048u - wy1;
        int8_t *want = malloc(count + 1), *got = malloc(count + 32);
        bf_u32_blend_ref.blend(h0, h1, wy0, wy1, count, want);
        memset(got, 0x5A, count + 32);
        e->config->blend(h0, h1, wy0, wy1, count, got + 16);
        for (size_t i = 0; i < 16; i++)
            if (got[i] != 0x5A || got[16 + count + i] != 0x5A) {
                fprintf(stderr, "FAIL %s case %d: a sentinel around the %zu outputs was overwritten\n", argv[1],
                        it, count);
                fails++;
                break;
            }
        for (size_t i = 0; i < count && fails == 0; i++)
            if (got[16 + i] != want[i]) {
                fprintf(stderr, "FAIL %s case %d (count %zu, wy %u/%u): d[%zu] = %d, want %d (h %u %u)\n", argv[1],
                        it, count, wy0, wy1, i, got[16 + i], want[i], h0[i], h1[i]);
                fails++;
            }
        free(want);
        free(got);
        bf_guarded_free(&g0);
        bf_guarded_free(&g1);
    }
    printf("%s: %d cases, %d failed (seed 0x%llx)\n", argv[1], cases, fails, (unsigned long long)seed);
    return fails == 0 ? 0 : 1;
}
