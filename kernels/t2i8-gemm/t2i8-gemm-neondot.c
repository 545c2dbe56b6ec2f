/*
 * Ternary x int8 GEMM, AArch64 dot product (sdot by element, Armv8.2 DotProd).
 * C[m][n] = sum_k A[m][k] * W[n][k].
 *
 * Arithmetic. Weights are decoded to signed bytes {-1, 0, +1}; sdot multiplies
 * signed by signed bytes, 4 at a time, into int32 lanes: exact, no offsets
 * (unlike x86 vpdpbusd, which needs an unsigned operand).
 *
 * Multi-ternary (max_terms 5): `pack_terms` stores the integer weight
 * q = sum_i 3^i T_i as the signed byte instead (|q| <= L = 121 for 5 planes).
 * sdot forms each product exactly (|a * q| <= 15488) and adds the four into
 * the int32 lane modulo 2^32: exact whenever |C| <= 128 * K * L < 2^31 (the
 * loader's bound), for any |q| <= 127. No int16 stage.
 *
 * Packed layout (`pack`, `pack_terms`): channels in blocks of 16 (N padded
 * with zero channels), K in groups of 4, the number of groups rounded up to a
 * multiple of 4 (K4P = ceil(K/16) * 4; padding weights are 0); w is the
 * ternary weight, or q for folded planes. Group g of block b is 64 bytes at
 * offset (b * K4P + g) * 64:
 *     byte 4*c + j  =  w[16b + c][4g + j] as int8, or 0 past K or past N.
 * Four q registers = 16 channels x 4 k, the operand of 4 sdot by element.
 * packed_size = ceil(N/16) * K4P * 64 bytes.
 *
 * Micro-kernel (XNNPACK's 4x16c4): 4 rows x 16 channels, 16 accumulators; per
 * 16 k it loads 16 bytes of each row and 4 groups of weights, and issues
 * 4 x 16 sdot, row bytes selected by lane. Rows: the last short block aliases
 * missing rows to the last real one (never stored). K % 16 tail: the row bytes
 * are copied into a zeroed 16-byte stack buffer (A read only within M x K),
 * first. N tail: lane stores. No state outside the stack.
 */
#include <assert.h>
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#include "t2i8-gemm.h"

#define BF_NEONDOT_MR 4

static size_t neondot_packed_size(size_t n, size_t k)
{
    return bf_t2i8_i8blocks_size(n, k, 16);
}

#define BF_NEONDOT_MAX_TERMS 5 /* |q| <= 121 fits the signed byte; see the header */

static void neondot_pack_terms(size_t n, size_t k, int nterms, const uint8_t *w, size_t w_row_bytes,
                               size_t plane_stride, void *packed)
{
    assert(nterms >= 1 && nterms <= BF_NEONDOT_MAX_TERMS);
    bf_t2i8_i8blocks_pack(n, k, nterms, w, w_row_bytes, plane_stride, 16, 4, packed);
}

static void neondot_pack(size_t n, size_t k, const uint8_t *w, size_t w_row_bytes, void *packed)
{
    neondot_pack_terms(n, k, 1, w, w_row_bytes, 0, packed);
}

