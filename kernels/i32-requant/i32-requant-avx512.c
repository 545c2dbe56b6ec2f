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
 * (avx512), or - bf_i32_requant_avx512vbmi, for CPUs with AVX512_VBMI - two
 * vpermi2b over the table in four registers and a blend on the index's top
 * bit (gathers are slow on some cores: 16+ cycles per vector on Zen 4).
 * Stores: vpmovdb to a register and a masked 16-byte store.
 * Loop order: channel blocks outside, rows inside, so the per-channel
 * constants stay in registers across the rows of a tile. Tails: masked.
 */
#include <assert.h>
#include <immintrin.h>

#include "i32-requant/i32-requant.h"

static inline __m512i requant16(__m512i v, __m512i m_even, __m512i m_odd, __m512i s_even, __m512i s_odd,
                                __m512i r_even, __m512i r_odd, __m512i lo, __m512i hi)
{
    __m512i pe = _mm512_mul_epi32(v, m_even);
    __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(v, 32), m_odd);
    pe = _mm512_srav_epi64(_mm512_add_epi64(pe, r_even), s_even);
    po = _mm512_srav_epi64(_mm512_add_epi64(po, r_odd), s_odd);
    pe = _mm512_min_epi64(_mm512_max_epi64(pe, lo), hi);
    po = _mm512_min_epi64(_mm512_max_epi64(po, lo), hi);
    return _mm512_mask_blend_epi32((__mmask16)0xAAAA, pe, _mm512_slli_epi64(po, 32));
}

static void requant_avx512(size_t rows, size_t n, const int32_t *acc, size_t ld_acc, const int32_t *bias,
                           const int32_t *mult, const int32_t *shift, const int8_t *silu, int8_t *out,
                           size_t ld_out)
{
    assert(ld_acc >= n && ld_out >= n);
    int32_t table[256] __attribute__((aligned(64)));
    if (silu != NULL)
        for (int i = 0; i < 256; i++)
            table[i] = silu[i];
    const __m512i lo = _mm512_set1_epi64(-128), hi = _mm512_set1_epi64(127);
    const __m512i one = _mm512_set1_epi64(1), low32 = _mm512_set1_epi64(0xFFFFFFFF);
    const __m512i c128 = _mm512_set1_epi32(128);
    for (size_t j = 0; j < n; j += 16) {
        const size_t w = n - j < 16 ? n - j : 16;
        const __mmask16 k = (__mmask16)((1u << w) - 1u);
        const __m512i b = _mm512_maskz_loadu_epi32(k, bias + j);
        const __m512i m = _mm512_maskz_loadu_epi32(k, mult + j);
        const __m512i s = _mm512_maskz_loadu_epi32(k, shift + j);
        const __m512i m_odd = _mm512_srli_epi64(m, 32);
        const __m512i s_even = _mm512_and_si512(s, low32), s_odd = _mm512_srli_epi64(s, 32);
        const __m512i r_even = _mm512_srli_epi64(_mm512_sllv_epi64(one, s_even), 1);
        const __m512i r_odd = _mm512_srli_epi64(_mm512_sllv_epi64(one, s_odd), 1);
        for (size_t r = 0; r < rows; r++) {
            const __m512i v = _mm512_add_epi32(_mm512_maskz_loadu_epi32(k, acc + r * ld_acc + j), b);
            __m512i q = requant16(v, m, m_odd, s_even, s_odd, r_even, r_odd, lo, hi);
            if (silu != NULL)
                q = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), k, _mm512_add_epi32(q, c128), table, 4);
            _mm_mask_storeu_epi8(out + r * ld_out + j, k, _mm512_cvtepi32_epi8(q));
        }
    }
}

static void bias_add_avx512(size_t rows, size_t n, int32_t *acc, size_t ld_acc, const int32_t *bias)
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
static void add8_avx512(size_t n, const int8_t *a, const int8_t *b, int32_t mult_a, int32_t mult_b, int32_t shift,
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

/* The SiLU table lookup with VBMI: 16 int8 results in the low lanes. */
__attribute__((target("avx512vbmi"))) static inline __m512i silu_vbmi(__m512i idx, __m512i t0, __m512i t1,
                                                                       __m512i t2, __m512i t3)
{
    const __m512i lo = _mm512_permutex2var_epi8(t0, idx, t1); /* entries 0..127 by bits 0-6 */
    const __m512i hi = _mm512_permutex2var_epi8(t2, idx, t3); /* entries 128..255 */
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi);
}

