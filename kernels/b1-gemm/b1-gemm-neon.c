/*
 * Bit-serial popcount GEMM, AArch64 Advanced SIMD (cnt): arithmetic and packed
 * layout in b1-gemm.h (shared with the reference; `pack` is bf_b1_pack).
 *
 * Planes of A: 16 bytes at a time, cmtst against 1 << b selects the bytes with
 * bit b, an AND with {1, 2, 4, ..., 128} and an across-lanes add per half
 * give the 16 plane bits. The last partial 16 bytes are copied into a zeroed
 * stack buffer (A is read only within M x K).
 *
 * Tile: 4 rows x 2 channels. For each plane b (outer, 7 down to 0) and each
 * 128 k (one q register): cnt(A_b AND V) (+ cnt(A_b AND U)) per byte, uadalp
 * into uint16 lanes; after the plane, the lanes are added (uaddlv) and
 * T = 2T + X (Horner; T = -X for the sign plane).
 */
#include <arm_neon.h>
#include <string.h>

#include "b1-gemm.h"

#define B1_MR 4

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

static inline __attribute__((always_inline)) void b1_neon_tile(const int NR, const int NP, size_t mr,
                                                               const uint64_t *const *pl, size_t words,
                                                               const uint64_t *const *wv,
                                                               const uint64_t *const *wu, int32_t *c, size_t ldc)
{
    int64_t t[B1_MR][2] = {{0}};
    for (int b = 7; b >= 0; b--) {
        uint16x8_t x[B1_MR][2];
        for (int i = 0; i < B1_MR; i++)
            for (int j = 0; j < NR; j++)
                x[i][j] = vdupq_n_u16(0);
        for (size_t w = 0; w < words; w += 2) {
            uint8x16_t v[2], u[2];
            for (int j = 0; j < NR; j++) {
                v[j] = vreinterpretq_u8_u64(vld1q_u64(wv[j] + w));
                if (NP == 2)
                    u[j] = vreinterpretq_u8_u64(vld1q_u64(wu[j] + w));
            }
            for (int i = 0; i < B1_MR; i++) {
                const uint8x16_t ab = vreinterpretq_u8_u64(vld1q_u64(pl[i] + (size_t)b * words + w));
                for (int j = 0; j < NR; j++) {
                    uint8x16_t cnt = vcntq_u8(vandq_u8(ab, v[j]));
                    if (NP == 2)
                        cnt = vaddq_u8(cnt, vcntq_u8(vandq_u8(ab, u[j])));
                    x[i][j] = vpadalq_u8(x[i][j], cnt);
                }
            }
        }
        for (int i = 0; i < B1_MR; i++)
            for (int j = 0; j < NR; j++) {
                const int64_t xs = (int64_t)vaddlvq_u16(x[i][j]);
                t[i][j] = b == 7 ? -xs : 2 * t[i][j] + xs;
            }
    }
    for (int i = 0; i < B1_MR && (size_t)i < mr; i++)
        for (int j = 0; j < NR; j++)
            c[(size_t)i * ldc + (size_t)j] += (int32_t)(NP == 1 ? 2 * t[i][j] : t[i][j]);
}

#define B1_NEON_TILE(NR, NP)                                                                                          \
    static __attribute__((noinline)) void bf_b1_gemm_ukernel_4x##NR##_p##NP##__neon(                                  \
        size_t mr, const uint64_t *const *pl, size_t words, const uint64_t *const *wv, const uint64_t *const *wu,    \
        int32_t *c, size_t ldc)                                                                                       \
    {                                                                                                                 \
        b1_neon_tile(NR, NP, mr, pl, words, wv, wu, c, ldc);                                                          \
    }
B1_NEON_TILE(2, 1)
B1_NEON_TILE(1, 1)
B1_NEON_TILE(2, 2)
B1_NEON_TILE(1, 2)

static void b1_neon_gemm(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed, int32_t *c,
                         size_t ldc)
{
    const size_t kw = bf_b1_plane_words(k);
    const unsigned np = bf_b1_planes(packed);
    uint64_t planes[B1_MR][8 * BF_B1_KC_WORDS];
    for (size_t m0 = 0; m0 < m; m0 += B1_MR) {
        const size_t mr = m - m0 < B1_MR ? m - m0 : B1_MR;
        for (size_t i = 0; i < mr; i++) {
            const int32_t r = b1_neon_rowsum(a + (m0 + i) * lda, k);
            for (size_t j = 0; j < n; j++)
                c[(m0 + i) * ldc + j] = -r;
        }
        for (size_t w0 = 0; w0 < kw; w0 += BF_B1_KC_WORDS) {
            const size_t words = kw - w0 < BF_B1_KC_WORDS ? kw - w0 : BF_B1_KC_WORDS;
            const uint64_t *pl[B1_MR];
            for (size_t i = 0; i < B1_MR; i++) {
                if (i < mr)
                    b1_planes_neon(a + (m0 + i) * lda, w0 * 64, k, words, planes[i]);
                pl[i] = planes[i < mr ? i : mr - 1];
            }
            for (size_t j = 0; j < n;) {
                const size_t nr = n - j >= 2 ? 2 : 1;
                const uint64_t *wv[2], *wu[2];
                for (size_t q = 0; q < nr; q++) {
                    wv[q] = bf_b1_plane(packed, kw, j + q, 0) + w0;
                    wu[q] = bf_b1_plane(packed, kw, j + q, 1) + w0;
                }
                int32_t *cj = c + m0 * ldc + j;
                if (np == 2) {
                    if (nr == 2)
                        bf_b1_gemm_ukernel_4x2_p2__neon(mr, pl, words, wv, wu, cj, ldc);
                    else
                        bf_b1_gemm_ukernel_4x1_p2__neon(mr, pl, words, wv, wu, cj, ldc);
                } else {
                    if (nr == 2)
                        bf_b1_gemm_ukernel_4x2_p1__neon(mr, pl, words, wv, wu, cj, ldc);
                    else
                        bf_b1_gemm_ukernel_4x1_p1__neon(mr, pl, words, wv, wu, cj, ldc);
                }
                j += nr;
            }
        }
    }
}

const bf_t2i8_gemm_config bf_b1_gemm_neon = {
    .isa = "b1-neon",
    .packed_size = bf_b1_packed_size,
    .pack = bf_b1_pack,
    .gemm = b1_neon_gemm,
    .mr = B1_MR,
};