static void bf_t2i8_gemm_ukernel_4x16c4__neondot(size_t mr, size_t kfull, size_t krem, const int8_t *a, size_t lda,
                                                 const int8_t *w, int32_t *c, size_t ldc, size_t ncols)
{
    const int8_t *a0 = a;
    const int8_t *a1 = mr > 1 ? a0 + lda : a0;
    const int8_t *a2 = mr > 2 ? a1 + lda : a1;
    const int8_t *a3 = mr > 3 ? a2 + lda : a2;
    int32x4_t c00 = vdupq_n_s32(0), c01 = c00, c02 = c00, c03 = c00;
    int32x4_t c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    int32x4_t c20 = c00, c21 = c00, c22 = c00, c23 = c00;
    int32x4_t c30 = c00, c31 = c00, c32 = c00, c33 = c00;
/* A compiler-only barrier between the four lane steps: without it GCC
 * loads all 16 weight vectors of a 16-k step first (16 accumulators + 16
 * weights + 4 rows = 36 live vector registers > 32) and pays with 8 moves
 * and a spill per iteration; with it 4 weights are live at a time. It emits
 * no instruction. */
#define BF_DOT_FENCE() __asm__ volatile("" ::: "memory")
#define BF_DOT_LANE(wp, L)                                                                                            \
    do {                                                                                                              \
        const int8x16_t w0 = vld1q_s8(wp), w1 = vld1q_s8(wp + 16), w2 = vld1q_s8(wp + 32), w3 = vld1q_s8(wp + 48);  \
        c00 = vdotq_laneq_s32(c00, w0, va0, L), c01 = vdotq_laneq_s32(c01, w1, va0, L);                               \
        c02 = vdotq_laneq_s32(c02, w2, va0, L), c03 = vdotq_laneq_s32(c03, w3, va0, L);                               \
        c10 = vdotq_laneq_s32(c10, w0, va1, L), c11 = vdotq_laneq_s32(c11, w1, va1, L);                               \
        c12 = vdotq_laneq_s32(c12, w2, va1, L), c13 = vdotq_laneq_s32(c13, w3, va1, L);                               \
        c20 = vdotq_laneq_s32(c20, w0, va2, L), c21 = vdotq_laneq_s32(c21, w1, va2, L);                               \
        c22 = vdotq_laneq_s32(c22, w2, va2, L), c23 = vdotq_laneq_s32(c23, w3, va2, L);                               \
        c30 = vdotq_laneq_s32(c30, w0, va3, L), c31 = vdotq_laneq_s32(c31, w1, va3, L);                               \
        c32 = vdotq_laneq_s32(c32, w2, va3, L), c33 = vdotq_laneq_s32(c33, w3, va3, L);                               \
    } while (0)
#define BF_DOT_STEP(wp)                                                                                               \
    do {                                                                                                              \
        BF_DOT_LANE(wp, 0);                                                                                           \
        BF_DOT_FENCE();                                                                                               \
        BF_DOT_LANE(wp + 64, 1);                                                                                      \
        BF_DOT_FENCE();                                                                                               \
        BF_DOT_LANE(wp + 128, 2);                                                                                     \
        BF_DOT_FENCE();                                                                                               \
        BF_DOT_LANE(wp + 192, 3);                                                                                     \
    } while (0)
    if (krem != 0) {
        int8_t t[4][16];
        memset(t, 0, sizeof t);
        memcpy(t[0], a0 + kfull * 16, krem);
        memcpy(t[1], a1 + kfull * 16, krem);
        memcpy(t[2], a2 + kfull * 16, krem);
        memcpy(t[3], a3 + kfull * 16, krem);
        const int8x16_t va0 = vld1q_s8(t[0]), va1 = vld1q_s8(t[1]), va2 = vld1q_s8(t[2]), va3 = vld1q_s8(t[3]);
        const int8_t *wp = w + kfull * 256;
        BF_DOT_STEP(wp);
    }
    for (size_t g = 0; g < kfull; g++) {
        const int8x16_t va0 = vld1q_s8(a0 + g * 16), va1 = vld1q_s8(a1 + g * 16);
        const int8x16_t va2 = vld1q_s8(a2 + g * 16), va3 = vld1q_s8(a3 + g * 16);
        const int8_t *wp = w + g * 256;
        BF_DOT_STEP(wp);
    }
#undef BF_DOT_STEP
#undef BF_DOT_LANE
#undef BF_DOT_FENCE
    int32x4_t r[4][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}};
    for (size_t i = 0; i < mr; i++) {
        int32_t *ci = c + i * ldc;
        if (ncols >= 16) {
            vst1q_s32(ci, r[i][0]);
            vst1q_s32(ci + 4, r[i][1]);
            vst1q_s32(ci + 8, r[i][2]);
            vst1q_s32(ci + 12, r[i][3]);
        } else {
            int32_t tmp[16];
            vst1q_s32(tmp, r[i][0]);
            vst1q_s32(tmp + 4, r[i][1]);
            vst1q_s32(tmp + 8, r[i][2]);
            vst1q_s32(tmp + 12, r[i][3]);
            memcpy(ci, tmp, ncols * sizeof *ci);
        }
    }
}

static void neondot_gemm(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed, int32_t *c,
                         size_t ldc)
{
    assert(n >= 1 && k >= 1 && lda >= k && ldc >= n && packed != NULL && (m == 0 || (a != NULL && c != NULL)));
    const size_t k16 = (k + 15) / 16;
    bf_t2i8_gemm_blocks(m, n, a, lda, packed, c, ldc, BF_NEONDOT_MR, 16, k16 * 4 * 64, k / 16, k % 16,
                        bf_t2i8_gemm_ukernel_4x16c4__neondot);
}

const bf_t2i8_gemm_config bf_t2i8_gemm_neondot = {
    .isa = "neondot",
    .packed_size = neondot_packed_size,
    .pack = neondot_pack,
    .gemm = neondot_gemm,
    .mr = BF_NEONDOT_MR,
    .max_terms = BF_NEONDOT_MAX_TERMS,
    .pack_terms = neondot_pack_terms,
};
