/*
 * What the two 256-bit x86 direct 3-channel conv paths share
 * (i8c3-conv-avx2.c, i8c3-conv-avxvnni.c): the packed layout, the pixel walk,
 * the run block of the 3x3 stride-2 stem and the loops. They differ only in
 * the multiply-add of one tap (BF_I8C3_YMM_MAC, which the including file
 * defines before including this): AVX2's vpmaddubsw + vpmaddwd + vpaddd, or
 * AVX-VNNI's one vpdpbusd. Every function is static inline, compiled with the
 * including file's own ISA flags (both include AVX2), in the manner of
 * t2i8-gemm-ymm.h.
 *
 * The layout of the pixel words and the -128 * sum(q) correction are those of
 * i8c3-conv-avx512vnni.c, on ymm registers (8 channels a block), and so is
 * the pixel walk (i8c3-conv-walk.h). Per tap, the pixel's 4-byte word (R, G,
 * B, a byte whose weight is 0) is broadcast and XORed with 0x80 (unsigned
 * x + 128); BF_I8C3_YMM_MAC(c, x, w) adds the products of its four unsigned
 * bytes with the tap's signed weights to the int32 lanes of c. The int32 sums
 * and the correction wrap modulo 2^32: exact whenever the true sum fits int32
 * (the loader's bound), within the including path's max_terms.
 *
 * Packed layout: channels in blocks of 8 (N padded with zero channels).
 * Block b is (taps + 1) * 32 bytes from b * (taps + 1) * 32:
 *     tap t, 32 bytes:  byte 4*c + j = q[8b + c][3t + j] (j < 3), 0 (j = 3
 *                       or past N);
 *     then 32 bytes:    int32 lane c = -128 * sum_k q[8b + c][k] (mod 2^32).
 *
 * Micro-kernel: 8 output pixels x 8 channels, 8 ymm accumulators (+ the
 * weights, the sign mask, AVX2's ones and temporaries: at most 13 of 16
 * registers). The stem's interior (bf_i8c3_walk_run_length) goes through
 * bf_i8c3_ymm_run_s2k3: pixel i's tap (ky, kx) at row[ky] + 6 * i + 3 * kx,
 * constant displacements, whole runs per call (as in the avx512vnni file).
 */
#ifndef BF_I8C3_CONV_YMM_H
#define BF_I8C3_CONV_YMM_H

#ifndef BF_I8C3_YMM_MAC
#error "define BF_I8C3_YMM_MAC(c, x, w) before including i8c3-conv-ymm.h"
#endif

#include <assert.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "i8c3-conv-walk.h"
#include "t2i8-gemm/t2i8-gemm.h"

#define BF_I8C3_YMM_MR 8

/* The including path's max_terms: BF_I8C3_YMM_MAX_TERMS, checked again here. */
static inline void bf_i8c3_ymm_pack_terms(size_t n, size_t taps, int nterms, int max_terms, const uint8_t *w,
                                          size_t w_row_bytes, size_t plane_stride, void *packed)
{
    assert(nterms >= 1 && nterms <= max_terms);
    (void)max_terms;
    bf_i8c3_pack_blocks(n, taps, nterms, w, w_row_bytes, plane_stride, 8, packed);
}

static inline __m256i bf_i8c3_ymm_word(const uint8_t *p)
{
    int32_t x;
    memcpy(&x, p, 4);
    return _mm256_set1_epi32(x);
}

/* 8 pixels x 8 channels; TAPS > 0 a constant tap count (the loop unrolls
 * completely, as in the avx512vnni file), 0 = `taps` at run time. */
static inline __attribute__((always_inline)) void bf_i8c3_ymm_block(const int TAPS, size_t taps,
                                                                    const uint8_t *const *base, const size_t *tap,
                                                                    const uint8_t *wb, __m256i *out)
{
    const __m256i sign = _mm256_set1_epi8((char)0x80);
    const __m256i corr = _mm256_loadu_si256((const void *)(wb + (TAPS > 0 ? (size_t)TAPS : taps) * 32));
    __m256i c0 = corr, c1 = corr, c2 = corr, c3 = corr, c4 = corr, c5 = corr, c6 = corr, c7 = corr;
    const size_t nt = TAPS > 0 ? (size_t)TAPS : taps;
#define BF_I8C3_YMM_TAP(c, i) BF_I8C3_YMM_MAC(c, _mm256_xor_si256(bf_i8c3_ymm_word(base[i] + o), sign), wv)
#pragma GCC unroll 16
    for (size_t t = 0; t < nt; t++) {
        const __m256i wv = _mm256_loadu_si256((const void *)(wb + t * 32));
        const size_t o = tap[t];
        BF_I8C3_YMM_TAP(c0, 0);
        BF_I8C3_YMM_TAP(c1, 1);
        BF_I8C3_YMM_TAP(c2, 2);
        BF_I8C3_YMM_TAP(c3, 3);
        BF_I8C3_YMM_TAP(c4, 4);
        BF_I8C3_YMM_TAP(c5, 5);
        BF_I8C3_YMM_TAP(c6, 6);
        BF_I8C3_YMM_TAP(c7, 7);
    }
#undef BF_I8C3_YMM_TAP
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3, out[4] = c4, out[5] = c5, out[6] = c6, out[7] = c7;
}

