/*
 * Bit-serial XNOR/AND-popcount GEMM: the same product as t2i8-gemm,
 *     C[m][n] = sum_k A[m][k] * W[n][k],   A int8, W ternary (T2 file layout),
 * computed from bit planes instead of byte multiplies.
 *
 * Binary planes. A ternary weight is the mean of two binary {-1,+1} weights,
 *     w = (u + v) / 2,   u = +1 iff w >= 0,   v = +1 iff w > 0,
 * and a binary weight x = 2*bit(x) - 1, so with T(bits) = sum_k a[k] * bits[k]:
 *     C = T(U) + T(V) - rowsum(A)       (ternary: two planes)
 *     C = 2 * T(V) - rowsum(A)          (binary {-1,+1} weights: one plane)
 * `pack` stores one plane when the matrix has no zero weight, two otherwise.
 *
 * Bit-serial activations. Two's complement int8 is a = -128*a7 + sum_{b<7} 2^b*a_b,
 * so T(P) = sum_b c_b * popcount(A_b AND P) with c_b = 2^b (b < 7), c_7 = -128,
 * where A_b is the bit plane b of a row (bit k = bit b of a[k]). A GEMM is
 * then 8 * planes AND+POPCNT per 64 k per (row, channel), against one
 * multiply-add per k and channel for t2i8; the benchmark (bench/) measures
 * which wins per layer shape.
 *
 * Packed layout (shared by every ISA of this family, built by bf_b1_pack):
 * channel-major, so that a 512-bit vector holds 8 channels' words for the
 * same 64 k and popcounts land in per-channel lanes (no horizontal sums):
 *     bytes 0..63: header; u32 at 0 = number of planes (1 or 2); rest 0
 *     then for each group q of 8 channels (N padded with zero channels), for
 *     each word x (KW = ceil(K/64) words of 64 k), for each plane p (V, U):
 *     8 little-endian u64, word x of channels 8q..8q+7, bit k % 64 = weight
 *     k = 64x + k % 64. Plane 0 is V (w > 0), plane 1 is U (w >= 0; zero when
 *     the layer has one plane). Bits past K are 0, and
 *     C = (2 / planes) * sum_p T(plane p) - rowsum(A).
 * packed_size = 64 + ceil(N/8) * KW * 2 * 64.
 *
 * The kernels decompose A into bit planes themselves, per block of rows, in a
 * stack buffer (K in chunks of 4096): they read A only within M x K and keep
 * no state outside the stack (safe concurrently on disjoint rows).
 */
#ifndef BF_B1_GEMM_H
#define BF_B1_GEMM_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "t2i8-gemm/t2i8-gemm.h"

/* The family reuses bf_t2i8_gemm_config: same contract, interchangeable per layer. */
extern const bf_t2i8_gemm_config bf_b1_gemm_ref;
#if defined(__x86_64__) || defined(_M_X64)
extern const bf_t2i8_gemm_config bf_b1_gemm_avx512;
#endif
#if defined(__aarch64__)
extern const bf_t2i8_gemm_config bf_b1_gemm_neon;
#endif

/* Picks a path of this family as bf_t2i8_gemm_select does (dispatch.h): NULL,
 * "" or "auto" ladders avx512 (VPOPCNTDQ) -> ref on x86-64, neon -> ref on
 * aarch64; a name is that path or NULL with the reason in err. Its configs
 * compute the same C as t2i8 and share its type, so a caller may choose per
 * layer. BITFALCON_ISA is not consulted (its names are t2i8 paths). Part of
 * bitfalcon_b1 (the family and this selector), not of libbitfalcon. */
const bf_t2i8_gemm_config *bf_b1_gemm_select(const char *isa, char *err, size_t err_size);

/* K chunk of the kernels' plane buffers: 4096 k = 64 words per plane. */
#define BF_B1_KC_WORDS 64

