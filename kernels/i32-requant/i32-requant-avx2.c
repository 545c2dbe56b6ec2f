/* AVX2 requant epilogue, 8 channels per vector.
 *
 * Exactness: as the AVX-512 path (vpmuldq on even and odd dword lanes gives
 * the exact 64-bit v * mult, mult < 2^31), but AVX2 has no 64-bit arithmetic
 * shift: x >> s (arithmetic) is computed as ((x ^ m) >>> s) ^ m with
 * m = (x < 0 ? -1 : 0) (vpcmpgtq) and a logical vpsrlvq, the identity
 * floor(x / 2^s) = ~floor(~x / 2^s) for negative x. The 64-bit clamp uses
 * vpcmpgtq + vpblendvb; the merged dwords (now in [-128, 127]) are narrowed
 * with signed packs, which are then exact. SiLU: in the 32-bit form below,
 * four rows at a time, their 32 bytes through the vpshufb lookup of lut8
 * (0.56x the time of the gather it replaced, kernel alone on a Zen 3, and
 * gathers are slower still on Intel cores with the Downfall microcode);
 * elsewhere vpgatherdd from an int32 copy of the table. Channel tails
 * (n % 8) run the scalar formula.
 * Blocks of 8 channels whose shifts are all >= 32 (every one of the shipped
 * model's) skip the 64-bit shift and clamp: floor(x / 2^s) =
 * floor(floor(x / 2^32) / 2^(s-32)), and floor(x / 2^32) is x's high dword
 * (|x| < 2^63, so it fits), so one vpsravd and an int32 clamp do it. ADD
 * (add8) the same way, 8 elements per step. lut8 (CONCAT's rescale), 32
 * bytes a step: AVX2 has no byte permute wider than vpshufb's 16 entries, so
 * the table is 16 rows of 16 bytes; each row is looked up by the low nibble
 * of u = x + 128 and kept where u's high nibble names that row (vpcmpeqb,
 * vpblendvb): 16 x 3 vector ops for 32 bytes, where the scalar loop spends
 * two loads and a store on each byte. The avx512 path (no VBMI: Skylake-X,
 * Cascade Lake) uses it too.
 */
#include <assert.h>
#include <immintrin.h>

#include "i32-requant/i32-requant.h"

static inline int8_t requant1(int32_t v, int32_t mult, int32_t shift)
{
    int64_t x = ((int64_t)v * mult + (((int64_t)1 << shift) >> 1)) >> shift;
    x = x < -128 ? -128 : x;
    x = x > 127 ? 127 : x;
    return (int8_t)x;
}

static inline __m256i sra64(__m256i x, __m256i s)
{
    const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
    return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(x, sign), s), sign);
}

static inline __m256i clamp64(__m256i x, __m256i lo, __m256i hi)
{
    x = _mm256_blendv_epi8(x, hi, _mm256_cmpgt_epi64(x, hi));
    return _mm256_blendv_epi8(x, lo, _mm256_cmpgt_epi64(lo, x));
}

static inline __m256i lookup256_ymm(const __m256i *rows16, __m256i u)
{
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i lo = _mm256_and_si256(u, nibble), hi = _mm256_and_si256(_mm256_srli_epi16(u, 4), nibble);
    __m256i y = _mm256_shuffle_epi8(rows16[0], lo);
    for (int h = 1; h < 16; h++)
        y = _mm256_blendv_epi8(y, _mm256_shuffle_epi8(rows16[h], lo), _mm256_cmpeq_epi8(hi, _mm256_set1_epi8((char)h)));
    return y;
}

