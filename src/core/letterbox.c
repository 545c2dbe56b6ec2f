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

void bf_letterbox_tables(const bf_letterbox *lb, int32_t *scratch)
{
    const int S = lb->size;
    int32_t *x0 = scratch, *x1 = scratch + S, *ax = scratch + 2 * S;
    for (int x = 0; x < lb->nw; x++) {
        sample(x, lb->src_w, lb->nw, &x0[x], &x1[x], &ax[x]);
        x0[x] *= 3; /* byte offsets within a row */
        x1[x] *= 3;
    }
}

void bf_letterbox_rows(const bf_letterbox *lb, const uint8_t *pixels, size_t stride, int bgr, const int32_t *scratch,
                       int8_t *out, int y_begin, int y_end)
{
    const int S = lb->size;
    const size_t row_bytes = (size_t)S * 3;
    const int32_t *x0 = scratch, *x1 = scratch + S, *ax = scratch + 2 * S;
    const int8_t grey = 114 - 128;
    const int c0 = bgr ? 2 : 0, c2 = bgr ? 0 : 2; /* source byte of R and B */

    for (int y = y_begin; y < y_end; y++) {        int8_t *dst = out + (size_t)y * row_bytes;
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
        for (int x = 0; x < lb->nw; x++) {
            const uint32_t wx1 = (uint32_t)ax[x], wx0 = 2048u - wx1;
            const uint8_t *a = r0 + x0[x], *b = r0 + x1[x], *c = r1 + x0[x], *e = r1 + x1[x];
            const int order[3] = {c0, 1, c2};
            for (int ch = 0; ch < 3; ch++) {
                const int k = order[ch];
                uint32_t top = a[k] * wx0 + b[k] * wx1;
                uint32_t bot = c[k] * wx0 + e[k] * wx1;
                uint32_t v = (top * wy0 + bot * wy1 + (1u << 21)) >> 22;
                d[3 * x + ch] = (int8_t)((int)v - 128);
            }
        }
    }
}

void bf_letterbox_run(const bf_letterbox *lb, const uint8_t *pixels, size_t stride, int bgr, int32_t *scratch,
                      int8_t *out)
{
    bf_letterbox_tables(lb, scratch);
    bf_letterbox_rows(lb, pixels, stride, bgr, scratch, out, 0, lb->size);
}
