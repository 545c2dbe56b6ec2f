/*
 * Direct 3-channel conv, AVX-VNNI (VEX vpdpbusd on ymm), for CPUs with
 * AVX-VNNI but no AVX-512 VNNI (Alder/Raptor/Arrow Lake, the N100/N97). See
 * i8c3-conv.h; the layout, the walk and the loops are i8c3-conv-ymm.h's.
 *
 * The tap's multiply-add is one vpdpbusd (the non-saturating
 * _mm256_dpbusd_avx_epi32): the four products of the unsigned word bytes with
 * the signed weights, exact (|.| <= 255 * 121), added to the int32 lane
 * modulo 2^32, where AVX2 needs vpmaddubsw + vpmaddwd + vpaddd and stops at 4
 * planes (its int16 pair sums saturate). So all 5 planes, as avx512vnni.
 */
#include <immintrin.h>

#define BF_I8C3_YMM_MAC(c, x, w) (c) = _mm256_dpbusd_avx_epi32((c), (x), (w))
#include "i8c3-conv-ymm.h"

static size_t c3n_packed_size(size_t n, size_t taps)
{
    return bf_i8c3_blocks_size(n, taps, 8);
}

static void c3n_pack_terms(size_t n, size_t taps, int nterms, const uint8_t *w, size_t w_row_bytes,
                           size_t plane_stride, void *packed)
{
    bf_i8c3_ymm_pack_terms(n, taps, nterms, BF_T2I8_MAX_TERMS, w, w_row_bytes, plane_stride, packed);
}

static void c3n_conv(const bf_i8c3_geom *g, size_t n, const int8_t *in, size_t m0, size_t rows, const void *packed,
                     int32_t *acc, size_t ldc)
{
    bf_i8c3_ymm_conv(g, n, in, m0, rows, packed, acc, ldc);
}

const bf_i8c3_conv_config bf_i8c3_conv_avxvnni = {
    .isa = "avxvnni",
    .packed_size = c3n_packed_size,
    .pack_terms = c3n_pack_terms,
    .conv = c3n_conv,
    .max_terms = BF_T2I8_MAX_TERMS, /* |q| <= 121 fits the signed byte; int32 sums */
};
