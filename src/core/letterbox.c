/* letterbox.c - integer letterbox (see letterbox.h and the format doc). */
#include "letterbox.h"

#include <math.h>
#include <string.h>

void bf_letterbox_geometry(int w, int h, int size, bf_letterbox *lb)
{
    /* The doc's definition, in double precision like the Python side:
     * IEEE division, multiplication and floor are exact-rounded everywhere. */
    double r = fmin((double)size / (double)w, (double)size / (double)h);
    double fw = floor((double)w * r + 0.5), fh = floor((double)h * r + 0.5);
    int nw = fw < 1.0 ? 1 : fw > size ? size : (int)fw;
    int nh = fh < 1.0 ? 1 : fh > size ? size : (int)fh;
    lb->src_w = w;
    lb->src_h = h;
    lb->size = size;
    lb->nw = nw;
    lb->nh = nh;
    lb->left = (size - nw) / 2;
    lb->top = (size - nh) / 2;
    lb->r = r;
}

/* Source position of destination index x (0..n-1) when n destination pixels
 * cover `src` source pixels: fx in 1/2048 pixel, clamped taps and weight. */
static void sample(int64_t x, int64_t src, int64_t n, int32_t *i0, int32_t *i1, int32_t *a)
{
    int64_t num = ((2 * x + 1) * src - n) * 2048;
    int64_t f = num <= 0 ? 0 : num / (2 * n);
    int64_t p0 = f >> 11;
    if (p0 > src - 1)
        p0 = src - 1;
    *i0 = (int32_t)p0;
    *i1 = (int32_t)(p0 + 1 < src - 1 ? p0 + 1 : src - 1);
    *a = (int32_t)(f & 2047);
}

void bf_letterbox_tables(const bf_letterbox *lb, int32_t *tables)
{
    const int S = lb->size;
    int32_t *x0 = tables, *x1 = tables + S, *ax = tables + 2 * S;
    for (int x = 0; x < lb->nw; x++) {
        sample(x, lb->src_w, lb->nw, &x0[x], &x1[x], &ax[x]);
        x0[x] *= 3; /* byte offsets within a row */
        x1[x] *= 3;
    }
}

/* The scaled row's pixels when the width is not scaled (nw == src_w: every
 * horizontal tap is x itself with weight 0) and the row is one source row
 * (ay == 0): the bilinear sum is then exactly the pixel, so this is a copy
 * with the -128 offset (xor 0x80) and, for BGR, the channel swap. */
static void row_copy(const uint8_t *src, int n, int bgr, int8_t *d)
{
    if (!bgr) {
        for (int i = 0; i < 3 * n; i++)
            d[i] = (int8_t)(src[i] ^ 0x80u);
        return;
    }
    for (int x = 0; x < n; x++) {
        d[3 * x] = (int8_t)(src[3 * x + 2] ^ 0x80u);
        d[3 * x + 1] = (int8_t)(src[3 * x + 1] ^ 0x80u);
        d[3 * x + 2] = (int8_t)(src[3 * x] ^ 0x80u);
    }
}

/* Width not scaled, two source rows: each horizontal sum is a * 2048, so
 * (a*2048*wy0 + c*2048*wy1 + 2^21) >> 22 == (a*wy0 + c*wy1 + 2^10) >> 11
 * exactly. Contiguous bytes: the compiler vectorises the RGB loop. */
static void row_vertical(const uint8_t *r0, const uint8_t *r1, uint32_t wy0, uint32_t wy1, int n, int bgr,
                         int8_t *d)
{
    if (!bgr) {
        for (int i = 0; i < 3 * n; i++)
            d[i] = (int8_t)(int)(((r0[i] * wy0 + r1[i] * wy1 + 1024u) >> 11) - 128u);
        return;
    }
    for (int x = 0; x < n; x++)
        for (int ch = 0; ch < 3; ch++) {
            const int k = 3 * x + 2 - ch;
            d[3 * x + ch] = (int8_t)(int)(((r0[k] * wy0 + r1[k] * wy1 + 1024u) >> 11) - 128u);
        }
}