/* words (of 64 k) per channel and plane */
static inline size_t bf_b1_plane_words(size_t k)
{
    return (k + 63) / 64;
}

/* The layout's builder and size, shared by the family's configs. */
size_t bf_b1_packed_size(size_t n, size_t k);
void bf_b1_pack(size_t n, size_t k, const uint8_t *w, size_t w_row_bytes, void *packed);

/* Number of planes in a packed buffer (1 or 2). */
static inline unsigned bf_b1_planes(const void *packed)
{
    return *(const uint32_t *)packed;
}

/* The 8 words (channels 8q..8q+7) of word x, plane p. */
static inline const uint64_t *bf_b1_unit(const void *packed, size_t kw, size_t q, size_t x, unsigned p)
{
    return (const uint64_t *)((const uint8_t *)packed + 64) + ((q * kw + x) * 2 + p) * 8;
}

/* The outer loops every SIMD path of the family shares; each path brings its
 * row sum, its plane builder and its column walk (the micro-kernels), the
 * pattern of XNNPACK's ukernel drivers. */
#define BF_B1_MR 4

/* sum_{k < K} a[k] */
typedef int32_t (*bf_b1_rowsum_fn)(const int8_t *a, size_t k);
/* The bit planes of a[k0 .. k0 + 64 * words) (zero past k), into pl. */
typedef void (*bf_b1_planes_fn)(const int8_t *a, size_t k0, size_t k, size_t words, uint64_t *pl);
/* Adds the products of `mr` rows' planes (pl) over words [w0, w0 + words)
 * to all n channels of C, through the path's micro-kernels. */
typedef void (*bf_b1_columns_fn)(size_t mr, const uint64_t *const *pl, size_t words, const void *packed, size_t kw,
                                 size_t w0, unsigned np, size_t n, int32_t *c, size_t ldc);

/* C = -rowsum(a), then the K chunks of BF_B1_KC_WORDS words: each row
 * block's planes once per chunk, all channels through `columns`. Missing
 * rows of a short block alias the last real one (computed, never stored). */
static inline __attribute__((always_inline)) void bf_b1_gemm_drive(size_t m, size_t n, size_t k, const int8_t *a,
                                                                   size_t lda, const void *packed, int32_t *c,
                                                                   size_t ldc, bf_b1_rowsum_fn rowsum,
                                                                   bf_b1_planes_fn planes_of, bf_b1_columns_fn columns)
{
    assert(n >= 1 && k >= 1 && lda >= k && ldc >= n && packed != NULL && (m == 0 || (a != NULL && c != NULL)));
    const size_t kw = bf_b1_plane_words(k);
    const unsigned np = bf_b1_planes(packed);
    uint64_t planes[BF_B1_MR][8 * BF_B1_KC_WORDS] __attribute__((aligned(64)));
    for (size_t m0 = 0; m0 < m; m0 += BF_B1_MR) {
        const size_t mr = m - m0 < BF_B1_MR ? m - m0 : BF_B1_MR;
        for (size_t i = 0; i < mr; i++) {
            const int32_t r = rowsum(a + (m0 + i) * lda, k);
            for (size_t j = 0; j < n; j++)
                c[(m0 + i) * ldc + j] = -r;
        }
        for (size_t w0 = 0; w0 < kw; w0 += BF_B1_KC_WORDS) {
            const size_t words = kw - w0 < BF_B1_KC_WORDS ? kw - w0 : BF_B1_KC_WORDS;
            const uint64_t *pl[BF_B1_MR];
            for (size_t i = 0; i < BF_B1_MR; i++) {
                if (i < mr)
                    planes_of(a + (m0 + i) * lda, w0 * 64, k, words, planes[i]);
                pl[i] = planes[i < mr ? i : mr - 1];
            }
            columns(mr, pl, words, packed, kw, w0, np, n, c + m0 * ldc, ldc);
        }
    }
}

#endif /* BF_B1_GEMM_H */
