/*
 * Ternary x int8 GEMM, AVX2 (vpmaddubsw). C[m][n] = sum_k A[m][k] * W[n][k].
 *
 * Arithmetic. vpmaddubsw multiplies unsigned by signed bytes and adds adjacent
 * pairs into int16 with signed saturation. The weights take the unsigned side,
 * offset by one: u = w + 1 in {0, 1, 2}, so a pair sum u0*a0 + u1*a1 lies in
 * [-512, 508] and never saturates. The int16 lanes accumulate at most 64 such
 * sums (64 * 512 = 32768: exactly -32768 at worst, still representable), then
 * vpmaddwd with ones widens them into int32 accumulators. Finally
 *     C = sum_k u*a - rowsum(a),   rowsum over k < K (vpsadbw),
 * exact. (The vpsignb trick, sign(a, w), is not used: sign(-128, -1) wraps
 * to -128. Offsetting A instead, as the AVX-512 VNNI path does, costs a
 * vpxor per row and group here, where the vector ALUs are the bottleneck;
 * the row sums cost K/32 vpsadbw per row.)
 *
 * Multi-ternary (max_terms 4): `pack_terms` folds k planes into
 * q = sum_i 3^i T_i in [-L, L], L = (3^k - 1) / 2, and stores u = q + L in
 * [0, 2L]; then C = sum_k u*a - L * rowsum(a). A pair sum now lies in
 * [-512L, 508L]: vpmaddubsw does not saturate while 512L <= 32768 (L <= 64:
 * k <= 4, L = 40; k = 5, L = 121, would saturate, so 5 planes must be split).
 * The int16 lanes add pair sums modulo 2^16 (vpaddw), exact as long as the
 * true sum of the G groups between two widenings stays in int16:
 * G * 512L <= 32768, G = floor(64 / L) = 64, 16, 4, 1 groups for L = 1, 4,
 * 13, 40 (k = 1..4). The int32 sums and the final subtraction wrap modulo
 * 2^32: exact whenever |C| <= 128 * K * L < 2^31 (the loader's bound). The
 * kernel reads L from the packed form.
 *
 * Packed layout (u = w + L bytes, 8 channels x 4 k a 32-byte group, an int32
 * L trailer), row sums and outer loops: t2i8-gemm-ymm.h, shared with the
 * avxvnni path.
 *
 * Micro-kernel: 6 rows x 16 channels (2 blocks): 12 ymm int16 accumulators,
 * 2 weight vectors, a broadcast of 4 bytes of A, one product: all 16 ymm
 * registers. After every 64 / L groups (256 k for ternary weights) the int16
 * sums are widened into int32 sums on the stack. The last block of 8
 * channels, if N/8 is odd, runs a 6 x 8 tile. Rows: the last short row block
 * aliases missing rows to the last real one (computed, never stored); K % 4
 * tail: the last 1..3 bytes of each row are read one by one; N tail:
 * vpmaskmovd stores. A is read only within M x K, C written only within
 * M x N; no state outside the stack.
 *
 * igemm (indirect GEMM, t2i8-gemm.h): the same tiles over rows given as runs
 * of seg_k bytes at a pointer each, so a 3x3 conv reads its input in place
 * instead of an im2col copy. A tile reloads its six row pointers at each run
 * and addresses them from their own bases with one shared offset; the int16
 * sums are widened on the same count of groups, across run boundaries.
 */
#include <assert.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "t2i8-gemm-ymm.h"

#ifndef BF_AVX2_MR
#define BF_AVX2_MR 6
#endif
#define BF_AVX2_GROUPS_PER_FLUSH 64 /* for L = 1; 64 / L in general (see the header) */
#define BF_AVX2_MAX_TERMS 4          /* L = 40: vpmaddubsw's pair sums fit int16 */
#if defined(__clang__)
#define BF_UNROLL _Pragma("unroll")
#else
#define BF_UNROLL _Pragma("GCC unroll 16")
#endif

