/*
 * Ternary x int8 GEMM, AVX-512 VNNI (vpdpbusd). C[m][n] = sum_k A[m][k] * W[n][k].
 *
 * Arithmetic. vpdpbusd multiplies unsigned bytes by signed bytes, four at a
 * time, into int32 lanes. The activations take the unsigned side, offset by
 * 128 (an XOR of the sign bit), the weights stay signed {-1, 0, +1}:
 *     sum_k (a[k] + 128) * w[k] = sum_k a[k] * w[k] + 128 * sum_k w[k]
 * and C = dot(a ^ 0x80, w) - 128 * wsum[n], with wsum[n] = sum of row n's
 * weights, computed once by `pack`. The XOR runs on a vector port vpdpbusd
 * does not use, once per row and 4 k, shared by all channels of the tile; no
 * per-row pass over A.
 *
 * Multi-ternary (max_terms 5): `pack_terms` stores the integer weight
 * q = sum_i 3^i T_i (|q| <= L = 121 for 5 planes) as the signed byte and
 * wsum = sum_k q. Exactness for any |w| <= L <= 127: vpdpbusd forms each
 * product (a+128) * q exactly (|.| <= 255 * 121 = 30855, it widens before
 * adding) and adds the four into the int32 lane modulo 2^32 (the non-
 * saturating form), as does the final add of -128 * wsum (formed modulo 2^32
 * in pack too). So C is the true sum modulo 2^32, i.e. exactly the true sum
 * whenever |sum_k a * q| <= 128 * K * L < 2^31 (the loader's bound; for
 * ternary weights K < 2^24). Same layout and size for every k.
 *
 * Packed layout (`pack`, `pack_terms`): channels in blocks of 16 (N padded
 * with zero channels), K in groups of 4 (K4 = ceil(K/4); padding weights are
 * 0). w is the ternary weight, or q for folded planes. Block b occupies
 * (K4 + 1) * 64 bytes from offset b * (K4 + 1) * 64:
 *     group g (0 <= g < K4), 64 bytes:  byte 4*c + j = w[16b + c][4g + j]
 *                                        as int8, or 0 past K or past N;
 *     then 64 bytes:                     int32 lane c = -128 * wsum[16b + c]
 *                                        (modulo 2^32).
 * One zmm load is 16 channels x 4 k, exactly vpdpbusd's operand, and a
 * padding weight of 0 cancels the 128 that a zero (masked) A byte becomes.
 * packed_size = ceil(N/16) * (K4 + 1) * 64 bytes. Exception, the quad
 * layout: a single block (N <= 16) with K % 16 == 0 orders each 16 k as
 * vnni_quad_offset says (four vectors of 16 channels' quarters), for the
 * 4x16 quad tile; the same size, the correction row last.
 *
 * Micro-kernel: MR rows x NR blocks (16*NR channels), MR*NR zmm accumulators.
 * For each group of 4 k it loads NR weight vectors, and per row broadcasts
 * 4 bytes, flips their sign bits and issues NR vpdpbusd. The tile is chosen
 * from the number of blocks nb = ceil(N/16):
 *     nb = 1: 16x16 (K % 16 == 0: the 4x16 quad tile)
 *     nb = 2: 12x32    nb = 3: 8x48    nb = 5: 5x80
 *     otherwise 6x64, the last nb % 4 blocks with 6x16/6x32/6x48.
 * Rows: the driver walks M in steps of MR; the last, short step aliases its
 * missing rows to the last real row (computed, never stored). K: the last
 * group of 1..3 k reads A with a byte-masked load, so A is read only within
 * the M x K block. N: the last block stores with a lane mask, so C is written
 * only within M x N. No state outside the stack: safe to call concurrently on
 * disjoint row ranges.
 *
 * igemm: the same tiles with each row's A in `segs` runs of seg_k bytes (a
 * multiple of 4) at a pointer each; a tile reloads its rows' pointers at the
 * start of each run, the weights' groups run on in order, and there is no K
 * tail. For a 3x3 conv the runs are the kernel rows of the input (3 * in_c
 * bytes), read in place: no im2col copy.
 */
#include <assert.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "t2i8-gemm.h"

