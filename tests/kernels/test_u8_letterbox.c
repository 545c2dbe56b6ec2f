/*
 * kernels_u8_letterbox_<isa>: a letterbox row-pass path (kernels/u8-letterbox/)
 * bit for bit against the reference. The blend: random row lengths 0..2000 (every tail),
 * horizontal sums anywhere in 0..255 * 2048 and at both ends, weights
 * wy1 = 0 (the copy form), 1, 2047 and random. The rows end at an
 * inaccessible page (a read past them faults) and the output has sentinels on
 * both sides that must survive. The horizontal pass: source rows of 1..700
 * pixels ending at a guard page (a read past the row faults), 0..700
 * columns from resize-like tables or any in range, RGB and BGR, a sentinel
 * after the 3n sums. Exits 77 (skip) when this CPU or build lacks
 * the path.
 *
 *   kernels_test_u8_letterbox ISA      (ISA: ref or a u8-letterbox.inc name)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "gemm-tester.h"
#include "u8-letterbox/u8-letterbox.h"

typedef struct entry {
    const char *name;
    const bf_u8_letterbox_config *config;
    bool (*can_run)(const bf_cpu_flags *);
} entry;

#define BF_U8_LETTERBOX(arch, name, config, check, feature) BF_ON_##arch({#name, &config, check}, )
static const entry paths[] = {
#include "u8-letterbox/u8-letterbox.inc"
    {"ref", &bf_u8_letterbox_ref, bf_kernel_test_always},
};
#undef BF_U8_LETTERBOX

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
    const int skip = bf_kernel_test_skip("u8-letterbox", argv[1], e != NULL ? e->can_run : NULL);
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
        bf_u8_letterbox_ref.blend(h0, h1, wy0, wy1, count, want);
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
    /* the horizontal pass: source rows of 1..700 pixels ending at a guard
     * page, tables as a resize makes them (x0 non-decreasing, x1 the next
     * pixel or x0 itself at the end) or anything in range, both orders */
    for (int it = 0; it < 600 && fails == 0; it++, cases++) {
        const size_t w = it < 8 ? (size_t)it + 1 : rng_size(&rg, 1, 700), n = rng_size(&rg, 0, 700);
        bf_guarded gs = {0};
        uint8_t *src = bf_guarded_alloc(&gs, 3 * w);
        for (size_t i = 0; i < 3 * w; i++)
            src[i] = (uint8_t)rng_u64(&rg);
        int32_t *x0 = malloc((n + 1) * sizeof *x0), *x1 = malloc((n + 1) * sizeof *x1), *ax = malloc((n + 1) * sizeof *ax);
        const int resize = rng_int(&rg, 0, 3) > 0;
        for (size_t x = 0; x < n; x++) {
            size_t p0 = resize ? x * w / (n > 0 ? n : 1) : rng_size(&rg, 0, w - 1);
            p0 = p0 > w - 1 ? w - 1 : p0;
            const size_t p1 = resize ? (p0 + 1 < w ? p0 + 1 : w - 1) : rng_size(&rg, 0, w - 1);
            x0[x] = (int32_t)(3 * p0), x1[x] = (int32_t)(3 * p1);
            ax[x] = rng_int(&rg, 0, 5) == 0 ? (rng_int(&rg, 0, 1) ? 0 : 2047) : rng_int(&rg, 0, 2047);
        }
        const int bgr = rng_int(&rg, 0, 1);
        uint32_t *want = malloc((3 * n + 1) * sizeof *want), *got = malloc((3 * n + 8) * sizeof *got);
        bf_u8_letterbox_ref.horizontal(src, 3 * w, x0, x1, ax, n, bgr, want);
        for (size_t i = 0; i < 3 * n + 8; i++)
            got[i] = 0xA5A5A5A5u;
        e->config->horizontal(src, 3 * w, x0, x1, ax, n, bgr, got);
        for (size_t i = 3 * n; i < 3 * n + 8; i++)
            if (got[i] != 0xA5A5A5A5u) {
                fprintf(stderr, "FAIL %s horizontal case %d: wrote past the %zu columns\n", argv[1], it, n);
                fails++;
                break;
            }
        for (size_t i = 0; i < 3 * n && fails == 0; i++)
            if (got[i] != want[i]) {
                fprintf(stderr, "FAIL %s horizontal case %d (w %zu, n %zu, bgr %d): h[%zu] = %u, want %u\n", argv[1],
                        it, w, n, bgr, i, got[i], want[i]);
                fails++;
            }
        free(want);
        free(got);
        free(x0);
        free(x1);
        free(ax);
        bf_guarded_free(&gs);
    }
    printf("%s: %d cases, %d failed (seed 0x%llx)\n", argv[1], cases, fails, (unsigned long long)seed);
    return fails == 0 ? 0 : 1;
}
