/* Shared by the AVX-512 requant files (i32-requant-avx512.c, -avx512vbmi.c),
 * which are compiled with at least the `avx512` flag set (CMakeLists.txt);
 * not for any other file. */
#ifndef BF_I32_REQUANT_AVX512_H
#define BF_I32_REQUANT_AVX512_H

#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 16 lanes of clamp8(rshift_round((int64)v * mult, shift)) as int32 (the
 * exactness argument: i32-requant-avx512.c's header). */
static inline __m512i bf_requant16_avx512(__m512i v, __m512i m_even, __m512i m_odd, __m512i s_even, __m512i s_odd,
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

/* The same when every lane's shift is >= 32 (s32 = shift - 32 >= 0; all of
 * the shipped model's are): floor(x / 2^s) = floor(floor(x / 2^32) / 2^(s-32))
 * and floor(x / 2^32) is x's high dword (|x| < 2^63), so one vpsravd and an
 * int32 clamp replace the two 64-bit shifts and clamps. */
static inline __m512i bf_requant16_avx512_hi(__m512i v, __m512i m_even, __m512i m_odd, __m512i r_even,
                                             __m512i r_odd, __m512i s32)
{
    const __m512i xe = _mm512_add_epi64(_mm512_mul_epi32(v, m_even), r_even);
    const __m512i xo = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(v, 32), m_odd), r_odd);
    const __m512i q = _mm512_srav_epi32(_mm512_mask_blend_epi32((__mmask16)0xAAAA, _mm512_srli_epi64(xe, 32), xo), s32);
    return _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(-128)), _mm512_set1_epi32(127));
}

/* The per-channel constants of one block of up to 16 channels (j .. j + w - 1
 * of bias, mult and shift), loaded once and kept in registers across the
 * block's rows. Lanes past w are masked off (shift 0: either form fits). */
typedef struct bf_requant16_block {
    __mmask16 k;
    __m512i bias, m, m_odd, s_even, s_odd, r_even, r_odd, s32;
    __m512i c_even, c_odd; /* bias * mult + rounding, 64-bit, even / odd lanes (bf_requant16_row32_hi) */
    bool hi_shifts;        /* every lane's shift >= 32: bf_requant16_avx512_hi */
} bf_requant16_block;

static inline bf_requant16_block bf_requant16_block_load(const int32_t *bias, const int32_t *mult,
                                                         const int32_t *shift, size_t w)
{
    const __m512i one = _mm512_set1_epi64(1), low32 = _mm512_set1_epi64(0xFFFFFFFF);
    bf_requant16_block b;
    b.k = (__mmask16)((1u << w) - 1u);
    b.bias = _mm512_maskz_loadu_epi32(b.k, bias);
    b.m = _mm512_maskz_loadu_epi32(b.k, mult);
    const __m512i s = _mm512_maskz_loadu_epi32(b.k, shift);
    b.m_odd = _mm512_srli_epi64(b.m, 32);
    b.s_even = _mm512_and_si512(s, low32), b.s_odd = _mm512_srli_epi64(s, 32);
    b.r_even = _mm512_srli_epi64(_mm512_sllv_epi64(one, b.s_even), 1);
    b.r_odd = _mm512_srli_epi64(_mm512_sllv_epi64(one, b.s_odd), 1);
    b.s32 = _mm512_sub_epi32(s, _mm512_set1_epi32(32));
    b.c_even = _mm512_add_epi64(_mm512_mul_epi32(b.bias, b.m), b.r_even);
    b.c_odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(b.bias, 32), b.m_odd), b.r_odd);
    b.hi_shifts = _mm512_mask_cmplt_epi32_mask(b.k, b.s32, _mm512_setzero_si512()) == 0;
    return b;
}