static void requant_avx2(size_t rows, size_t n, const int32_t *acc, size_t ld_acc, const int32_t *bias,
                         const int32_t *mult, const int32_t *shift, const int8_t *silu, int8_t *out, size_t ld_out)
{
    assert(ld_acc >= n && ld_out >= n);
    int32_t table[256] __attribute__((aligned(32)));
    __m256i rows16[16];
    if (silu != NULL) {
        for (int i = 0; i < 256; i++)
            table[i] = silu[i];
        for (int h = 0; h < 16; h++)
            rows16[h] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(silu + 16 * h)));
    }
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    const __m256i lo = _mm256_set1_epi64x(-128), hi = _mm256_set1_epi64x(127);
    const __m256i one = _mm256_set1_epi64x(1), low32 = _mm256_set1_epi64x(0xFFFFFFFF);
    const __m256i c128 = _mm256_set1_epi32(128);
    const size_t n8 = n & ~(size_t)7;
    for (size_t j = 0; j < n8; j += 8) {
        const __m256i b = _mm256_loadu_si256((const __m256i *)(bias + j));
        const __m256i m = _mm256_loadu_si256((const __m256i *)(mult + j));
        const __m256i s = _mm256_loadu_si256((const __m256i *)(shift + j));
        const __m256i m_odd = _mm256_srli_epi64(m, 32);
        const __m256i s_even = _mm256_and_si256(s, low32), s_odd = _mm256_srli_epi64(s, 32);
        const __m256i r_even = _mm256_srli_epi64(_mm256_sllv_epi64(one, s_even), 1);
        const __m256i r_odd = _mm256_srli_epi64(_mm256_sllv_epi64(one, s_odd), 1);
        /* every shift of the block >= 32 (the shipped model's are 32..39):
         * the 32-bit form below */
        const __m256i s32 = _mm256_sub_epi32(s, _mm256_set1_epi32(32));
        if (_mm256_movemask_ps(_mm256_castsi256_ps(s32)) == 0) {
            const __m256i lo32 = _mm256_set1_epi32(-128), hi32 = _mm256_set1_epi32(127);
            size_t r = 0;
            if (silu != NULL) /* four rows a step: their 32 bytes through one vpshufb lookup */
                for (; r + 4 <= rows; r += 4) {
                    __m256i q[4];
                    for (int i = 0; i < 4; i++) {
                        const __m256i v = _mm256_add_epi32(
                            _mm256_loadu_si256((const __m256i *)(acc + (r + (size_t)i) * ld_acc + j)), b);
                        const __m256i xe = _mm256_add_epi64(_mm256_mul_epi32(v, m), r_even);
                        const __m256i xo =
                            _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(v, 32), m_odd), r_odd);
                        q[i] = _mm256_srav_epi32(_mm256_blend_epi32(_mm256_srli_epi64(xe, 32), xo, 0xAA), s32);
                    }
                    /* dword lane d of 128-bit lane L holds row d's channels 4L..4L+3;
                     * the two signed-saturating packs are the clamp to [-128, 127] */
                    const __m256i p8 = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
                    const __m256i y = lookup256_ymm(rows16, _mm256_xor_si256(p8, flip));
                    const __m128i lo4 = _mm256_castsi256_si128(y), hi4 = _mm256_extracti128_si256(y, 1);
                    const __m128i r01 = _mm_unpacklo_epi32(lo4, hi4), r23 = _mm_unpackhi_epi32(lo4, hi4);
                    int8_t *o = out + r * ld_out + j;
                    _mm_storel_epi64((__m128i *)o, r01);
                    _mm_storel_epi64((__m128i *)(o + ld_out), _mm_unpackhi_epi64(r01, r01));
                    _mm_storel_epi64((__m128i *)(o + 2 * ld_out), r23);
                    _mm_storel_epi64((__m128i *)(o + 3 * ld_out), _mm_unpackhi_epi64(r23, r23));
                }
            for (; r < rows; r++) {
                const __m256i v =
                    _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + r * ld_acc + j)), b);
                const __m256i xe = _mm256_add_epi64(_mm256_mul_epi32(v, m), r_even);
                const __m256i xo = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(v, 32), m_odd), r_odd);
                /* the high dwords floor(x / 2^32), in order, then >> (s - 32) */
                __m256i q = _mm256_blend_epi32(_mm256_srli_epi64(xe, 32), xo, 0xAA);
                q = _mm256_min_epi32(_mm256_max_epi32(_mm256_srav_epi32(q, s32), lo32), hi32);
                if (silu != NULL)
                    q = _mm256_i32gather_epi32(table, _mm256_add_epi32(q, c128), 4);
                __m256i p16 = _mm256_packs_epi32(q, q);
                __m256i p8 = _mm256_packs_epi16(p16, p16);
                __m128i lo4 = _mm256_castsi256_si128(p8), hi4 = _mm256_extracti128_si256(p8, 1);
                _mm_storel_epi64((__m128i *)(out + r * ld_out + j), _mm_unpacklo_epi32(lo4, hi4));
            }
            continue;
        }
        for (size_t r = 0; r < rows; r++) {
            const __m256i v =
                _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + r * ld_acc + j)), b);
            __m256i pe = _mm256_mul_epi32(v, m);
            __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(v, 32), m_odd);
            pe = clamp64(sra64(_mm256_add_epi64(pe, r_even), s_even), lo, hi);
            po = clamp64(sra64(_mm256_add_epi64(po, r_odd), s_odd), lo, hi);
            __m256i q = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
            if (silu != NULL)
                q = _mm256_i32gather_epi32(table, _mm256_add_epi32(q, c128), 4);
            /* dwords in [-128, 127]: signed packs are exact */
            __m256i p16 = _mm256_packs_epi32(q, q);      /* lane: q0..q3 q0..q3 | q4..q7 q4..q7 */
            __m256i p8 = _mm256_packs_epi16(p16, p16);   /* lane: q0..q3 x4     | q4..q7 x4 */
            __m128i lo4 = _mm256_castsi256_si128(p8), hi4 = _mm256_extracti128_si256(p8, 1);
            _mm_storel_epi64((__m128i *)(out + r * ld_out + j), _mm_unpacklo_epi32(lo4, hi4));
        }
    }
    if (n8 < n) {
        for (size_t r = 0; r < rows; r++) {
            const int32_t *a = acc + r * ld_acc;
            int8_t *o = out + r * ld_out;
            for (size_t j = n8; j < n; j++) {
                const int8_t q = requant1(a[j] + bias[j], mult[j], shift[j]);
                o[j] = silu != NULL ? silu[q + 128] : q;
            }
        }
    }
}

