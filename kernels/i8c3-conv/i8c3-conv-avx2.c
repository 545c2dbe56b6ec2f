/*
 * Direct 3-channel conv, AVX2 (vpmaddubsw + vpmaddwd). See i8c3-conv.h; the
 * layout, the walk and the loops are i8c3-conv-ymm.h's.
 *
 * The tap's multiply-add: vpmaddubsw of the unsigned word bytes with the
 * signed weights gives per channel two int16 pair sums (R, G) and (B, 0), and
 * vpmaddwd with ones adds the pair into an int32, added to the accumulator.
 * A pair sum is at most 2 * 255 * L in size: no saturation while L <= 64,
 * i.e. up to 4 folded planes (L = 40); 5 planes (L = 121) would saturate, so
 * max_terms is 4 and the engine keeps im2col + GEMM for such a layer.
 */
#include <immintrin.h>

#define BF_I8C3_YMM_MAC(c, x, w) \
    (c) = _mm256_add_epi32((c), _mm256_madd_epi16(_mm256_maddubs_epi16((x), (w)), _mm256_set1_epi16(1)))
#include "i8c3-conv-ymm.h"

#define BF_C3A_MAX_TERMS 4 /* L <= 64: vpmaddubsw's pair sums do not saturate; see the top */

static size_t c3a_packed_size(size_t n, size_t taps)
{
    return bf_i8c3_blocks_size(n, taps, 8);
}

static void c3a_pack_terms(size_t n, size_t taps, int nterms, const uint8_t *w, size_t w_row_bytes,
                           size_t plane_stride, void *packed)
{
    bf_i8c3_ymm_pack_terms(n, taps, nterms, BF_C3A_MAX_TERMS, w, w_row_bytes, plane_stride, packed);
}

static void c3a_conv(const bf_i8c3_geom *g, size_t n, const int8_t *in, size_t m0, size_t rows, const void *packed,
                     int32_t *acc, size_t ldc)
{
    bf_i8c3_ymm_conv(g, n, in, m0, rows, packed, acc, ldc);
}

const bf_i8c3_conv_config bf_i8c3_conv_avx2 = {
    .isa = "avx2",
    .packed_size = c3a_packed_size,
    .pack_terms = c3a_pack_terms,
    .conv = c3a_conv,
    .max_terms = BF_C3A_MAX_TERMS,
};
