/*
 * Ternary x int8 GEMM, plain AArch64 Advanced SIMD (smull / smlal2 / sadalp).
 * C[m][n] = sum_k A[m][k] * W[n][k].
 *
 * Arithmetic. Weights are decoded to signed bytes {-1, 0, +1}. For 16 k of one
 * row and one channel: smull (low 8 bytes) and smlal2 (high 8) give 8 int16
 * lanes, each the sum of two products (|sum| <= 256, no overflow), and sadalp
 * adds adjacent pairs into 4 int32 lanes of the (row, channel) accumulator.
 * At the end the 4 lanes of each accumulator are added (addp), 4 channels at a
 * time. Exact, no offsets.
 *
 * Multi-ternary (max_terms 5): `pack_terms` stores the integer weight
 * q = sum_i 3^i T_i as the signed byte instead (|q| <= L = 121 for 5 planes).
 * smull's products are exact int16 (|a * q| <= 128 * 121 = 15488); the int16
 * lane after smlal2 holds two of them, |sum| <= 2 * 128 * L = 30976 <= 32767
 * (so for any L <= 127): no wrap. sadalp and the final addp add into int32
 * modulo 2^32, exact whenever |C| <= 128 * K * L < 2^31 (the loader's bound).
 *
 * Packed layout (`pack`, `pack_terms`): channels in blocks of 4 (N padded
 * with zero channels), K in groups of 16 (K16 = ceil(K/16); padding weights
 * are 0). w is the ternary weight, or q for folded planes. Group g of block b
 * is 64 bytes at offset (b * K16 + g) * 64:
 *     byte 16*c + j  =  w[4b + c][16g + j] as int8, or 0 past K or past N.
 * packed_size = ceil(N/4) * K16 * 64 bytes.
 *
 * Micro-kernel: 4 rows x 4 channels x 16 k: 16 accumulators, 4 rows of A, 4
 * weight vectors. Rows: the last short block aliases missing rows to the last
 * real one (never stored). K % 16 tail: the last bytes of each row are copied
 * into a zeroed 16-byte stack buffer (A read only within M x K), first, before
 * the main loop. N tail: lane stores. No state outside the stack.
 */
#include <assert.h>
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#include "t2i8-gemm.h"

#define BF_NEON_MR 4

static size_t neon_packed_size(size_t n, size_t k)
{
    return bf_t2i8_i8blocks_size(n, k, 4);
}

#define BF_NEON_MAX_TERMS 5 /* |q| <= 121: the int16 pair sums stay below 2^15; see the header */

static void neon_pack_terms(size_t n, size_t k, int nterms, const uint8_t *w, size_t w_row_bytes,
                            size_t plane_stride, void *packed)
{
    assert(nterms >= 1 && nterms <= BF_NEON_MAX_TERMS);
    bf_t2i8_i8blocks_pack(n, k, nterms, w, w_row_bytes, plane_stride, 4, 16, packed);
}

static void neon_pack(size_t n, size_t k, const uint8_t *w, size_t w_row_bytes, void *packed)
{
    neon_pack_terms(n, k, 1, w, w_row_bytes, 0, packed);
}

static inline int32x4_t neon_mac16(int32x4_t acc, int8x16_t a, int8x16_t w)
{
    int16x8_t p = vmull_s8(vget_low_s8(a), vget_low_s8(w));
    p = vmlal_high_s8(p, a, w);
    return vpadalq_s16(acc, p);
}

static void bf_t2i8_gemm_ukernel_4x4c16__neon(size_t mr, size_t kfull, size_t krem, const int8_t *a, size_t lda,
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
#define BF_NEON_STEP(va0, va1, va2, va3, wp)                                                                          \
    do {                                                                                                              \
        const int8x16_t w0 = vld1q_s8(wp), w1 = vld1q_s8(wp + 16), w2 = vld1q_s8(wp + 32), w3 = vld1q_s8(wp + 48);  \
        c00 = neon_mac16(c00, va0, w0), c01 = neon_mac16(c01, va0, w1);                                               \
        c02 = neon_mac16(c02, va0, w2), c03 = neon_mac16(c03, va0, w3);                                               \
        c10 = neon_mac16(c10, va1, w0), c11 = neon_mac16(c11, va1, w1);                                               \
        c12 = neon_mac16(c12, va1, w2), c13 = neon_mac16(c13, va1, w3);                                               \
        c20 = neon_mac16(c20, va2, w0), c21 = neon_mac16(c21, va2, w1);                                               \
        c22 = neon_mac16(c22, va2, w2), c23 = neon_mac16(c23, va2, w3);                                               \
        c30 = neon_mac16(c30, va3, w0), c31 = neon_mac16(c31, va3, w1);                                               \
        c32 = neon_mac16(c32, va3, w2), c33 = neon_mac16(c33, va3, w3);                                               \
    } while (0)
    if (krem != 0) {
        int8_t t[4][16];
        memset(t, 0, sizeof t);
        memcpy(t[0], a0 + kfull * 16, krem);
        memcpy(t[1], a1 + kfull * 16, krem);
        memcpy(t[2], a2 + kfull * 16, krem);
        memcpy(t[3], a3 + kfull * 16, krem);
        const int8_t *wp = w + kfull * 64;
        BF_NEON_STEP(vld1q_s8(t[0]), vld1q_s8(t[1]), vld1q_s8(t[2]), vld1q_s8(t[3]), wp);
    }
    for (size_t g = 0; g < kfull; g++) {
        const int8_t *wp = w + g * 64;
        BF_NEON_STEP(vld1q_s8(a0 + g * 16), vld1q_s8(a1 + g * 16), vld1q_s8(a2 + g * 16), vld1q_s8(a3 + g * 16), wp);
    }
#undef BF_NEON_STEP
    int32x4_t r[4];
    r[0] = vpaddq_s32(vpaddq_s32(c00, c01), vpaddq_s32(c02, c03));
    r[1] = vpaddq_s32(vpaddq_s32(c10, c11), vpaddq_s32(c12, c13));
    r[2] = vpaddq_s32(vpaddq_s32(c20, c21), vpaddq_s32(c22, c23));
    r[3] = vpaddq_s32(vpaddq_s32(c30, c31), vpaddq_s32(c32, c33));
    for (size_t i = 0; i < mr; i++) {
        int32_t *ci = c + i * ldc;
        if (ncols >= 4) {
            vst1q_s32(ci, r[i]);
        } else {
            int32_t tmp[4];
            vst1q_s32(tmp, r[i]);
            memcpy(ci, tmp, ncols * sizeof *ci);
        }
    }
}

static void neon_gemm(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed, int32_t *c,
                      size_t ldc)
{
    assert(n >= 1 && k >= 1 && lda >= k && ldc >= n && packed != NULL && (m == 0 || (a != NULL && c != NULL)));
    const size_t k16 = (k + 15) / 16;
    bf_t2i8_gemm_blocks(m, n, a, lda, packed, c, ldc, BF_NEON_MR, 4, k16 * 64, k / 16, k % 16,
                        bf_t2i8_gemm_ukernel_4x4c16__neon);
}

const bf_t2i8_gemm_config bf_t2i8_gemm_neon = {
    .isa = "neon",
    .packed_size = neon_packed_size,
    .pack = neon_pack,
    .gemm = neon_gemm,
    .mr = BF_NEON_MR,
    .max_terms = BF_NEON_MAX_TERMS,
    .pack_terms = neon_pack_terms,
};
