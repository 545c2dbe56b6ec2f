/*
 * The pixel walk the SIMD direct-conv paths share (i8c3-conv-avx2.c,
 * i8c3-conv-avx512vnni.c): for a group of consecutive output pixels, where
 * each one's window starts and which tap offsets go with it. Plain C, no ISA:
 * the paths differ only in the multiply-adds over the group.
 *
 * A window is read in place when it lies inside the image and the 4-byte word
 * of its last tap (RGB and one byte more, whose weight is 0) ends within the
 * input; then the taps are at tap_in (3 bytes a pixel). Otherwise the group's
 * taps are gathered into a copy, 4 bytes a tap (RGB and a 0; the zero point
 * for taps outside the image), and the taps are at tap_px.
 */
#ifndef BF_I8C3_CONV_WALK_H
#define BF_I8C3_CONV_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "i8c3-conv.h"

#define BF_I8C3_MAX_TAPS (BF_I8C3_MAX_K * BF_I8C3_MAX_K)

typedef struct bf_i8c3_walk {
    size_t taps, in_w, in_bytes;
    size_t tap_in[BF_I8C3_MAX_TAPS]; /* byte offsets from the window's top-left pixel, in the input */
    size_t tap_px[BF_I8C3_MAX_TAPS]; /* the same in a gathered copy: 4 bytes a tap */
    /* the output pixels whose window lies inside the image: ox in
     * [ox_lo, ox_hi], oy in [oy_lo, oy_hi] (empty when hi < lo) */
    int ox_lo, ox_hi, oy_lo, oy_hi;
} bf_i8c3_walk;

static inline void bf_i8c3_walk_init(bf_i8c3_walk *w, const bf_i8c3_geom *g)
{
    w->taps = (size_t)g->kh * (size_t)g->kw;
    w->in_w = (size_t)g->in_w;
    w->in_bytes = (size_t)g->in_h * w->in_w * 3;
    for (int ky = 0; ky < g->kh; ky++)
        for (int kx = 0; kx < g->kw; kx++) {
            const size_t t = (size_t)(ky * g->kw + kx);
            w->tap_in[t] = ((size_t)ky * w->in_w + (size_t)kx) * 3;
            w->tap_px[t] = t * 4;
        }
    w->ox_lo = w->oy_lo = (g->pad + g->stride - 1) / g->stride;
    w->ox_hi = g->in_w - g->kw + g->pad >= 0 ? (g->in_w - g->kw + g->pad) / g->stride : -1;
    w->oy_hi = g->in_h - g->kh + g->pad >= 0 ? (g->in_h - g->kh + g->pad) / g->stride : -1;
}

/* An output pixel as (row, column), moved on by increments: the drivers'
 * walk over their pixels without a division per group. */
typedef struct bf_i8c3_pos {
    int oy, ox;
} bf_i8c3_pos;

static inline bf_i8c3_pos bf_i8c3_pos_at(const bf_i8c3_geom *g, size_t m)
{
    return (bf_i8c3_pos){(int)(m / (size_t)g->out_w), (int)(m % (size_t)g->out_w)};
}

static inline bf_i8c3_pos bf_i8c3_pos_advance(const bf_i8c3_geom *g, bf_i8c3_pos at, size_t n)
{
    for (at.ox += (int)n; at.ox >= g->out_w; at.ox -= g->out_w)
        at.oy++;
    return at;
}

/* Runs, the common case: output pixels along one output row whose windows
 * all lie inside the image and whose taps' 4-byte words all end within the
 * input. Pixel i of a run from (oy, ox) has its window at
 * src + bf_i8c3_walk_offset(w, g, oy, ox) + i * stride * 3 and its taps at
 * tap_in, so a path may read a run with constant offsets from its row
 * pointers instead of a table per pixel. */
static inline size_t bf_i8c3_walk_offset(const bf_i8c3_walk *w, const bf_i8c3_geom *g, int oy, int ox)
{
    return ((size_t)(oy * g->stride - g->pad) * w->in_w + (size_t)(ox * g->stride - g->pad)) * 3;
}

