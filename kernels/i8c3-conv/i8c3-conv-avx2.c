/*
 * Direct 3-channel conv, AVX2 (vpmaddubsw + vpmaddwd). See i8c3-conv.h; the
 * layout of the pixel words and the -128 * sum(q) correction are those of
 * i8c3-conv-avx512vnni.c, on ymm registers (8 channels a block), and so is
 * the pixel walk (i8c3-conv-walk.h).
 *
 * Arithmetic. Per tap, the pixel's 4-byte word (R, G, B, a byte whose
 * weight is 0) is broadcast and XORed with 0x80 (unsigned x + 128), then
 * vpmaddubsw with the tap's weights gives per channel two int16 pair sums
 * (R, G) and (B, 0), and vpmaddwd with ones adds the pair into the int32
 * lane. A pair sum is at most 2 * 255 * L in size: no saturation while
 * L <= 64, i.e. up to 4 folded planes (L = 40); 5 planes (L = 121) would
 * saturate, so max_terms is 4 and the engine keeps im2col + GEMM for such a
 * layer. The int32 sums and the correction wrap modulo 2^32: exact whenever
 * the true sum fits int32 (the loader's bound).
 *
 * Packed layout: channels in blocks of 8 (N padded with zero channels).
 * Block b is (taps + 1) * 32 bytes from b * (taps + 1) * 32:
 *     tap t, 32 bytes:  byte 4*c + j = q[8b + c][3t + j] (j < 3), 0 (j = 3
 *                       or past N);
 *     then 32 bytes:    int32 lane c = -128 * sum_k q[8b + c][k] (mod 2^32).
 *
 * Micro-kernel: 8 output pixels x 8 channels, 8 ymm accumulators (+ the
 * weights, ones, the sign mask and two temporaries: 13 of 16 registers).
 */
#include <assert.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "i8c3-conv-walk.h"
#include "t2i8-gemm/t2i8-gemm.h"

#define BF_C3A_MR 8
#define BF_C3A_MAX_TERMS 4 /* L <= 64: vpmaddubsw's pair sums do not saturate; see the header */

static size_t c3a_packed_size(size_t n, size_t taps)
{
    return bf_i8c3_blocks_size(n, taps, 8);
}

static void c3a_pack_terms(size_t n, size_t taps, int nterms, const uint8_t *w, size_t w_row_bytes,
                           size_t plane_stride, void *packed)
{
    assert(nterms >= 1 && nterms <= BF_C3A_MAX_TERMS);
    bf_i8c3_pack_blocks(n, taps, nterms, w, w_row_bytes, plane_stride, 8, packed);
}

static inline __m256i c3a_word(const uint8_t *p)
{
    int32_t x;
    memcpy(&x, p, 4);
    return _mm256_set1_epi32(x);
}

/* 8 pixels x 8 channels; TAPS > 0 a constant tap count (the loop unrolls
 * completely, as in the avx512vnni file), 0 = `taps` at run time. */
static inline __attribute__((always_inline)) void c3a_block(const int TAPS, size_t taps,
                                                            const uint8_t *const *base, const size_t *tap,
                                                            const uint8_t *wb, __m256i *out)
{
    const __m256i sign = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
    __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    const size_t nt = TAPS > 0 ? (size_t)TAPS : taps;
#define BF_C3A_MAC(c, i)                                                                                              \
    c = _mm256_add_epi32(                                                                                             \
        c, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_xor_si256(c3a_word(base[i] + o), sign), wv), ones))
#pragma GCC unroll 16
    for (size_t t = 0; t < nt; t++) {
        const __m256i wv = _mm256_loadu_si256((const void *)(wb + t * 32));
        const size_t o = tap[t];
        BF_C3A_MAC(c0, 0);
        BF_C3A_MAC(c1, 1);
        BF_C3A_MAC(c2, 2);
        BF_C3A_MAC(c3, 3);
        BF_C3A_MAC(c4, 4);
        BF_C3A_MAC(c5, 5);
        BF_C3A_MAC(c6, 6);
        BF_C3A_MAC(c7, 7);
    }
#undef BF_C3A_MAC
    const __m256i corr = _mm256_loadu_si256((const void *)(wb + nt * 32));
    out[0] = _mm256_add_epi32(c0, corr), out[1] = _mm256_add_epi32(c1, corr);
    out[2] = _mm256_add_epi32(c2, corr), out[3] = _mm256_add_epi32(c3, corr);
    out[4] = _mm256_add_epi32(c4, corr), out[5] = _mm256_add_epi32(c5, corr);
    out[6] = _mm256_add_epi32(c6, corr), out[7] = _mm256_add_epi32(c7, corr);
}

/* Stores pixel rows [0, cnt) of one block, `cols` (1..8) channels. */
static inline void c3a_store(const __m256i *r, size_t cnt, int32_t *acc, size_t ldc, size_t cols)
{
    if (cols == 8) {
        for (size_t i = 0; i < cnt; i++)
            _mm256_storeu_si256((void *)(acc + i * ldc), r[i]);
        return;
    }
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cols), lane);
    for (size_t i = 0; i < cnt; i++)
        _mm256_maskstore_epi32(acc + i * ldc, mask, r[i]);
}

static void c3a_conv(const bf_i8c3_geom *g, size_t n, const int8_t *in, size_t m0, size_t rows, const void *packed,
                     int32_t *acc, size_t ldc)
{
    assert(ldc >= n && g->out_w >= 1 && g->kh <= BF_I8C3_MAX_K && g->kw <= BF_I8C3_MAX_K);
    bf_i8c3_walk walk;
    bf_i8c3_walk_init(&walk, g);
    const size_t taps = walk.taps, nb = (n + 7) / 8, bstride = (taps + 1) * 32;
    uint8_t px[BF_C3A_MR][BF_I8C3_MAX_TAPS * 4];
    for (size_t r0 = 0; r0 < rows; r0 += BF_C3A_MR) {
        const size_t cnt = rows - r0 < BF_C3A_MR ? rows - r0 : BF_C3A_MR;
        const uint8_t *base[BF_C3A_MR];
        const size_t *tap = bf_i8c3_walk_group(&walk, g, (const uint8_t *)in, m0 + r0, cnt, BF_C3A_MR, px, base);
        for (size_t b = 0; b < nb; b++) {
            const uint8_t *wb = (const uint8_t *)packed + b * bstride;
            __m256i r[BF_C3A_MR];
            if (taps == 9) /* the 3x3 stem */
                c3a_block(9, taps, base, tap, wb, r);
            else
                c3a_block(0, taps, base, tap, wb, r);
            c3a_store(r, cnt, acc + r0 * ldc + b * 8, ldc, b + 1 == nb ? n - b * 8 : 8);
        }
    }
}

const bf_i8c3_conv_config bf_i8c3_conv_avx2 = {
    .isa = "avx2",
    .packed_size = c3a_packed_size,
    .pack_terms = c3a_pack_terms,
    .conv = c3a_conv,
    .max_terms = BF_C3A_MAX_TERMS,
};
