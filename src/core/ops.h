/*
 * ops.h - reference implementations of the graph's ops, exactly the integer
 * arithmetic of docs/model-format.md ("Integer arithmetic"). Feature maps are
 * NHWC int8 (batch 1): element [y][x][c] at (y * w + x) * c_total + c.
 *
 * The convolution is the only heavy op: an im2col tile (or the input itself
 * for 1x1 stride-1 convs) times the packed ternary weights through the
 * selected bf_t2i8_gemm_config, then a per-channel epilogue. It works on a
 * range of output pixels [m_begin, m_end), so a thread pool can split the M
 * dimension, each worker with its own scratch tiles.
 */
#ifndef BF_OPS_H
#define BF_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "i32-requant/i32-requant.h"
#include "i8c3-conv/i8c3-conv.h"
#include "t2i8-gemm/t2i8-gemm.h"

/* Output pixels (GEMM rows) per tile, before rounding up to a multiple of
 * the kernel's register tile (gemm->mr): sizes the im2col and accumulator
 * scratch (tile_m * K bytes, tile_m * out_c int32s). */
#define BF_CONV_TILE_M 128

/* The tile for a kernel with `mr` rows per register tile. */
static inline size_t bf_conv_tile_m(size_t mr)
{
    if (mr < 1)
        mr = 1;
    return (BF_CONV_TILE_M + mr - 1) / mr * mr;
}

/* Written as two selects so compilers emit conditional moves: the epilogue
 * runs per output element, and branches on data mispredict. */
static inline int8_t bf_clamp8(int64_t v)
{
    v = v < -128 ? -128 : v;
    v = v > 127 ? 127 : v;
    return (int8_t)v;
}

/* (v + 2^(s-1)) >> s with an arithmetic shift: halves round towards
 * +infinity. s in 0..62; callers keep |v| < 2^62 so the addition cannot
 * overflow. (>> of a negative value is arithmetic on every compiler this
 * project supports; the op tests check it.) */
static inline int64_t bf_rshift_round(int64_t v, int s)
{
    /* (2^s) >> 1 is 2^(s-1) for s >= 1 and 0 for s == 0: no branch */
    return (v + (((int64_t)1 << s) >> 1)) >> s;
}

/* clamp8(rshift_round(acc * mult, shift)), the product in 64 bits. */
static inline int8_t bf_requant(int32_t acc, int32_t mult, int32_t shift)
{
    return bf_clamp8(bf_rshift_round((int64_t)acc * mult, shift));
}

enum { BF_EPILOGUE_REQUANT = 0, BF_EPILOGUE_SILU = 1, BF_EPILOGUE_RAW = 2 };

typedef struct bf_conv_params {
    int in_h, in_w, in_c;
    int out_h, out_w, out_c;
    int kh, kw, stride, pad;
    int8_t in_zero_point; /* what taps outside the image read */
    int act;              /* BF_EPILOGUE_*: int8 out for 0 and 1, int32 out for 2 */
    const int32_t *bias;  /* [out_c] */
    const int32_t *mult;  /* [out_c], act 0/1 */
    const int32_t *shift; /* [out_c], act 0/1 */
    const int8_t *silu;   /* [256], act 1 */
    const bf_t2i8_gemm_config *gemm;
    const void *packed; /* weights after bf_conv_pack: part 0 */
    /* Multi-ternary layers (CONV n_terms = k > 1): the k planes are packed in
     * bf_conv_parts(k, fold) parts of consecutive planes (bf_conv_pack), part
     * j at packed + j * part_stride bytes, and acc = sum_j 3^(part j's first
     * plane) * (part j's GEMM). n_terms 0 or 1 = plain ternary (part_stride
     * unused); fold = the planes one GEMM folds, <= bf_t2i8_gemm_fold(gemm)
     * (0 or 1 = one GEMM per plane). */
    int n_terms;
    int fold;
    size_t part_stride;
    size_t tile_m;      /* rows per tile: bf_conv_tile_m(gemm->mr) */
    /* the epilogue (kernels/i32-requant/): bf_i32_requant_select(gemm->isa);
     * NULL = the reference */
    const bf_i32_requant_config *requant;
    /* A 3-channel input (the stem): the direct conv that replaces im2col +
     * GEMM (kernels/i8c3-conv/, the same int32 sums), with its own packing of
     * all n_terms planes at direct3_packed; NULL = im2col + GEMM. */
    const bf_i8c3_conv_config *direct3;
    const void *direct3_packed;
    /* 1: the GEMM reads each output pixel's kh kernel rows (kw * in_c bytes
     * each, a multiple of 4) in place through a table of pointers
     * (gemm->igemm), instead of an im2col copy; only the rows that cross the
     * image's left or right edge are copied, with the zero point outside. */
    int indirect;
} bf_conv_params;

static inline size_t bf_conv_params_k(const bf_conv_params *p)
{
    return (size_t)p->kh * (size_t)p->kw * (size_t)p->in_c;
}

/* Whether the conv can take the indirect GEMM: not 1x1 stride 1 (that reads
 * its input directly anyway), whole 4-byte groups in every kernel row. */
static inline int bf_conv_params_indirect_fits(const bf_conv_params *p)
{
    return !(p->kh == 1 && p->kw == 1 && p->stride == 1 && p->pad == 0) && ((size_t)p->kw * (size_t)p->in_c) % 4 == 0;
}