__attribute__((target("avx512vbmi"))) static void requant_avx512vbmi(size_t rows, size_t n, const int32_t *acc,
                                                                      size_t ld_acc, const int32_t *bias,
                                                                      const int32_t *mult, const int32_t *shift,
                                                                      const int8_t *silu, int8_t *out, size_t ld_out)
{
    assert(ld_acc >= n && ld_out >= n);
    if (silu == NULL) { /* the linear epilogue needs no VBMI */
        requant_avx512(rows, n, acc, ld_acc, bias, mult, shift, NULL, out, ld_out);
        return;
    }
    const __m512i t0 = _mm512_loadu_si512(silu), t1 = _mm512_loadu_si512(silu + 64);
    const __m512i t2 = _mm512_loadu_si512(silu + 128), t3 = _mm512_loadu_si512(silu + 192);
    const __m512i lo = _mm512_set1_epi64(-128), hi = _mm512_set1_epi64(127);
    const __m512i one = _mm512_set1_epi64(1), low32 = _mm512_set1_epi64(0xFFFFFFFF);
    const __m128i flip = _mm_set1_epi8((char)0x80); /* p + 128 as an unsigned byte */
    for (size_t j = 0; j < n; j += 16) {
        const size_t w = n - j < 16 ? n - j : 16;
        const __mmask16 k = (__mmask16)((1u << w) - 1u);
        const __m512i b = _mm512_maskz_loadu_epi32(k, bias + j);
        const __m512i m = _mm512_maskz_loadu_epi32(k, mult + j);
        const __m512i s = _mm512_maskz_loadu_epi32(k, shift + j);
        const __m512i m_odd = _mm512_srli_epi64(m, 32);
        const __m512i s_even = _mm512_and_si512(s, low32), s_odd = _mm512_srli_epi64(s, 32);
        const __m512i r_even = _mm512_srli_epi64(_mm512_sllv_epi64(one, s_even), 1);
        const __m512i r_odd = _mm512_srli_epi64(_mm512_sllv_epi64(one, s_odd), 1);
        for (size_t r = 0; r < rows; r++) {
            const __m512i v = _mm512_add_epi32(_mm512_maskz_loadu_epi32(k, acc + r * ld_acc + j), b);
            const __m512i q = requant16(v, m, m_odd, s_even, s_odd, r_even, r_odd, lo, hi);
            const __m128i idx = _mm_xor_si128(_mm512_cvtepi32_epi8(q), flip);
            const __m512i y = silu_vbmi(_mm512_castsi128_si512(idx), t0, t1, t2, t3);
            _mm_mask_storeu_epi8(out + r * ld_out + j, k, _mm512_castsi512_si128(y));
        }
    }
}

__attribute__((target("avx512vbmi"))) static void lut8_avx512vbmi(size_t rows, size_t n, const int8_t *in,
                                                                    size_t ld_in, const int8_t *table, int8_t *out,
                                                                    size_t ld_out)
{
    const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
    const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (size_t r = 0; r < rows; r++) {
        const int8_t *s = in + r * ld_in;
        int8_t *d = out + r * ld_out;
        for (size_t j = 0; j < n; j += 64) {
            const size_t w = n - j < 64 ? n - j : 64;
            const __mmask64 k = w == 64 ? ~(__mmask64)0 : (((__mmask64)1 << w) - 1);
            const __m512i idx = _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, s + j), flip);
            _mm512_mask_storeu_epi8(d + j, k, silu_vbmi(idx, t0, t1, t2, t3));
        }
    }
}

const bf_i32_requant_config bf_i32_requant_avx512vbmi = {
    .isa = "avx512vbmi",
    .requant = requant_avx512vbmi,
    .bias_add = bias_add_avx512,
    .lut8 = lut8_avx512vbmi,
    .add8 = add8_avx512,
};

const bf_i32_requant_config bf_i32_requant_avx512 = {
    .isa = "avx512",
    .requant = requant_avx512,
    .bias_add = bias_add_avx512,
    .lut8 = bf_i32_lut8_scalar,
    .add8 = add8_avx512,
};
