/*
 * The letterbox's two row passes (docs/model-format.md, "Letterbox"; the
 * caller is src/core/letterbox.c, which owns the geometry, the per-column
 * tables and the row cache):
 *
 * horizontal: one source row of RGB (or BGR: bgr != 0 swaps R and B) bytes,
 *   src_bytes long, to n scaled columns of unrounded sums in RGB order:
 *     h[3x + c] = src[x0[x] + c'] * (2048 - ax[x]) + src[x1[x] + c'] * ax[x]
 *   (c' = c, or 2 - c for BGR; x0, x1 byte offsets of pixels within the row,
 *   ax in 0..2047), so h <= 255 * 2048. Reads only src[0 .. src_bytes),
 *   writes only h[0 .. 3n).
 *
 * blend: two rows of such sums h0, h1, weighted by wy0 + wy1 = 2048 and
 *   rounded once:
 *     d[i] = ((h0[i] * wy0 + h1[i] * wy1 + 2^21) >> 22) - 128      (wy1 > 0)
 *     d[i] = ((h0[i] + 2^10) >> 11) - 128                           (wy1 = 0)
 *   as int8. Every term fits uint32 (h * 2048 <= 2^30). Reads h0, h1
 *   [0 .. count) (h1 not at all when wy1 = 0), writes d[0 .. count).
 *
 * Why a kernel family: the library's generic x86-64 build has SSE2 only (no
 * 32-bit multiply-low, no byte shuffle), and these loops are most of an
 * upscaled or downscaled frame's letterbox (1.2 M bytes out at 640).
 *
 * Paths: u8-letterbox.inc (one line per t2i8 GEMM path they go with, as
 * i8c3-conv.inc), each bit-identical to the reference for every input in the
 * domains above. Thread-safe: no state.
 */
#ifndef BF_U8_LETTERBOX_H
#define BF_U8_LETTERBOX_H

#include <stddef.h>
#include <stdint.h>

typedef struct bf_u8_letterbox_config {
    const char *isa; /* "ref" or a u8-letterbox.inc name */
    void (*horizontal)(const uint8_t *src, size_t src_bytes, const int32_t *x0, const int32_t *x1, const int32_t *ax,
                       size_t n, int bgr, uint32_t *h);
    void (*blend)(const uint32_t *h0, const uint32_t *h1, uint32_t wy0, uint32_t wy1, size_t count, int8_t *d);
} bf_u8_letterbox_config;

/* The plain C reference: the oracle. */
extern const bf_u8_letterbox_config bf_u8_letterbox_ref;
/* The reference's horizontal pass of columns [x_begin, n): what the SIMD
 * paths run for the columns they cannot (the row's end). */
void bf_u8_letterbox_horizontal_ref(const uint8_t *src, const int32_t *x0, const int32_t *x1, const int32_t *ax,
                                    size_t x_begin, size_t n, int bgr, uint32_t *h);

#if defined(__x86_64__) || defined(_M_X64)
extern const bf_u8_letterbox_config bf_u8_letterbox_avx2;
#endif

/* The path that goes with the GEMM path named `gemm_isa` on this CPU: its
 * .inc line's when this CPU can run it, else the reference (so `--isa ref`
 * runs the reference letterbox too). NULL: the first line this CPU can run. */
const bf_u8_letterbox_config *bf_u8_letterbox_select(const char *gemm_isa);

#endif /* BF_U8_LETTERBOX_H */
