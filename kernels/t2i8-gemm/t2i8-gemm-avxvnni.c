/*
 * Ternary x int8 GEMM, AVX-VNNI (VEX vpdpbusd on ymm). C[m][n] = sum_k A[m][k] * W[n][k].
 *
 * For CPUs with AVX-VNNI but no AVX-512 VNNI (Alder/Raptor/Arrow Lake, the
 * N100/N97 of x86 edge boxes; Zen 5 has both). Sixteen ymm registers, no
 * masks: the avx2 path's shape, with vpdpbusd in place of vpmaddubsw +
 * vpaddw (+ the int16 widening), i.e. one instruction per 32 products
 * instead of two and int32 sums from the start.
 *
 * Arithmetic. vpdpbusd multiplies unsigned bytes by signed bytes, four at a
 * time, and adds the four products to an int32 lane modulo 2^32 (the
 * non-saturating form, _mm256_dpbusd_avx_epi32). The weights take the
 * unsigned side, offset by L: u = w + L in [0, 2L]; the activations stay
 * signed, so A needs no per-row pass (the avx512vnni path's XOR of A would
 * cost one more vector instruction per row and group here, on the same
 * ports). Then
 *     C = sum_k u*a - L * rowsum(a),   rowsum over k < K (vpsadbw),
 * with L = 1 for ternary weights.
 *
 * Multi-ternary (max_terms 5): `pack_terms` folds k planes into
 * q = sum_i 3^i T_i in [-L, L], L = (3^k - 1) / 2 <= 121, and stores
 * u = q + L <= 242, an unsigned byte. Each product u*a is exact
 * (|.| <= 242 * 128 = 30976), the four of a lane are added in int32 without
 * saturation, and every later add (the sums over k, - L * rowsum formed
 * modulo 2^32 too) wraps modulo 2^32. So C is the true sum modulo 2^32: exact
 * whenever |C| <= 128 * K * L < 2^31, the loader's bound, exactly as for
 * avx512vnni. (The avx2 path stops at 4 planes only because vpmaddubsw's
 * int16 pair sums saturate; vpdpbusd has no int16 step.)
 *
 * Packed layout, row sums and outer loops: t2i8-gemm-ymm.h, shared with the
 * avx2 path, so the two packed forms compare byte for byte.
 *
 * Micro-kernel: 6 rows x 16 channels (2 blocks): 12 ymm accumulators, 2
 * weight vectors, 1 broadcast of 4 bytes of A: 15 of the 16 registers, no
 * spills (the accumulating vpdpbusd needs no product register; the avx2
 * path needs assembly to fit). If N/8 is odd the last block runs
 * a 6 x 8 tile. Rows: the last short row block aliases missing rows to the
 * last real one (computed, never stored); K % 4 tail: the last 1..3 bytes of
 * each row are read one by one; N tail: vpmaskmovd stores. A is read only
 * within M x K, C written only within M x N; no state outside the stack, so
 * threads may run disjoint row ranges at once.
 *
 * igemm: the same tiles over rows given as runs of seg_k bytes at a pointer
 * each (t2i8-gemm.h); the row sums add up the runs', a tile reloads its six
 * row pointers at each run, and its group step addresses the six rows from
 * their own bases with one shared offset.
 */
#include <assert.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "t2i8-gemm-ymm.h"

#define BF_AVXVNNI_MR 6
#define BF_AVXVNNI_MAX_TERMS 5 /* u = q + L <= 242 is a byte; int32 sums (see the header) */

static void avxvnni_pack_terms(size_t n, size_t k, int nterms, const uint8_t *w, size_t w_row_bytes,
                               size_t plane_stride, void *packed)
{
    assert(nterms >= 1 && nterms <= BF_AVXVNNI_MAX_TERMS);
    bf_t2i8_ymm_pack_terms(n, k, nterms, w, w_row_bytes, plane_stride, packed);
}

static void avxvnni_pack(size_t n, size_t k, const uint8_t *w, size_t w_row_bytes, void *packed)
{
    avxvnni_pack_terms(n, k, 1, w, w_row_bytes, 0, packed);
}

/* One 6 x (8*NR) tile; NR and TAIL are constants after inlining. `a` holds
 * `mr` valid rows, `ncols` (1..8*NR) valid channels; w points at group 0 of
 * the tile's first block, blocks `bstride` bytes apart; rowsum[i] is
 * L * rowsum of row i (modulo 2^32). The K tail (TAIL: K % 4 != 0, the last
 * 1..3 k) goes first (integer sums commute), so the main loop is the last
 * writer of the accumulators.
 *
 * The accumulators are named variables c<row>_<block>, unrolled by the
 * macros below and pruned by `if (j < NR)` on constants: with an array GCC
 * copies accumulators between registers and spills one inside the loop. */
