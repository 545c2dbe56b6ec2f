/* AVX-512 VBMI requant epilogue: the avx512 path (i32-requant-avx512.c,
 * whose header gives the exactness argument) with the SiLU lookup done by
 * two vpermi2b over the 256-entry table held in four registers and a blend on
 * the index's top bit, instead of a gather (16+ cycles per vector on Zen 4).
 * Its own file so that only it is compiled with -mavx512vbmi, and only
 * bf_cpu_can_avx512vbmi CPUs run it; the linear epilogue, bias_add and add8
 * need no VBMI and are the avx512 path's. lut8 (CONCAT's rescale) uses the
 * same lookup, 64 bytes per step.
 */
#include <assert.h>
#include <immintrin.h>
#include <stdbool.h>

#include "i32-requant/i32-requant-avx512.h"
#include "i32-requant/i32-requant.h"

/* The SiLU table lookup with VBMI: 16 int8 results in the low lanes. */
static inline __m512i silu_vbmi(__m512i idx, __m512i t0, __m512i t1, __m512i t2, __m512i t3)
{
    const __m512i lo = _mm512_permutex2var_epi8(t0, idx, t1); /* entries 0..127 by bits 0-6 */
    const __m512i hi = _mm512_permutex2var_epi8(t2, idx, t3); /* entries 128..255 */
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi);
}

static void requant_avx512vbmi(size_t rows, size_t n, const int32_t *acc, size_t ld_acc, const int32_t *bias,
                               const int32_t *mult, const int32_t *shift, const int8_t *silu, int8_t *out,
                               size_t ld_out)
{
    assert(ld_acc >= n && ld_out >= n);
    if (silu == NULL) { /* the linear epilogue needs no VBMI */
        bf_i32_requant_avx512.requant(rows, n, acc, ld_acc, bias, mult, shift, NULL, out, ld_out);
        return;
    }
    const __m512i t0 = _mm512_loadu_si512(silu), t1 = _mm512_loadu_si512(silu + 64);
    const __m512i t2 = _mm512_loadu_si512(silu + 128), t3 = _mm512_loadu_si512(silu + 192);
    const __m128i flip = _mm_set1_epi8((char)0x80); /* p + 128 as an unsigned byte */
    const __m512i flip4 = _mm512_set1_epi8((char)0x80);
    /* dword 4i + l <- dword 4l + i: the 4 x 4 transpose of the packs' order */
    const __m512i rows_together = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
    for (size_t j = 0; j < n; j += 16) {
        const bf_requant16_block blk = bf_requant16_block_load(bias + j, mult + j, shift + j, n - j < 16 ? n - j : 16);
        const __mmask16 k = blk.k;
        size_t r = 0;
        /* Four rows per lookup: their 4 x 16 bytes fill the zmm that one
         * pair of vpermi2b indexes (a row alone uses a quarter of it), and
         * when the four output rows are one run of 64 bytes (16 channels,
         * ld_out 16: the thin early layers and the stem) one store writes
         * them. Lane for lane the same operations as the row loop below. */
        for (; r + 4 <= rows; r += 4) {
            const int32_t *a = acc + r * ld_acc + j;
            __m512i y;
            if (blk.hi_shifts) {
                /* The clamps and the narrowing of four rows by three
                 * saturating packs (int32 -> int16 -> int8 saturates as the
                 * clamp to [-128, 127] does). The packs work per 128-bit
                 * lane, so dword 4l + i holds row i's channels 4l .. 4l + 3;
                 * after the (byte-wise) lookup one vpermd puts each row's 16
                 * bytes together (dword 4i + l). Four vpmovsdb and three
                 * inserts did this before, 11 instructions against 4. */
                const __m512i p01 = _mm512_packs_epi32(bf_requant16_row32_hi(&blk, a),
                                                       bf_requant16_row32_hi(&blk, a + ld_acc));
                const __m512i p23 = _mm512_packs_epi32(bf_requant16_row32_hi(&blk, a + 2 * ld_acc),
                                                       bf_requant16_row32_hi(&blk, a + 3 * ld_acc));
                const __m512i q = _mm512_packs_epi16(p01, p23);
                y = _mm512_permutexvar_epi32(rows_together, silu_vbmi(_mm512_xor_si512(q, flip4), t0, t1, t2, t3));
            } else {
                __m512i q = _mm512_castsi128_si512(bf_requant16_row8(&blk, a));
                q = _mm512_inserti32x4(q, bf_requant16_row8(&blk, a + ld_acc), 1);
                q = _mm512_inserti32x4(q, bf_requant16_row8(&blk, a + 2 * ld_acc), 2);
                q = _mm512_inserti32x4(q, bf_requant16_row8(&blk, a + 3 * ld_acc), 3);
                y = silu_vbmi(_mm512_xor_si512(q, flip4), t0, t1, t2, t3);
            }
            int8_t *o = out + r * ld_out + j;
            if (n == 16 && ld_out == 16) {
                _mm512_storeu_si512(o, y);
            } else if (k == (__mmask16)0xFFFF) {
                _mm_storeu_si128((__m128i *)o, _mm512_castsi512_si128(y));
                _mm_storeu_si128((__m128i *)(o + ld_out), _mm512_extracti32x4_epi32(y, 1));
                _mm_storeu_si128((__m128i *)(o + 2 * ld_out), _mm512_extracti32x4_epi32(y, 2));
                _mm_storeu_si128((__m128i *)(o + 3 * ld_out), _mm512_extracti32x4_epi32(y, 3));
            } else {
                _mm_mask_storeu_epi8(o, k, _mm512_castsi512_si128(y));
                _mm_mask_storeu_epi8(o + ld_out, k, _mm512_extracti32x4_epi32(y, 1));
                _mm_mask_storeu_epi8(o + 2 * ld_out, k, _mm512_extracti32x4_epi32(y, 2));
                _mm_mask_storeu_epi8(o + 3 * ld_out, k, _mm512_extracti32x4_epi32(y, 3));
            }
        }
        for (; r < rows; r++) {
            const __m128i idx = _mm_xor_si128(bf_requant16_row8(&blk, acc + r * ld_acc + j), flip);
            const __m512i y = silu_vbmi(_mm512_castsi128_si512(idx), t0, t1, t2, t3);
            _mm_mask_storeu_epi8(out + r * ld_out + j, k, _mm512_castsi512_si128(y));
        }
    }
}

static void lut8_avx512vbmi(size_t rows, size_t n, const int8_t *in, size_t ld_in, const int8_t *table, int8_t *out,
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
    .bias_add = bf_i32_bias_add_avx512,
    .lut8 = lut8_avx512vbmi,
    .add8 = bf_i32_add8_avx512,
};
