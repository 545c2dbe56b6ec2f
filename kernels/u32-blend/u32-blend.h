/*
 * The letterbox's vertical blend (docs/model-format.md, "Letterbox"; the
 * caller is src/core/letterbox.c): two rows of horizontal-pass sums h0, h1
 * (each a * wx0 + b * wx1 with a, b <= 255 and wx0 + wx1 = 2048, so
 * h <= 255 * 2048), weighted by wy0 + wy1 = 2048 and rounded once:
 *
 *   d[i] = ((h0[i] * wy0 + h1[i] * wy1 + 2^21) >> 22) - 128      (wy1 > 0)
 *   d[i] = ((h0[i] + 2^10) >> 11) - 128                           (wy1 = 0)
 *
 * as int8. Every term fits uint32 (h * 2048 <= 2^30). Why a kernel: the
 * library's generic x86-64 build has SSE2 only, which has no 32-bit
 * multiply-low, and this loop is most of an upscaled or downscaled frame's
 * letterbox (1.2 M bytes at 640).
 *
 * Paths: u32-blend.inc (one line per t2i8 GEMM path it goes with, as
 * i8c3-conv.inc), each bit-identical to the reference for every input in that
 * domain; reads h0[0 .. count), h1[0 .. count) (h1 not at all when wy1 = 0),
 * writes d[0 .. count). Thread-safe: no state.
 */
#ifndef BF_U32_BLEND_H
#define BF_U32_BLEND_H

#include <stddef.h>
#include <stdint.h>

typedef struct bf_u32_blend_config {
    const char *isa; /* "ref" or a u32-blend.inc name */
    void (*blend)(const uint32_t *h0, const uint32_t *h1, uint32_t wy0, uint32_t wy1, size_t count, int8_t *d);
} bf_u32_blend_config;

/* The plain C reference: the oracle. */
extern const bf_u32_blend_config bf_u32_blend_ref;

#if defined(__x86_64__) || defined(_M_X64)
extern const bf_u32_blend_config bf_u32_blend_avx2;
#endif

/* The path that goes with the GEMM path named `gemm_isa` on this CPU: its
 * .inc line's when this CPU can run it, else the reference (so `--isa ref`
 * runs the reference blend too). NULL: the first line this CPU can run. */
const bf_u32_blend_config *bf_u32_blend_select(const char *gemm_isa);

#endif /* BF_U32_BLEND_H */
