/*
 * check_screenshot.c - `camera_check_screenshot SHOT.bmp LINE.json`: checks
 * that the window screenshot shows each detection of the JSON line (the last
 * one the camera printed; the screenshot shows that frame) as a box of its
 * class colour, at the place where the letterboxed video puts it.
 *
 * For every detection the left, right and bottom edges are sampled along
 * their middle (the top edge carries the label, which may sit inside it);
 * an edge passes when >= 70% of its samples have the class colour (within a
 * tolerance: the video is scaled with linear filtering), a detection passes
 * when 2 of its 3 edges do. Boxes are drawn lowest score first, so samples
 * that fall on a box or label drawn later (a higher-scoring one: earlier in
 * the JSON line) are skipped, as are samples in the status band at the bottom
 * of the window. As a control, a line 8 frame pixels outside the left edge
 * must not match.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "files.h"
#include "image.h"
#include "json.h"
#include "window.h"

#define STATUS_BAND 40 /* bottom rows of the window covered by the status line */

typedef struct box {
    double x0, y0, x1, y1; /* drawn pixel bounds, frame coordinates */
    double lx1, ly0;       /* label area: [x0, lx1) x [ly0, y0 + label height) */
} box;

/* Boxes whose drawing may cover a sample; set per detection. */
static const box *g_cover;
static size_t g_ncover;
static double g_margin;

static int covered(double fx, double fy)
{
    for (size_t j = 0; j < g_ncover; j++) {
        const box *b = &g_cover[j];
        double m = g_margin;
        int in_y = fy >= b->y0 - m && fy <= b->y1 + m, in_x = fx >= b->x0 - m && fx <= b->x1 + m;
        if ((in_y && (fabs(fx - b->x0) <= m || fabs(fx - b->x1) <= m)) ||
            (in_x && (fabs(fy - b->y0) <= m || fabs(fy - b->y1) <= m)))
            return 1; /* on one of its edges */
        double lh = b->y0 - b->ly0;
        if (fx >= b->x0 - m && fx <= b->lx1 + m && fy >= b->ly0 - m && fy <= b->y0 + lh + m)
            return 1; /* on its label (above the box, or inside its top when no room) */
    }
    return 0;
}

typedef struct mapping {
    int rx, ry, rw, rh; /* letterbox rectangle in the window */
    int fw, fh;         /* frame size */
} mapping;

static int close_to(const uint8_t *p, bfio_rgb c)
{
    return abs(p[0] - c.r) + abs(p[1] - c.g) + abs(p[2] - c.b) <= 90;
}

/* Fraction of matching samples along a segment given in frame coordinates;
 * -1 when no sample was usable. */
