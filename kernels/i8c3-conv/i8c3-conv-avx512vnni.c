/*
 * Direct 3-channel conv, AVX-512 VNNI (vpdpbusd). See i8c3-conv.h.
 *
 * Arithmetic: as the avx512vnni GEMM (t2i8-gemm-avx512vnni.c). vpdpbusd
 * takes the activations as unsigned bytes, offset by 128 (an XOR of the sign
 * bit), the weights as signed q; C = dot(x ^ 0x80, q) - 128 * sum(q), the
 * correction formed once by `pack`. Each product is exact (|.| <= 255 * 121)
 * and the sums wrap modulo 2^32: C is exact whenever the true sum fits int32
 * (the loader's bound).
 *
 * One pixel is one 4-byte lane: a tap's R, G, B and one more byte, whose
 * weight is 0 (so whatever it holds adds nothing, after the XOR too). In the
 * image interior that word is loaded straight from the NHWC input (the 4th
 * byte is the next pixel's R) and broadcast to the 16 lanes of a zmm, one
 * lane per output channel: no im2col. Only words that would read past the
 * input's last byte, or taps outside the image (the zero point), go through
 * a small gathered copy: the walk of i8c3-conv-walk.h, shared with avx2.
 *
 * Packed layout: channels in blocks of 16 (N padded with zero channels).
 * Block b is (taps + 1) * 64 bytes from b * (taps + 1) * 64:
 *     tap t, 64 bytes:  byte 4*c + j = q[16b + c][3t + j] (j < 3), 0 (j = 3
 *                       or past N);
 *     then 64 bytes:    int32 lane c = -128 * sum_k q[16b + c][k] (mod 2^32).
 * That is the avx512vnni GEMM's layout for K = 4 * taps with every 4th weight 0.
 *
 * Micro-kernel: 8 output pixels x 16 channels, 8 zmm accumulators; per tap,
 * one weight load shared by the 8 pixels, and per pixel a broadcast, an XOR
 * and a vpdpbusd. A short last group aliases its missing pixels to the last
 * real one (computed, never stored).
 *
 * The 3x3 stride-2 stem's interior (bf_i8c3_walk_run: 8 pixels of one output
 * row, all inside) has its own block, c3v_block_s2k3: pixel i's tap (ky, kx)
 * is at row[ky] + 6 * i + 3 * kx, constant displacements from three row
 * pointers. The general block takes each address from a pointer table and a
 * tap table, and those loads and adds made the stem 2.7x slower than its
 * vpdpbusd count (0.48 vs 0.18 ms for 640 -> 320x320x16 on Zen 5).
 */
#include <assert.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "i8c3-conv-walk.h"
#include "t2i8-gemm/t2i8-gemm.h"

#define BF_C3V_MR 8

static size_t c3v_packed_size(size_t n, size_t taps)
{
    return bf_i8c3_blocks_size(n, taps, 16);
}

static void c3v_pack_terms(size_t n, size_t taps, int nterms, const uint8_t *w, size_t w_row_bytes,
                           size_t plane_stride, void *packed)
{
    assert(nterms >= 1 && nterms <= BF_T2I8_MAX_TERMS);
    bf_i8c3_pack_blocks(n, taps, nterms, w, w_row_bytes, plane_stride, 16, packed);
}

static inline __m512i c3v_word(const uint8_t *p)
{
    int32_t x;
    memcpy(&x, p, 4);
    return _mm512_set1_epi32(x);
}

/* One block of 16 channels for 8 pixels: out[i] = the pixel's 16 sums.
 * TAPS > 0 is the tap count as a constant, so the tap loop unrolls
 * completely: with a loop around them GCC copies the 8 accumulators through
 * other registers every iteration (16 extra moves per 8 vpdpbusd, measured
 * 2x slower). TAPS = 0: `taps` at run time. */
static inline __attribute__((always_inline)) void c3v_block(const int TAPS, size_t taps,
                                                            const uint8_t *const *base, const size_t *tap,
                                                            const uint8_t *wb, __m512i *out)
{
    const __m512i sign = _mm512_set1_epi8((char)0x80);
    __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    const size_t nt = TAPS > 0 ? (size_t)TAPS : taps;
#pragma GCC unroll 16
    for (size_t t = 0; t < nt; t++) {
        const __m512i wv = _mm512_loadu_si512(wb + t * 64);
        const size_t o = tap[t];
        c0 = _mm512_dpbusd_epi32(c0, _mm512_xor_si512(c3v_word(base[0] + o), sign), wv);
        c1 = _mm512_dpbusd_epi32(c1, _mm512_xor_si512(c3v_word(base[1] + o), sign), wv);
        c2 = _mm512_dpbusd_epi32(c2, _mm512_xor_si512(c3v_word(base[2] + o), sign), wv);
        c3 = _mm512_dpbusd_epi32(c3, _mm512_xor_si512(c3v_word(base[3] + o), sign), wv);
        c4 = _mm512_dpbusd_epi32(c4, _mm512_xor_si512(c3v_word(base[4] + o), sign), wv);
        c5 = _mm512_dpbusd_epi32(c5, _mm512_xor_si512(c3v_word(base[5] + o), sign), wv);
        c6 = _mm512_dpbusd_epi32(c6, _mm512_xor_si512(c3v_word(base[6] + o), sign), wv);
        c7 = _mm512_dpbusd_epi32(c7, _mm512_xor_si512(c3v_word(base[7] + o), sign), wv);
    }
    const __m512i corr = _mm512_loadu_si512(wb + nt * 64);
    out[0] = _mm512_add_epi32(c0, corr), out[1] = _mm512_add_epi32(c1, corr);
    out[2] = _mm512_add_epi32(c2, corr), out[3] = _mm512_add_epi32(c3, corr);
    out[4] = _mm512_add_epi32(c4, corr), out[5] = _mm512_add_epi32(c5, corr);
    out[6] = _mm512_add_epi32(c6, corr), out[7] = _mm512_add_epi32(c7, corr);
}