#define BF_AVXVNNI_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define BF_AVXVNNI_COLS(X, i) X(i, 0) X(i, 1)

static inline __attribute__((always_inline)) void
avxvnni_tile(const int NR, const int TAIL, const int INDIRECT, size_t mr, size_t kfull, size_t krem, const int8_t *a,
             size_t lda, const int8_t *const *ind, size_t segs, const uint8_t *w, size_t bstride,
             const int32_t *rowsum, int32_t *c, size_t ldc, size_t ncols)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i w0 = zero, w1 = zero;
#define BF_DECL_C(i, j) __m256i c##i##_##j = zero;
#define BF_DECL_ROW(i)                                                                                                \
    const int8_t *a##i = INDIRECT ? NULL : a + ((size_t)(i) < mr ? (size_t)(i) : mr - 1) * lda;                       \
    BF_AVXVNNI_COLS(BF_DECL_C, i)
    BF_AVXVNNI_ROWS(BF_DECL_ROW)
#undef BF_DECL_ROW
#undef BF_DECL_C
#define BF_LOAD_WS(wp)                                                                                                \
    do {                                                                                                              \
        w0 = _mm256_loadu_si256((const void *)(wp));                                                                  \
        if (NR > 1)                                                                                                   \
            w1 = _mm256_loadu_si256((const void *)((wp) + bstride));                                                  \
    } while (0)
