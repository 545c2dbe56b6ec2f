/* ops.c - reference ops (docs/model-format.md, "Ops"). */
#include "ops.h"

#include <assert.h>
#include <string.h>

#include "model.h" /* BF_MAX_KERNEL */

/* memcpy for the short runs of im2col (a kernel row of a thin input: 9 bytes
 * for the first layer's 3x3x3, 48 for 3x3x16): overlapping 4/8/16-byte
 * loads and stores inline instead of a library call. Reads and writes
 * exactly [0, n); d and s do not overlap. */
static inline void copy_run(int8_t *restrict d, const int8_t *restrict s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n > 16 && n <= 128) {
        size_t i = 0;
        for (; i + 16 <= n; i += 16)
            memcpy(d + i, s + i, 16);
        if (i < n)
            memcpy(d + n - 16, s + n - 16, 16); /* overlaps what is written already: same bytes */
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else {
        memcpy(d, s, n);
    }
}

void bf_im2col(const bf_conv_params *p, const int8_t *in, size_t m0, size_t count, int8_t *out)
{
    const size_t in_c = (size_t)p->in_c;
    const size_t row_k = (size_t)p->kw * in_c; /* one kernel row's taps */
    const size_t k = bf_conv_params_k(p);
    for (size_t r = 0; r < count; r++) {
        const size_t m = m0 + r;
        const int oy = (int)(m / (size_t)p->out_w), ox = (int)(m % (size_t)p->out_w);
        int8_t *dst = out + r * k;
        for (int ky = 0; ky < p->kh; ky++) {
            const int iy = oy * p->stride + ky - p->pad;
            int8_t *d = dst + (size_t)ky * row_k;
            if (iy < 0 || iy >= p->in_h) {
                memset(d, p->in_zero_point, row_k);
                continue;
            }
            const int8_t *src_row = in + (size_t)iy * (size_t)p->in_w * in_c;
            const int ix0 = ox * p->stride - p->pad;
            if (ix0 >= 0 && ix0 + p->kw <= p->in_w) {
                /* all kw taps inside: they are kw adjacent pixels, one copy */
                copy_run(d, src_row + (size_t)ix0 * in_c, row_k);
                continue;
            }
            for (int kx = 0; kx < p->kw; kx++) {
                const int ix = ox * p->stride + kx - p->pad;
                if (ix < 0 || ix >= p->in_w)
                    memset(d + (size_t)kx * in_c, p->in_zero_point, in_c);
                else
                    copy_run(d + (size_t)kx * in_c, src_row + (size_t)ix * in_c, in_c);
            }
        }
    }
}

/* The indirect GEMM's rows for output pixels [m0, m0 + count): kh pointers
 * per pixel (at the start of `scratch`), each to its kernel row's kw * in_c
 * bytes: in the input itself when all kw taps are inside the image, else a
 * copy after the table with the zero point for the taps outside (exactly
 * the bytes bf_im2col writes), or one shared zero-point row for a kernel
 * row above or below the image. Returns the table. */
static const int8_t *const *conv_indirection(const bf_conv_params *p, const int8_t *in, size_t m0, size_t count,
                                             int8_t *scratch)
{
    /* the geometry in locals: the border copies below are calls GCC cannot
     * see through, so it would reload every field of *p each pixel */
    const int kh = p->kh, kw = p->kw, stride = p->stride, pad = p->pad;
    const int in_h = p->in_h, in_w = p->in_w, out_w = p->out_w;
    const int8_t zp = p->in_zero_point;
    const size_t in_c = (size_t)p->in_c, row_k = (size_t)kw * in_c, in_row = (size_t)in_w * in_c;
    assert(kh >= 1 && kh <= BF_MAX_KERNEL); /* the loader's bound */
    const int8_t **table = (const int8_t **)(void *)scratch;
    int8_t *zero_row = scratch + count * (size_t)kh * sizeof *table;
    int8_t *spill = zero_row + row_k;
    memset(zero_row, zp, row_k);
    /* the output columns whose kw taps all lie inside the input row */
    const int ox_lo = (pad + stride - 1) / stride, ox_hi = in_w - kw + pad >= 0 ? (in_w - kw + pad) / stride : -1;
    int oy = (int)(m0 / (size_t)out_w), ox = (int)(m0 % (size_t)out_w);
    for (size_t r = 0; r < count;) {
        /* each kernel row's start in the input for this output row, or NULL
         * above or below the image */
        const int8_t *row_at[BF_MAX_KERNEL];
        for (int ky = 0; ky < kh; ky++) {
            const int iy = oy * stride + ky - pad;
            row_at[ky] = iy < 0 || iy >= in_h ? NULL : in + (size_t)iy * in_row;
        }
        for (; r < count && ox < out_w; r++, ox++) {
            const int8_t **slot = table + r * (size_t)kh;
            const int ix0 = ox * stride - pad;
            if (ox >= ox_lo && ox <= ox_hi) {
                /* all kw taps inside: the kernel rows in place */
                const size_t at = (size_t)ix0 * in_c;
                for (int ky = 0; ky < kh; ky++)
                    slot[ky] = row_at[ky] != NULL ? row_at[ky] + at : zero_row;
                continue;
            }
            for (int ky = 0; ky < kh; ky++) {
                const int iy = oy * stride + ky - pad;
                if (iy < 0 || iy >= in_h) {
                    slot[ky] = zero_row;
                    continue;
                }
                const int8_t *src_row = in + (size_t)iy * in_row;
                for (int kx = 0; kx < kw; kx++) {
                    const int ix = ix0 + kx;
                    if (ix < 0 || ix >= in_w)
                        memset(spill + (size_t)kx * in_c, zp, in_c);
                    else
                        memcpy(spill + (size_t)kx * in_c, src_row + (size_t)ix * in_c, in_c);
                }
                slot[ky] = spill;
                spill += row_k;
            }
        }
        ox = 0, oy++;
    }
    return table;
}