/* The buffer holding the horizontal pass of source row `row`, computed only
 * when neither holds it. It never replaces the buffer `keep` (the other row
 * this output row needs; -1 for none) and otherwise the lower source row:
 * output rows walk down the image, so the higher one is the next y0. */
static int horizontal_cached(const bf_u8_letterbox_config *k, const bf_letterbox *lb, const uint8_t *pixels,
                             size_t stride, int row, int keep, const int32_t *x0, const int32_t *x1, const int32_t *ax,
                             int bgr, uint32_t *const buf[2], int held[2])
{
    for (int s = 0; s < 2; s++)
        if (held[s] == row)
            return s;
    const int s = keep >= 0 ? 1 - keep : held[0] <= held[1] ? 0 : 1;
    k->horizontal(pixels + (size_t)row * stride, (size_t)lb->src_w * 3, x0, x1, ax, (size_t)lb->nw, bgr, buf[s]);
    held[s] = row;
    return s;
}

void bf_letterbox_rows(const bf_letterbox *lb, const uint8_t *pixels, size_t stride, int bgr, const int32_t *tables,
                       uint32_t *row_buffers, int8_t *out, int y_begin, int y_end)
{
    bf_letterbox_rows_with(lb, pixels, stride, bgr, tables, row_buffers, out, y_begin, y_end,
                           bf_u8_letterbox_select(NULL));
}

void bf_letterbox_rows_with(const bf_letterbox *lb, const uint8_t *pixels, size_t stride, int bgr,
                            const int32_t *tables, uint32_t *row_buffers, int8_t *out, int y_begin, int y_end,
                            const bf_u8_letterbox_config *k)
{
    const int S = lb->size;
    const size_t row_bytes = (size_t)S * 3;
    const int32_t *x0 = tables, *x1 = tables + S, *ax = tables + 2 * S;
    const int8_t grey = 114 - 128;
    const int width_kept = lb->nw == lb->src_w; /* then x0[x] == 3x and ax[x] == 0 */
    uint32_t *const buf[2] = {row_buffers, row_buffers + row_bytes};
    int held[2] = {-1, -1}; /* the source row in each buffer */

    for (int y = y_begin; y < y_end; y++) {
        int8_t *dst = out + (size_t)y * row_bytes;
        const int ty = y - lb->top;
        if (ty < 0 || ty >= lb->nh) {
            memset(dst, grey, row_bytes);
            continue;
        }
        memset(dst, grey, (size_t)lb->left * 3);
        memset(dst + (size_t)(lb->left + lb->nw) * 3, grey, (size_t)(S - lb->left - lb->nw) * 3);
        int32_t y0, y1, ay;
        sample(ty, lb->src_h, lb->nh, &y0, &y1, &ay);
        const uint8_t *r0 = pixels + (size_t)y0 * stride, *r1 = pixels + (size_t)y1 * stride;
        const uint32_t wy1 = (uint32_t)ay, wy0 = 2048u - wy1;
        int8_t *d = dst + (size_t)lb->left * 3;
        if (width_kept && wy1 == 0) {
            row_copy(r0, lb->nw, bgr, d);
        } else if (width_kept) {
            row_vertical(r0, r1, wy0, wy1, lb->nw, bgr, d);
        } else {
            const int s0 = horizontal_cached(k, lb, pixels, stride, y0, -1, x0, x1, ax, bgr, buf, held);
            const int s1 = wy1 == 0 ? s0 : horizontal_cached(k, lb, pixels, stride, y1, s0, x0, x1, ax, bgr, buf, held);
            k->blend(buf[s0], buf[s1], wy0, wy1, 3 * (size_t)lb->nw, d);
        }
    }
}

void bf_letterbox_run(const bf_letterbox *lb, const uint8_t *pixels, size_t stride, int bgr, int32_t *scratch,
                      int8_t *out)
{
    bf_letterbox_tables(lb, scratch);
    bf_letterbox_rows(lb, pixels, stride, bgr, scratch, (uint32_t *)(scratch + bf_letterbox_table_words(lb->size)), out, 0,
                      lb->size);
}
