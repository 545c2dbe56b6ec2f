/* detfile.c - see detfile.h. */
#include "detfile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "json.h"

void bfio_detfile_begin(bfio_detfile_writer *w)
{
    bfio_sb_init(&w->sb);
    w->count = 0;
    bfio_sb_putc(&w->sb, '[');
}

void bfio_detfile_add(bfio_detfile_writer *w, const char *file, int class_id, const char *name,
                      float score, float x0, float y0, float x1, float y1)
{
    bfio_detfile_add_video(w, file, class_id, name, score, x0, y0, x1, y1, -1, 0, BFIO_TRACK_NONE);
}

void bfio_detfile_add_video(bfio_detfile_writer *w, const char *file, int class_id,
                            const char *name, float score, float x0, float y0, float x1, float y1,
                            long long frame, double time, long long track)
{
    bfio_sb *sb = &w->sb;
    bfio_sb_puts(sb, w->count ? ",\n  {\"file\": " : "\n  {\"file\": ");
    bfio_json_put_string(sb, file);
    bfio_sb_printf(sb, ", \"class\": %d", class_id);
    if (name) {
        bfio_sb_puts(sb, ", \"name\": ");
        bfio_json_put_string(sb, name);
    }
    /* 6 significant digits: sub-pixel boxes on images up to 9999 px, and
     * scores fine enough that ties are real ties. */
    bfio_sb_puts(sb, ", \"score\": ");
    bfio_json_put_number(sb, score, 6);
    bfio_sb_puts(sb, ", \"bbox\": [");
    bfio_json_put_number(sb, x0, 6);
    bfio_sb_puts(sb, ", ");
    bfio_json_put_number(sb, y0, 6);
    bfio_sb_puts(sb, ", ");
    bfio_json_put_number(sb, (double)x1 - x0, 6);
    bfio_sb_puts(sb, ", ");
    bfio_json_put_number(sb, (double)y1 - y0, 6);
    bfio_sb_putc(sb, ']');
    if (frame >= 0) {
        /* 12 significant digits: far below a frame period for hours of video. */
        bfio_sb_printf(sb, ", \"frame\": %lld, \"time\": ", frame);
        bfio_json_put_number(sb, time, 12);
    }
    if (track >= 0)
        bfio_sb_printf(sb, ", \"track\": %lld", track);
    else if (track == BFIO_TRACK_NULL)
        bfio_sb_puts(sb, ", \"track\": null");
    bfio_sb_putc(sb, '}');
    w->count++;
}

void bfio_detfile_end(bfio_detfile_writer *w)
{
    bfio_sb_puts(&w->sb, w->count ? "\n]\n" : "]\n");
}

void bfio_detfile_writer_free(bfio_detfile_writer *w)
{
    bfio_sb_free(&w->sb);
    w->count = 0;
}

/* One entry's problem, with where it is. */
static int entry_fail(const char *text, size_t len, size_t index, const bfio_json *v,
                      const char *what, bfio_err *err)
{
    int line, col;
    bfio_json_position(text, len, v->offset, &line, &col);
    return bfio_fail(err, "detection %zu (line %d, column %d): %s", index + 1, line, col, what);
}

static int get_number(const bfio_json *obj, const char *key, double *out)
{
    const bfio_json *v = bfio_json_get(obj, key);
    if (!v || v->type != BFIO_JSON_NUMBER)
        return -1;
    *out = v->number;
    return 0;
}

int bfio_detfile_parse(const char *text, size_t len, bfio_det_file *out, bfio_err *err)
{
    bfio_json *root = bfio_json_parse(text, len, err);
    if (!root)
        return -1;
    if (root->type != BFIO_JSON_ARRAY) {
        bfio_fail(err, "a detections file must hold a JSON array, not %s",
                  bfio_json_type_name(root->type));
        bfio_json_free(root);
        return -1;
    }
    bfio_det_file df = {NULL, 0};
    if (root->len) {
        df.items = calloc(root->len, sizeof *df.items);
        if (!df.items) {
            bfio_json_free(root);
            return bfio_fail(err, "out of memory");
        }
    }
    int rc = 0;
    for (size_t i = 0; i < root->len && rc == 0; i++) {
        const bfio_json *e = &root->items[i];
        bfio_det_record *r = &df.items[i];
        if (e->type != BFIO_JSON_OBJECT) {
            rc = entry_fail(text, len, i, e, "not an object", err);
            break;
        }
        const bfio_json *file = bfio_json_get(e, "file");
        const bfio_json *bbox = bfio_json_get(e, "bbox");
        double cls = 0, score = 0, b[4] = {0, 0, 0, 0};
        if (!file || file->type != BFIO_JSON_STRING || file->len == 0 ||
            strlen(file->string) != file->len)
            rc = entry_fail(text, len, i, e, "\"file\" must be a non-empty string", err);
        else if (get_number(e, "class", &cls) != 0 || cls != floor(cls) || cls < 0 ||
                 cls >= BFIO_MAX_CLASSES)
            rc = entry_fail(text, len, i, e, "\"class\" must be an integer in 0..999", err);
        else if (get_number(e, "score", &score) != 0)
            rc = entry_fail(text, len, i, e, "\"score\" must be a number", err);
        else if (!(score >= 0 && score <= 1))
            /* A logit, a percentage or a sign error would rank detections
             * wrongly without any other symptom: refused, with the value. */
            rc = entry_fail(text, len, i, bfio_json_get(e, "score"),
                            score < 0 ? "\"score\" is negative; it must be a confidence in 0..1"
                                      : "\"score\" is above 1; it must be a confidence in 0..1 "
                                        "(a logit or a percentage?)", err);
        else if (!bbox || bbox->type != BFIO_JSON_ARRAY || bbox->len != 4)
            rc = entry_fail(text, len, i, e, "\"bbox\" must be an array [x, y, w, h]", err);
        if (rc != 0)
            break;
        for (int k = 0; k < 4; k++) {
            const bfio_json *v = &bbox->items[k];
            if (v->type != BFIO_JSON_NUMBER || fabs(v->number) > 1e7) {
                rc = entry_fail(text, len, i, v, "\"bbox\" values must be numbers (pixels)", err);
                break;
            }
            b[k] = v->number;
        }
        if (rc != 0)
            break;
        if (b[2] < 0 || b[3] < 0) {
            rc = entry_fail(text, len, i, bbox, "\"bbox\" width and height must not be negative", err);
            break;
        }
        r->file = strdup(file->string);
        if (!r->file) {
            rc = bfio_fail(err, "out of memory");
            break;
        }
        r->class_id = (int)cls;
        r->score = (float)score;
        r->x = (float)b[0];
        r->y = (float)b[1];
        r->w = (float)b[2];
        r->h = (float)b[3];
        df.count = i + 1;
    }
    bfio_json_free(root);
    if (rc != 0) {
        bfio_detfile_free(&df);
        return -1;
    }
    *out = df;
    return 0;
}

int bfio_detfile_read(const char *path, bfio_det_file *out, bfio_err *err)
{
    uint8_t *data;
    size_t size;
    if (bfio_read_file(path, BFIO_MAX_FILE_BYTES, &data, &size, err) != 0)
        return -1;
    int rc = bfio_detfile_parse((const char *)data, size, out, err);
    free(data);
    return rc;
}

void bfio_detfile_free(bfio_det_file *df)
{
    for (size_t i = 0; i < df->count; i++)
        free(df->items[i].file);
    free(df->items);
    df->items = NULL;
    df->count = 0;
}
