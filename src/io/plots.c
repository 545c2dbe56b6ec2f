/* plots.c - see plots.h. */
#include "plots.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "files.h"
#include "image.h"

/* stb_image_write is compiled here and only here, static, PNG only used. */
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STBI_WRITE_NO_STDIO
#if defined(__GNUC__)
/* unused static functions (HDR, TGA...) are reported at the end of the file: off for all of it */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#endif
#include <stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

const char *const bfio_plot_file_names[BFIO_PLOT_FILES] = {
    "PR_curve.png", "F1_curve.png", "P_curve.png", "R_curve.png", "confusion_matrix.png",
    "confusion_matrix_normalized.png"};

static const bfio_rgb BLACK = {0, 0, 0}, WHITE = {255, 255, 255}, GRID = {225, 225, 225},
                      MEAN = {31, 119, 180}, THIN = {150, 150, 150};

#define LEGEND_MAX 20

/* --- PNG output ------------------------------------------------------------ */

typedef struct png_buf {
    unsigned char *data;
    size_t len, cap;
    int failed;
} png_buf;

static void png_sink(void *ctx, void *data, int size)
{
    png_buf *b = ctx;
    if (b->failed || size <= 0)
        return;
    if (b->len + (size_t)size > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->len + (size_t)size)
            cap *= 2;
        unsigned char *p = realloc(b->data, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, (size_t)size);
    b->len += (size_t)size;
}

static int write_png(const bfio_image *img, const char *dir, const char *name, bfio_err *err)
{
    char *path = bfio_path_join(dir, name);
    png_buf b = {0};
    int rc = -1;
    if (!path)
        return bfio_fail(err, "out of memory");
    if (!stbi_write_png_to_func(png_sink, &b, img->width, img->height, 3, img->pixels, (int)img->stride) ||
        b.failed)
        bfio_fail(err, "%s: could not encode the PNG (out of memory)", path);
    else if (bfio_write_file_atomic(path, b.data, b.len, err) == 0)
        rc = 0;
    else if (err && !strstr(err->msg, path)) { /* say which file */
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        bfio_fail(err, "%s: %s", path, why);
    }
    free(b.data);
    free(path);
    return rc;
}

/* --- drawing ---------------------------------------------------------------- */

static void put_dot(bfio_image *img, int x, int y, int t, bfio_rgb c)
{
    bfio_fill_rect(img, x - t / 2, y - t / 2, x - t / 2 + t, y - t / 2 + t, c);
}

