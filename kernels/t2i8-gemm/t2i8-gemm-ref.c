/* Reference ternary x int8 GEMM: plain C, one multiply-free add per weight.
 * It stays ternary (max_terms 1, no pack_terms): a multi-ternary layer runs it
 * once per plane, the oracle for the other paths' folded packs. */
#include "t2i8-gemm.h"

#include <assert.h>
#include <string.h>

static size_t ref_packed_size(size_t n, size_t k)
{
    return n * ((k + 3) / 4);
}

/* The reference keeps the file layout, rows tightened to ceil(K/4) bytes. */
static void ref_pack(size_t n, size_t k, const uint8_t *w, size_t w_row_bytes, void *packed)
{
    size_t row = (k + 3) / 4;
    uint8_t *out = packed;
    for (size_t i = 0; i < n; i++)
        memcpy(out + i * row, w + i * w_row_bytes, row);
}

static void ref_gemm(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed,
                     int32_t *c, size_t ldc)
{
    assert(n >= 1 && k >= 1 && lda >= k && ldc >= n && packed != NULL && (m == 0 || (a != NULL && c != NULL)));
    const uint8_t *w = packed;
    size_t row = (k + 3) / 4;
    for (size_t i = 0; i < m; i++) {
        const int8_t *ai = a + i * lda;
        for (size_t j = 0; j < n; j++) {
            const uint8_t *wj = w + j * row;
            int32_t acc = 0;
            for (size_t kk = 0; kk < k; kk++) {
                int t = bf_t2_decode(wj, kk);
                if (t > 0)
                    acc += ai[kk];
                else if (t < 0)
                    acc -= ai[kk];
            }
            c[i * ldc + j] = acc;
        }
    }
}

/* The indirect form: row i's k-th byte is run k / seg_k of the row, at
 * offset k % seg_k. */
static void ref_igemm(size_t m, size_t n, size_t segs, size_t seg_k, const int8_t *const *a, const void *packed,
                      int32_t *c, size_t ldc)
{
    assert(n >= 1 && segs >= 1 && seg_k >= 4 && seg_k % 4 == 0 && ldc >= n && packed != NULL &&
           (m == 0 || (a != NULL && c != NULL)));
    const uint8_t *w = packed;
    const size_t k = segs * seg_k, row = (k + 3) / 4;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            const uint8_t *wj = w + j * row;
            int32_t acc = 0;
            for (size_t s = 0; s < segs; s++) {
                const int8_t *run = a[i * segs + s];
                for (size_t kk = 0; kk < seg_k; kk++) {
                    const int t = bf_t2_decode(wj, s * seg_k + kk);
                    if (t > 0)
                        acc += run[kk];
                    else if (t < 0)
                        acc -= run[kk];
                }
            }
            c[i * ldc + j] = acc;
        }
}

const bf_t2i8_gemm_config bf_t2i8_gemm_ref = {
    .isa = "ref",
    .packed_size = ref_packed_size,
    .pack = ref_pack,
    .gemm = ref_gemm,
    .mr = 1,
    .max_terms = 1,
    .pack_terms = NULL,
    .igemm = ref_igemm,
};
