/*
 * What the two 256-bit x86 paths of the ternary GEMM share (t2i8-gemm-avx2.c,
 * t2i8-gemm-avxvnni.c): the packed layout, the row-sum pass and the outer
 * loops. They differ only in their micro-kernels (vpmaddubsw with int16 sums
 * widened every 64 / L groups, or vpdpbusd with int32 sums), so each file
 * keeps its own tile and this header keeps everything around it, in the
 * manner of XNNPACK's shared packing and ukernel drivers. Every function is
 * static inline: each including file compiles it with its own ISA flags
 * (both include AVX2).
 *
 * Packed layout: channels in blocks of 8 (N padded with zero channels), K in
 * groups of 4 (K4 = ceil(K/4)). Group g of block b is 32 bytes at offset
 * (b * K4 + g) * 32:
 *     byte 4*c + j  =  u[8b + c][4g + j] = w + L in [0, 2L], or 0 past K or N,
 * (w ternary and L = 1 for `pack`; w = q = sum_i 3^i T_i for folded planes,
 * L = (3^k - 1) / 2), then a 32-byte trailer at ceil(N/8) * K4 * 32: int32 L,
 * 28 zero bytes. A padding byte of 0 (not L) contributes 0 whatever A holds
 * there. The kernels compute C = sum_k u*a - L * rowsum(a).
 */
#ifndef BF_T2I8_GEMM_YMM_H
#define BF_T2I8_GEMM_YMM_H

#include <assert.h>
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "t2i8-gemm.h"

#define BF_T2I8_YMM_TRAILER 32
#define BF_T2I8_YMM_MAX_MR 8

static inline size_t bf_t2i8_ymm_packed_size(size_t n, size_t k)
{
    return (n + 7) / 8 * ((k + 3) / 4) * 32 + BF_T2I8_YMM_TRAILER;
}

static inline void bf_t2i8_ymm_pack_terms(size_t n, size_t k, int nterms, const uint8_t *w, size_t w_row_bytes,
                                          size_t plane_stride, void *packed)
{
    const size_t k4 = (k + 3) / 4, nb = (n + 7) / 8;
    const int32_t levels = bf_t2_levels(nterms);
    uint8_t *out = packed;
    memset(out, 0, nb * k4 * 32 + BF_T2I8_YMM_TRAILER);
    memcpy(out + nb * k4 * 32, &levels, sizeof levels);
    for (size_t ch = 0; ch < n; ch++) {
        const uint8_t *row = w + ch * w_row_bytes;
        uint8_t *blk = out + (ch / 8) * k4 * 32 + (ch % 8) * 4;
        for (size_t kk = 0; kk < k; kk++)
            blk[(kk / 4) * 32 + (kk % 4)] = (uint8_t)(bf_t2_decode_terms(row, kk, nterms, plane_stride) + levels);
    }
}

/* sum_{k < K} a[k], by vpsadbw on a ^ 0x80 (bytes + 128, unsigned). */
static inline int32_t bf_t2i8_ymm_rowsum(const int8_t *a, size_t k)
{
    const __m256i bias = _mm256_set1_epi8((char)0x80), zero = _mm256_setzero_si256();
    __m256i s = zero;
    size_t i = 0;
    for (; i + 32 <= k; i += 32)
        s = _mm256_add_epi64(s, _mm256_sad_epu8(_mm256_xor_si256(_mm256_loadu_si256((const void *)(a + i)), bias), zero));
    const size_t dwords = (k - i) / 4;
    if (dwords != 0) {
        /* vpmaskmovd reads only the selected dwords (no fault past them);
         * the others are 0, which the -128 per byte below accounts for */
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)dwords), lane);
        const __m256i v = _mm256_maskload_epi32((const int *)(const void *)(a + i), mask);
        s = _mm256_add_epi64(s, _mm256_sad_epu8(_mm256_xor_si256(v, bias), zero));
    }
    const __m128i h = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    long long total = _mm_cvtsi128_si64(h) + _mm_extract_epi64(h, 1) - 128 * (long long)(i + (dwords ? 32 : 0));
    for (i += dwords * 4; i < k; i++)
        total += a[i];
    return (int32_t)total;
}

/* The last 1..3 bytes of a row as an int32 (zero above). */
static inline int32_t bf_t2i8_ymm_tail4(const int8_t *p, size_t krem)
{
    uint32_t x = 0;
    for (size_t j = 0; j < krem; j++)
        x |= (uint32_t)(uint8_t)p[j] << (8 * j);
    return (int32_t)x;
}

/* A micro-kernel: `mr` rows of A (the tile's height or fewer) times one
 * (ncols <= 8) or two (ncols <= 16) blocks of channels, blocks `bstride`
 * bytes apart; rowsum[i] is L * rowsum of row i (modulo 2^32); `gpf` the
 * groups between two widenings of int16 sums (unused by a kernel whose sums
 * are int32 from the start). A is `a` (rows lda bytes apart, kfull groups
 * and a tail of krem k) or, for an igemm tile, `segs` runs of kfull groups
 * per row at ind[i * segs + s]; each tile uses one of the two. */
