/*
 * Ternary x int8 GEMM micro-kernels: C[m][n] = sum_k A[m][k] * W[n][k].
 *
 * A is int8 activations, M rows of K bytes, rows `lda` bytes apart (an im2col
 * buffer, or an NHWC feature map directly for 1x1 stride-1 convolutions).
 * W is N rows of K ternary weights in the model file's 2-bit layout
 * (docs/model-format.md: 00 = 0, 01 = +1, 10 = -1, weight k in bits 2(k%4) of
 * byte k/4), rows `w_row_bytes` apart. Each ISA may repack W once, at load
 * time, into its own layout with `pack`; `gemm` then reads only the packed form.
 * C is int32, rows `ldc` elements apart.
 *
 * Contract for every implementation: reads A only within the M x K block
 * (the tail of K is handled explicitly), writes C only within M x N, and is
 * bit-identical to the reference for all M, N, K >= 1 (M = 0 does nothing).
 * Every path asserts N, K >= 1, lda >= K and ldc >= N (debug builds).
 *
 * Multi-ternary weights (docs/model-format.md, CONV n_terms = k): integer
 * weights q = sum_i 3^i T_i in [-L, L], L = (3^k - 1) / 2, stored as k
 * ternary planes T_0 .. T_{k-1}. `pack_terms` folds 1..max_terms planes (plane
 * i at w + i * plane_stride, each N rows of T2 codes w_row_bytes apart) into
 * one packed matrix of the integer weights q, in the same layout and
 * packed_size as `pack` (which is pack_terms with one plane); `gemm` then
 * computes C = sum_k A * q in ONE call, bit-identical to the sum over planes
 * of 3^i * (the plane's ternary GEMM). max_terms is the largest k for which
 * the path's intermediate sums provably neither overflow nor saturate (each
 * file's header derives its bound); larger k must be split into groups of at
 * most max_terms planes, one GEMM each. Exactness of the int32 result for any
 * k assumes |C| <= 128 * K * L < 2^31, which the loader enforces.
 *
 * Concurrency: `gemm` keeps no state outside its stack and writes only C, so
 * threads may call it at once on disjoint row ranges (a + m0 * lda,
 * c + m0 * ldc) with the same packed weights. `pack` writes only `packed`.
 * Alignment: none is required anywhere; a packed buffer 64-byte aligned (as
 * the engine allocates it) keeps vector loads of weights within cache lines.
 *
 * Paths (docs/model-format.md, "Kernel packings", and each file's header):
 *   path        file                    arithmetic, register tile            max_terms
 *   ref         t2i8-gemm-ref.c         plain C, the oracle                  1
 *   avx2        t2i8-gemm-avx2.c        vpmaddubsw, 6 rows x 16 channels     4
 *   avx512vnni  t2i8-gemm-avx512vnni.c  vpdpbusd, up to 16 rows x 16..80 ch. 5
 *   avxvnni     t2i8-gemm-avxvnni.c     vpdpbusd (VEX, ymm), 6 rows x 16 ch. 5
 *   neon        t2i8-gemm-neon.c        smull/smlal2/sadalp, 4 x 4 x 16 k    5
 *   neondot     t2i8-gemm-neondot.c     sdot (by element), 4 rows x 16 ch.   5
 * The list for tests and benchmarks is t2i8-gemm.inc.
 */
#ifndef BF_T2I8_GEMM_H
#define BF_T2I8_GEMM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct bf_t2i8_gemm_config {
    const char *isa; /* "ref", "avx2", "avxvnni", "avx512vnni", "neon", "neondot" (b1-gemm: "b1-...") */
    /* Bytes needed for the packed form of an N x K weight matrix. */
    size_t (*packed_size)(size_t n, size_t k);
    void (*pack)(size_t n, size_t k, const uint8_t *w, size_t w_row_bytes, void *packed);
    void (*gemm)(size_t m, size_t n, size_t k, const int8_t *a, size_t lda, const void *packed,
                 int32_t *c, size_t ldc);
    /* Row granularity: callers that split M (threads, im2col tiles) waste
     * least with pieces that are multiples of it (the register tile's rows,
     * or their common multiple when the tile depends on N: 48 for
     * avx512vnni). 1 for the reference. */
    size_t mr;
    /* The most balanced-ternary planes pack_terms folds into one GEMM exactly
     * (1..BF_T2I8_MAX_TERMS); 0 or 1 = none: one GEMM per plane (pack_terms
     * may then be NULL, as in the b1-gemm family). */
    int max_terms;
    /* pack for nterms in 1..max(1, max_terms) planes, plane i at
     * w + i * plane_stride (unused when nterms == 1); writes packed_size(n, k)
     * bytes, the same layout as `pack` with the integer weights q. */
    void (*pack_terms)(size_t n, size_t k, int nterms, const uint8_t *w, size_t w_row_bytes, size_t plane_stride,
                       void *packed);
    /* The indirect GEMM (NULL where the path has none): the same C = A x W
     * with the same packed weights, K = segs * seg_k, but row r of A is not
     * one run of K bytes: it is `segs` runs of seg_k bytes, run s at
     * a[r * segs + s] (any addresses; a convolution points them at the
     * kernel rows of its input, so that no im2col copy is made). seg_k is a
     * multiple of 4 (a run never splits one of the kernels' 4-k groups).
     * Reads exactly those runs; otherwise the contract of `gemm`. */
    void (*igemm)(size_t m, size_t n, size_t segs, size_t seg_k, const int8_t *const *a, const void *packed,
                  int32_t *c, size_t ldc);
} bf_t2i8_gemm_config;