#define BF_DOT(i, j)                                                                                                  \
    if ((j) < NR)                                                                                                     \
        c##i##_##j = _mm256_dpbusd_avx_epi32(c##i##_##j, w##j, av);
    if (TAIL && !INDIRECT) {
        BF_LOAD_WS(w + kfull * 32);
#define BF_TAIL_ROW(i)                                                                                                \
    {                                                                                                                 \
        const __m256i av = _mm256_set1_epi32(bf_t2i8_ymm_tail4(a##i + kfull * 4, krem));                                 \
        BF_AVXVNNI_COLS(BF_DOT, i)                                                                                    \
    }
        BF_AVXVNNI_ROWS(BF_TAIL_ROW)
#undef BF_TAIL_ROW
    }
    const size_t runs = INDIRECT ? segs : 1;
    for (size_t s = 0; s < runs; s++) {
        const uint8_t *ws = w + s * kfull * 32;
#define BF_RUN_ROW(i) a##i = ind[((size_t)(i) < mr ? (size_t)(i) : mr - 1) * segs + s];
        if (INDIRECT) {
            BF_AVXVNNI_ROWS(BF_RUN_ROW)
        }
#undef BF_RUN_ROW
        size_t g = 0;
        if (NR == 2 && mr == 6 && !INDIRECT) {
            /* The group step in assembly: with the intrinsics below GCC copies
             * accumulators between registers and stores one to the stack in
             * every iteration of this, the common, loop (GCC 12; -15% here).
             * ymm12-13: weights, ymm14: broadcast. Rows 0-2 at p0 + {0,1,2}*lda,
             * rows 3-5 at p3 + {0,1,2}*lda (full blocks only: rows equally
             * spaced). AT&T operand order: signed (A), unsigned (u), accumulator;
             * {vex} (escaped as %{vex%}) asks for the VEX encoding, not EVEX. */
            const uint8_t *wg = ws;
            const int8_t *p0 = a0, *p3 = a3;
            for (; g < kfull; g++, wg += 32, p0 += 4, p3 += 4) {
                __asm__("vmovdqu (%[w]), %%ymm12\n\t"
                        "vmovdqu (%[w],%[bs]), %%ymm13\n\t"
#define BF_AVXVNNI_ROW(R, ADDR)                                                                                     \
    "vpbroadcastd " ADDR ", %%ymm14\n\t"                                                                            \
    "%{vex%} vpdpbusd %%ymm14, %%ymm12, %[c" #R "0]\n\t"                                                              \
    "%{vex%} vpdpbusd %%ymm14, %%ymm13, %[c" #R "1]\n\t"
                        BF_AVXVNNI_ROW(0, "(%[p0])") BF_AVXVNNI_ROW(1, "(%[p0],%[lda])")
                        BF_AVXVNNI_ROW(2, "(%[p0],%[lda],2)") BF_AVXVNNI_ROW(3, "(%[p3])")
                        BF_AVXVNNI_ROW(4, "(%[p3],%[lda])") BF_AVXVNNI_ROW(5, "(%[p3],%[lda],2)")
                        : [c00] "+x"(c0_0), [c01] "+x"(c0_1), [c10] "+x"(c1_0), [c11] "+x"(c1_1), [c20] "+x"(c2_0),
                          [c21] "+x"(c2_1), [c30] "+x"(c3_0), [c31] "+x"(c3_1), [c40] "+x"(c4_0), [c41] "+x"(c4_1),
                          [c50] "+x"(c5_0), [c51] "+x"(c5_1)
                        : [w] "r"(wg), [bs] "r"(bstride), [p0] "r"(p0), [p3] "r"(p3), [lda] "r"(lda)
                        : "xmm12", "xmm13", "xmm14", "memory");
            }
        }
        if (NR == 2 && mr == 6 && INDIRECT) {
            /* The same step for six rows anywhere: each row its own base and
             * one byte offset `off` for all; in two statements of three rows
             * (one would need more than asm's 30 operands), the weights in
             * registers the compiler picks. */
            const uint8_t *wg = ws;
            for (size_t off = 0; g < kfull; g++, wg += 32, off += 4) {
                const __m256i u0 = _mm256_loadu_si256((const void *)wg);
                const __m256i u1 = _mm256_loadu_si256((const void *)(wg + bstride));
#define BF_AVXVNNI_IROW(R, ADDR)                                                                                    \
    "vpbroadcastd " ADDR ", %%ymm14\n\t"                                                                            \
    "%{vex%} vpdpbusd %%ymm14, %[u0], %[c" #R "0]\n\t"                                                               \
    "%{vex%} vpdpbusd %%ymm14, %[u1], %[c" #R "1]\n\t"
                __asm__(BF_AVXVNNI_IROW(0, "(%[p0],%[off])") BF_AVXVNNI_IROW(1, "(%[p1],%[off])")
                            BF_AVXVNNI_IROW(2, "(%[p2],%[off])")
                        : [c00] "+x"(c0_0), [c01] "+x"(c0_1), [c10] "+x"(c1_0), [c11] "+x"(c1_1), [c20] "+x"(c2_0),
                          [c21] "+x"(c2_1)
                        : [u0] "x"(u0), [u1] "x"(u1), [off] "r"(off), [p0] "r"(a0), [p1] "r"(a1), [p2] "r"(a2)
                        : "xmm14", "memory");
                __asm__(BF_AVXVNNI_IROW(3, "(%[p3],%[off])") BF_AVXVNNI_IROW(4, "(%[p4],%[off])")
                            BF_AVXVNNI_IROW(5, "(%[p5],%[off])")
                        : [c30] "+x"(c3_0), [c31] "+x"(c3_1), [c40] "+x"(c4_0), [c41] "+x"(c4_1), [c50] "+x"(c5_0),
                          [c51] "+x"(c5_1)
                        : [u0] "x"(u0), [u1] "x"(u1), [off] "r"(off), [p3] "r"(a3), [p4] "r"(a4), [p5] "r"(a5)
                        : "xmm14", "memory");
#undef BF_AVXVNNI_IROW
            }
        }
#undef BF_AVXVNNI_ROW
        for (; g < kfull; g++) {
            BF_LOAD_WS(ws + g * 32);
#define BF_MAIN_ROW(i)                                                                                                \
    {                                                                                                                 \
        int32_t x;                                                                                                    \
        memcpy(&x, a##i + g * 4, 4);                                                                                  \
        const __m256i av = _mm256_set1_epi32(x);                                                                      \
        BF_AVXVNNI_COLS(BF_DOT, i)                                                                                    \
    }
            BF_AVXVNNI_ROWS(BF_MAIN_ROW)
#undef BF_MAIN_ROW
        }
    }
#undef BF_DOT
#undef BF_LOAD_WS
    /* C = acc - L * rowsum; only the last block can be partial */
    const size_t last = ncols - (size_t)(NR - 1) * 8;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i nmask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)last), lane);
