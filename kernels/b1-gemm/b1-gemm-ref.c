/* Bit-serial popcount GEMM, plain C: the family's oracle and its packer
 * (layout and arithmetic in b1-gemm.h). */
#include "b1-gemm.h"

#include <assert.h>
#include <string.h>

size_t bf_b1_packed_size(size_t n, size_t k)
{
    return 64 + (n + 7) / 8 * bf_b1_plane_words(k) * 2 * 64;
}

void bf_b1_pack(size_t n, size_t k, const uint8_t *w, size_t w_row_bytes, void *packed)
{
    const size_t kw = bf_b1_plane_words(k);
    uint8_t *out = packed;
    memset(out, 0, bf_b1_packed_size(n, k));
    uint32_t planes = 1; /* binary unless some weight is 0 */
    for (size_t j = 0; j < n && planes == 1; j++)
        for (size_t kk = 0; kk < k; kk++)
            if (bf_t2_decode(w + j * w_row_bytes, kk) == 0) {
                planes = 2;
                break;
            }
    memcpy(out, &planes, sizeof planes);
    for (size_t j = 0; j < n; j++) {
        for (size_t kk = 0; kk < k; kk++) {
            const int t = bf_t2_decode(w + j * w_row_bytes, kk);
            uint64_t *v = (uint64_t *)bf_b1_unit(out, kw, j / 8, kk / 64, 0) + j % 8;
            uint64_t *u = (uint64_t *)bf_b1_unit(out, kw, j / 8, kk / 64, 1) + j % 8;
            if (t > 0)
                *v |= (uint64_t)1 << (kk % 64);
            if (t >= 0 && planes == 2)
                *u |= (uint64_t)1 << (kk % 64);
        }
    }
}

static unsigned b1_popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/* Bit planes of a[k0 .. k0 + 64*words) (zero past k): planes[b * words + i]. */
static void b1_planes(const int8_t *a, size_t k0, size_t k, size_t words, uint64_t *planes)
{
    memset(planes, 0, 8 * words * sizeof *planes);
    for (size_t kk = k0; kk < k && kk < k0 + 64 * words; kk++) {
        const unsigned byte = (uint8_t)a[kk];
        const size_t i = (kk - k0) / 64;
        const uint64_t bit = (uint64_t)1 << ((kk - k0) % 64);
        for (unsigned b = 0; b < 8; b++)
            if (byte & (1u << b))
                planes[b * words + i] |= bit;
    }
}

static void b1_ref_gemm(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed, int32_t *c,
                        size_t ldc)
{
    assert(n >= 1 && k >= 1 && lda >= k && ldc >= n && packed != NULL && (m == 0 || (a != NULL && c != NULL)));
    const size_t kw = bf_b1_plane_words(k);
    const unsigned np = bf_b1_planes(packed);
    uint64_t planes[8 * BF_B1_KC_WORDS];
    for (size_t i = 0; i < m; i++) {
        const int8_t *ai = a + i * lda;
        int64_t rowsum = 0;
        for (size_t kk = 0; kk < k; kk++)
            rowsum += ai[kk];
        for (size_t j = 0; j < n; j++)
            c[i * ldc + j] = (int32_t)-rowsum;
        for (size_t w0 = 0; w0 < kw; w0 += BF_B1_KC_WORDS) {
            const size_t words = kw - w0 < BF_B1_KC_WORDS ? kw - w0 : BF_B1_KC_WORDS;
            b1_planes(ai, w0 * 64, k, words, planes);
            for (size_t j = 0; j < n; j++) {
                int64_t t = 0;
                for (unsigned p = 0; p < np; p++) {
                    for (unsigned b = 0; b < 8; b++) {
                        int64_t cnt = 0;
                        for (size_t x = 0; x < words; x++)
                            cnt += b1_popcount64(planes[b * words + x] & bf_b1_unit(packed, kw, j / 8, w0 + x, p)[j % 8]);
                        t += b == 7 ? -128 * cnt : ((int64_t)1 << b) * cnt;
                    }
                }
                c[i * ldc + j] += (int32_t)(np == 1 ? 2 * t : t);
            }
        }
    }
}

const bf_t2i8_gemm_config bf_b1_gemm_ref = {
    .isa = "b1-ref",
    .packed_size = bf_b1_packed_size,
    .pack = bf_b1_pack,
    .gemm = b1_ref_gemm,
    .mr = 1,
};