void bf_conv_pack(const bf_t2i8_gemm_config *gemm, size_t n, size_t k, int n_terms, int fold, const uint8_t *w,
                  size_t row_bytes, size_t part_stride, void *packed)
{
    n_terms = n_terms < 1 ? 1 : n_terms;
    const int parts = bf_conv_parts(n_terms, fold);
    for (int j = 0; j < parts; j++) {
        const int first = bf_conv_part_first(n_terms, parts, j), terms = bf_conv_part_terms(n_terms, parts, j);
        const uint8_t *src = w + (size_t)first * n * row_bytes;
        void *dst = (uint8_t *)packed + (size_t)j * part_stride;
        if (terms == 1)
            gemm->pack(n, k, src, row_bytes, dst);
        else
            gemm->pack_terms(n, k, terms, src, row_bytes, n * row_bytes, dst);
    }
}

/* C (rows x n, ldc) = A times the layer's weights. A multi-ternary layer
 * (k = n_terms > 1) runs one GEMM per part (bf_conv_pack): a part of planes
 * s .. s + t - 1 folded into q_j = sum_{i < t} 3^i T_{s+i} gives A x q_j, and
 * C = sum_j 3^s * (A x q_j) = A x q exactly. With fold >= k that is a single
 * GEMM of A x q; with fold 1, one per plane. Each call is complete on its own
 * (whatever constant a kernel folds in, e.g. avx512vnni's -128 * sum(w), is
 * that part's own). Every partial sum is bounded by 128 * K * L, which the
 * loader keeps inside int32 (with the bias). A is `a` (rows lda bytes
 * apart) or, when `ind` is not NULL, the indirect rows (conv_indirection).
 * `tmp` holds rows x n int32s
 * (used only when there is more than one part). */
static void conv_part(const bf_conv_params *p, size_t rows, size_t n, size_t k, const int8_t *a, size_t lda,
                      const int8_t *const *ind, const void *packed, int32_t *c, size_t ldc)
{
    if (ind != NULL)
        p->gemm->igemm(rows, n, (size_t)p->kh, k / (size_t)p->kh, ind, packed, c, ldc);
    else
        p->gemm->gemm(rows, n, k, a, lda, packed, c, ldc);
}

static void conv_gemm(const bf_conv_params *p, size_t rows, size_t n, size_t k, const int8_t *a, size_t lda,
                      const int8_t *const *ind, int32_t *c, size_t ldc, int32_t *tmp)
{
    conv_part(p, rows, n, k, a, lda, ind, p->packed, c, ldc);
    const int terms = p->n_terms < 1 ? 1 : p->n_terms;
    const int parts = bf_conv_parts(terms, p->fold);
    for (int j = 1; j < parts; j++) {
        int32_t weight = 1;
        for (int i = bf_conv_part_first(terms, parts, j); i > 0; i--)
            weight *= 3;
        conv_part(p, rows, n, k, a, lda, ind, (const uint8_t *)p->packed + (size_t)j * p->part_stride, tmp, n);
        for (size_t r = 0; r < rows; r++) {
            int32_t *restrict cr = c + r * ldc;
            const int32_t *restrict tr = tmp + r * n;
            for (size_t jj = 0; jj < n; jj++)
                cr[jj] += weight * tr[jj];
        }
    }
}

/* C (rows x n, ldc) for output pixels m0 .. m0 + rows - 1, without bias:
 * the direct 3-channel conv when the layer has one, else the GEMM of the
 * input itself (1x1 stride 1), through row pointers into it (indirect), or
 * of its im2col tile. */
