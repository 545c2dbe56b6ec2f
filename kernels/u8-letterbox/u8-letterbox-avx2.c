/*
 * The letterbox row passes, AVX2. See u8-letterbox.h.
 *
 * horizontal: per scaled column, the 4 bytes at each tap (movd: RGB and one
 * byte more), interleaved a0 b0 a1 b1 .. and widened to words, then one
 * vpmaddwd with (2048 - ax, ax) pairs gives the three sums (and a fourth of
 * the spare byte) exactly: every product <= 255 * 2048 and their sum fits.
 * The 16-byte store writes that fourth lane into the next column's first
 * value, which the next column then overwrites; so the last column, and
 * any column whose 4-byte reads would pass the row's end (a tap on its last
 * pixel), take the reference. BGR: vpshufd swaps the first and third sums.
 *
 * blend (vpmulld): 32 outputs a step.
 * Per 8 lanes: h0 * wy0 + h1 * wy1 + 2^21 in uint32 (no term exceeds 2^30, so
 * nothing wraps), >> 22 (vpsrld), leaving 0..255; four such vectors pack to
 * 32 bytes with the unsigned-saturating packs (exact: every value is already
 * in range), whose lane interleave one vpermd undoes, and the XOR of 0x80 is
 * the - 128. The last count % 32 outputs take the scalar formula.
 */
#include <immintrin.h>
#include <string.h>

#include "u8-letterbox/u8-letterbox.h"

static inline __m256i blend8(const uint32_t *h0, const uint32_t *h1, __m256i w0, __m256i w1, __m256i round)
{
    const __m256i a = _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)h0), w0);
    const __m256i b = _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)h1), w1);
    return _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(a, b), round), 22);
}

static inline __m256i copy8(const uint32_t *h0, __m256i round)
{
    return _mm256_srli_epi32(_mm256_add_epi32(_mm256_loadu_si256((const __m256i *)h0), round), 11);
}

/* four vectors of 8 values in 0..255 -> 32 int8 (value - 128), in order */
static inline void store32(int8_t *d, __m256i v0, __m256i v1, __m256i v2, __m256i v3)
{
    const __m256i p = _mm256_packus_epi16(_mm256_packus_epi32(v0, v1), _mm256_packus_epi32(v2, v3));
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    _mm256_storeu_si256((__m256i *)d,
                        _mm256_xor_si256(_mm256_permutevar8x32_epi32(p, order), _mm256_set1_epi8((char)0x80)));
}

static void avx2_horizontal(const uint8_t *src, size_t src_bytes, const int32_t *x0, const int32_t *x1,
                            const int32_t *ax, size_t n, int bgr, uint32_t *h)
{
    /* every column but the last (its fourth lane would land past h) */
    const size_t end = n > 0 ? n - 1 : 0;
    for (size_t x = 0; x < end; x++) {
        if ((size_t)x0[x] + 4 > src_bytes || (size_t)x1[x] + 4 > src_bytes) {
            /* a 4-byte read would pass the row's end (its last pixel) */
            bf_u8_letterbox_horizontal_ref(src, x0, x1, ax, x, x + 1, bgr, h);
            continue;
        }
        int32_t a, b;
        memcpy(&a, src + x0[x], 4);
        memcpy(&b, src + x1[x], 4);
        const uint32_t w1 = (uint32_t)ax[x], w = (2048u - w1) | (w1 << 16);
        const __m128i ab = _mm_cvtepu8_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(a), _mm_cvtsi32_si128(b)));
        __m128i sums = _mm_madd_epi16(ab, _mm_set1_epi32((int)w));
        if (bgr)
            sums = _mm_shuffle_epi32(sums, _MM_SHUFFLE(3, 0, 1, 2));
        _mm_storeu_si128((__m128i *)(h + 3 * x), sums);
    }
    bf_u8_letterbox_horizontal_ref(src, x0, x1, ax, end, n, bgr, h);
}

static void avx2_blend(const uint32_t *h0, const uint32_t *h1, uint32_t wy0, uint32_t wy1, size_t count, int8_t *d)
{
    size_t i = 0;
    if (wy1 == 0) {
        const __m256i round = _mm256_set1_epi32(1024);
        for (; i + 32 <= count; i += 32)
            store32(d + i, copy8(h0 + i, round), copy8(h0 + i + 8, round), copy8(h0 + i + 16, round),
                    copy8(h0 + i + 24, round));
        for (; i < count; i++)
            d[i] = (int8_t)(int)(((h0[i] + 1024u) >> 11) - 128u);
        return;
    }
    const __m256i w0 = _mm256_set1_epi32((int)wy0), w1 = _mm256_set1_epi32((int)wy1);
    const __m256i round = _mm256_set1_epi32(1 << 21);
    for (; i + 32 <= count; i += 32)
        store32(d + i, blend8(h0 + i, h1 + i, w0, w1, round), blend8(h0 + i + 8, h1 + i + 8, w0, w1, round),
                blend8(h0 + i + 16, h1 + i + 16, w0, w1, round), blend8(h0 + i + 24, h1 + i + 24, w0, w1, round));
    for (; i < count; i++)
        d[i] = (int8_t)(int)(((h0[i] * wy0 + h1[i] * wy1 + (1u << 21)) >> 22) - 128u);
}

const bf_u8_letterbox_config bf_u8_letterbox_avx2 = {
    .isa = "avx2",
    .horizontal = avx2_horizontal,
    .blend = avx2_blend,
};
