/*
 * Direct int8 convolution of a 3-channel input (the network's first layer:
 * RGB, 3x3 stride 2, 3 -> 16 in YOLOv8n) with ternary or multi-ternary
 * weights: acc[r][n] = sum over taps (ky, kx) and c < 3 of x * q[n][k], the
 * same int32 sums the im2col + t2i8 GEMM path forms (k = (ky * kw + kx) * 3
 * + c, the im2col order; a tap outside the image reads the input's zero
 * point), so the requant epilogue after it is unchanged and the layer's
 * output is bit-identical.
 *
 * Why: with K = 27 and N = 16, im2col writes 27-byte rows of 9-byte runs and
 * the GEMM's tiles stay mostly empty; the layer took ~8% of the int8 peak
 * (docs/benchmarks.md). Here each tap's RGB is read in place as one 4-byte
 * word (R, G, B and the next pixel's R, whose weight is 0), one vpdpbusd lane
 * per pixel and channel: no im2col at all.
 *
 * Input: NHWC int8, in_h x in_w x 3, densely packed (row stride in_w * 3).
 * Output: for output pixels m0 .. m0 + rows - 1 (m = oy * out_w + ox), row r
 * of acc (ldc int32s apart) gets the n channel sums, without bias. Reads the
 * input only within its in_h * in_w * 3 bytes.
 *
 * Weights: the file's T2 planes as for t2i8 `pack_terms` (n rows of
 * taps * 3 codes, w_row_bytes apart, plane i at w + i * plane_stride), all
 * nterms (1..5) planes folded into q = sum 3^i T_i (|q| <= 121); exact
 * whenever |acc| <= 128 * K * L < 2^31 (the loader's bound). `pack_terms`
 * writes packed_size(n, taps) bytes once, at load time.
 *
 * Paths: i8c3-conv.inc, one line per t2i8 GEMM path that has a direct
 * conv: avx512vnni -> i8c3-conv-avx512vnni.c (vpdpbusd zmm, 5 planes),
 * avxvnni -> i8c3-conv-avxvnni.c (vpdpbusd ymm, 5 planes), avx2 ->
 * i8c3-conv-avx2.c (vpmaddubsw, up to 4 planes); the two ymm paths share
 * i8c3-conv-ymm.h. The
 * reference is not listed; always available.
 * Thread-safe: `conv` keeps no state and writes only acc.
 */
#ifndef BF_I8C3_CONV_H
#define BF_I8C3_CONV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "t2i8-gemm/t2i8-gemm.h"

typedef struct bf_i8c3_geom {
    int in_h, in_w;  /* input pixels; 3 channels */
    int out_w;       /* output pixels per row */
    int kh, kw;      /* kernel, 1..BF_I8C3_MAX_K each */
    int stride, pad; /* stride >= 1, pad >= 0 */
    int8_t zero_point;
} bf_i8c3_geom;

#define BF_I8C3_MAX_K 7

typedef struct bf_i8c3_conv_config {
    const char *isa; /* "ref" or an i8c3-conv.inc name */
    size_t (*packed_size)(size_t n, size_t taps);
    void (*pack_terms)(size_t n, size_t taps, int nterms, const uint8_t *w, size_t w_row_bytes, size_t plane_stride,
                       void *packed);
    void (*conv)(const bf_i8c3_geom *g, size_t n, const int8_t *in, size_t m0, size_t rows, const void *packed,
                 int32_t *acc, size_t ldc);
    /* The most planes (n_terms) whose folded sums the path forms exactly
     * (1..BF_T2I8_MAX_TERMS); a layer with more keeps im2col + GEMM. */
    int max_terms;
} bf_i8c3_conv_config;

/* The plain C reference: the oracle. */
extern const bf_i8c3_conv_config bf_i8c3_conv_ref;

#if defined(__x86_64__) || defined(_M_X64)
extern const bf_i8c3_conv_config bf_i8c3_conv_avx512vnni;
extern const bf_i8c3_conv_config bf_i8c3_conv_avxvnni;
extern const bf_i8c3_conv_config bf_i8c3_conv_avx2;
#endif

/* The direct path that stands in for the GEMM path named `gemm_isa` (the
 * .inc line of that name) on this CPU, or NULL: that GEMM keeps its im2col (the reference GEMM always does,
 * so the engine's ref path stays the oracle). BITFALCON_DIRECT_CONV=0 turns
 * every direct path off (before/after benchmarks; src/core/env.c refuses
 * values other than 0 and 1 at detector creation). */
const bf_i8c3_conv_config *bf_i8c3_conv_select(const char *gemm_isa);

/* Whether a conv of this shape can run here: 3 input channels and a kernel
 * of at most BF_I8C3_MAX_K a side. */
static inline int bf_i8c3_conv_fits(int in_c, int kh, int kw, int stride, int pad)
{
    return in_c == 3 && kh >= 1 && kw >= 1 && kh <= BF_I8C3_MAX_K && kw <= BF_I8C3_MAX_K && stride >= 1 &&
           pad >= 0;
}

/* The packing both SIMD paths use, for `lanes` channels a block (8 for AVX2's ymm,
 * 16 for AVX-512's zmm): per block, each tap's weights as `lanes` 4-byte words
 * (R, G, B, 0), then one word per channel of -128 x the channel's weight sum (the
 * correction for the unsigned input bias), modulo 2^32 as the kernel adds it. */
static inline size_t bf_i8c3_blocks_size(size_t n, size_t taps, size_t lanes)
{
    return (n + lanes - 1) / lanes * (taps + 1) * lanes * 4;
}

static inline void bf_i8c3_pack_blocks(size_t n, size_t taps, int nterms, const uint8_t *w, size_t w_row_bytes,
                                       size_t plane_stride, size_t lanes, void *packed)
{
    uint8_t *out = packed;
    const size_t row = lanes * 4;
    memset(out, 0, bf_i8c3_blocks_size(n, taps, lanes));
    for (size_t ch = 0; ch < n; ch++) {
        uint8_t *blk = out + (ch / lanes) * (taps + 1) * row;
        uint32_t wsum = 0;
        for (size_t k = 0; k < taps * 3; k++) {
            const int q = bf_t2_decode_terms(w + ch * w_row_bytes, k, nterms, plane_stride);
            blk[(k / 3) * row + (ch % lanes) * 4 + k % 3] = (uint8_t)(int8_t)q;
            wsum += (uint32_t)q;
        }
        const uint32_t corr = 0u - 128u * wsum;
        memcpy(blk + taps * row + (ch % lanes) * 4, &corr, sizeof corr);
    }
}

#endif /* BF_I8C3_CONV_H */