static double edge_match(const bfio_image *shot, const mapping *m, double fx0, double fy0, double fx1,
                         double fy1, bfio_rgb c)
{
    int usable = 0, hit = 0;
    for (int i = 0; i <= 40; i++) {
        double t = i / 40.0;
        double fx = fx0 + (fx1 - fx0) * t, fy = fy0 + (fy1 - fy0) * t;
        if (covered(fx, fy))
            continue;
        int wx = (int)floor(m->rx + fx * m->rw / m->fw), wy = (int)floor(m->ry + fy * m->rh / m->fh);
        if (wx < 0 || wy < 0 || wx >= shot->width || wy >= shot->height - STATUS_BAND)
            continue;
        usable++;
        hit += close_to(shot->pixels + (size_t)wy * shot->stride + (size_t)wx * 3, c);
    }
    return usable >= 5 ? (double)hit / usable : -1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: camera_check_screenshot SHOT.bmp LINE.json\n");
        return 2;
    }
    bfio_image shot;
    bfio_err err;
    if (bfio_image_load(argv[1], &shot, &err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        return 1;
    }
    uint8_t *text;
    size_t len;
    if (bfio_read_file(argv[2], 1 << 20, &text, &len, &err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[2], err.msg);
        return 1;
    }
    bfio_json *root = bfio_json_parse((const char *)text, len, &err);
    if (!root) {
        fprintf(stderr, "%s: %s\n", argv[2], err.msg);
        return 1;
    }
    const bfio_json *jw = bfio_json_get(root, "width"), *jh = bfio_json_get(root, "height");
    const bfio_json *dets = bfio_json_get(root, "detections");
    if (!jw || !jh || !dets || dets->type != BFIO_JSON_ARRAY) {
        fprintf(stderr, "%s: not a camera JSON line\n", argv[2]);
        return 1;
    }
    mapping m;
    m.fw = (int)jw->number;
    m.fh = (int)jh->number;
    cam_letterbox_rect(shot.width, shot.height, m.fw, m.fh, &m.rx, &m.ry, &m.rw, &m.rh);
    printf("window %dx%d, frame %dx%d shown at %d,%d %dx%d, %zu detections\n", shot.width, shot.height,
           m.fw, m.fh, m.rx, m.ry, m.rw, m.rh, dets->len);
    int line = bfio_draw_line_width(m.fw, m.fh);
    int scale = bfio_draw_font_scale(m.fw, m.fh);
    g_margin = line + 2;
    box *boxes = calloc(dets->len + 1, sizeof *boxes);
    for (size_t i = 0; i < dets->len; i++) {
        const bfio_json *d = &dets->items[i];
        const bfio_json *bb = bfio_json_get(d, "bbox"), *name = bfio_json_get(d, "name");
        const bfio_json *score = bfio_json_get(d, "score"), *cls = bfio_json_get(d, "class");
        if (!bb || bb->type != BFIO_JSON_ARRAY || bb->len != 4 || !score || !cls)
            continue;
        box *b = &boxes[i];
        b->x0 = floor(bb->items[0].number);
        b->y0 = floor(bb->items[1].number);
        b->x1 = ceil(bb->items[0].number + bb->items[2].number);
        b->y1 = ceil(bb->items[1].number + bb->items[3].number);
        char label[128]; /* as camera_app.c writes it */
        if (name && name->type == BFIO_JSON_STRING)
            snprintf(label, sizeof label, "%s %.2f", name->string, score->number);
        else
            snprintf(label, sizeof label, "class%d %.2f", (int)cls->number, score->number);
        int pad = scale + 1;
        b->lx1 = b->x0 + bfio_text_width(label, scale) + 2 * pad;
        b->ly0 = b->y0 - (bfio_text_height(scale) + 2 * pad);
    }
    int failed = 0, checked = 0;
    for (size_t i = 0; i < dets->len; i++) {
        const bfio_json *d = &dets->items[i];
        const bfio_json *cls = bfio_json_get(d, "class"), *bb = bfio_json_get(d, "bbox");
        if (!cls || !bb || bb->type != BFIO_JSON_ARRAY || bb->len != 4) {
            fprintf(stderr, "detection %zu: malformed\n", i);
            failed++;
            continue;
        }
        double x0 = boxes[i].x0, y0 = boxes[i].y0, x1 = boxes[i].x1, y1 = boxes[i].y1;
        bfio_rgb c = bfio_class_color((int)cls->number);
        double half = line / 2.0;
        /* the middle of each drawn edge line (drawn inside the box), corners left
         * out; boxes 0..i-1 score higher and were drawn over this one */
        g_cover = boxes;
        g_ncover = i;
        double left = edge_match(&shot, &m, x0 + half, y0 + line + 2, x0 + half, y1 - line - 2, c);
        double right = edge_match(&shot, &m, x1 - half, y0 + line + 2, x1 - half, y1 - line - 2, c);
        double bottom = edge_match(&shot, &m, x0 + line + 2, y1 - half, x1 - line - 2, y1 - half, c);
        /* the control line must stay clear of every other box */
        box *others = calloc(dets->len + 1, sizeof *others);
        size_t no = 0;
        for (size_t j = 0; j < dets->len; j++)
            if (j != i)
                others[no++] = boxes[j];
        g_cover = others;
        g_ncover = no;
        double outside = edge_match(&shot, &m, x0 - 8, y0 + line + 2, x0 - 8, y1 - line - 2, c);
        free(others);
        int usable = (left >= 0) + (right >= 0) + (bottom >= 0);
        int pass = (left >= 0.7) + (right >= 0.7) + (bottom >= 0.7);
        int need = usable < 2 ? usable : 2;
        int ok = usable > 0 && pass >= need && !(outside >= 0.7);
        printf("detection %zu class %d box %.0f,%.0f-%.0f,%.0f colour %d,%d,%d: left %.2f right %.2f "
               "bottom %.2f (outside %.2f) %s\n",
               i, (int)cls->number, x0, y0, x1, y1, c.r, c.g, c.b, left, right, bottom, outside,
               ok ? "ok" : usable ? "WRONG" : "not checkable");
        if (usable == 0)
            continue;
        checked++;
        failed += !ok;
    }
    free(boxes);
    bfio_json_free(root);
    free(text);
    bfio_image_free(&shot);
    if (checked == 0) {
        fprintf(stderr, "no detection could be checked\n");
        return 1;
    }
    return failed ? 1 : 0;
}