#define BF_STORE(i, j)                                                                                                \
    if ((j) < NR - 1)                                                                                                 \
        _mm256_storeu_si256((void *)(ci + 8 * (j)), _mm256_sub_epi32(c##i##_##j, rs));                                \
    else if ((j) == NR - 1 && last >= 8)                                                                              \
        _mm256_storeu_si256((void *)(ci + 8 * (j)), _mm256_sub_epi32(c##i##_##j, rs));                                \
    else if ((j) == NR - 1)                                                                                           \
        _mm256_maskstore_epi32(ci + 8 * (j), nmask, _mm256_sub_epi32(c##i##_##j, rs));
#define BF_STORE_ROW(i)                                                                                               \
    if ((size_t)(i) < mr) {                                                                                           \
        int32_t *ci = c + (size_t)(i) * ldc;                                                                          \
        const __m256i rs = _mm256_set1_epi32(rowsum[i]);                                                              \
        BF_AVXVNNI_COLS(BF_STORE, i)                                                                                  \
    }
    BF_AVXVNNI_ROWS(BF_STORE_ROW)
#undef BF_STORE_ROW
#undef BF_STORE
}

/* bf_t2i8_gemm_ukernel_6x<8*NR>__avxvnni: dispatches on the K tail once per
 * tile, outside the loop; bf_t2i8_igemm_ukernel_...: the same tile over runs
 * of seg4 groups (t2i8-gemm-ymm.h bf_t2i8_ymm_igemm). */
#define BF_AVXVNNI_TILE(NR, NC)                                                                                       \
    static __attribute__((noinline)) void bf_t2i8_gemm_ukernel_6x##NC##__avxvnni(                                     \
        size_t mr, size_t kfull, size_t krem, const int8_t *a, size_t lda, const int8_t *const *ind, size_t segs,    \
        const uint8_t *w, size_t bstride, const int32_t *rowsum, size_t gpf, int32_t *c, size_t ldc, size_t ncols)    \
    {                                                                                                                 \
        (void)gpf, (void)ind, (void)segs; /* int32 sums: nothing to widen */                                          \
        if (krem != 0)                                                                                                \
            avxvnni_tile(NR, 1, 0, mr, kfull, krem, a, lda, NULL, 1, w, bstride, rowsum, c, ldc, ncols);              \
        else                                                                                                          \
            avxvnni_tile(NR, 0, 0, mr, kfull, krem, a, lda, NULL, 1, w, bstride, rowsum, c, ldc, ncols);              \
    }                                                                                                                 \
    static __attribute__((noinline)) void bf_t2i8_igemm_ukernel_6x##NC##__avxvnni(                                    \
        size_t mr, size_t kfull, size_t krem, const int8_t *a, size_t lda, const int8_t *const *ind, size_t segs,    \
        const uint8_t *w, size_t bstride, const int32_t *rowsum, size_t gpf, int32_t *c, size_t ldc, size_t ncols)    \
    {                                                                                                                 \
        (void)gpf, (void)krem, (void)a, (void)lda;                                                                    \
        avxvnni_tile(NR, 0, 1, mr, kfull, 0, NULL, 0, ind, segs, w, bstride, rowsum, c, ldc, ncols);                  \
    }
BF_AVXVNNI_TILE(2, 16)
BF_AVXVNNI_TILE(1, 8)

static void avxvnni_gemm(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed,
                         int32_t *c, size_t ldc)
{
    bf_t2i8_ymm_gemm(m, n, k, a, lda, packed, c, ldc, BF_AVXVNNI_MR, BF_AVXVNNI_MAX_TERMS, 0,
                     bf_t2i8_gemm_ukernel_6x16__avxvnni, bf_t2i8_gemm_ukernel_6x8__avxvnni);
}

static void avxvnni_igemm(size_t m, size_t n, size_t segs, size_t seg_k, const int8_t *const *a, const void *packed,
                          int32_t *c, size_t ldc)
{
    bf_t2i8_ymm_igemm(m, n, segs, seg_k, a, packed, c, ldc, BF_AVXVNNI_MR, BF_AVXVNNI_MAX_TERMS, 0,
                      bf_t2i8_igemm_ukernel_6x16__avxvnni, bf_t2i8_igemm_ukernel_6x8__avxvnni);
}

const bf_t2i8_gemm_config bf_t2i8_gemm_avxvnni = {
    .isa = "avxvnni",
    .packed_size = bf_t2i8_ymm_packed_size,
    .pack = avxvnni_pack,
    .gemm = avxvnni_gemm,
    .mr = BF_AVXVNNI_MR,
    .max_terms = BF_AVXVNNI_MAX_TERMS,
    .pack_terms = avxvnni_pack_terms,
    .igemm = avxvnni_igemm,
};