/* The hi_shifts form of one accumulator row, before the clamp: lane c is
 * floor(((acc[c] + bias[c]) * mult[c] + round[c]) / 2^shift[c]) as int32
 * (clamping it to [-128, 127] gives bf_requant16_row's lane). Fewer
 * instructions than bf_requant16_avx512_hi, the same integers:
 *  - the bias goes into the 64-bit constant: acc * mult + (bias * mult +
 *    round) is (acc + bias) * mult + round exactly, since the result
 *    (|(acc + bias) * mult| < 2^62, round <= 2^61) fits int64 and vpaddq
 *    is exact modulo 2^64;
 *  - the odd channels come from a second load one dword further on (lane
 *    2i then holds acc[2i + 1], where vpmuldq reads), not a shift;
 *  - one vpermt2d takes the high dwords of the even and odd products
 *    (floor(x / 2^32), |x| < 2^63) in channel order, where a shift and a
 *    blend did. */
static inline __m512i bf_requant16_row32_hi(const bf_requant16_block *b, const int32_t *acc)
{
    /* lane 2i <- dword 2i + 1 of xe, lane 2i + 1 <- dword 2i + 1 of xo (index 16 + 2i + 1) */
    const __m512i hi_dwords = _mm512_set_epi32(31, 15, 29, 13, 27, 11, 25, 9, 23, 7, 21, 5, 19, 3, 17, 1);
    const __m512i ve = _mm512_maskz_loadu_epi32(b->k, acc);
    const __m512i vo = _mm512_maskz_loadu_epi32((__mmask16)(b->k >> 1), acc + 1);
    const __m512i xe = _mm512_add_epi64(_mm512_mul_epi32(ve, b->m), b->c_even);
    const __m512i xo = _mm512_add_epi64(_mm512_mul_epi32(vo, b->m_odd), b->c_odd);
    return _mm512_srav_epi32(_mm512_permutex2var_epi32(xe, hi_dwords, xo), b->s32);
}

/* The block's 16 lanes of one accumulator row as int8 in a __m128i: the
 * same values as _mm512_cvtepi32_epi8(bf_requant16_row(b, acc)). On the
 * hi_shifts path the clamp is the saturating narrow itself (vpmovsdb clamps
 * int32 to [-128, 127]): two instructions fewer a row. */
static inline __m128i bf_requant16_row8(const bf_requant16_block *b, const int32_t *acc)
{
    if (b->hi_shifts)
        return _mm512_cvtsepi32_epi8(bf_requant16_row32_hi(b, acc));
    const __m512i v = _mm512_add_epi32(_mm512_maskz_loadu_epi32(b->k, acc), b->bias);
    return _mm512_cvtepi32_epi8(bf_requant16_avx512(v, b->m, b->m_odd, b->s_even, b->s_odd, b->r_even, b->r_odd,
                                                    _mm512_set1_epi64(-128), _mm512_set1_epi64(127)));
}

/* The block's 16 requantized lanes of one accumulator row (int32 in
 * [-128, 127]); `acc` points at the row's channel j. */
static inline __m512i bf_requant16_row(const bf_requant16_block *b, const int32_t *acc)
{
    const __m512i v = _mm512_add_epi32(_mm512_maskz_loadu_epi32(b->k, acc), b->bias);
    return b->hi_shifts ? bf_requant16_avx512_hi(v, b->m, b->m_odd, b->r_even, b->r_odd, b->s32)
                        : bf_requant16_avx512(v, b->m, b->m_odd, b->s_even, b->s_odd, b->r_even, b->r_odd,
                                              _mm512_set1_epi64(-128), _mm512_set1_epi64(127));
}

/* The avx512 path's bias_add and add8, which the VBMI path reuses. */
void bf_i32_bias_add_avx512(size_t rows, size_t n, int32_t *acc, size_t ld_acc, const int32_t *bias);
void bf_i32_add8_avx512(size_t n, const int8_t *a, const int8_t *b, int32_t mult_a, int32_t mult_b, int32_t shift,
                        int8_t *out);

#endif /* BF_I32_REQUANT_AVX512_H */
