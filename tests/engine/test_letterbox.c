/*
 * test_letterbox.c - the engine's letterbox against a per-pixel transcription
 * of the doc's definition: random and extreme aspect ratios, odd sizes,
 * padded row strides, RGB and BGR input; and the geometry's invariants.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "letterbox.h"
#include "test_util.h"

static int64_t src_pos(int64_t x, int64_t src, int64_t n)
{
    int64_t num = ((2 * x + 1) * src - n) * 2048;
    if (num < 0)
        return 0; /* negative numerators give 0 */
    return num / (2 * n);
}

static void naive(const uint8_t *img, int w, int h, size_t stride, int bgr, int S, uint8_t *out, int *pl, int *pt,
                  int *pnw, int *pnh)
{
    double r = fmin((double)S / w, (double)S / h);
    int nw = (int)fmax(1.0, floor(w * r + 0.5)), nh = (int)fmax(1.0, floor(h * r + 0.5));
    int left = (S - nw) / 2, top = (S - nh) / 2;
    *pl = left, *pt = top, *pnw = nw, *pnh = nh;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            for (int c = 0; c < 3; c++) {
                uint8_t *o = out + ((size_t)y * S + x) * 3 + c;
                int dx = x - left, dy = y - top;
                if (dx < 0 || dx >= nw || dy < 0 || dy >= nh) {
                    *o = 114;
                    continue;
                }
                int64_t fx = src_pos(dx, w, nw), fy = src_pos(dy, h, nh);
                int64_t x0 = fx >> 11 < w - 1 ? fx >> 11 : w - 1, ax = fx & 2047;
                int64_t x1 = x0 + 1 < w - 1 ? x0 + 1 : w - 1;
                int64_t y0 = fy >> 11 < h - 1 ? fy >> 11 : h - 1, ay = fy & 2047;
                int64_t y1 = y0 + 1 < h - 1 ? y0 + 1 : h - 1;
                int sc = bgr ? 2 - c : c;
#define P(yy, xx) ((int64_t)img[(size_t)(yy) * stride + (size_t)(xx) * 3 + sc])
                int64_t top_row = P(y0, x0) * (2048 - ax) + P(y0, x1) * ax;
                int64_t bot_row = P(y1, x0) * (2048 - ax) + P(y1, x1) * ax;
                *o = (uint8_t)((top_row * (2048 - ay) + bot_row * ay + (1 << 21)) >> 22);
#undef P
            }
}

static void one(rng *r, int w, int h, int S, int bgr)
{
    size_t stride = (size_t)w * 3 + (size_t)rng_int(r, 0, 5);
    uint8_t *img = malloc(stride * (size_t)h);
    /* smooth-ish content plus noise, so interpolation weights matter */
    for (int y = 0; y < h; y++)
        for (size_t i = 0; i < stride; i++)
            img[(size_t)y * stride + i] = (uint8_t)((y * 7 + (int)i * 3 + rng_int(r, 0, 60)) & 255);
    uint8_t *want = malloc((size_t)S * S * 3);
    int8_t *got = malloc((size_t)S * S * 3);
    int32_t *scratch = malloc(sizeof(int32_t) * bf_letterbox_scratch_words(S));
    int l, t, nw, nh;
    naive(img, w, h, stride, bgr, S, want, &l, &t, &nw, &nh);
    bf_letterbox lb;
    bf_letterbox_geometry(w, h, S, &lb);
    CHECK(lb.left == l && lb.top == t && lb.nw == nw && lb.nh == nh, "%dx%d -> %d: geometry %d %d %d %d, want %d %d %d %d",
          w, h, S, lb.left, lb.top, lb.nw, lb.nh, l, t, nw, nh);
    CHECK(lb.nw >= 1 && lb.nh >= 1 && lb.nw <= S && lb.nh <= S && (lb.nw == S || lb.nh == S || w == h),
          "%dx%d -> %d: scaled size %dx%d", w, h, S, lb.nw, lb.nh);
    bf_letterbox_run(&lb, img, stride, bgr, scratch, got);
    for (size_t i = 0; i < (size_t)S * S * 3; i++) {
        if ((int)got[i] + 128 != want[i]) {
            CHECK(0, "%dx%d -> %d (bgr %d): byte %zu (y %zu x %zu c %zu) = %d, want %d", w, h, S, bgr, i, i / 3 / S,
                  i / 3 % S, i % 3, got[i] + 128, want[i]);
            break;
        }
    }
    /* the same bytes when the rows are split into random runs, as the
     * detector's threads do (each run starts with empty row buffers) */
    int8_t *split = malloc((size_t)S * S * 3);
    int32_t *tables = malloc(sizeof(int32_t) * bf_letterbox_table_words(S));
    uint32_t *rows = malloc(sizeof(uint32_t) * bf_letterbox_row_words(S));
    memset(split, 0x55, (size_t)S * S * 3);
    bf_letterbox_tables(&lb, tables);
    for (int y = 0; y < S;) {
        int end = y + rng_int(r, 1, 7);
        end = end > S ? S : end;
        bf_letterbox_rows(&lb, img, stride, bgr, tables, rows, split, y, end);
        y = end;
    }
    CHECK(memcmp(split, got, (size_t)S * S * 3) == 0, "%dx%d -> %d (bgr %d): rows run in pieces differ", w, h, S,
          bgr);
    free(split);
    free(tables);
    free(rows);
    free(img);
    free(want);
    free(got);
    free(scratch);
}

int main(void)
{
    rng r;
    rng_init(&r, test_seed(99));
    static const int extremes[][2] = {{1, 1}, {1, 1000}, {1000, 1}, {2, 3}, {640, 480}, {480, 640}, {256, 171},
                                      {256, 170}, {256, 256}, {1920, 1080}, {33, 32}, {31, 32}};
    static const int sizes[] = {32, 64, 96, 160, 320};
    for (size_t i = 0; i < sizeof extremes / sizeof extremes[0]; i++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            one(&r, extremes[i][0], extremes[i][1], sizes[s], (int)(i + s) & 1);
    /* unscaled widths, the fast rows: a copy (long side already S, RGB and
     * BGR, padded strides) and vertical-only blends (a 1-pixel-wide image) */
    one(&r, 640, 480, 640, 0);
    one(&r, 480, 640, 640, 1);
    one(&r, 320, 200, 320, 1);
    one(&r, 1, 700, 96, 0);
    one(&r, 1, 700, 96, 1);
    for (int i = 0; i < 150; i++) {
        one(&r, rng_int(&r, 1, 400), rng_int(&r, 1, 400), 32 * rng_int(&r, 1, 10), i & 1);
        CHECK_LIMIT();
    }
    /* identity: a S x S image into S is copied exactly */
    {
        int S = 64;
        uint8_t *img = malloc((size_t)S * S * 3);
        for (int i = 0; i < S * S * 3; i++)
            img[i] = (uint8_t)rng_int(&r, 0, 255);
        int8_t *out = malloc((size_t)S * S * 3);
        int32_t *scratch = malloc(sizeof(int32_t) * bf_letterbox_scratch_words(S));
        bf_letterbox lb;
        bf_letterbox_geometry(S, S, S, &lb);
        bf_letterbox_run(&lb, img, (size_t)S * 3, 0, scratch, out);
        int same = 1;
        for (int i = 0; i < S * S * 3; i++)
            same &= out[i] + 128 == img[i];
        CHECK(same, "same-size letterbox is not a copy");
        free(img);
        free(out);
        free(scratch);
    }
    if (check_failures) {
        fprintf(stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    fprintf(stderr, "ok\n");
    return 0;
}