/* How many pixels, at most max, the run from (oy, ox) has (0: none). */
static inline size_t bf_i8c3_walk_run_length(const bf_i8c3_walk *w, const bf_i8c3_geom *g, int oy, int ox,
                                             size_t max)
{
    if (oy < w->oy_lo || oy > w->oy_hi || ox < w->ox_lo || ox > w->ox_hi || ox >= g->out_w)
        return 0;
    const int row_end = w->ox_hi < g->out_w - 1 ? w->ox_hi : g->out_w - 1;
    size_t len = (size_t)(row_end - ox + 1);
    len = len < max ? len : max;
    /* all inside; only the last words can still reach past the input */
    const size_t end0 = bf_i8c3_walk_offset(w, g, oy, ox) + w->tap_in[w->taps - 1] + 4,
                 step = (size_t)g->stride * 3;
    if (end0 > w->in_bytes)
        return 0;
    const size_t fit = (w->in_bytes - end0) / step + 1;
    return len < fit ? len : fit;
}

/* Points base[0 .. mr) at the windows of output pixels first .. first + cnt - 1
 * (1 <= cnt <= mr; base[cnt ..] alias the last, computed and never stored)
 * and returns the tap offsets that go with them. px holds mr gathered copies
 * of BF_I8C3_MAX_TAPS * 4 bytes, used only when a window cannot be read in
 * place. */
static inline const size_t *bf_i8c3_walk_group(const bf_i8c3_walk *w, const bf_i8c3_geom *g, const uint8_t *src,
                                               size_t first, size_t cnt, size_t mr,
                                               uint8_t (*px)[BF_I8C3_MAX_TAPS * 4], const uint8_t **base)
{
    /* one division per group */
    const int oy_first = (int)(first / (size_t)g->out_w), ox_first = (int)(first % (size_t)g->out_w);
    if (bf_i8c3_walk_run_length(w, g, oy_first, ox_first, cnt) == cnt) {
        const uint8_t *run = src + bf_i8c3_walk_offset(w, g, oy_first, ox_first);
        const size_t step = (size_t)g->stride * 3;
        for (size_t i = 0; i < mr; i++)
            base[i] = run + (i < cnt ? i : cnt - 1) * step;
        return w->tap_in;
    }
    const size_t last_tap = w->tap_in[w->taps - 1];
    /* pixel by pixel: a group across rows, or the border */
    int in_place = 1;
    for (int i = 0, oy = oy_first, ox = ox_first; i < (int)cnt; i++, ox++) {
        if (ox == g->out_w)
            ox = 0, oy++;
        const int iy0 = oy * g->stride - g->pad, ix0 = ox * g->stride - g->pad;
        if (iy0 >= 0 && ix0 >= 0 && iy0 + g->kh <= g->in_h && ix0 + g->kw <= g->in_w) {
            const size_t off = ((size_t)iy0 * w->in_w + (size_t)ix0) * 3;
            base[i] = src + off;
            if (off + last_tap + 4 > w->in_bytes) /* the 4th byte of the last word is past the input */
                in_place = 0;
        } else {
            base[i] = NULL, in_place = 0;
        }
    }
    const size_t *tap = w->tap_in;
    if (!in_place) {
        const uint8_t zp = (uint8_t)g->zero_point;
        for (int i = 0, oy = oy_first, ox = ox_first; i < (int)cnt; i++, ox++) {
            if (ox == g->out_w)
                ox = 0, oy++;
            for (int ky = 0; ky < g->kh; ky++)
                for (int kx = 0; kx < g->kw; kx++) {
                    const int iy = oy * g->stride + ky - g->pad, ix = ox * g->stride + kx - g->pad;
                    uint8_t *d = px[i] + (size_t)(ky * g->kw + kx) * 4;
                    if (iy >= 0 && iy < g->in_h && ix >= 0 && ix < g->in_w)
                        memcpy(d, src + ((size_t)iy * w->in_w + (size_t)ix) * 3, 3);
                    else
                        d[0] = d[1] = d[2] = zp;
                    d[3] = 0;
                }
            base[i] = px[i];
        }
        tap = w->tap_px;
    }
    for (size_t i = cnt; i < mr; i++)
        base[i] = base[cnt - 1];
    return tap;
}

#endif /* BF_I8C3_CONV_WALK_H */