#define BF_VNNI_MR_MAX 16 /* rows of the largest tile (BF_VNNI_ROWS) */
#define BF_VNNI_NR_MAX 5  /* blocks of 16 channels of the widest (BF_VNNI_COLS) */

static size_t vnni_packed_size(size_t n, size_t k)
{
    return (n + 15) / 16 * ((k + 3) / 4 + 1) * 64;
}

/* A single block (N <= 16) with K a multiple of 16 takes the quad layout
 * (vnni_quad_tile); the same size. */
static int vnni_quad_layout(size_t n, size_t k)
{
    return n <= 16 && k % 16 == 0;
}

/* Where weight (channel ch < 16, k) goes in the quad layout: quad q = k / 16
 * holds vectors j = 0..3 of 64 bytes; lane (c, p) of vector j (bytes 16c + 4p .. 16c + 4p + 3) holds channel 4c + j's weights
 * 16q + 4p .. 16q + 4p + 3. */
static size_t vnni_quad_offset(size_t ch, size_t kk)
{
    const size_t q = kk / 16, p = kk % 16 / 4, c = ch / 4, j = ch % 4;
    return q * 256 + j * 64 + c * 16 + p * 4 + kk % 4;
}

#define BF_VNNI_MAX_TERMS 5 /* |q| <= 121 fits the signed byte; see the header */

static void vnni_pack_terms(size_t n, size_t k, int nterms, const uint8_t *w, size_t w_row_bytes,
                            size_t plane_stride, void *packed)
{
    assert(nterms >= 1 && nterms <= BF_VNNI_MAX_TERMS);
    const size_t groups = (k + 3) / 4, nb = (n + 15) / 16;
    const int quad = vnni_quad_layout(n, k);
    uint8_t *out = packed;
    memset(out, 0, nb * (groups + 1) * 64);
    for (size_t ch = 0; ch < n; ch++) {
        const uint8_t *row = w + ch * w_row_bytes;
        uint8_t *blk = out + (ch / 16) * (groups + 1) * 64;
        uint32_t wsum = 0; /* modulo 2^32, as the kernel adds it */
        for (size_t kk = 0; kk < k; kk++) {
            const int q = bf_t2_decode_terms(row, kk, nterms, plane_stride);
            const size_t at = quad ? vnni_quad_offset(ch, kk) : (kk / 4) * 64 + (ch % 16) * 4 + (kk % 4);
            blk[at] = (uint8_t)(int8_t)q;
            wsum += (uint32_t)q;
        }
        const uint32_t corr = 0u - 128u * wsum;
        memcpy(blk + groups * 64 + (ch % 16) * 4, &corr, sizeof corr);
    }
}

static void vnni_pack(size_t n, size_t k, const uint8_t *w, size_t w_row_bytes, void *packed)
{
    vnni_pack_terms(n, k, 1, w, w_row_bytes, 0, packed);
}

/* One MR x (16*NR) tile. MR, NR, TAIL and INDIRECT are constants after
 * inlining. `a` holds `mr` valid rows; `ncols` (1..16*NR) valid channels; w
 * points at block 0 of the tile, blocks `bstride` bytes apart, each with its
 * correction row after kfull (+ TAIL) groups. TAIL: K % 4 != 0, the last
 * group of 1..3 k is read with a byte mask, first (integer sums commute), so
 * that the main loop stays the only loop over the accumulators.
 * INDIRECT (the igemm): `a` and `lda` are unused; row i is `segs` runs of
 * kfull groups, run s at ind[i * segs + s], and the weights' groups follow
 * the runs in order (segs * kfull of them; no tail).
 *
 * The accumulators are named variables c<row>_<block>, the rows and blocks
 * unrolled by the macros below and pruned by `if (i < MR)` / `if (j < NR)` on
 * constants: unlike an array indexed in loops, this stays in registers with
 * GCC and Clang alike (Clang keeps such an array on the stack). */
#define BF_VNNI_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define BF_VNNI_COLS(X, i) X(i, 0) X(i, 1) X(i, 2) X(i, 3) X(i, 4)