/* The file format's largest n_terms (docs/model-format.md). */
#define BF_T2I8_MAX_TERMS 5

/* How many planes one GEMM of `cfg` may fold: max_terms, at least 1. */
static inline int bf_t2i8_gemm_fold(const bf_t2i8_gemm_config *cfg)
{
    if (cfg->pack_terms == NULL || cfg->max_terms < 1)
        return 1;
    return cfg->max_terms < BF_T2I8_MAX_TERMS ? cfg->max_terms : BF_T2I8_MAX_TERMS;
}

/* The plain C reference, always available: the oracle for every other path. */
extern const bf_t2i8_gemm_config bf_t2i8_gemm_ref;

/* ISA paths: compiled only for their architecture (CMakeLists.txt globs the
 * files by suffix). Run one only where bf_t2i8_gemm_select() would allow it. */
#if defined(__x86_64__) || defined(_M_X64)
extern const bf_t2i8_gemm_config bf_t2i8_gemm_avx2;
extern const bf_t2i8_gemm_config bf_t2i8_gemm_avx512vnni;
extern const bf_t2i8_gemm_config bf_t2i8_gemm_avxvnni;
#endif
#if defined(__aarch64__)
extern const bf_t2i8_gemm_config bf_t2i8_gemm_neon;
extern const bf_t2i8_gemm_config bf_t2i8_gemm_neondot;
#endif

/* Decodes one 2-bit code to -1, 0 or +1 (11 decodes as 0; the loader refuses it). */
static inline int bf_t2_decode(const uint8_t *row, size_t k)
{
    unsigned code = (row[k >> 2] >> ((k & 3) * 2)) & 3u;
    return (int)(code & 1u) - (int)(code >> 1);
}

/* The integer weight q = sum_{i < nterms} 3^i T_i of weight k, plane i's row
 * at row + i * plane_stride (Horner, most significant plane first). */
static inline int bf_t2_decode_terms(const uint8_t *row, size_t k, int nterms, size_t plane_stride)
{
    int q = 0;
    for (int i = nterms - 1; i >= 0; i--)
        q = 3 * q + bf_t2_decode(row + (size_t)i * plane_stride, k);
    return q;
}

/* L = (3^nterms - 1) / 2, the largest |q| of nterms planes. */
static inline int bf_t2_levels(int nterms)
{
    int l = 0;
    for (int i = 0; i < nterms; i++)
        l = 3 * l + 1;
    return l;
}

/* The signed-byte layout of the Arm paths (neon: 4 x 16, neondot: 16 x 4):
 * channels in blocks of block_n (N padded with zero channels), K padded to a
 * multiple of 16 and cut into groups of k_group k; a group is
 * block_n * k_group = 64 bytes, channel c's k_group bytes at c * k_group:
 *     byte c * k_group + j of group g of block b = q[b * block_n + c][g * k_group + j]
 * (0 past K or N). q = sum_i 3^i T_i of nterms planes, as a signed byte. */
static inline size_t bf_t2i8_i8blocks_size(size_t n, size_t k, size_t block_n)
{
    return (n + block_n - 1) / block_n * ((k + 15) / 16 * 16) * block_n;
}

static inline void bf_t2i8_i8blocks_pack(size_t n, size_t k, int nterms, const uint8_t *w, size_t w_row_bytes,
                                         size_t plane_stride, size_t block_n, size_t k_group, void *packed)
{
    const size_t bstride = (k + 15) / 16 * 16 * block_n, group = block_n * k_group;
    int8_t *out = (int8_t *)packed;
    memset(out, 0, bf_t2i8_i8blocks_size(n, k, block_n));
    for (size_t ch = 0; ch < n; ch++) {
        const uint8_t *row = w + ch * w_row_bytes;
        int8_t *blk = out + (ch / block_n) * bstride + (ch % block_n) * k_group;
        for (size_t kk = 0; kk < k; kk++)
            blk[(kk / k_group) * group + kk % k_group] = (int8_t)bf_t2_decode_terms(row, kk, nterms, plane_stride);
    }
}

/* A micro-kernel of a path with one channel block per tile (neon, neondot):
 * `mr` rows of A times the block at w; kfull whole K steps of the path and a
 * tail of krem k; `ncols` the channels left from this block on (it stores
 * min(ncols, block) of them). */
typedef void (*bf_t2i8_block_fn)(size_t mr, size_t kfull, size_t krem, const int8_t *a, size_t lda, const int8_t *w,
                                 int32_t *c, size_t ldc, size_t ncols);

/* Such a path's outer loops: row blocks of tile_mr, channel blocks of
 * block_n, `bstride` bytes apart in the packed weights. */
static inline void bf_t2i8_gemm_blocks(size_t m, size_t n, const int8_t *a, size_t lda, const int8_t *w, int32_t *c,
                                       size_t ldc, size_t tile_mr, size_t block_n, size_t bstride, size_t kfull,
                                       size_t krem, bf_t2i8_block_fn tile)
{
    const size_t nb = (n + block_n - 1) / block_n;
    for (size_t m0 = 0; m0 < m; m0 += tile_mr) {
        const size_t mr = m - m0 < tile_mr ? m - m0 : tile_mr;
        for (size_t b = 0; b < nb; b++)
            tile(mr, kfull, krem, a + m0 * lda, lda, w + b * bstride, c + m0 * ldc + b * block_n, ldc, n - b * block_n);
    }
}

#endif /* BF_T2I8_GEMM_H */