/* A line t pixels thick (Bresenham, a t x t square at every step), clipped by fill_rect. */
static void draw_line(bfio_image *img, int x0, int y0, int x1, int y1, int t, bfio_rgb c)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    for (;;) {
        put_dot(img, x0, y0, t, c);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

/* Text rotated 90 degrees counter-clockwise, its bottom-left at (x, y) (reads upwards). */
static void draw_text_up(bfio_image *img, int x, int y, const char *text, int scale, bfio_rgb c)
{
    int w = bfio_text_width(text, scale), h = bfio_text_height(scale);
    bfio_image tmp;
    if (w <= 0 || bfio_image_alloc(&tmp, w, h, NULL) != 0)
        return;
    bfio_fill_rect(&tmp, 0, 0, w, h, WHITE);
    bfio_draw_text(&tmp, 0, 0, text, scale, BLACK);
    for (int ty = 0; ty < h; ty++)
        for (int tx = 0; tx < w; tx++) {
            const uint8_t *p = tmp.pixels + (size_t)ty * tmp.stride + (size_t)tx * 3;
            if (p[0] == 255)
                continue; /* background */
            int ox = x + ty, oy = y - tx; /* (tx, ty) -> (ty, -tx) */
            if (ox >= 0 && oy >= 0 && ox < img->width && oy < img->height) {
                uint8_t *q = img->pixels + (size_t)oy * img->stride + (size_t)ox * 3;
                q[0] = c.r;
                q[1] = c.g;
                q[2] = c.b;
            }
        }
    bfio_image_free(&tmp);
}

static void text_centered(bfio_image *img, int cx, int y, const char *s, int scale, bfio_rgb c)
{
    bfio_draw_text(img, cx - bfio_text_width(s, scale) / 2, y, s, scale, c);
}

/* --- line charts -------------------------------------------------------------- */

enum { CW = 900, CH = 640, ML = 70, MR = 260, MT = 40, MB = 60 }; /* canvas and margins */

typedef struct chart {
    bfio_image img;
    int x0, y0, x1, y1; /* plot area in pixels (y0 top) */
    int legend_y;
} chart;

static int px_x(const chart *c, double v) { return c->x0 + (int)lround(v * (c->x1 - c->x0)); }
static int px_y(const chart *c, double v) { return c->y1 - (int)lround(v * (c->y1 - c->y0)); }

static int chart_open(chart *c, const char *title, const char *xlabel, const char *ylabel, bfio_err *err)
{
    if (bfio_image_alloc(&c->img, CW, CH, err) != 0)
        return -1;
    c->x0 = ML;
    c->y0 = MT;
    c->x1 = CW - MR;
    c->y1 = CH - MB;
    c->legend_y = MT;
    bfio_fill_rect(&c->img, 0, 0, CW, CH, WHITE);
    for (int i = 0; i <= 10; i++) {
        double v = i / 10.0;
        char lab[8];
        draw_line(&c->img, px_x(c, v), c->y0, px_x(c, v), c->y1, 1, GRID);
        draw_line(&c->img, c->x0, px_y(c, v), c->x1, px_y(c, v), 1, GRID);
        if (i % 2 == 0) {
            snprintf(lab, sizeof lab, "%.1f", v);
            text_centered(&c->img, px_x(c, v), c->y1 + 8, lab, 1, BLACK);
            bfio_draw_text(&c->img, c->x0 - 8 - bfio_text_width(lab, 1), px_y(c, v) - 4, lab, 1, BLACK);
        }
    }
    bfio_draw_rect(&c->img, c->x0 - 1, c->y0 - 1, c->x1 + 2, c->y1 + 2, 1, BLACK);
    text_centered(&c->img, (c->x0 + c->x1) / 2, 12, title, 2, BLACK);
    text_centered(&c->img, (c->x0 + c->x1) / 2, c->y1 + 30, xlabel, 2, BLACK);
    draw_text_up(&c->img, 14, (c->y0 + c->y1) / 2 + bfio_text_width(ylabel, 2) / 2, ylabel, 2, BLACK);
    return 0;
}

/* A polyline through (k / (n - 1), y[k]). */
static void chart_curve(chart *c, const double *y, int n, int thick, bfio_rgb col)
{
    for (int k = 1; k < n; k++)
        draw_line(&c->img, px_x(c, (k - 1) / (double)(n - 1)), px_y(c, y[k - 1]), px_x(c, k / (double)(n - 1)),
                  px_y(c, y[k]), thick, col);
}

static void chart_legend(chart *c, const char *label, int thick, bfio_rgb col)
{
    int x = c->x1 + 16, y = c->legend_y + 5;
    draw_line(&c->img, x, y, x + 24, y, thick, col);
    char buf[48];
    snprintf(buf, sizeof buf, "%.36s", label);
    bfio_draw_text(&c->img, x + 32, y - 4, buf, 1, BLACK);
    c->legend_y += 14;
}

typedef enum curve_kind { CURVE_PR, CURVE_F1, CURVE_P, CURVE_R } curve_kind;

/* y of a class's curve of this kind into out (n points); 0 if the class has no ground truth. */
static int class_curve(const bfio_eval *ev, int cls, curve_kind kind, double *out, int *n)
{
    const double *p, *r, *q;
    if (bfio_eval_class_curves(ev, cls, &p, &r, &q) != 0)
        return 0;
    if (kind == CURVE_PR) {
        *n = BFIO_EVAL_RECALL_STEPS;
        memcpy(out, q, sizeof *q * BFIO_EVAL_RECALL_STEPS);
        return 1;
    }
    *n = BFIO_EVAL_CURVE_POINTS;
    for (int k = 0; k < BFIO_EVAL_CURVE_POINTS; k++)
        out[k] = kind == CURVE_P ? p[k] : kind == CURVE_R ? r[k] : 2 * p[k] * r[k] / (p[k] + r[k] + 1e-16);
    return 1;
}

static int write_curve(const bfio_eval *ev, const char *const *names, int nc, curve_kind kind, const char *dir,
                       const char *file, bfio_err *err)
{
    static const char *titles[] = {"Precision-Recall (IoU .50)", "F1-Confidence", "Precision-Confidence",
                                   "Recall-Confidence"};
    static const char *ylabels[] = {"Precision", "F1", "Precision", "Recall"};
    chart c;
    if (chart_open(&c, titles[kind], kind == CURVE_PR ? "Recall" : "Confidence", ylabels[kind], err) != 0)
        return -1;
    double y[BFIO_EVAL_CURVE_POINTS], mean[BFIO_EVAL_CURVE_POINTS] = {0};
    int n = kind == CURVE_PR ? BFIO_EVAL_RECALL_STEPS : BFIO_EVAL_CURVE_POINTS, classes = 0, shown = 0;
    for (int cls = 0; cls < nc; cls++) { /* classes with ground truth: the legend needs the count first */
        const double *p, *r, *q;
        classes += bfio_eval_class_curves(ev, cls, &p, &r, &q) == 0;
    }
    int legend = classes <= LEGEND_MAX;
    for (int cls = 0; cls < nc; cls++) {
        int m = n;
        if (!class_curve(ev, cls, kind, y, &m))
            continue;
        for (int k = 0; k < n; k++)
            mean[k] += y[k];
        bfio_rgb col = legend ? bfio_class_color(cls) : THIN;
        chart_curve(&c, y, n, 1, col);
        if (legend) {
            char lab[64];
            double s = 0;
            for (int k = 0; k < n; k++)
                s += y[k];
            if (kind == CURVE_PR)
                snprintf(lab, sizeof lab, "%.24s %.3f", names[cls], s / n);
            else
                snprintf(lab, sizeof lab, "%.30s", names[cls]);
            chart_legend(&c, lab, 2, col);
            shown++;
        }
    }
    char lab[64] = "no class has ground truth";
    if (classes) {
        int best = 0;
        for (int k = 0; k < n; k++) {
            mean[k] /= classes;
            if (mean[k] > mean[best])
                best = k;
        }
        chart_curve(&c, mean, n, 3, MEAN);
        if (kind == CURVE_PR) {
            double s = 0;
            for (int k = 0; k < n; k++)
                s += mean[k];
            snprintf(lab, sizeof lab, "all classes %.3f mAP50", s / n);
        } else {
            snprintf(lab, sizeof lab, "all classes %.2f at %.3f", mean[best], best / (double)(n - 1));
        }
    }
    if (shown)
        c.legend_y += 6;
    chart_legend(&c, lab, 3, MEAN);
    int rc = write_png(&c.img, dir, file, err);
    bfio_image_free(&c.img);
    return rc;
}

/* --- confusion matrix ------------------------------------------------------------ */

static bfio_rgb blues(double v)
{
    /* white -> matplotlib's Blues dark end (8, 48, 107) */
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    return (bfio_rgb){(uint8_t)lround(255 - v * (255 - 8)), (uint8_t)lround(255 - v * (255 - 48)),
                      (uint8_t)lround(255 - v * (255 - 107))};
}

static int write_matrix(const bfio_confusion *cm, const char *const *names, int nc, int normalize,
                        const char *dir, const char *file, bfio_err *err)
{
    const uint64_t *m = bfio_confusion_matrix(cm);
    const int w = nc + 1;
    const int cell = w <= 10 ? 48 : w <= 30 ? 24 : w <= 60 ? 12 : 8;
    const int ticks = nc < 100, margin = 20 + (ticks ? 6 + 13 * BFIO_FONT_CELL_W : 0);
    const int W = margin + w * cell + 20, H = 40 + w * cell + margin + 10;
    bfio_image img;
    if (bfio_image_alloc(&img, W, H, err) != 0)
        return -1;
    bfio_fill_rect(&img, 0, 0, W, H, WHITE);
    double *col_sum = calloc((size_t)w, sizeof *col_sum);
    uint64_t vmax = 1;
    if (!col_sum) {
        bfio_image_free(&img);
        return bfio_fail(err, "out of memory");
    }
    for (int p = 0; p < w; p++)
        for (int t = 0; t < w; t++) {
            col_sum[t] += (double)m[(size_t)p * w + t];
            if (m[(size_t)p * w + t] > vmax)
                vmax = m[(size_t)p * w + t];
        }
    const int gx = margin, gy = 40;
    for (int p = 0; p < w; p++)
        for (int t = 0; t < w; t++) {
            double count = (double)m[(size_t)p * w + t];
            double v = normalize ? (col_sum[t] > 0 ? count / col_sum[t] : 0) : count / (double)vmax;
            bfio_rgb col = blues(v);
            int x = gx + t * cell, y = gy + p * cell;
            bfio_fill_rect(&img, x, y, x + cell, y + cell, col);
            if (cell >= 24 && count > 0) {
                char s[24];
                if (normalize)
                    snprintf(s, sizeof s, "%.2f", v);
                else
                    snprintf(s, sizeof s, "%llu", (unsigned long long)m[(size_t)p * w + t]);
                bfio_rgb ink = v > 0.5 ? WHITE : BLACK;
                if (bfio_text_width(s, 1) < cell - 2)
                    text_centered(&img, x + cell / 2, y + cell / 2 - 4, s, 1, ink);
            }
        }
    bfio_draw_rect(&img, gx - 1, gy - 1, gx + w * cell + 1, gy + w * cell + 1, 1, BLACK);
    if (ticks)
        for (int i = 0; i < w; i++) {
            char s[16];
            snprintf(s, sizeof s, "%.12s", i < nc ? names[i] : "background");
            int fy = gy + i * cell + cell / 2 - 4;
            if (cell >= BFIO_FONT_CELL_H || i % 2 == 0)
                bfio_draw_text(&img, gx - 4 - bfio_text_width(s, 1), fy, s, 1, BLACK);
            int fx = gx + i * cell + cell / 2 - BFIO_FONT_CELL_H / 2;
            if (cell >= BFIO_FONT_CELL_H || i % 2 == 0)
                draw_text_up(&img, fx, gy + w * cell + 4 + bfio_text_width(s, 1), s, 1, BLACK);
        }
    text_centered(&img, gx + w * cell / 2, 10, normalize ? "Confusion Matrix Normalized" : "Confusion Matrix", 2,
                  BLACK);
    text_centered(&img, gx + w * cell / 2, H - 2 - bfio_text_height(1), "True", 1, BLACK);
    draw_text_up(&img, 2, gy + w * cell / 2 + bfio_text_width("Predicted", 1) / 2, "Predicted", 1, BLACK);
    free(col_sum);
    int rc = write_png(&img, dir, file, err);
    bfio_image_free(&img);
    return rc;
}

int bfio_write_eval_plots(const bfio_eval *ev, const bfio_confusion *cm, const char *const *names, int nc,
                          const char *dir, bfio_err *err)
{
    if (!ev || !names || nc < 1 || !dir)
        return bfio_fail(err, "plots: bad arguments");
    if (cm && bfio_confusion_classes(cm) != nc)
        return bfio_fail(err, "plots: the confusion matrix has %d classes, not %d", bfio_confusion_classes(cm), nc);
    for (int k = CURVE_PR; k <= CURVE_R; k++)
        if (write_curve(ev, names, nc, (curve_kind)k, dir, bfio_plot_file_names[k], err) != 0)
            return -1;
    if (cm && (write_matrix(cm, names, nc, 0, dir, bfio_plot_file_names[4], err) != 0 ||
               write_matrix(cm, names, nc, 1, dir, bfio_plot_file_names[5], err) != 0))
        return -1;
    return 0;
}
