/*
 * Bit-serial popcount GEMM, AVX-512 (VPOPCNTDQ, BW): arithmetic and packed
 * layout in b1-gemm.h (shared with the reference; `pack` is bf_b1_pack).
 *
 * Planes of A: 64 bytes of a row at a time, vpmovb2m takes bit 7 of every byte
 * into a 64-bit mask (plane 7), vpaddb doubles the bytes, and so on down to
 * plane 0: 16 instructions per 64 k per row. The last partial 64 bytes are
 * loaded with a byte mask (A is read only within M x K).
 *
 * Tile: MR = 4 rows x NR = 2 groups of 8 channels; lanes are channels
 * (the packing is channel-major). For each plane b (outer, 7 down to 0) and
 * each word x of 64 k: X[i][j] += popcnt(bcast(A_b[i][x]) AND V[j][x])
 * (+ the same with U for ternary), the broadcast folded into the AND; after
 * the plane T = 2T + X (Horner; T = -X for the sign plane). Per 64 k and
 * (row, 8 channels): 8 planes x (2 AND + 2 VPOPCNTQ + 2 VPADDQ) for ternary,
 * half for binary weights; no horizontal reductions. T (int64 lanes) is
 * narrowed to int32 and added to C, 8 channels per store (masked at N).
 */
#include <assert.h>
#include <immintrin.h>
#include <string.h>

#include "b1-gemm.h"

#define B1_MR BF_B1_MR
#if defined(__clang__)
#define BF_UNROLL _Pragma("unroll")
#else
#define BF_UNROLL _Pragma("GCC unroll 8")
#endif

static int32_t b1_rowsum(const int8_t *a, size_t k)
{
    const __m512i bias = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
    __m512i s = zero;
    size_t i = 0;
    for (; i + 64 <= k; i += 64)
        s = _mm512_add_epi64(s, _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(a + i), bias), zero));
    if (i < k) {
        const __mmask64 mask = ((__mmask64)1 << (k - i)) - 1;
        const __m512i v = _mm512_maskz_mov_epi8(mask, _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, a + i), bias));
        s = _mm512_add_epi64(s, _mm512_sad_epu8(v, zero));
    }
    return (int32_t)(_mm512_reduce_add_epi64(s) - 128 * (long long)k);
}

/* Planes of a[k0 .. k0 + 64*words), zero past k: pl[b * words + x]. */
static void b1_planes_avx512(const int8_t *a, size_t k0, size_t k, size_t words, uint64_t *pl)
{
    for (size_t x = 0; x < words; x++) {
        const size_t kk = k0 + 64 * x;
        __m512i v = _mm512_setzero_si512();
        if (kk + 64 <= k)
            v = _mm512_loadu_si512(a + kk);
        else if (kk < k)
            v = _mm512_maskz_loadu_epi8(((__mmask64)1 << (k - kk)) - 1, a + kk);
        BF_UNROLL
        for (int b = 7; b >= 0; b--) {
            pl[(size_t)b * words + x] = (uint64_t)_mm512_movepi8_mask(v);
            v = _mm512_add_epi8(v, v);
        }
    }
}

/* T for MR rows x NR groups of 8 channels over one chunk of `words` words,
 * added to C (scale 2 for one plane). NR and NP are constants after
 * inlining. `wq` points at the chunk's first unit of each group, units 128
 * bytes (V then U) apart per word. */