typedef void (*bf_t2i8_ymm_tile_fn)(size_t mr, size_t kfull, size_t krem, const int8_t *a, size_t lda,
                                    const int8_t *const *ind, size_t segs, const uint8_t *w, size_t bstride,
                                    const int32_t *rowsum, size_t gpf, int32_t *c, size_t ldc, size_t ncols);

/* The outer loops: row blocks of `tile_mr`, L * rowsum per row, then pairs
 * of channel blocks through `tile16` and an odd last block through `tile8`.
 * `groups_per_flush` is the widening interval for L = 1 (divided by L here),
 * 0 for int32 kernels. A is `a` (K = k, rows lda apart) or, when a == NULL,
 * the runs at ind (K = segs * seg_k; a row's sum is its runs'). A is read
 * only within M x K, C written only within M x N. */
static inline __attribute__((always_inline)) void
bf_t2i8_ymm_drive(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const int8_t *const *ind, size_t segs,
                  size_t seg_k, const void *packed, int32_t *c, size_t ldc, size_t tile_mr, int max_terms,
                  size_t groups_per_flush, bf_t2i8_ymm_tile_fn tile16, bf_t2i8_ymm_tile_fn tile8)
{
    assert(tile_mr >= 1 && tile_mr <= BF_T2I8_YMM_MAX_MR);
    const size_t k4 = (k + 3) / 4, kfull = a != NULL ? k / 4 : seg_k / 4, krem = a != NULL ? k % 4 : 0;
    const size_t nb = (n + 7) / 8, bstride = k4 * 32;
    const uint8_t *w = packed;
    int32_t levels;
    memcpy(&levels, w + nb * bstride, sizeof levels);
    assert(levels >= 1 && levels <= bf_t2_levels(max_terms));
    (void)max_terms;
    const size_t gpf = groups_per_flush / (size_t)levels;
    int32_t rowsum[BF_T2I8_YMM_MAX_MR];
    for (size_t m0 = 0; m0 < m; m0 += tile_mr) {
        const size_t mr = m - m0 < tile_mr ? m - m0 : tile_mr;
        const int8_t *am = a != NULL ? a + m0 * lda : NULL;
        const int8_t *const *im = a != NULL ? NULL : ind + m0 * segs;
        int32_t *cm = c + m0 * ldc;
        for (size_t i = 0; i < mr; i++) {
            uint32_t sum = 0; /* modulo 2^32 like the sums */
            if (am != NULL)
                sum = (uint32_t)bf_t2i8_ymm_rowsum(am + i * lda, k);
            else
                for (size_t s = 0; s < segs; s++)
                    sum += (uint32_t)bf_t2i8_ymm_rowsum(im[i * segs + s], seg_k);
            rowsum[i] = (int32_t)((uint32_t)levels * sum);
        }
        size_t b = 0;
        for (; b + 2 <= nb; b += 2) {
            const size_t cols = n - b * 8 < 16 ? n - b * 8 : 16;
            tile16(mr, kfull, krem, am, lda, im, segs, w + b * bstride, bstride, rowsum, gpf, cm + b * 8, ldc, cols);
        }
        if (b < nb)
            tile8(mr, kfull, krem, am, lda, im, segs, w + b * bstride, bstride, rowsum, gpf, cm + b * 8, ldc,
                  n - b * 8);
    }
}

/* The GEMM: A m x k at lda. */
static inline __attribute__((always_inline)) void
bf_t2i8_ymm_gemm(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed, int32_t *c,
                 size_t ldc, size_t tile_mr, int max_terms, size_t groups_per_flush, bf_t2i8_ymm_tile_fn tile16,
                 bf_t2i8_ymm_tile_fn tile8)
{
    assert(n >= 1 && k >= 1 && lda >= k && ldc >= n && packed != NULL && (m == 0 || (a != NULL && c != NULL)));
    bf_t2i8_ymm_drive(m, n, k, a, lda, NULL, 1, 0, packed, c, ldc, tile_mr, max_terms, groups_per_flush, tile16,
                      tile8);
}

/* The igemm: row r is `segs` runs of seg_k bytes at a[r * segs + s]. */
static inline __attribute__((always_inline)) void
bf_t2i8_ymm_igemm(size_t m, size_t n, size_t segs, size_t seg_k, const int8_t *const *a, const void *packed,
                  int32_t *c, size_t ldc, size_t tile_mr, int max_terms, size_t groups_per_flush,
                  bf_t2i8_ymm_tile_fn tile16, bf_t2i8_ymm_tile_fn tile8)
{
    assert(n >= 1 && segs >= 1 && seg_k >= 4 && seg_k % 4 == 0 && ldc >= n && packed != NULL &&
           (m == 0 || (a != NULL && c != NULL)));
    bf_t2i8_ymm_drive(m, n, segs * seg_k, NULL, 0, a, segs, seg_k, packed, c, ldc, tile_mr, max_terms,
                      groups_per_flush, tile16, tile8);
}

#endif /* BF_T2I8_GEMM_YMM_H */
