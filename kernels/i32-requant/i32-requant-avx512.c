/* AVX-512 (F/BW/VL) requant epilogue, 16 channels per vector.
 *
 * Exactness: v = acc + bias is int32 (vpaddd wraps exactly as the
 * reference's int32 add, which the loader keeps in range). The 64-bit
 * product v * mult is formed by vpmuldq (signed 32 x 32 -> 64) on the even
 * dword lanes, and on the odd ones after a 32-bit shift of both operands;
 * mult < 2^31 so its low dword read as signed is mult itself. Then
 * + ((1 << s) >> 1) (vpsllvq, vpsrlq; 0 for s = 0) and vpsravq (arithmetic,
 * s <= 62): the reference's rshift_round in 64 bits. |v * mult| < 2^62, so
 * the addition cannot overflow. Clamped with vpmaxsq/vpminsq to [-128, 127],
 * the even and odd results are merged as dwords and narrowed with vpmovdb.
 * SiLU: vpgatherdd from a 256-entry int32 copy of the table made per call
 * (CPUs with AVX512_VBMI get i32-requant-avx512vbmi.c's table lookup
 * instead: gathers are slow on some cores, 16+ cycles per vector on Zen 4).
 * Stores: vpmovdb to a register and a masked 16-byte store.
 * Loop order: channel blocks outside, rows inside, so the per-channel
 * constants stay in registers across the rows of a tile. Tails: masked.
 */
#include <assert.h>
#include <immintrin.h>
#include <stdbool.h>

#include "i32-requant/i32-requant-avx512.h"
#include "i32-requant/i32-requant.h"

/* The 256-entry int8 table lookup with AVX-512BW alone (no VBMI byte
 * permute): 32 indices u in 0..255, one a 16-bit lane. The table as 128
 * words in t0..t3 (32 each); vpermt2w picks word u / 2 from t0:t1 or t2:t3
 * (its bit 6 chooses), and a shift by 8 * (u & 1) brings the wanted byte to
 * the lane's low half. 8 instructions per 32 lookups, where a gather took
 * one load per lookup. */
static inline __m512i lookup256_w(__m512i u, __m512i t0, __m512i t1, __m512i t2, __m512i t3)
{
    const __m512i wi = _mm512_srli_epi16(u, 1);
    const __m512i lo = _mm512_permutex2var_epi16(t0, wi, t1);
    const __m512i hi = _mm512_permutex2var_epi16(t2, wi, t3);
    const __m512i w = _mm512_mask_blend_epi16(_mm512_test_epi16_mask(wi, _mm512_set1_epi16(64)), lo, hi);
    return _mm512_srlv_epi16(w, _mm512_slli_epi16(_mm512_and_si512(u, _mm512_set1_epi16(1)), 3));
}