static void conv_acc(const bf_conv_params *p, const int8_t *in, size_t m0, size_t rows, int8_t *im2col, int32_t *c,
                     size_t ldc, int32_t *tmp)
{
    const size_t k = bf_conv_params_k(p);
    const size_t n = (size_t)p->out_c;
    if (p->direct3 != NULL) {
        const bf_i8c3_geom g = {p->in_h, p->in_w, p->out_w, p->kh, p->kw, p->stride, p->pad, p->in_zero_point};
        p->direct3->conv(&g, n, in, m0, rows, p->direct3_packed, c, ldc);
        return;
    }
    if (bf_conv_params_direct(p)) {
        conv_gemm(p, rows, n, k, in + m0 * (size_t)p->in_c, (size_t)p->in_c, NULL, c, ldc, tmp);
    } else if (p->indirect) {
        conv_gemm(p, rows, n, k, NULL, 0, conv_indirection(p, in, m0, rows, im2col), c, ldc, tmp);
    } else {
        bf_im2col(p, in, m0, rows, im2col);
        conv_gemm(p, rows, n, k, im2col, k, NULL, c, ldc, tmp);
    }
}

void bf_conv_rows(const bf_conv_params *p, const int8_t *in, void *out, size_t m_begin, size_t m_end,
                  int8_t *im2col, int32_t *acc)
{
    const size_t n = (size_t)p->out_c;
    const size_t tile = p->tile_m > 0 ? p->tile_m : BF_CONV_TILE_M;
    const bf_i32_requant_config *rq = p->requant != NULL ? p->requant : &bf_i32_requant_ref;
    for (size_t m0 = m_begin; m0 < m_end; m0 += tile) {
        const size_t rows = m_end - m0 < tile ? m_end - m0 : tile;
        if (p->act == BF_EPILOGUE_RAW) {
            /* The head: accumulate straight into the int32 output. The loader
             * guarantees bias + any sum stays inside int32. */
            int32_t *c = (int32_t *)out + m0 * n;
            conv_acc(p, in, m0, rows, im2col, c, n, acc);
            rq->bias_add(rows, n, c, n, p->bias);
        } else {
            /* acc (rows x N, without bias) -> int8 rows, per the activation */
            conv_acc(p, in, m0, rows, im2col, acc, n, acc + rows * n);
            rq->requant(rows, n, acc, n, p->bias, p->mult, p->shift, p->act == BF_EPILOGUE_SILU ? p->silu : NULL,
                        (int8_t *)out + m0 * n, n);
        }
    }
}

/* rows of c bytes, src_stride and dst_stride apart: CONCAT's exact copies
 * and SLICE, a few dozen bytes a pixel, by im2col's inline copy_run (a
 * library call per pixel cost about 8 cycles). */
static void copy_rows(int8_t *restrict dst, size_t dst_stride, const int8_t *restrict src, size_t src_stride,
                      size_t c, size_t rows)
{
    for (size_t r = 0; r < rows; r++)
        copy_run(dst + r * dst_stride, src + r * src_stride, c);
}

void bf_add(const int8_t *a, const int8_t *b, int8_t *out, size_t n, int32_t mult_a, int32_t mult_b,
            int32_t shift)
{
    for (size_t i = 0; i < n; i++)
        out[i] = bf_clamp8(bf_rshift_round((int64_t)a[i] * mult_a + (int64_t)b[i] * mult_b, shift));
}

void bf_concat(const int8_t *const *inputs, const int *channels, const int32_t *mult, const int32_t *shift,
               int n, size_t pixels, int8_t *out)
{
    bf_concat_rq(inputs, channels, mult, shift, n, pixels, out, NULL);
}

void bf_concat_rq(const int8_t *const *inputs, const int *channels, const int32_t *mult, const int32_t *shift,
                  int n, size_t pixels, int8_t *out, const bf_i32_requant_config *rq)
{
    if (rq == NULL)
        rq = &bf_i32_requant_ref;
    size_t out_c = 0;
    for (int i = 0; i < n; i++)
        out_c += (size_t)channels[i];
    size_t first = 0;
    for (int i = 0; i < n; i++) {
        const size_t c = (size_t)channels[i];
        const int8_t *src = inputs[i];
        int8_t *dst = out + first;
        /* mult == 2^shift is an exact copy: rshift_round(x * 2^s, s) == x.
         * Otherwise the rescale of an int8 has 256 possible results: a table. */
        const int copy = shift[i] <= 30 && mult[i] == (int32_t)1 << shift[i];
        if (copy) {
            copy_rows(dst, out_c, src, c, c, pixels);
        } else {
            int8_t lut[256];
            for (int x = -128; x < 128; x++)
                lut[x + 128] = bf_clamp8(bf_rshift_round((int64_t)x * mult[i], shift[i]));
            rq->lut8(pixels, c, src, c, lut, dst, out_c);
        }
        first += c;
    }
}