/* Stores pixel rows [0, cnt) of one block, `cols` (1..8) channels. */
static inline void bf_i8c3_ymm_store(const __m256i *r, size_t cnt, int32_t *acc, size_t ldc, size_t cols)
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

/* One block of 8 channels for `groups` x 8 pixels of a run: 3x3 taps,
 * stride 2, the window of the run's first pixel at p, input rows ld bytes
 * apart; pixel i's sums to acc + i * ldc, `cols` channels. Not inlined: in
 * the caller GCC hoists all 72 addresses out of the loops and spills them. */
static __attribute__((noinline)) void bf_i8c3_ymm_run_s2k3(const uint8_t *p, size_t ld, size_t groups,
                                                           const uint8_t *wb, int32_t *acc, size_t ldc, size_t cols)
{
    const __m256i sign = _mm256_set1_epi8((char)0x80);
    const __m256i corr = _mm256_loadu_si256((const void *)(wb + 9 * 32));
    for (size_t grp = 0; grp < groups; grp++, p += BF_I8C3_YMM_MR * 6, acc += BF_I8C3_YMM_MR * ldc) {
        __m256i c[BF_I8C3_YMM_MR];
#pragma GCC unroll 8
        for (int i = 0; i < BF_I8C3_YMM_MR; i++)
            c[i] = corr;
#pragma GCC unroll 3
        for (int ky = 0; ky < 3; ky++) {
            const uint8_t *row = p + (size_t)ky * ld;
#pragma GCC unroll 3
            for (int kx = 0; kx < 3; kx++) {
                const __m256i wv = _mm256_loadu_si256((const void *)(wb + (ky * 3 + kx) * 32));
#pragma GCC unroll 8
                for (int i = 0; i < BF_I8C3_YMM_MR; i++)
                    BF_I8C3_YMM_MAC(c[i], _mm256_xor_si256(bf_i8c3_ymm_word(row + 6 * i + 3 * kx), sign), wv);
            }
        }
        bf_i8c3_ymm_store(c, BF_I8C3_YMM_MR, acc, ldc, cols);
    }
}

static inline void bf_i8c3_ymm_conv(const bf_i8c3_geom *g, size_t n, const int8_t *in, size_t m0, size_t rows,
                                    const void *packed, int32_t *acc, size_t ldc)
{
    assert(ldc >= n && g->out_w >= 1 && g->kh <= BF_I8C3_MAX_K && g->kw <= BF_I8C3_MAX_K);
    bf_i8c3_walk walk;
    bf_i8c3_walk_init(&walk, g);
    const size_t taps = walk.taps, nb = (n + 7) / 8, bstride = (taps + 1) * 32;
    uint8_t px[BF_I8C3_YMM_MR][BF_I8C3_MAX_TAPS * 4];
    const int stem = g->kh == 3 && g->kw == 3 && g->stride == 2;
    bf_i8c3_pos at = bf_i8c3_pos_at(g, m0); /* output pixel m0 + r0 */
    for (size_t r0 = 0; r0 < rows;) {
        if (stem) {
            /* the whole groups of a run at once */
            const size_t len =
                bf_i8c3_walk_run_length(&walk, g, at.oy, at.ox, rows - r0) / BF_I8C3_YMM_MR * BF_I8C3_YMM_MR;
            if (len > 0) {
                const uint8_t *p = (const uint8_t *)in + bf_i8c3_walk_offset(&walk, g, at.oy, at.ox);
                for (size_t b = 0; b < nb; b++)
                    bf_i8c3_ymm_run_s2k3(p, walk.in_w * 3, len / BF_I8C3_YMM_MR,
                                         (const uint8_t *)packed + b * bstride, acc + r0 * ldc + b * 8, ldc,
                                         b + 1 == nb ? n - b * 8 : 8);
                r0 += len, at = bf_i8c3_pos_advance(g, at, len);
                continue;
            }
        }
        const size_t cnt = rows - r0 < BF_I8C3_YMM_MR ? rows - r0 : BF_I8C3_YMM_MR;
        at = bf_i8c3_pos_advance(g, at, cnt);
        const uint8_t *base[BF_I8C3_YMM_MR];
        const size_t *tap =
            bf_i8c3_walk_group(&walk, g, (const uint8_t *)in, m0 + r0, cnt, BF_I8C3_YMM_MR, px, base);
        for (size_t b = 0; b < nb; b++) {
            const uint8_t *wb = (const uint8_t *)packed + b * bstride;
            __m256i r[BF_I8C3_YMM_MR];
            if (taps == 9) /* the 3x3 stem's border */
                bf_i8c3_ymm_block(9, taps, base, tap, wb, r);
            else
                bf_i8c3_ymm_block(0, taps, base, tap, wb, r);
            bf_i8c3_ymm_store(r, cnt, acc + r0 * ldc + b * 8, ldc, b + 1 == nb ? n - b * 8 : 8);
        }
        r0 += cnt;
    }
}

#endif /* BF_I8C3_CONV_YMM_H */
