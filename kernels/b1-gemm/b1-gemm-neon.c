/*
 * Bit-serial popcount GEMM, AArch64 Advanced SIMD (cnt): arithmetic and packed
 * layout in b1-gemm.h (shared with the reference; `pack` is bf_b1_pack).
 *
 * Planes of A: 16 bytes at a time, cmtst against 1 << b selects the bytes with
 * bit b, an AND with {1, 2, 4, ..., 128} and an across-lanes add per half
 * give the 16 plane bits. The last partial 16 bytes are copied into a zeroed
 * stack buffer (A is read only within M x K).
 *
 * Tile: 4 rows x 8 channels (one group; lanes are channels, the packing is
 * channel-major). For each plane b (outer, 7 down to 0) and each word of
 * 64 k: cnt(dup(A_b word) AND V) (+ cnt(... AND U)) per byte, uadalp into
 * uint16 lanes; after the plane the lanes are widened to one uint64 per
 * channel (uaddlp twice) and T = 2T + X (Horner; T = -X for the sign plane).
 */
#include <assert.h>
#include <arm_neon.h>
#include <string.h>

#include "b1-gemm.h"

#define B1_MR BF_B1_MR

static int32_t b1_neon_rowsum(const int8_t *a, size_t k)
{
    int32x4_t s = vdupq_n_s32(0);
    size_t i = 0;
    for (; i + 16 <= k; i += 16)
        s = vpadalq_s16(s, vpaddlq_s8(vld1q_s8(a + i)));
    int64_t total = vaddlvq_s32(s);
    for (; i < k; i++)
        total += a[i];
    return (int32_t)total;
}

/* Planes of a[k0 .. k0 + 64*words), zero past k: pl[b * words + x]. */
static void b1_planes_neon(const int8_t *a, size_t k0, size_t k, size_t words, uint64_t *pl)
{
    static const uint8_t weights[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t wt = vld1q_u8(weights);
    memset(pl, 0, 8 * words * sizeof *pl);
    for (size_t x = 0; x < words; x++) {
        for (size_t q = 0; q < 4; q++) { /* 16 bytes of the 64 in word x */
            const size_t kk = k0 + 64 * x + 16 * q;
            if (kk >= k)
                break;
            uint8x16_t v;
            if (kk + 16 <= k) {
                v = vld1q_u8((const uint8_t *)a + kk);
            } else {
                uint8_t t[16] = {0};
                memcpy(t, a + kk, k - kk);
                v = vld1q_u8(t);
            }
            for (unsigned b = 0; b < 8; b++) {
                const uint8x16_t sel = vandq_u8(vtstq_u8(v, vdupq_n_u8((uint8_t)(1u << b))), wt);
                const uint64_t bits = (uint64_t)vaddv_u8(vget_low_u8(sel)) |
                                      ((uint64_t)vaddv_u8(vget_high_u8(sel)) << 8);
                pl[b * words + x] |= bits << (16 * q);
            }
        }
    }
}

static inline __attribute__((always_inline)) void b1_neon_tile(const int NP, size_t mr, const uint64_t *const *pl,
                                                               size_t words, const uint64_t *wq, int32_t *c,
                                                               size_t ldc, size_t ncols)
{
    int64x2_t t[B1_MR][4];
    for (int i = 0; i < B1_MR; i++)
        for (int r = 0; r < 4; r++)
            t[i][r] = vdupq_n_s64(0);
    for (int b = 7; b >= 0; b--) {
        uint16x8_t x[B1_MR][4];
        for (int i = 0; i < B1_MR; i++)
            for (int r = 0; r < 4; r++)
                x[i][r] = vdupq_n_u16(0);
        for (size_t w = 0; w < words; w++) {
            uint8x16_t v[4], u[4];
            for (int r = 0; r < 4; r++) {
                v[r] = vreinterpretq_u8_u64(vld1q_u64(wq + w * 16 + 2 * r));
                if (NP == 2)
                    u[r] = vreinterpretq_u8_u64(vld1q_u64(wq + w * 16 + 8 + 2 * r));
            }
            for (int i = 0; i < B1_MR; i++) {
                const uint8x16_t ab = vreinterpretq_u8_u64(vdupq_n_u64(pl[i][(size_t)b * words + w]));
                for (int r = 0; r < 4; r++) {
                    uint8x16_t cnt = vcntq_u8(vandq_u8(ab, v[r]));
                    if (NP == 2)
                        cnt = vaddq_u8(cnt, vcntq_u8(vandq_u8(ab, u[r])));
                    x[i][r] = vpadalq_u8(x[i][r], cnt);
                }
            }
        }
        for (int i = 0; i < B1_MR; i++)
            for (int r = 0; r < 4; r++) {
                const int64x2_t xs = vreinterpretq_s64_u64(vpaddlq_u32(vpaddlq_u16(x[i][r])));
                t[i][r] = b == 7 ? vnegq_s64(xs) : vaddq_s64(vaddq_s64(t[i][r], t[i][r]), xs);
            }
    }
    for (int i = 0; i < B1_MR && (size_t)i < mr; i++) {
        int32_t tmp[8];
        for (int r = 0; r < 4; r++) {
            const int64x2_t tt = NP == 1 ? vaddq_s64(t[i][r], t[i][r]) : t[i][r];
            vst1_s32(tmp + 2 * r, vmovn_s64(tt));
        }
        int32_t *ci = c + (size_t)i * ldc;
        for (size_t j = 0; j < ncols; j++)
            ci[j] += tmp[j];
    }
}

#define B1_NEON_TILE(NP)                                                                                              \
    static __attribute__((noinline)) void bf_b1_gemm_ukernel_4x8_p##NP##__neon(                                       \
        size_t mr, const uint64_t *const *pl, size_t words, const uint64_t *wq, int32_t *c, size_t ldc, size_t ncols) \
    {                                                                                                                 \
        b1_neon_tile(NP, mr, pl, words, wq, c, ldc, ncols);                                                           \
    }
B1_NEON_TILE(1)
B1_NEON_TILE(2)

/* Channel groups of 8, one 4 x 8 tile each. */
static void b1_neon_columns(size_t mr, const uint64_t *const *pl, size_t words, const void *packed, size_t kw,
                            size_t w0, unsigned np, size_t n, int32_t *c, size_t ldc)
{
    for (size_t q = 0; q < (n + 7) / 8; q++) {
        const uint64_t *wq = bf_b1_unit(packed, kw, q, w0, 0);
        const size_t cols = n - 8 * q < 8 ? n - 8 * q : 8;
        if (np == 2)
            bf_b1_gemm_ukernel_4x8_p2__neon(mr, pl, words, wq, c + 8 * q, ldc, cols);
        else
            bf_b1_gemm_ukernel_4x8_p1__neon(mr, pl, words, wq, c + 8 * q, ldc, cols);
    }
}

static void b1_neon_gemm(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed, int32_t *c,
                         size_t ldc)
{
    bf_b1_gemm_drive(m, n, k, a, lda, packed, c, ldc, b1_neon_rowsum, b1_planes_neon, b1_neon_columns);
}

const bf_t2i8_gemm_config bf_b1_gemm_neon = {
    .isa = "b1-neon",
    .packed_size = bf_b1_packed_size,
    .pack = bf_b1_pack,
    .gemm = b1_neon_gemm,
    .mr = B1_MR,
};