static void avx2_pack_terms(size_t n, size_t k, int nterms, const uint8_t *w, size_t w_row_bytes,
                            size_t plane_stride, void *packed)
{
    assert(nterms >= 1 && nterms <= BF_AVX2_MAX_TERMS);
    bf_t2i8_ymm_pack_terms(n, k, nterms, w, w_row_bytes, plane_stride, packed);
}

static void avx2_pack(size_t n, size_t k, const uint8_t *w, size_t w_row_bytes, void *packed)
{
    avx2_pack_terms(n, k, 1, w, w_row_bytes, 0, packed);
}

/* int16 pair sums -> added into the int32 sums per channel, then cleared */
static inline __attribute__((always_inline)) void avx2_widen(const int NR, __m256i acc[BF_AVX2_MR][2],
                                                             int32_t sum32[BF_AVX2_MR][2][8])
{
    const __m256i ones = _mm256_set1_epi16(1);
    BF_UNROLL
    for (int i = 0; i < BF_AVX2_MR; i++) {
        BF_UNROLL
        for (int j = 0; j < NR; j++) {
            __m256i s = _mm256_load_si256((const void *)sum32[i][j]);
            s = _mm256_add_epi32(s, _mm256_madd_epi16(acc[i][j], ones));
            _mm256_store_si256((void *)sum32[i][j], s);
            acc[i][j] = _mm256_setzero_si256();
        }
    }
}

/* One 6 x (8*NR) tile. A is `a` (rows lda apart, kfull groups and a tail
 * of krem k: TAIL) or, INDIRECT, `segs` runs of kfull groups per row at
 * ind[i * segs + s] (no tail). The int16 sums are widened every `gpf`
 * groups counted across runs, so a run boundary changes nothing. */