static void bias_add_avx2(size_t rows, size_t n, int32_t *acc, size_t ld_acc, const int32_t *bias)
{
    assert(ld_acc >= n);
    const size_t n8 = n & ~(size_t)7;
    for (size_t r = 0; r < rows; r++) {
        int32_t *a = acc + r * ld_acc;
        size_t j = 0;
        for (; j < n8; j += 8) {
            const __m256i x = _mm256_loadu_si256((const __m256i *)(a + j));
            _mm256_storeu_si256((__m256i *)(a + j),
                                _mm256_add_epi32(x, _mm256_loadu_si256((const __m256i *)(bias + j))));
        }
        for (; j < n; j++)
            a[j] += bias[j];
    }
}

/* ADD: 8 elements per step, as the requant above: a and b widened to dwords,
 * the exact 64-bit a * mult_a + b * mult_b (|.| < 2^39) by vpmuldq on the
 * even and odd lanes, + round, the emulated arithmetic shift, the clamp, and
 * signed packs. The tail (n % 8) runs the scalar formula. */
static void add8_avx2(size_t n, const int8_t *a, const int8_t *b, int32_t mult_a, int32_t mult_b, int32_t shift,
                      int8_t *out)
{
    const __m256i ma = _mm256_set1_epi64x(mult_a), mb = _mm256_set1_epi64x(mult_b);
    const __m256i s = _mm256_set1_epi64x(shift), rnd = _mm256_set1_epi64x(((int64_t)1 << shift) >> 1);
    const __m256i lo = _mm256_set1_epi64x(-128), hi = _mm256_set1_epi64x(127);
    const size_t n8 = n & ~(size_t)7;
    for (size_t i = 0; i < n8; i += 8) {
        const __m256i va = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(a + i)));
        const __m256i vb = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + i)));
        __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(va, ma), _mm256_mul_epi32(vb, mb));
        __m256i po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(va, 32), ma),
                                      _mm256_mul_epi32(_mm256_srli_epi64(vb, 32), mb));
        pe = clamp64(sra64(_mm256_add_epi64(pe, rnd), s), lo, hi);
        po = clamp64(sra64(_mm256_add_epi64(po, rnd), s), lo, hi);
        const __m256i q = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
        const __m256i p16 = _mm256_packs_epi32(q, q);
        const __m256i p8 = _mm256_packs_epi16(p16, p16);
        _mm_storel_epi64((__m128i *)(out + i),
                         _mm_unpacklo_epi32(_mm256_castsi256_si128(p8), _mm256_extracti128_si256(p8, 1)));
    }
    if (n8 < n)
        bf_i32_add8_scalar(n - n8, a + n8, b + n8, mult_a, mult_b, shift, out + n8);
}

void bf_i32_lut8_avx2(size_t rows, size_t n, const int8_t *in, size_t ld_in, const int8_t *table, int8_t *out,
                      size_t ld_out)
{
    __m256i rows16[16]; /* table[16h .. 16h + 15] in both 128-bit lanes */
    for (int h = 0; h < 16; h++)
        rows16[h] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(table + 16 * h)));
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    const size_t n32 = n & ~(size_t)31, n16 = n & ~(size_t)15;
    for (size_t r = 0; r < rows; r++) {
        const int8_t *s = in + r * ld_in;
        int8_t *d = out + r * ld_out;
        for (size_t j = 0; j < n32; j += 32) {
            const __m256i u = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(s + j)), flip);
            _mm256_storeu_si256((__m256i *)(d + j), lookup256_ymm(rows16, u));
        }
        for (size_t j = n16; j < n; j++)
            d[j] = table[s[j] + 128];
    }
    if (n16 == n32)
        return;
    /* 16 more bytes a row (the 16-channel concat inputs, and tails): two rows'
     * 16 bytes in one lookup, so that it is not half empty */
    size_t r = 0;
    for (; r + 2 <= rows; r += 2) {
        const __m128i a = _mm_loadu_si128((const __m128i *)(in + r * ld_in + n32));
        const __m128i b = _mm_loadu_si128((const __m128i *)(in + (r + 1) * ld_in + n32));
        const __m256i y = lookup256_ymm(rows16, _mm256_xor_si256(_mm256_set_m128i(b, a), flip));
        _mm_storeu_si128((__m128i *)(out + r * ld_out + n32), _mm256_castsi256_si128(y));
        _mm_storeu_si128((__m128i *)(out + (r + 1) * ld_out + n32), _mm256_extracti128_si256(y, 1));
    }
    if (r < rows) {
        const __m128i a = _mm_loadu_si128((const __m128i *)(in + r * ld_in + n32));
        const __m256i y = lookup256_ymm(rows16, _mm256_xor_si256(_mm256_zextsi128_si256(a), flip));
        _mm_storeu_si128((__m128i *)(out + r * ld_out + n32), _mm256_castsi256_si128(y));
    }
}

const bf_i32_requant_config bf_i32_requant_avx2 = {
    .isa = "avx2",
    .requant = requant_avx2,
    .bias_add = bias_add_avx2,
    .lut8 = bf_i32_lut8_avx2,
    .add8 = add8_avx2,
};