static void requant_avx512(size_t rows, size_t n, const int32_t *acc, size_t ld_acc, const int32_t *bias,
                           const int32_t *mult, const int32_t *shift, const int8_t *silu, int8_t *out,
                           size_t ld_out)
{
    assert(ld_acc >= n && ld_out >= n);
    __m512i t0 = _mm512_setzero_si512(), t1 = t0, t2 = t0, t3 = t0;
    if (silu != NULL) {
        t0 = _mm512_loadu_si512(silu), t1 = _mm512_loadu_si512(silu + 64);
        t2 = _mm512_loadu_si512(silu + 128), t3 = _mm512_loadu_si512(silu + 192);
    }
    const __m512i c128 = _mm512_set1_epi32(128);
    for (size_t j = 0; j < n; j += 16) {
        const bf_requant16_block blk = bf_requant16_block_load(bias + j, mult + j, shift + j, n - j < 16 ? n - j : 16);
        const __mmask16 k = blk.k;
        size_t r = 0;
        if (silu != NULL) /* two rows a lookup: their 2 x 16 indices as words fill a zmm */
            for (; r + 2 <= rows; r += 2) {
                const __m256i u0 =
                    _mm512_cvtepi32_epi16(_mm512_add_epi32(bf_requant16_row(&blk, acc + r * ld_acc + j), c128));
                const __m256i u1 =
                    _mm512_cvtepi32_epi16(_mm512_add_epi32(bf_requant16_row(&blk, acc + (r + 1) * ld_acc + j), c128));
                const __m512i u = _mm512_inserti64x4(_mm512_castsi256_si512(u0), u1, 1);
                const __m256i y = _mm512_cvtepi16_epi8(lookup256_w(u, t0, t1, t2, t3));
                _mm_mask_storeu_epi8(out + r * ld_out + j, k, _mm256_castsi256_si128(y));
                _mm_mask_storeu_epi8(out + (r + 1) * ld_out + j, k, _mm256_extracti128_si256(y, 1));
            }
        for (; r < rows; r++) {
            __m512i q = bf_requant16_row(&blk, acc + r * ld_acc + j);
            if (silu != NULL) {
                const __m512i u = _mm512_castsi256_si512(_mm512_cvtepi32_epi16(_mm512_add_epi32(q, c128)));
                const __m256i y = _mm512_cvtepi16_epi8(lookup256_w(u, t0, t1, t2, t3));
                _mm_mask_storeu_epi8(out + r * ld_out + j, k, _mm256_castsi256_si128(y));
                continue;
            }
            _mm_mask_storeu_epi8(out + r * ld_out + j, k, _mm512_cvtepi32_epi8(q));
        }
    }
}

void bf_i32_bias_add_avx512(size_t rows, size_t n, int32_t *acc, size_t ld_acc, const int32_t *bias)
{
    assert(ld_acc >= n);
    for (size_t j = 0; j < n; j += 16) {
        const size_t w = n - j < 16 ? n - j : 16;
        const __mmask16 k = (__mmask16)((1u << w) - 1u);
        const __m512i b = _mm512_maskz_loadu_epi32(k, bias + j);
        for (size_t r = 0; r < rows; r++) {
            int32_t *a = acc + r * ld_acc + j;
            _mm512_mask_storeu_epi32(a, k, _mm512_add_epi32(_mm512_maskz_loadu_epi32(k, a), b));
        }
    }
}

/* ADD: 8 elements per vector in 64-bit lanes (vpmovsxbq, vpmuldq: the
 * products are exact, |a * mult| < 2^38), round, vpsravq, clamp, vpmovqb. */
void bf_i32_add8_avx512(size_t n, const int8_t *a, const int8_t *b, int32_t mult_a, int32_t mult_b, int32_t shift,
                        int8_t *out)
{
    const __m512i ma = _mm512_set1_epi64(mult_a), mb = _mm512_set1_epi64(mult_b);
    const __m512i s = _mm512_set1_epi64(shift), rnd = _mm512_set1_epi64(((int64_t)1 << shift) >> 1);
    const __m512i lo = _mm512_set1_epi64(-128), hi = _mm512_set1_epi64(127);
    for (size_t i = 0; i < n; i += 8) {
        const size_t w = n - i < 8 ? n - i : 8;
        const __mmask8 k = (__mmask8)((1u << w) - 1u);
        const __m512i va = _mm512_cvtepi8_epi64(_mm_maskz_loadu_epi8(k, a + i));
        const __m512i vb = _mm512_cvtepi8_epi64(_mm_maskz_loadu_epi8(k, b + i));
        __m512i x = _mm512_add_epi64(_mm512_mul_epi32(va, ma), _mm512_mul_epi32(vb, mb));
        x = _mm512_srav_epi64(_mm512_add_epi64(x, rnd), s);
        x = _mm512_min_epi64(_mm512_max_epi64(x, lo), hi);
        _mm_mask_storeu_epi8(out + i, k, _mm512_cvtepi64_epi8(x));
    }
}

const bf_i32_requant_config bf_i32_requant_avx512 = {
    .isa = "avx512",
    .requant = requant_avx512,
    .bias_add = bf_i32_bias_add_avx512,
    .lut8 = bf_i32_lut8_avx2, /* a byte permute over 256 entries needs VBMI; AVX2's vpshufb rows serve */
    .add8 = bf_i32_add8_avx512,
};