static inline __attribute__((always_inline)) void
avx2_tile(const int NR, const int TAIL, const int INDIRECT, size_t mr, size_t kfull, size_t krem, const int8_t *a,
          size_t lda, const int8_t *const *ind, size_t segs, const uint8_t *w, size_t bstride, const int32_t *rowsum,
          size_t gpf, int32_t *c, size_t ldc, size_t ncols)
{
    enum { MR = BF_AVX2_MR };
    const int8_t *ap[MR];
    __m256i acc[MR][2];
    int32_t sum32[MR][2][8] __attribute__((aligned(32)));
    BF_UNROLL
    for (int i = 0; i < MR; i++)
        ap[i] = INDIRECT ? NULL : a + ((size_t)i < mr ? (size_t)i : mr - 1) * lda;
    memset(sum32, 0, sizeof sum32);
    size_t budget = gpf; /* groups until the int16 sums must be widened */
    if (TAIL) {
        __m256i wv[2];
        BF_UNROLL
        for (int j = 0; j < NR; j++)
            wv[j] = _mm256_loadu_si256((const void *)(w + kfull * 32 + (size_t)j * bstride));
        BF_UNROLL
        for (int i = 0; i < MR; i++) {
            const __m256i av = _mm256_set1_epi32(bf_t2i8_ymm_tail4(ap[i] + kfull * 4, krem));
            BF_UNROLL
            for (int j = 0; j < NR; j++)
                acc[i][j] = _mm256_maddubs_epi16(wv[j], av);
        }
        budget--;
    } else {
        BF_UNROLL
        for (int i = 0; i < MR; i++) {
            BF_UNROLL
            for (int j = 0; j < NR; j++)
                acc[i][j] = _mm256_setzero_si256();
        }
    }
    const size_t runs = INDIRECT ? segs : 1;
    /* L = 40 (k = 4): the int16 sums would have to be widened after every
     * group, 12 loads, vpmaddwd, adds and stores on the stack per 12
     * products (2.3x a k = 3 group's work). Instead each product is widened
     * at once, vpmaddwd against ones (a memory operand: all 16 ymm registers
     * are taken) into int32 accumulators: 3 vector ops per product, about a
     * k = 3 group's cost. Exact: a pair sum from vpmaddubsw is within +-512L
     * = 20480, vpmaddwd adds two of them into an int32, the int32 sums wrap
     * modulo 2^32 as below. */
    const int wide = NR == 2 && MR == 6 && mr == 6 && gpf == 1;
    static const int16_t ones16[16] __attribute__((aligned(32))) = {1, 1, 1, 1, 1, 1, 1, 1,
                                                                     1, 1, 1, 1, 1, 1, 1, 1};
    if (wide) {
        const __m256i ones = _mm256_load_si256((const void *)ones16);
        BF_UNROLL
        for (int i = 0; i < MR; i++) {
            BF_UNROLL
            for (int j = 0; j < NR; j++) /* the K % 4 tail's int16 sums (zero without a tail) */
                acc[i][j] = _mm256_madd_epi16(acc[i][j], ones);
        }
    }
#define BF_AVX2_ACCS                                                                                                  \
    [c00] "+x"(acc[0][0]), [c01] "+x"(acc[0][1]), [c10] "+x"(acc[1][0]), [c11] "+x"(acc[1][1]),                      \
        [c20] "+x"(acc[2][0]), [c21] "+x"(acc[2][1]), [c30] "+x"(acc[3][0]), [c31] "+x"(acc[3][1]),                  \
        [c40] "+x"(acc[4][0]), [c41] "+x"(acc[4][1]), [c50] "+x"(acc[5][0]), [c51] "+x"(acc[5][1])
    /* one group of 4 k for the six rows: int32 products (ROW32) or int16 sums (ROW) */
#define BF_AVX2_ROW32_W(R, ADDR, W0, W1)                                                                              \
    "vpbroadcastd " ADDR ", %%ymm14\n\t"                                                                              \
    "vpmaddubsw %%ymm14, " W0 ", %%ymm15\n\t"                                                                         \
    "vpmaddwd %[ones], %%ymm15, %%ymm15\n\t"                                                                          \
    "vpaddd %%ymm15, %[c" #R "0], %[c" #R "0]\n\t"                                                                    \
    "vpmaddubsw %%ymm14, " W1 ", %%ymm15\n\t"                                                                         \
    "vpmaddwd %[ones], %%ymm15, %%ymm15\n\t"                                                                          \
    "vpaddd %%ymm15, %[c" #R "1], %[c" #R "1]\n\t"
#define BF_AVX2_ROW_W(R, ADDR, W0, W1)                                                                                \
    "vpbroadcastd " ADDR ", %%ymm14\n\t"                                                                              \
    "vpmaddubsw %%ymm14, " W0 ", %%ymm15\n\t"                                                                         \
    "vpaddw %%ymm15, %[c" #R "0], %[c" #R "0]\n\t"                                                                    \
    "vpmaddubsw %%ymm14, " W1 ", %%ymm15\n\t"                                                                         \
    "vpaddw %%ymm15, %[c" #R "1], %[c" #R "1]\n\t"
#define BF_AVX2_ROW32(R, ADDR) BF_AVX2_ROW32_W(R, ADDR, "%%ymm12", "%%ymm13")
#define BF_AVX2_ROW(R, ADDR) BF_AVX2_ROW_W(R, ADDR, "%%ymm12", "%%ymm13")
#define BF_AVX2_IROW32(R, ADDR) BF_AVX2_ROW32_W(R, ADDR, "%[u0]", "%[u1]")
#define BF_AVX2_IROW(R, ADDR) BF_AVX2_ROW_W(R, ADDR, "%[u0]", "%[u1]")
#define BF_AVX2_WEIGHTS "vmovdqu (%[w]), %%ymm12\n\tvmovdqu (%[w],%[bs]), %%ymm13\n\t"
/* rows 0-2 at p0 + {0,1,2}*lda, rows 3-5 at p3 + {0,1,2}*lda (rows equally spaced) */
#define BF_AVX2_DIRECT(STEP)                                                                                          \
    STEP(0, "(%[p0])") STEP(1, "(%[p0],%[lda])") STEP(2, "(%[p0],%[lda],2)") STEP(3, "(%[p3])")                       \
        STEP(4, "(%[p3],%[lda])") STEP(5, "(%[p3],%[lda],2)")
/* six rows anywhere: each its own base, one byte offset for all; the
 * weights u0, u1 in registers (ymm12, ymm13 in the direct step) */
#define BF_AVX2_INDIRECT_LO(STEP) STEP(0, "(%[p0],%[off])") STEP(1, "(%[p1],%[off])") STEP(2, "(%[p2],%[off])")
#define BF_AVX2_INDIRECT_HI(STEP) STEP(3, "(%[p3],%[off])") STEP(4, "(%[p4],%[off])") STEP(5, "(%[p5],%[off])")
#define BF_AVX2_ACCS_LO                                                                                               \
    [c00] "+x"(acc[0][0]), [c01] "+x"(acc[0][1]), [c10] "+x"(acc[1][0]), [c11] "+x"(acc[1][1]),                      \
        [c20] "+x"(acc[2][0]), [c21] "+x"(acc[2][1])
#define BF_AVX2_ACCS_HI                                                                                               \
    [c30] "+x"(acc[3][0]), [c31] "+x"(acc[3][1]), [c40] "+x"(acc[4][0]), [c41] "+x"(acc[4][1]),                      \
        [c50] "+x"(acc[5][0]), [c51] "+x"(acc[5][1])
#define BF_AVX2_IN_DIRECT [w] "r"(wg), [bs] "r"(bstride), [p0] "r"(p0), [p3] "r"(p3), [lda] "r"(lda)
#define BF_AVX2_IN_INDIRECT_LO [u0] "x"(u0), [u1] "x"(u1), [off] "r"(off), [p0] "r"(ap[0]), [p1] "r"(ap[1]), [p2] "r"(ap[2])
#define BF_AVX2_IN_INDIRECT_HI [u0] "x"(u0), [u1] "x"(u1), [off] "r"(off), [p3] "r"(ap[3]), [p4] "r"(ap[4]), [p5] "r"(ap[5])
    for (size_t s = 0; s < runs; s++) {
        const uint8_t *ws = w + s * kfull * 32;
        if (INDIRECT) {
            BF_UNROLL
            for (int i = 0; i < MR; i++)
                ap[i] = ind[((size_t)i < mr ? (size_t)i : mr - 1) * segs + s];
        }
        if (wide) {
            const uint8_t *wg = ws;
            if (INDIRECT) {
                for (size_t g = 0, off = 0; g < kfull; g++, wg += 32, off += 4) {
                    const __m256i u0 = _mm256_loadu_si256((const void *)wg);
                    const __m256i u1 = _mm256_loadu_si256((const void *)(wg + bstride));
                    __asm__(BF_AVX2_INDIRECT_LO(BF_AVX2_IROW32)
                            : BF_AVX2_ACCS_LO
                            : BF_AVX2_IN_INDIRECT_LO, [ones] "m"(*(const __m256i *)ones16)
                            : "xmm14", "xmm15", "memory");
                    __asm__(BF_AVX2_INDIRECT_HI(BF_AVX2_IROW32)
                            : BF_AVX2_ACCS_HI
                            : BF_AVX2_IN_INDIRECT_HI, [ones] "m"(*(const __m256i *)ones16)
                            : "xmm14", "xmm15", "memory");
                }
            } else {
                const int8_t *p0 = ap[0], *p3 = ap[3];
                for (size_t g = 0; g < kfull; g++, wg += 32, p0 += 4, p3 += 4)
                    __asm__(BF_AVX2_WEIGHTS BF_AVX2_DIRECT(BF_AVX2_ROW32)
                            : BF_AVX2_ACCS
                            : BF_AVX2_IN_DIRECT, [ones] "m"(*(const __m256i *)ones16)
                            : "xmm12", "xmm13", "xmm14", "xmm15", "memory");
            }
            continue;
        }
        size_t g = 0;
        while (g < kfull) {
            const size_t g0 = g, g_end = kfull - g < budget ? kfull : g + budget;
            if (NR == 2 && MR == 6 && mr == 6) {
                /* The group step in assembly: GCC's allocator spills some of
                 * the 12 accumulators of the intrinsics version (vpmaddubsw has
                 * no accumulating form), halving the speed. ymm12-15: weights,
                 * broadcast, product. */
                const uint8_t *wg = ws + g * 32;
                if (INDIRECT) {
                    /* two statements of three rows (one would need more than
                     * asm's 30 operands), the weights in registers the
                     * compiler picks */
                    for (size_t off = g * 4; g < g_end; g++, wg += 32, off += 4) {
                        const __m256i u0 = _mm256_loadu_si256((const void *)wg);
                        const __m256i u1 = _mm256_loadu_si256((const void *)(wg + bstride));
                        __asm__(BF_AVX2_INDIRECT_LO(BF_AVX2_IROW)
                                : BF_AVX2_ACCS_LO
                                : BF_AVX2_IN_INDIRECT_LO
                                : "xmm14", "xmm15", "memory");
                        __asm__(BF_AVX2_INDIRECT_HI(BF_AVX2_IROW)
                                : BF_AVX2_ACCS_HI
                                : BF_AVX2_IN_INDIRECT_HI
                                : "xmm14", "xmm15", "memory");
                    }
                } else {
                    const int8_t *p0 = ap[0] + g * 4, *p3 = ap[3] + g * 4;
                    for (; g < g_end; g++, wg += 32, p0 += 4, p3 += 4)
                        __asm__(BF_AVX2_WEIGHTS BF_AVX2_DIRECT(BF_AVX2_ROW)
                                : BF_AVX2_ACCS
                                : BF_AVX2_IN_DIRECT
                                : "xmm12", "xmm13", "xmm14", "xmm15", "memory");
                }
            } else {
                for (; g < g_end; g++) {
                    __m256i wv[2];
                    BF_UNROLL
                    for (int j = 0; j < NR; j++)
                        wv[j] = _mm256_loadu_si256((const void *)(ws + g * 32 + (size_t)j * bstride));
                    BF_UNROLL
                    for (int i = 0; i < MR; i++) {
                        int32_t x;
                        memcpy(&x, ap[i] + g * 4, 4);
                        const __m256i av = _mm256_set1_epi32(x);
                        BF_UNROLL
                        for (int j = 0; j < NR; j++)
                            acc[i][j] = _mm256_add_epi16(acc[i][j], _mm256_maddubs_epi16(wv[j], av));
                    }
                }
            }
            budget -= g_end - g0;
            if (budget == 0) {
                avx2_widen(NR, acc, sum32);
                budget = gpf;
            }
        }
    }
#undef BF_AVX2_IN_INDIRECT_LO
#undef BF_AVX2_IN_INDIRECT_HI
#undef BF_AVX2_IN_DIRECT
#undef BF_AVX2_INDIRECT_LO
#undef BF_AVX2_INDIRECT_HI
#undef BF_AVX2_ACCS_LO
#undef BF_AVX2_ACCS_HI
#undef BF_AVX2_IROW
#undef BF_AVX2_IROW32
#undef BF_AVX2_ROW_W
#undef BF_AVX2_ROW32_W
#undef BF_AVX2_DIRECT
#undef BF_AVX2_WEIGHTS
#undef BF_AVX2_ROW
#undef BF_AVX2_ROW32
#undef BF_AVX2_ACCS
    if (wide) {
        BF_UNROLL
        for (int i = 0; i < MR; i++) {
            BF_UNROLL
            for (int j = 0; j < NR; j++)
                _mm256_store_si256((void *)sum32[i][j], acc[i][j]);
        }
    } else {
        avx2_widen(NR, acc, sum32); /* what is left since the last widening */
    }
    const size_t last = ncols - (size_t)(NR - 1) * 8;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i nmask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)last), lane);
    BF_UNROLL
    for (int i = 0; i < MR; i++) {
        if ((size_t)i >= mr)
            break;
        const __m256i rs = _mm256_set1_epi32(rowsum[i]); /* L * rowsum */
        int32_t *ci = c + (size_t)i * ldc;
        BF_UNROLL
        for (int j = 0; j < NR - 1; j++)
            _mm256_storeu_si256((void *)(ci + 8 * j),
                                _mm256_sub_epi32(_mm256_load_si256((const void *)sum32[i][j]), rs));
        const __m256i v = _mm256_sub_epi32(_mm256_load_si256((const void *)sum32[i][NR - 1]), rs);
        if (last >= 8)
            _mm256_storeu_si256((void *)(ci + 8 * (NR - 1)), v);
        else
            _mm256_maskstore_epi32(ci + 8 * (NR - 1), nmask, v);
    }
}