void bf_slice(const int8_t *in, int in_c, int first, int count, size_t pixels, int8_t *out)
{
    copy_rows(out, (size_t)count, in + first, (size_t)in_c, (size_t)count, pixels);
}

void bf_maxpool(const int8_t *in, int h, int w, int c, int k, int stride, int pad, int out_h, int out_w,
                int8_t *out)
{
    bf_maxpool_rows(in, h, w, c, k, stride, pad, out_w, 0, out_h, out);
}

/* The row of the vertical maxima, on the stack (below); wider rows take the
 * direct k x k walk. 20 x 128 bytes for YOLOv8n's SPPF at 640. */
#define BF_MAXPOOL_ROW_BYTES 16384

void bf_maxpool_rows(const int8_t *in, int h, int w, int c, int k, int stride, int pad, int out_w, int oy_begin,
                     int oy_end, int8_t *out)
{
    const size_t cs = (size_t)c;
    if ((size_t)w * cs <= BF_MAXPOOL_ROW_BYTES) {
        /* separable, as max is: per output row the column maxima over its
         * window's rows, then the row maxima over each window's columns:
         * 2k taps a pixel instead of k * k (the same bytes) */
        int8_t vmax[BF_MAXPOOL_ROW_BYTES];
        for (int oy = oy_begin; oy < oy_end; oy++) {
            const int y0 = oy * stride - pad;
            const int ya = y0 < 0 ? 0 : y0, yb = y0 + k > h ? h : y0 + k;
            const size_t row = (size_t)w * cs;
            if (ya < yb) /* always, for the loader's geometries; -128 is max's identity */
                memcpy(vmax, in + (size_t)ya * row, row);
            else
                memset(vmax, -128, row);
            for (int y = ya + 1; y < yb; y++) {
                const int8_t *restrict s = in + (size_t)y * row;
                int8_t *restrict v = vmax;
                for (size_t j = 0; j < row; j++)
                    v[j] = s[j] > v[j] ? s[j] : v[j];
            }
            for (int ox = 0; ox < out_w; ox++) {
                const int x0 = ox * stride - pad;
                const int xa = x0 < 0 ? 0 : x0, xb = x0 + k > w ? w : x0 + k;
                int8_t *restrict d = out + ((size_t)oy * (size_t)out_w + (size_t)ox) * cs;
                if (xa < xb)
                    memcpy(d, vmax + (size_t)xa * cs, cs);
                else
                    memset(d, -128, cs);
                for (int x = xa + 1; x < xb; x++) {
                    const int8_t *restrict s = vmax + (size_t)x * cs;
                    for (size_t j = 0; j < cs; j++)
                        d[j] = s[j] > d[j] ? s[j] : d[j];
                }
            }
        }
        return;
    }
    for (int oy = oy_begin; oy < oy_end; oy++) {
        const int y0 = oy * stride - pad;
        const int ya = y0 < 0 ? 0 : y0, yb = y0 + k > h ? h : y0 + k;
        for (int ox = 0; ox < out_w; ox++) {
            const int x0 = ox * stride - pad;
            const int xa = x0 < 0 ? 0 : x0, xb = x0 + k > w ? w : x0 + k;
            int8_t *d = out + ((size_t)oy * (size_t)out_w + (size_t)ox) * cs;
            memset(d, -128, cs); /* identity of max; every window holds a tap */
            for (int y = ya; y < yb; y++)
                for (int x = xa; x < xb; x++) {
                    const int8_t *restrict s = in + ((size_t)y * (size_t)w + (size_t)x) * cs;
                    int8_t *restrict dd = d;
                    for (size_t j = 0; j < cs; j++) /* branch-free: vectorises */
                        dd[j] = s[j] > dd[j] ? s[j] : dd[j];
                }
        }
    }
}

void bf_upsample(const int8_t *in, int h, int w, int c, int factor, int8_t *out)
{
    const size_t cs = (size_t)c;
    const size_t ow = (size_t)w * (size_t)factor;
    for (size_t oy = 0; oy < (size_t)h * (size_t)factor; oy++) {
        const int8_t *src = in + (oy / (size_t)factor) * (size_t)w * cs;
        int8_t *dst = out + oy * ow * cs;
        for (size_t ox = 0; ox < ow; ox++)
            memcpy(dst + ox * cs, src + (ox / (size_t)factor) * cs, cs);
    }
}