/* 1x1 stride-1 (so pad 0) convs multiply the NHWC input directly. */
static inline int bf_conv_params_direct(const bf_conv_params *p)
{
    return p->kh == 1 && p->kw == 1 && p->stride == 1 && p->pad == 0;
}

/* The GEMMs per tile of a layer with n_terms planes when one GEMM folds at
 * most `fold` of them: ceil(k / fold) parts (k, fold < 1 count as 1). */
static inline int bf_conv_parts(int n_terms, int fold)
{
    n_terms = n_terms < 1 ? 1 : n_terms;
    fold = fold < 1 ? 1 : fold;
    return (n_terms + fold - 1) / fold;
}

/* Part j (< parts) of n_terms planes: its first plane and its plane count.
 * The parts take consecutive planes, as evenly as possible (the first
 * n_terms % parts one more): 5 planes in 2 parts are 3 + 2, whose largest
 * |q| (13) is cheaper for some paths than 4 + 1's (40). */
static inline int bf_conv_part_first(int n_terms, int parts, int j)
{
    const int base = n_terms / parts, extra = n_terms % parts;
    return j * base + (j < extra ? j : extra);
}
static inline int bf_conv_part_terms(int n_terms, int parts, int j)
{
    return n_terms / parts + (j < n_terms % parts ? 1 : 0);
}

/* The int32 scratch bf_conv_rows needs for tiles of `rows` rows: one
 * rows x out_c tile for the requantising activations (none for act 2, which
 * accumulates in its output), plus one for the parts 1.. of a multi-ternary
 * layer that runs more than one GEMM (parts = bf_conv_parts). */
static inline size_t bf_conv_acc_elems(int act, int parts, size_t rows, size_t out_c)
{
    size_t tiles = (act == BF_EPILOGUE_RAW ? 0 : 1) + (parts > 1 ? 1 : 0);
    return tiles * rows * out_c;
}

/* Packs a conv's weights for bf_conv_rows: the file's n_terms planes (plane
 * i = rows [i * n, (i + 1) * n) of T2 rows row_bytes apart, K weights each)
 * in bf_conv_parts(n_terms, fold) parts, part j at packed + j * part_stride
 * (part_stride >= gemm->packed_size(n, k)), each by gemm->pack_terms (or
 * gemm->pack for a single plane). fold <= bf_t2i8_gemm_fold(gemm). */
void bf_conv_pack(const bf_t2i8_gemm_config *gemm, size_t n, size_t k, int n_terms, int fold, const uint8_t *w,
                  size_t row_bytes, size_t part_stride, void *packed);

/* Writes rows [m0, m0 + count) of the im2col matrix, K bytes each, in the
 * order k = (ky * kw + kx) * in_c + ic; taps outside the image are the
 * input's zero point. */
void bf_im2col(const bf_conv_params *p, const int8_t *in, size_t m0, size_t count, int8_t *out);

/* Output pixels [m_begin, m_end) of a convolution. `out` is int8 (act 0/1) or
 * int32 (act 2) NHWC. Scratch: `im2col` holds tile_m * K bytes (unused for
 * direct convs; indirect ones take tile_m * kh pointers, aligned as the
 * buffer's start must be, one kernel row and up to tile_m * K bytes), `acc` bf_conv_acc_elems(act, bf_conv_parts(n_terms, fold),
 * tile_m, out_c) int32s. */
void bf_conv_rows(const bf_conv_params *p, const int8_t *in, void *out, size_t m_begin, size_t m_end,
                  int8_t *im2col, int32_t *acc);

/* out = clamp8(rshift_round(a * mult_a + b * mult_b, shift)), n elements
 * (the executor runs it through bf_i32_requant_config.add8, the same formula). */
void bf_add(const int8_t *a, const int8_t *b, int8_t *out, size_t n, int32_t mult_a, int32_t mult_b,
            int32_t shift);

/* Channel concat of n inputs over `pixels` pixels; input i has channels[i]
 * channels and is rescaled by clamp8(rshift_round(x * mult[i], shift[i])). */
void bf_concat(const int8_t *const *inputs, const int *channels, const int32_t *mult, const int32_t *shift,
               int n, size_t pixels, int8_t *out);
/* The same with the rescale table applied by rq->lut8 (NULL = reference). */
void bf_concat_rq(const int8_t *const *inputs, const int *channels, const int32_t *mult, const int32_t *shift,
                  int n, size_t pixels, int8_t *out, const bf_i32_requant_config *rq);

/* Channels [first, first + count) of an in_c-channel map. */
void bf_slice(const int8_t *in, int in_c, int first, int count, size_t pixels, int8_t *out);

/* Max over k x k taps (stride, pad); taps outside the image are ignored. */
void bf_maxpool(const int8_t *in, int h, int w, int c, int k, int stride, int pad, int out_h, int out_w,
                int8_t *out);
/* Output rows [oy_begin, oy_end) only (a thread's share); `out` is the whole map. */
void bf_maxpool_rows(const int8_t *in, int h, int w, int c, int k, int stride, int pad, int out_w, int oy_begin,
                     int oy_end, int8_t *out);

/* Nearest-neighbour upsampling by an integer factor: out[y][x] = in[y/f][x/f]. */
void bf_upsample(const int8_t *in, int h, int w, int c, int factor, int8_t *out);

#endif /* BF_OPS_H */
