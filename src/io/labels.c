/* labels.c - see labels.h. */
#include "labels.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"

#define MAX_FIELDS 2050 /* class + up to 1024 polygon points */

/* Splits one line into numbers; returns the count or -1 for a bad token. */
static int parse_fields(const char *s, const char *end, double *v, int max, const char **bad)
{
    int n = 0;
    char tok[64];
    while (s < end) {
        while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
            s++;
        if (s >= end)
            break;
        const char *t = s;
        while (s < end && *s != ' ' && *s != '\t' && *s != '\r')
            s++;
        size_t len = (size_t)(s - t);
        if (len >= sizeof tok || n >= max) {
            *bad = t;
            return -1;
        }
        memcpy(tok, t, len);
        tok[len] = '\0';
        char *e;
        errno = 0;
        double x = strtod(tok, &e);
        if (*e != '\0' || errno == ERANGE || !isfinite(x)) {
            *bad = t;
            return -1;
        }
        v[n++] = x;
    }
    return n;
}

/* Ultralytics (verify_image_label) refuses a label file with any coordinate
 * outside 0..1: a box in pixels, or one reaching outside the image, is a
 * mistake in the data, not something to score silently. f[1..k) are the
 * coordinates (cx cy w h, or polygon x y pairs); a sixth column of a box line
 * is a confidence and is not looked at. */
static int coords_normalised(const double *f, int k)
{
    for (int i = 1; i < k; i++)
        if (!(f[i] >= 0 && f[i] <= 1))
            return 0;
    return 1;
}

int bfio_labels_parse(const char *text, size_t len, int width, int height, int num_classes,
                      bfio_box **out, size_t *count, bfio_err *err)
{
    bfio_box *boxes = NULL;
    size_t n = 0, cap = 0;
    double *f = malloc(MAX_FIELDS * sizeof *f);
    if (!f)
        return bfio_fail(err, "out of memory");
    const char *s = text, *end = text + len;
    /* A UTF-8 byte order mark (Windows editors write one) is not part of the first line. */
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    int line = 0;
    while (s < end) {
        line++;
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        if (!eol)
            eol = end;
        const char *bad = NULL;
        int k = parse_fields(s, eol, f, MAX_FIELDS, &bad);
        const char *why = NULL;
        double cx = 0, cy = 0, bw = 0, bh = 0;
        if (k < 0)
            why = "not a number";
        else if (k == 0)
            ; /* blank line */
        else if (k != 5 && k != 6 && (k < 7 || k % 2 == 0))
            why = "expected \"class cx cy w h\" (or a polygon)";
        else if (f[0] != floor(f[0]) || f[0] < 0 || f[0] >= num_classes)
            why = "class id out of range";
        else if (!coords_normalised(f, k <= 6 ? 5 : k))
            why = "coordinates must be normalised to 0..1 (as Ultralytics requires); is this "
                  "file in pixels, or its box outside the image?";
        else if (k <= 6) {
            cx = f[1], cy = f[2], bw = f[3], bh = f[4];
        } else { /* polygon: its bounding box */
            double x0 = f[1], x1 = f[1], y0 = f[2], y1 = f[2];
            for (int i = 3; i + 1 < k; i += 2) {
                x0 = fmin(x0, f[i]), x1 = fmax(x1, f[i]);
                y0 = fmin(y0, f[i + 1]), y1 = fmax(y1, f[i + 1]);
            }
            cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, bw = x1 - x0, bh = y1 - y0;
        }
        if (!why && k > 0 && (bw <= 0 || bh <= 0))
            why = "the box has zero width or height";
        if (why) {
            free(f);
            free(boxes);
            return bfio_fail(err, "line %d: %s", line, why);
        }
        if (k > 0) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                bfio_box *p = ncap <= SIZE_MAX / sizeof *p ? realloc(boxes, ncap * sizeof *p) : NULL;
                if (!p) {
                    free(f);
                    free(boxes);
                    return bfio_fail(err, "out of memory");
                }
                boxes = p;
                cap = ncap;
            }
            /* Normalised centre/size to pixel corners, in double like Ultralytics' xywhn2xyxy. */
            bfio_box *b = &boxes[n++];
            b->x0 = (float)((cx - bw / 2) * width);
            b->y0 = (float)((cy - bh / 2) * height);
            b->x1 = (float)((cx + bw / 2) * width);
            b->y1 = (float)((cy + bh / 2) * height);
            b->score = 1.0f;
            b->class_id = (int)f[0];
        }
        s = eol < end ? eol + 1 : end;
    }
    free(f);
    *out = boxes;
    *count = n;
    return 0;
}

int bfio_labels_read(const char *path, int width, int height, int num_classes, bfio_box **out,
                     size_t *count, int *missing, bfio_err *err)
{
    uint8_t *data;
    size_t size;
    struct stat st;
    *missing = 0;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        *missing = 1;
        *out = NULL;
        *count = 0;
        return 0;
    }
    if (bfio_read_file(path, 64u << 20, &data, &size, err) != 0)
        return -1;
    int rc = bfio_labels_parse((const char *)data, size, width, height, num_classes, out, count, err);
    free(data);
    return rc;
}

void bfio_labels_put(bfio_sb *sb, int class_id, float x0, float y0, float x1, float y1,
                     float score, int width, int height)
{
    double cx = ((double)x0 + x1) / 2 / width, cy = ((double)y0 + y1) / 2 / height;
    double w = ((double)x1 - x0) / width, h = ((double)y1 - y0) / height;
    bfio_sb_printf(sb, "%d %g %g %g %g %g\n", class_id, cx, cy, w, h, (double)score);
}