static inline __attribute__((always_inline)) void
vnni_tile(const int MR, const int NR, const int TAIL, const int INDIRECT, size_t mr, size_t kfull, size_t krem,
          const int8_t *a, size_t lda, const int8_t *const *ind, size_t segs, const uint8_t *w, size_t bstride,
          int32_t *c, size_t ldc, size_t ncols)
{
    const __m512i sign = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
    __m512i w0 = zero, w1 = zero, w2 = zero, w3 = zero, w4 = zero;
#define BF_DECL_C(i, j) __m512i c##i##_##j = zero;
#define BF_DECL_ROW(i)                                                                                                \
    const int8_t *a##i = INDIRECT ? NULL : a + ((size_t)(i) < mr ? (size_t)(i) : mr - 1) * lda;                       \
    BF_VNNI_COLS(BF_DECL_C, i)
    BF_VNNI_ROWS(BF_DECL_ROW)
#undef BF_DECL_ROW
#undef BF_DECL_C
#define BF_LOAD_W(j)                                                                                                  \
    if ((j) < NR)                                                                                                     \
        w##j = _mm512_loadu_si512(wp + (size_t)(j) * bstride);
#define BF_LOAD_WS(wp_expr)                                                                                           \
    do {                                                                                                              \
        const uint8_t *wp = (wp_expr);                                                                                \
        BF_LOAD_W(0) BF_LOAD_W(1) BF_LOAD_W(2) BF_LOAD_W(3) BF_LOAD_W(4)                                              \
    } while (0)
#define BF_DOT(i, j)                                                                                                  \
    if ((j) < NR)                                                                                                     \
        c##i##_##j = _mm512_dpbusd_epi32(c##i##_##j, av, w##j);
    if (TAIL && !INDIRECT) {
        const __mmask16 kmask = (__mmask16)((1u << krem) - 1);
        BF_LOAD_WS(w + kfull * 64);
#define BF_TAIL_ROW(i)                                                                                                \
    if ((i) < MR) {                                                                                                   \
        const __m512i av =                                                                                            \
            _mm512_xor_si512(_mm512_broadcastd_epi32(_mm_maskz_loadu_epi8(kmask, a##i + kfull * 4)), sign);           \
        BF_VNNI_COLS(BF_DOT, i)                                                                                       \
    }
        BF_VNNI_ROWS(BF_TAIL_ROW)
#undef BF_TAIL_ROW
    }
    const size_t runs = INDIRECT ? segs : 1;
    for (size_t s = 0; s < runs; s++) {
        const uint8_t *ws = w + s * kfull * 64;
#define BF_RUN_ROW(i)                                                                                                 \
    if ((i) < MR)                                                                                                     \
        a##i = ind[((size_t)(i) < mr ? (size_t)(i) : mr - 1) * segs + s];
        if (INDIRECT) {
            BF_VNNI_ROWS(BF_RUN_ROW)
        }
#undef BF_RUN_ROW
        for (size_t g = 0; g < kfull; g++) {
            BF_LOAD_WS(ws + g * 64);
#define BF_MAIN_ROW(i)                                                                                                \
    if ((i) < MR) {                                                                                                   \
        int32_t x;                                                                                                    \
        memcpy(&x, a##i + g * 4, 4);                                                                                  \
        const __m512i av = _mm512_xor_si512(_mm512_set1_epi32(x), sign);                                              \
        BF_VNNI_COLS(BF_DOT, i)                                                                                       \
    }
            BF_VNNI_ROWS(BF_MAIN_ROW)
#undef BF_MAIN_ROW
        }
    }
#undef BF_DOT
    /* C = acc - 128 * wsum (the correction rows); only the last block can be
     * partial. The correction vectors reuse the weight registers. */
    BF_LOAD_WS(w + (runs * kfull + (TAIL && !INDIRECT ? 1 : 0)) * 64);
#undef BF_LOAD_WS
#undef BF_LOAD_W
    const size_t last = ncols - (size_t)(NR - 1) * 16;
    const __mmask16 nmask = last >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << last) - 1);
#define BF_STORE(i, j)                                                                                                \
    if ((j) < NR - 1)                                                                                                 \
        _mm512_storeu_si512(ci + 16 * (j), _mm512_add_epi32(c##i##_##j, w##j));                                      \
    else if ((j) == NR - 1)                                                                                           \
        _mm512_mask_storeu_epi32(ci + 16 * (j), nmask, _mm512_add_epi32(c##i##_##j, w##j));
#define BF_STORE_ROW(i)                                                                                               \
    if ((i) < MR && (size_t)(i) < mr) {                                                                               \
        int32_t *ci = c + (size_t)(i) * ldc;                                                                          \
        BF_VNNI_COLS(BF_STORE, i)                                                                                     \
    }
    BF_VNNI_ROWS(BF_STORE_ROW)
#undef BF_STORE_ROW
#undef BF_STORE
}

/* A tile's row block: `a` rows lda bytes apart, or (the igemm, a == NULL)
 * `segs` runs per row at ind[i * segs + s], kfull groups each. */
typedef void (*vnni_tile_fn)(size_t mr, size_t kfull, size_t krem, const int8_t *a, size_t lda,
                             const int8_t *const *ind, size_t segs, const uint8_t *w, size_t bstride, int32_t *c,
                             size_t ldc, size_t ncols);

/* bf_t2i8_gemm_ukernel_<MR>x<16*NR>__avx512vnni: dispatches on the K tail
 * once per tile, outside the loops; bf_t2i8_igemm_ukernel_...: the same tile
 * over runs (no tail). */
#define BF_VNNI_TILE(MR, NR, NC)                                                                                      \
    static __attribute__((noinline)) void bf_t2i8_gemm_ukernel_##MR##x##NC##__avx512vnni(                             \
        size_t mr, size_t kfull, size_t krem, const int8_t *a, size_t lda, const int8_t *const *ind, size_t segs,    \
        const uint8_t *w, size_t bstride, int32_t *c, size_t ldc, size_t ncols)                                       \
    {                                                                                                                 \
        (void)ind, (void)segs;                                                                                        \
        if (krem != 0)                                                                                                \
            vnni_tile(MR, NR, 1, 0, mr, kfull, krem, a, lda, NULL, 1, w, bstride, c, ldc, ncols);                     \
        else                                                                                                          \
            vnni_tile(MR, NR, 0, 0, mr, kfull, krem, a, lda, NULL, 1, w, bstride, c, ldc, ncols);                     \
    }                                                                                                                 \
    static __attribute__((noinline)) void bf_t2i8_igemm_ukernel_##MR##x##NC##__avx512vnni(                            \
        size_t mr, size_t kfull, size_t krem, const int8_t *a, size_t lda, const int8_t *const *ind, size_t segs,    \
        const uint8_t *w, size_t bstride, int32_t *c, size_t ldc, size_t ncols)                                       \
    {                                                                                                                 \
        (void)krem, (void)a, (void)lda;                                                                               \
        vnni_tile(MR, NR, 0, 1, mr, kfull, 0, NULL, 0, ind, segs, w, bstride, c, ldc, ncols);                         \
    }

BF_VNNI_TILE(16, 1, 16)
BF_VNNI_TILE(12, 2, 32)
BF_VNNI_TILE(8, 3, 48)
BF_VNNI_TILE(6, 4, 64)
BF_VNNI_TILE(6, 3, 48)
BF_VNNI_TILE(6, 2, 32)
BF_VNNI_TILE(6, 1, 16)
BF_VNNI_TILE(5, 5, 80)

/* The tile of the quad layout (N <= 16, K % 16 == 0; vnni_quad_offset):
 * 4 rows x 16 channels, four accumulators a row. For each quad of 16 k it
 * loads the four weight vectors, and per row broadcasts 16 bytes of A (one
 * 128-bit lane each), flips their sign bits once and issues four vpdpbusd:
 * lane (c, p) of accumulator j sums channel 4c + j's products over the
 * quads' group p. The 16x16 tile of the plain layout spends a broadcast and a
 * flip on every vpdpbusd, which fill the vector ports beside it. A group
 * that is not part of a whole quad of its run (the igemm's runs when seg_k %
 * 16 != 0) goes alone: its 4 bytes broadcast to every lane, four vpdpbusd
 * masked to the lanes of its phase p = g % 4. At the end a row's four
 * accumulators are summed over p by a 4 x 4 transpose-add (unpacks), which
 * leaves channel 4c + j in lane 4c + j. The plain GEMM runs it as the igemm of
 * one run per row (an instance of its own had its accumulators spilled to
 * the stack by GCC 12; so did a 6-row tile, no faster). Measured with
 * cache-hot tiles (bf_kernel_bench --hot, M 25600, N 16, K 144, five
 * alternated runs): 63% of peak (median) with the 16x16 tile, 74% with this. */
#define BF_QUAD_MR 4
#define BF_QUAD_ROWS(X) X(0) X(1) X(2) X(3)

static inline __attribute__((always_inline)) void
vnni_quad_tile(size_t mr, size_t kfull, const int8_t *const *ind, size_t segs, const uint8_t *w, size_t nq,
               int32_t *c, size_t ldc, size_t ncols)
{
    const __m512i sign = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
    __m512i w0, w1, w2, w3;
#define BF_Q_DECL(i)                                                                                                  \
    const int8_t *a##i;                                                                                               \
    __m512i c##i##_0 = zero, c##i##_1 = zero, c##i##_2 = zero, c##i##_3 = zero;
    BF_QUAD_ROWS(BF_Q_DECL)
#undef BF_Q_DECL
#define BF_Q_LOAD_W(q)                                                                                                \
    do {                                                                                                              \
        const uint8_t *wq = w + (q) * 256;                                                                            \
        w0 = _mm512_loadu_si512(wq), w1 = _mm512_loadu_si512(wq + 64);                                                \
        w2 = _mm512_loadu_si512(wq + 128), w3 = _mm512_loadu_si512(wq + 192);                                         \
    } while (0)
    /* one group g alone: A's 4 bytes at byte offset `off` of each row */
#define BF_Q_GROUP_ROW(i)                                                                                             \
    {                                                                                                                 \
        int32_t x;                                                                                                    \
        memcpy(&x, a##i + off, 4);                                                                                    \
        const __m512i av = _mm512_xor_si512(_mm512_set1_epi32(x), sign);                                              \
        c##i##_0 = _mm512_mask_dpbusd_epi32(c##i##_0, lanes, av, w0);                                                 \
        c##i##_1 = _mm512_mask_dpbusd_epi32(c##i##_1, lanes, av, w1);                                                 \
        c##i##_2 = _mm512_mask_dpbusd_epi32(c##i##_2, lanes, av, w2);                                                 \
        c##i##_3 = _mm512_mask_dpbusd_epi32(c##i##_3, lanes, av, w3);                                                 \
    }
#define BF_Q_GROUP(g, off_expr)                                                                                       \
    do {                                                                                                              \
        const size_t off = (off_expr);                                                                                \
        const __mmask16 lanes = (__mmask16)(0x1111u << ((g) % 4));                                                    \
        BF_Q_LOAD_W((g) / 4);                                                                                         \
        BF_QUAD_ROWS(BF_Q_GROUP_ROW)                                                                                  \
    } while (0)
#define BF_Q_QUAD_ROW(i)                                                                                              \
    {                                                                                                                 \
        const __m512i av =                                                                                            \
            _mm512_xor_si512(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(a##i + off))), sign);          \
        c##i##_0 = _mm512_dpbusd_epi32(c##i##_0, av, w0);                                                             \
        c##i##_1 = _mm512_dpbusd_epi32(c##i##_1, av, w1);                                                             \
        c##i##_2 = _mm512_dpbusd_epi32(c##i##_2, av, w2);                                                             \
        c##i##_3 = _mm512_dpbusd_epi32(c##i##_3, av, w3);                                                             \
    }
    size_t g = 0; /* groups done, over all runs: the weights' group index */
    for (size_t s = 0; s < segs; s++) {
#define BF_Q_RUN_ROW(i) a##i = ind[((size_t)(i) < mr ? (size_t)(i) : mr - 1) * segs + s];
        BF_QUAD_ROWS(BF_Q_RUN_ROW)
#undef BF_Q_RUN_ROW
        size_t t = 0; /* groups done in this run */
        for (; t < kfull && g % 4 != 0; t++, g++) /* a run of seg_k % 16 != 0 left g off the quads */
            BF_Q_GROUP(g, t * 4);
        for (; t + 4 <= kfull; t += 4, g += 4) {
            const size_t off = t * 4;
            BF_Q_LOAD_W(g / 4);
            BF_QUAD_ROWS(BF_Q_QUAD_ROW)
        }
        for (; t < kfull; t++, g++) /* the run's last 1..3 whole groups */
            BF_Q_GROUP(g, t * 4);
    }
#undef BF_Q_QUAD_ROW
#undef BF_Q_GROUP
#undef BF_Q_GROUP_ROW
#undef BF_Q_LOAD_W
    /* per 128-bit lane c: [j0 p0..p3], [j1 ...], [j2 ...], [j3 ...] -> [j0, j1, j2, j3] summed over p */
    const __m512i corr = _mm512_loadu_si512(w + nq * 256);
    const __mmask16 nmask = ncols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << ncols) - 1);
#define BF_Q_STORE(i)                                                                                                 \
    if ((size_t)(i) < mr) {                                                                                           \
        const __m512i s01 = _mm512_add_epi32(_mm512_unpacklo_epi32(c##i##_0, c##i##_1),                               \
                                             _mm512_unpackhi_epi32(c##i##_0, c##i##_1));                              \
        const __m512i s23 = _mm512_add_epi32(_mm512_unpacklo_epi32(c##i##_2, c##i##_3),                               \
                                             _mm512_unpackhi_epi32(c##i##_2, c##i##_3));                              \
        const __m512i sum = _mm512_add_epi32(_mm512_unpacklo_epi64(s01, s23), _mm512_unpackhi_epi64(s01, s23));     \
        _mm512_mask_storeu_epi32(c + (size_t)(i) * ldc, nmask, _mm512_add_epi32(sum, corr));                          \
    }
    BF_QUAD_ROWS(BF_Q_STORE)
#undef BF_Q_STORE
}

static __attribute__((noinline)) void vnni_quad_igemm_4x16(size_t mr, size_t kfull, const int8_t *const *ind,
                                                           size_t segs, const uint8_t *w, size_t nq, int32_t *c,
                                                           size_t ldc, size_t ncols)
{
    vnni_quad_tile(mr, kfull, ind, segs, w, nq, c, ldc, ncols);
}

/* The tiles for N = 16 * nb channels (see the header): the main tile of
 * mr_max rows x nr blocks, and for nb > 5 the 6-row tile of the last nb % 4
 * blocks (index 0 when there is none). */
typedef struct vnni_plan {
    size_t mr_max, nr;
    int main, rem; /* indices into the tables below */
} vnni_plan;

static vnni_plan vnni_plan_for(size_t nb)
{
    switch (nb) {
    case 1: return (vnni_plan){16, 1, 1, 0};
    case 2: return (vnni_plan){12, 2, 2, 0};
    case 3: return (vnni_plan){8, 3, 3, 0};
    case 5: return (vnni_plan){5, 5, 8, 0};
    default: return (vnni_plan){6, 4, 4, nb % 4 == 0 ? 0 : (int)(8 - nb % 4)};
    }
}

#define BF_VNNI_TABLE(prefix)                                                                                         \
    {NULL,                                                                                                            \
     prefix##16x16__avx512vnni,                                                                                       \
     prefix##12x32__avx512vnni,                                                                                       \
     prefix##8x48__avx512vnni,                                                                                        \
     prefix##6x64__avx512vnni,                                                                                        \
     prefix##6x48__avx512vnni,                                                                                        \
     prefix##6x32__avx512vnni,                                                                                        \
     prefix##6x16__avx512vnni,                                                                                        \
     prefix##5x80__avx512vnni}
static const vnni_tile_fn vnni_tiles[9] = BF_VNNI_TABLE(bf_t2i8_gemm_ukernel_);
static const vnni_tile_fn vnni_itiles[9] = BF_VNNI_TABLE(bf_t2i8_igemm_ukernel_);
#undef BF_VNNI_TABLE

/* The outer loops of both forms: row blocks of the plan's height, channel
 * blocks of its width. A is `a` (lda) or, when a == NULL, the runs at ind. */
static void vnni_drive(const vnni_tile_fn *tiles, size_t m, size_t n, size_t k4, size_t kfull, size_t krem,
                       const int8_t *a, size_t lda, const int8_t *const *ind, size_t segs, const void *packed,
                       int32_t *c, size_t ldc)
{
    const size_t nb = (n + 15) / 16, bstride = (k4 + 1) * 64;
    const uint8_t *w = packed;
    if (vnni_quad_layout(n, k4 * 4) && krem == 0) {
        const size_t nq = k4 / 4;
        for (size_t m0 = 0; m0 < m; m0 += BF_QUAD_MR) {
            const size_t mr = m - m0 < BF_QUAD_MR ? m - m0 : BF_QUAD_MR;
            if (a == NULL) {
                vnni_quad_igemm_4x16(mr, kfull, ind + m0 * segs, segs, w, nq, c + m0 * ldc, ldc, n);
            } else { /* one run per row */
                const int8_t *rows[BF_QUAD_MR];
                for (size_t i = 0; i < mr; i++)
                    rows[i] = a + (m0 + i) * lda;
                vnni_quad_igemm_4x16(mr, kfull, rows, 1, w, nq, c + m0 * ldc, ldc, n);
            }
        }
        return;
    }
    const vnni_plan pl = vnni_plan_for(nb);
    const vnni_tile_fn main_fn = tiles[pl.main], rem_fn = tiles[pl.rem];
    const size_t nb_main = nb / pl.nr * pl.nr;
    for (size_t m0 = 0; m0 < m; m0 += pl.mr_max) {
        const size_t mr = m - m0 < pl.mr_max ? m - m0 : pl.mr_max;
        const int8_t *am = a != NULL ? a + m0 * lda : NULL;
        const int8_t *const *im = a != NULL ? NULL : ind + m0 * segs;
        int32_t *cm = c + m0 * ldc;
        for (size_t b = 0; b < nb_main; b += pl.nr) {
            const size_t cols = n - b * 16 < pl.nr * 16 ? n - b * 16 : pl.nr * 16;
            main_fn(mr, kfull, krem, am, lda, im, segs, w + b * bstride, bstride, cm + b * 16, ldc, cols);
        }
        if (nb_main < nb)
            rem_fn(mr, kfull, krem, am, lda, im, segs, w + nb_main * bstride, bstride, cm + nb_main * 16, ldc,
                   n - nb_main * 16);
    }
}

static void vnni_gemm(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed, int32_t *c,
                      size_t ldc)
{
    assert(n >= 1 && k >= 1 && lda >= k && ldc >= n && packed != NULL && (m == 0 || (a != NULL && c != NULL)));
    vnni_drive(vnni_tiles, m, n, (k + 3) / 4, k / 4, k % 4, a, lda, NULL, 1, packed, c, ldc);
}

static void vnni_igemm(size_t m, size_t n, size_t segs, size_t seg_k, const int8_t *const *a, const void *packed,
                       int32_t *c, size_t ldc)
{
    assert(n >= 1 && segs >= 1 && seg_k >= 4 && seg_k % 4 == 0 && ldc >= n && packed != NULL &&
           (m == 0 || (a != NULL && c != NULL)));
    vnni_drive(vnni_itiles, m, n, segs * (seg_k / 4), seg_k / 4, 0, NULL, 0, a, segs, packed, c, ldc);
}

const bf_t2i8_gemm_config bf_t2i8_gemm_avx512vnni = {
    .isa = "avx512vnni",
    .packed_size = vnni_packed_size,
    .pack = vnni_pack,
    .gemm = vnni_gemm,
    /* The tiles have 16, 12, 8, 6 (and, for N = 80, 5) rows: pieces of M that
     * are multiples of 48 leave no short row block (the 5-row tile at most 4
     * spare rows per piece). Measured on the YOLOv8n shapes at 640 with
     * cache-hot tiles: 144-row tiles 94% of peak, 132-row (a multiple of 6)
     * 92%, the 16-channel layers 77% against 69%. */
    .mr = 48,
    .max_terms = BF_VNNI_MAX_TERMS,
    .pack_terms = vnni_pack_terms,
    .igemm = vnni_igemm,
};
