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
 *     bytes 0..63:  header; u32 at 0 = number of planes (1 or 2); rest 0
 *     then for each channel n, for each plane p: KW little-endian u64 words,
 *     KW = ceil(K / 512) * 8 (a multiple of 8 words, so 512-bit loads never
 *     cross a plane); bit k of the plane = bit (k % 64) of word k / 64.
 *     Plane 0 is V, plane 1 (two planes only) is U. Bits past K are 0, and
 *     C = (2 / planes) * sum_p T(plane p) - rowsum(A).
 * packed_size = 64 + N * 2 * KW * 8 (room for two planes either way).
 *
 * The kernels decompose A into bit planes themselves, per block of rows, in a
 * stack buffer (K in chunks of 4096): they read A only within M x K and keep
 * no state outside the stack (safe concurrently on disjoint rows).
 */
#ifndef BF_B1_GEMM_H
#define BF_B1_GEMM_H

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

/* K chunk of the kernels' plane buffers: 4096 k = 64 words per plane. */
#define BF_B1_KC_WORDS 64

/* words per plane per channel */
static inline size_t bf_b1_plane_words(size_t k)
{
    return (k + 511) / 512 * 8;
}

/* The layout's builder and size, shared by the family's configs. */
size_t bf_b1_packed_size(size_t n, size_t k);
void bf_b1_pack(size_t n, size_t k, const uint8_t *w, size_t w_row_bytes, void *packed);

/* Number of planes in a packed buffer (1 or 2). */
static inline unsigned bf_b1_planes(const void *packed)
{
    return *(const uint32_t *)packed;
}

/* First word of channel n's plane p. */
static inline const uint64_t *bf_b1_plane(const void *packed, size_t kw, size_t n, unsigned p)
{
    return (const uint64_t *)((const uint8_t *)packed + 64) + (n * 2 + p) * kw;
}

#endif /* BF_B1_GEMM_H */