#define BF_AVX2_TILE(NR, NC)                                                                                          \
    static __attribute__((noinline)) void bf_t2i8_gemm_ukernel_6x##NC##__avx2(                                        \
        size_t mr, size_t kfull, size_t krem, const int8_t *a, size_t lda, const int8_t *const *ind, size_t segs,    \
        const uint8_t *w, size_t bstride, const int32_t *rowsum, size_t gpf, int32_t *c, size_t ldc, size_t ncols)    \
    {                                                                                                                 \
        (void)ind, (void)segs;                                                                                        \
        if (krem != 0)                                                                                                \
            avx2_tile(NR, 1, 0, mr, kfull, krem, a, lda, NULL, 1, w, bstride, rowsum, gpf, c, ldc, ncols);            \
        else                                                                                                          \
            avx2_tile(NR, 0, 0, mr, kfull, krem, a, lda, NULL, 1, w, bstride, rowsum, gpf, c, ldc, ncols);            \
    }                                                                                                                 \
    static __attribute__((noinline)) void bf_t2i8_igemm_ukernel_6x##NC##__avx2(                                       \
        size_t mr, size_t kfull, size_t krem, const int8_t *a, size_t lda, const int8_t *const *ind, size_t segs,    \
        const uint8_t *w, size_t bstride, const int32_t *rowsum, size_t gpf, int32_t *c, size_t ldc, size_t ncols)    \
    {                                                                                                                 \
        (void)krem, (void)a, (void)lda;                                                                               \
        avx2_tile(NR, 0, 1, mr, kfull, 0, NULL, 0, ind, segs, w, bstride, rowsum, gpf, c, ldc, ncols);                \
    }