/* One block of 16 channels for `groups` x 8 pixels of a run (see the top):
 * 3x3 taps, stride 2, the window of the run's first pixel at p, input rows
 * ld bytes apart; pixel i's sums to acc + i * ldc, the channels in `mask`.
 * Not inlined: in c3v_conv GCC hoists all 72 addresses out of the loops and
 * spills them to the stack. */
static __attribute__((noinline)) void c3v_run_s2k3(const uint8_t *p, size_t ld, size_t groups, const uint8_t *wb,
                                                   int32_t *acc, size_t ldc, __mmask16 mask)
{
    const __m512i sign = _mm512_set1_epi8((char)0x80);
    const __m512i corr = _mm512_loadu_si512(wb + 9 * 64);
    for (size_t grp = 0; grp < groups; grp++, p += BF_C3V_MR * 6, acc += BF_C3V_MR * ldc) {
        __m512i c[BF_C3V_MR];
#pragma GCC unroll 8
        for (int i = 0; i < BF_C3V_MR; i++)
            c[i] = corr;
#pragma GCC unroll 3
        for (int ky = 0; ky < 3; ky++) {
            const uint8_t *row = p + (size_t)ky * ld;
#pragma GCC unroll 3
            for (int kx = 0; kx < 3; kx++) {
                const __m512i wv = _mm512_loadu_si512(wb + (ky * 3 + kx) * 64);
#pragma GCC unroll 8
                for (int i = 0; i < BF_C3V_MR; i++)
                    c[i] = _mm512_dpbusd_epi32(c[i], _mm512_xor_si512(c3v_word(row + 6 * i + 3 * kx), sign), wv);
            }
        }
        if (mask == (__mmask16)0xFFFF) {
#pragma GCC unroll 8
            for (int i = 0; i < BF_C3V_MR; i++)
                _mm512_storeu_si512(acc + (size_t)i * ldc, c[i]);
        } else {
#pragma GCC unroll 8
            for (int i = 0; i < BF_C3V_MR; i++)
                _mm512_mask_storeu_epi32(acc + (size_t)i * ldc, mask, c[i]);
        }
    }
}

static void c3v_conv(const bf_i8c3_geom *g, size_t n, const int8_t *in, size_t m0, size_t rows, const void *packed,
                     int32_t *acc, size_t ldc)
{
    assert(ldc >= n && g->out_w >= 1 && g->kh <= BF_I8C3_MAX_K && g->kw <= BF_I8C3_MAX_K);
    bf_i8c3_walk walk;
    bf_i8c3_walk_init(&walk, g);
    const size_t taps = walk.taps, nb = (n + 15) / 16, bstride = (taps + 1) * 64;
    uint8_t px[BF_C3V_MR][BF_I8C3_MAX_TAPS * 4];
    const size_t last = n - (nb - 1) * 16;
    const __mmask16 nmask = last >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << last) - 1);
    const int stem = g->kh == 3 && g->kw == 3 && g->stride == 2;
    bf_i8c3_pos at = bf_i8c3_pos_at(g, m0); /* output pixel m0 + r0 */
    for (size_t r0 = 0; r0 < rows;) {
        if (stem) {
            /* the whole groups of a run at once */
            const size_t len = bf_i8c3_walk_run_length(&walk, g, at.oy, at.ox, rows - r0) / BF_C3V_MR * BF_C3V_MR;
            if (len > 0) {
                const uint8_t *p = (const uint8_t *)in + bf_i8c3_walk_offset(&walk, g, at.oy, at.ox);
                for (size_t b = 0; b < nb; b++)
                    c3v_run_s2k3(p, walk.in_w * 3, len / BF_C3V_MR, (const uint8_t *)packed + b * bstride,
                                 acc + r0 * ldc + b * 16, ldc, b + 1 == nb ? nmask : (__mmask16)0xFFFF);
                r0 += len, at = bf_i8c3_pos_advance(g, at, len);
                continue;
            }
        }
        const size_t cnt = rows - r0 < BF_C3V_MR ? rows - r0 : BF_C3V_MR;
        at = bf_i8c3_pos_advance(g, at, cnt);
        const uint8_t *base[BF_C3V_MR];
        const size_t *tap = bf_i8c3_walk_group(&walk, g, (const uint8_t *)in, m0 + r0, cnt, BF_C3V_MR, px, base);
        for (size_t b = 0; b < nb; b++) {
            const uint8_t *wb = (const uint8_t *)packed + b * bstride;
            const __mmask16 mask = b + 1 == nb ? nmask : (__mmask16)0xFFFF;
            __m512i r[BF_C3V_MR];
            if (taps == 9) /* the 3x3 stem's border */
                c3v_block(9, taps, base, tap, wb, r);
            else
                c3v_block(0, taps, base, tap, wb, r);
            for (size_t i = 0; i < cnt; i++)
                _mm512_mask_storeu_epi32(acc + (r0 + i) * ldc + b * 16, mask, r[i]);
        }
        r0 += cnt;
    }
}

const bf_i8c3_conv_config bf_i8c3_conv_avx512vnni = {
    .isa = "avx512vnni",
    .packed_size = c3v_packed_size,
    .pack_terms = c3v_pack_terms,
    .conv = c3v_conv,
    .max_terms = BF_T2I8_MAX_TERMS, /* |q| <= 121 fits the signed byte; see the header */
};