static inline __attribute__((always_inline)) void b1_tile(const int NR, const int NP, size_t mr,
                                                          const uint64_t *const *pl, size_t words,
                                                          const uint64_t *const *wq, int32_t *c, size_t ldc,
                                                          size_t ncols)
{
    __m512i t[B1_MR][2];
    BF_UNROLL
    for (int i = 0; i < B1_MR; i++)
        for (int j = 0; j < NR; j++)
            t[i][j] = _mm512_setzero_si512();
    for (int b = 7; b >= 0; b--) {
        __m512i x[B1_MR][2];
        BF_UNROLL
        for (int i = 0; i < B1_MR; i++)
            for (int j = 0; j < NR; j++)
                x[i][j] = _mm512_setzero_si512();
        for (size_t w = 0; w < words; w++) {
            __m512i v[2], u[2];
            BF_UNROLL
            for (int j = 0; j < NR; j++) {
                v[j] = _mm512_loadu_si512(wq[j] + w * 16);
                if (NP == 2)
                    u[j] = _mm512_loadu_si512(wq[j] + w * 16 + 8);
            }
            BF_UNROLL
            for (int i = 0; i < B1_MR; i++) {
                const __m512i ab = _mm512_set1_epi64((long long)pl[i][(size_t)b * words + w]);
                BF_UNROLL
                for (int j = 0; j < NR; j++) {
                    x[i][j] = _mm512_add_epi64(x[i][j], _mm512_popcnt_epi64(_mm512_and_si512(ab, v[j])));
                    if (NP == 2)
                        x[i][j] = _mm512_add_epi64(x[i][j], _mm512_popcnt_epi64(_mm512_and_si512(ab, u[j])));
                }
            }
        }
        BF_UNROLL
        for (int i = 0; i < B1_MR; i++)
            for (int j = 0; j < NR; j++)
                t[i][j] = b == 7 ? _mm512_sub_epi64(t[i][j], x[i][j])
                                 : _mm512_add_epi64(_mm512_add_epi64(t[i][j], t[i][j]), x[i][j]);
    }
    BF_UNROLL
    for (int i = 0; i < B1_MR; i++) {
        if ((size_t)i >= mr)
            break;
        for (int j = 0; j < NR; j++) {
            const size_t cols = ncols - 8 * (size_t)j < 8 ? ncols - 8 * (size_t)j : 8;
            const __mmask8 m8 = (__mmask8)((1u << cols) - 1);
            int32_t *cij = c + (size_t)i * ldc + 8 * (size_t)j;
            __m512i tt = NP == 1 ? _mm512_add_epi64(t[i][j], t[i][j]) : t[i][j];
            const __m256i prev = _mm256_maskz_loadu_epi32(m8, cij);
            _mm256_mask_storeu_epi32(cij, m8, _mm256_add_epi32(prev, _mm512_cvtepi64_epi32(tt)));
        }
    }
}

#define B1_TILE(NR, NP)                                                                                               \
    static __attribute__((noinline)) void bf_b1_gemm_ukernel_4x##NR##x8_p##NP##__avx512vpopcnt(                       \
        size_t mr, const uint64_t *const *pl, size_t words, const uint64_t *const *wq, int32_t *c, size_t ldc,       \
        size_t ncols)                                                                                                 \
    {                                                                                                                 \
        b1_tile(NR, NP, mr, pl, words, wq, c, ldc, ncols);                                                            \
    }
B1_TILE(2, 1)
B1_TILE(1, 1)
B1_TILE(2, 2)
B1_TILE(1, 2)

/* Channel groups of 8 in pairs (4 x 2 x 8 tiles), an odd last one alone. */
static void b1_avx512_columns(size_t mr, const uint64_t *const *pl, size_t words, const void *packed, size_t kw,
                              size_t w0, unsigned np, size_t n, int32_t *c, size_t ldc)
{
    const size_t groups = (n + 7) / 8;
    for (size_t q = 0; q < groups;) {
        const size_t nr = groups - q >= 2 ? 2 : 1;
        const uint64_t *wq[2];
        for (size_t r = 0; r < nr; r++)
            wq[r] = bf_b1_unit(packed, kw, q + r, w0, 0);
        int32_t *cq = c + 8 * q;
        const size_t cols = n - 8 * q < 8 * nr ? n - 8 * q : 8 * nr;
        if (np == 2) {
            if (nr == 2)
                bf_b1_gemm_ukernel_4x2x8_p2__avx512vpopcnt(mr, pl, words, wq, cq, ldc, cols);
            else
                bf_b1_gemm_ukernel_4x1x8_p2__avx512vpopcnt(mr, pl, words, wq, cq, ldc, cols);
        } else {
            if (nr == 2)
                bf_b1_gemm_ukernel_4x2x8_p1__avx512vpopcnt(mr, pl, words, wq, cq, ldc, cols);
            else
                bf_b1_gemm_ukernel_4x1x8_p1__avx512vpopcnt(mr, pl, words, wq, cq, ldc, cols);
        }
        q += nr;
    }
}

static void b1_avx512_gemm(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed,
                           int32_t *c, size_t ldc)
{
    bf_b1_gemm_drive(m, n, k, a, lda, packed, c, ldc, b1_rowsum, b1_planes_avx512, b1_avx512_columns);
}

const bf_t2i8_gemm_config bf_b1_gemm_avx512 = {
    .isa = "b1-avx512",
    .packed_size = bf_b1_packed_size,
    .pack = bf_b1_pack,
    .gemm = b1_avx512_gemm,
    .mr = B1_MR,
};