BF_AVX2_TILE(2, 16)
BF_AVX2_TILE(1, 8)

static void avx2_gemm(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed, int32_t *c,
                      size_t ldc)
{
    bf_t2i8_ymm_gemm(m, n, k, a, lda, packed, c, ldc, BF_AVX2_MR, BF_AVX2_MAX_TERMS, BF_AVX2_GROUPS_PER_FLUSH,
                     bf_t2i8_gemm_ukernel_6x16__avx2, bf_t2i8_gemm_ukernel_6x8__avx2);
}

static void avx2_igemm(size_t m, size_t n, size_t segs, size_t seg_k, const int8_t *const *a, const void *packed,
                       int32_t *c, size_t ldc)
{
    bf_t2i8_ymm_igemm(m, n, segs, seg_k, a, packed, c, ldc, BF_AVX2_MR, BF_AVX2_MAX_TERMS, BF_AVX2_GROUPS_PER_FLUSH,
                      bf_t2i8_igemm_ukernel_6x16__avx2, bf_t2i8_igemm_ukernel_6x8__avx2);
}

const bf_t2i8_gemm_config bf_t2i8_gemm_avx2 = {
    .isa = "avx2",
    .packed_size = bf_t2i8_ymm_packed_size,
    .pack = avx2_pack,
    .gemm = avx2_gemm,
    .mr = BF_AVX2_MR,
    .max_terms = BF_AVX2_MAX_TERMS,
    .pack_terms = avx2_pack_terms,
    .igemm = avx2_igemm,
};
