/*
 * journal.c - the --resume journal entries (journal.h has the format).
 *
 * The reader is strict on purpose: an entry is trusted only when it is byte
 * for byte what bfio_journal_write would have written for this input and
 * fingerprint, give or take the numbers. A file cut short by a crash before
 * its rename, a copy from another run, or a hand edit is reported, and the
 * input runs again rather than feeding half-read detections into the JSON.
 */
#include "journal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"
#include "fnv.h"
#include "strbuf.h"

/* The shortest detection line the writer can produce (an image's; a video's
 * is longer): a count is refused when that many lines cannot fit in the rest
 * of the text, before anything is allocated for them. */
#define MIN_DETECTION_LINE (sizeof "0 0x0p+0 0x0p+0 0x0p+0 0x0p+0 0x0p+0\n" - 1)

char *bfio_journal_path(const char *out_dir, const char *input_path)
{
    char rel[64];
    unsigned long long h = bfio_fnv1a64(input_path);
    snprintf(rel, sizeof rel, BFIO_JOURNAL_DIR "/%02llx/%016llx.det", h >> 56, h);
    return bfio_path_join(out_dir, rel);
}

char *bfio_journal_fingerprint(const char *model_path, const bf_options *opt, int exif)
{
    struct stat st;
    long long size = -1, mtime = -1;
    if (stat(model_path, &st) == 0) {
        size = (long long)st.st_size;
        mtime = (long long)st.st_mtime;
    }
    bfio_sb sb;
    bfio_sb_init(&sb);
    bfio_sb_puts(&sb, "model ");
    bfio_sb_puts(&sb, model_path);
    bfio_sb_printf(&sb, " %lld %lld size %d conf %a iou %a max-det %d exif %d", size, mtime,
                   opt->input_size, (double)opt->conf_threshold, (double)opt->iou_threshold,
                   opt->max_detections, exif);
    if (sb.failed || strchr(sb.data, '\n')) {
        bfio_sb_free(&sb);
        return NULL;
    }
    return sb.data;
}

/* The first three lines; -1 (err set) when the path or the fingerprint holds
 * a line break, which would make them two lines. */
static int put_header(bfio_sb *sb, const char *input_path, const char *fingerprint,
                      bfio_err *err)
{
    if (strchr(input_path, '\n'))
        return bfio_fail(err, "a path with a line break cannot be journaled");
    if (strchr(fingerprint, '\n'))
        return bfio_fail(err, "a fingerprint with a line break cannot be journaled");
    bfio_sb_printf(sb, BFIO_JOURNAL_MAGIC "\npath %s\nfingerprint %s\n", input_path, fingerprint);
    return 0;
}

static void put_detection(bfio_sb *sb, const bf_detection *d)
{
    bfio_sb_printf(sb, "%d %a %a %a %a %a", d->class_id, (double)d->score, (double)d->x0,
                   (double)d->y0, (double)d->x1, (double)d->y1);
}

int bfio_journal_format_image(bfio_sb *sb, const char *input_path, const char *fingerprint,
                              const bf_detection *d, size_t n, bfio_err *err)
{
    if (put_header(sb, input_path, fingerprint, err) != 0)
        return -1;
    bfio_sb_printf(sb, "count %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        put_detection(sb, &d[i]);
        bfio_sb_putc(sb, '\n');
    }
    bfio_sb_puts(sb, "end\n");
    return sb->failed ? bfio_fail(err, "out of memory") : 0;
}

int bfio_journal_format_video(bfio_sb *sb, const char *input_path, const char *fingerprint,
                              const bfio_journal_entry *e, bfio_err *err)
{
    if (put_header(sb, input_path, fingerprint, err) != 0)
        return -1;
    bfio_sb_printf(sb, "video%s%s%s %s\n", e->outputs & BFIO_JOURNAL_TXT ? " txt" : "",
                   e->outputs & BFIO_JOURNAL_DRAW ? " draw" : "",
                   e->outputs & BFIO_JOURNAL_MOT ? " mot" : "", e->whole ? "whole" : "damaged");
    bfio_sb_printf(sb, "count %zu\n", e->n);
    for (size_t i = 0; i < e->n; i++) {
        put_detection(sb, &e->v[i].d);
        bfio_sb_printf(sb, " %lld %a %lld\n", e->v[i].frame, e->v[i].time, e->v[i].track);
    }
    bfio_sb_puts(sb, "end\n");
    return sb->failed ? bfio_fail(err, "out of memory") : 0;
}

/* A formatted entry (rc from bfio_journal_format_*) into file atomically. */
static int finish(bfio_sb *sb, int rc, const char *file, bfio_err *err)
{
    if (rc == 0)
        rc = bfio_mkdirs_for_file(file, err) != 0 ? -1
             : bfio_write_file_atomic(file, sb->data, sb->len, err);
    bfio_sb_free(sb);
    return rc;
}

int bfio_journal_write_image(const char *file, const char *input_path, const char *fingerprint,
                             const bf_detection *d, size_t n, bfio_err *err)
{
    bfio_sb sb;
    bfio_sb_init(&sb);
    int rc = bfio_journal_format_image(&sb, input_path, fingerprint, d, n, err);
    return finish(&sb, rc, file, err);
}

int bfio_journal_write_video(const char *file, const char *input_path, const char *fingerprint,
                             const bfio_journal_entry *e, bfio_err *err)
{
    bfio_sb sb;
    bfio_sb_init(&sb);
    int rc = bfio_journal_format_video(&sb, input_path, fingerprint, e, err);
    return finish(&sb, rc, file, err);
}

void bfio_journal_entry_free(bfio_journal_entry *e)
{
    free(e->v);
    memset(e, 0, sizeof *e);
}

/* --- reading ---------------------------------------------------------------- */

/* A cursor over the entry's lines. */
typedef struct reader {
    const char *p, *end;
    int line; /* 1-based number of the line last taken */
} reader;

/* The next line (without its '\n') in *s and *n; -1 at the end of the text or
 * when the line is not ended by '\n' (a file cut short) or holds a NUL. */
static int next_line(reader *r, const char **s, size_t *n)
{
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    if (!nl || memchr(r->p, 0, (size_t)(nl - r->p)))
        return -1;
    *s = r->p;
    *n = (size_t)(nl - r->p);
    r->p = nl + 1;
    r->line++;
    return 0;
}

/* The line s[0..n) is key followed by value (anything when value is NULL). */
static int line_is(const char *s, size_t n, const char *key, const char *value)
{
    size_t kn = strlen(key);
    if (n < kn || memcmp(s, key, kn) != 0)
        return 0;
    return !value || (n - kn == strlen(value) && memcmp(s + kn, value, n - kn) == 0);
}

/* A decimal count: digits only, no sign or space (strtoull would take both). */
static int parse_count(const char *s, size_t n, unsigned long long *out)
{
    if (n == 0 || n > 19)
        return -1;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long long)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* " [txt] [draw] [mot] whole|damaged" (what follows "video") into e. */
static int parse_video_line(const char *s, size_t n, bfio_journal_entry *e)
{
    static const struct {
        const char *word;
        unsigned output;
        int whole;
    } words[] = {{"txt", BFIO_JOURNAL_TXT, -1}, {"draw", BFIO_JOURNAL_DRAW, -1},
                 {"mot", BFIO_JOURNAL_MOT, -1}, {"whole", 0, 1}, {"damaged", 0, 0}};
    e->video = 1;
    e->outputs = 0;
    e->whole = -1;
    const char *end = s + n;
    while (s < end) {
        if (*s != ' ' || e->whole >= 0) /* one space before each word; the status last */
            return -1;
        const char *w = ++s;
        while (s < end && *s != ' ')
            s++;
        size_t k = 0, len = (size_t)(s - w), nw = sizeof words / sizeof words[0];
        while (k < nw && !(strlen(words[k].word) == len && memcmp(words[k].word, w, len) == 0))
            k++;
        if (k == nw)
            return -1;
        e->outputs |= words[k].output;
        e->whole = words[k].whole;
    }
    return e->whole >= 0 ? 0 : -1;
}

/* A number field: one space, then a sign or digit, as %a and %lld write it
 * (strtod would also skip spaces and read "nan" or "inf"). *p moves past it. */
static int field_start(char **p)
{
    if (**p != ' ')
        return -1;
    (*p)++;
    return **p == '-' || (**p >= '0' && **p <= '9') ? 0 : -1;
}

static int parse_float(char **p, double limit, double *out)
{
    char *end;
    if (field_start(p) != 0)
        return -1;
    double x = strtod(*p, &end);
    if (end == *p || !isfinite(x) || fabs(x) > limit)
        return -1;
    *p = end;
    *out = x;
    return 0;
}

static int parse_integer(char **p, long long lo, long long *out)
{
    char *end;
    if (field_start(p) != 0)
        return -1;
    errno = 0;
    long long x = strtoll(*p, &end, 10);
    if (end == *p || errno || x < lo)
        return -1;
    *p = end;
    *out = x;
    return 0;
}

/* One detection line (a NUL-terminated copy in buf). */
static int parse_detection(char *buf, int video, int num_classes, bfio_journal_det *x)
{
    char *p = buf, *end;
    if (!(*p >= '0' && *p <= '9'))
        return -1;
    errno = 0;
    long cls = strtol(p, &end, 10);
    if (end == p || errno || cls < 0 || cls >= num_classes)
        return -1;
    p = end;
    double v[5];
    for (int k = 0; k < 5; k++)
        if (parse_float(&p, FLT_MAX /* more is inf as a float */, &v[k]) != 0)
            return -1;
    x->d.class_id = (int)cls;
    x->d.score = (float)v[0];
    x->d.x0 = (float)v[1];
    x->d.y0 = (float)v[2];
    x->d.x1 = (float)v[3];
    x->d.y1 = (float)v[4];
    x->frame = -1;
    x->time = 0;
    x->track = BFIO_TRACK_NONE;
    if (video && (parse_integer(&p, 0, &x->frame) != 0 || parse_float(&p, 1e300, &x->time) != 0 ||
                  parse_integer(&p, BFIO_TRACK_NONE, &x->track) != 0))
        return -1;
    return *p ? -1 : 0;
}

static int parse_detections(reader *r, int num_classes, bfio_journal_entry *e, bfio_err *err)
{
    char buf[256]; /* the longest line the writer makes is about 160 bytes */
    for (size_t i = 0; i < e->n; i++) {
        const char *s;
        size_t len;
        if (next_line(r, &s, &len) != 0)
            return bfio_fail(err, "line %d: missing or not ended (detection %zu of %zu)",
                             r->line + 1, i + 1, e->n);
        if (len >= sizeof buf)
            return bfio_fail(err, "line %d: too long for a detection", r->line);
        memcpy(buf, s, len);
        buf[len] = 0;
        if (parse_detection(buf, e->video, num_classes, &e->v[i]) != 0)
            return bfio_fail(err, "line %d: not 'CLASS SCORE X0 Y0 X1 Y1%s' with CLASS in 0..%d "
                             "and finite numbers", r->line, e->video ? " FRAME TIME TRACK" : "",
                             num_classes - 1);
    }
    return 0;
}

/* The lines before the detections: magic, path, fingerprint (the one for an
 * image's or a video's entry, whichever this is), video line, count. */
static int parse_header(reader *r, const bfio_journal_want *want, size_t len,
                        bfio_journal_entry *e, bfio_err *err)
{
    const char *s, *fp;
    size_t n, fp_n;
    if (next_line(r, &s, &n) != 0 || !line_is(s, n, BFIO_JOURNAL_MAGIC, ""))
        return bfio_fail(err, "line 1: not '" BFIO_JOURNAL_MAGIC "'");
    if (next_line(r, &s, &n) != 0 || !line_is(s, n, "path ", want->input_path))
        return bfio_fail(err, "line 2: not 'path ' and this input's path");
    if (next_line(r, &fp, &fp_n) != 0 || !line_is(fp, fp_n, "fingerprint ", NULL))
        return bfio_fail(err, "line 3: not 'fingerprint ...'");
    if (next_line(r, &s, &n) != 0)
        return bfio_fail(err, "line 4: missing or not ended");
    if (line_is(s, n, "video", NULL) && (n == 5 || s[5] == ' ')) {
        if (parse_video_line(s + 5, n - 5, e) != 0)
            return bfio_fail(err, "line 4: not 'video [txt] [draw] [mot] whole|damaged'");
        if (next_line(r, &s, &n) != 0)
            return bfio_fail(err, "line 5: missing or not ended");
    }
    const char *trusted = e->video ? want->video_fingerprint : want->fingerprint;
    if (!trusted || !line_is(fp, fp_n, "fingerprint ", trusted))
        return bfio_fail(err, "line 3: made with another model or other settings");
    unsigned long long count;
    if (!line_is(s, n, "count ", NULL) || parse_count(s + 6, n - 6, &count) != 0)
        return bfio_fail(err, "line %d: not 'count N'", r->line);
    if (len > (e->video ? BFIO_JOURNAL_VIDEO_MAX_BYTES : BFIO_JOURNAL_IMAGE_MAX_BYTES))
        return bfio_fail(err, "%zu bytes, more than an entry can be", len);
    if (count > (e->video ? BFIO_JOURNAL_VIDEO_MAX_DETECTIONS : BFIO_JOURNAL_IMAGE_MAX_DETECTIONS) ||
        count > (unsigned long long)(r->end - r->p) / MIN_DETECTION_LINE)
        return bfio_fail(err, "line %d: count %llu is more than the entry holds", r->line, count);
    e->n = (size_t)count;
    return 0;
}

int bfio_journal_parse(const char *text, size_t len, const bfio_journal_want *want,
                       bfio_journal_entry *e, bfio_err *err)
{
    memset(e, 0, sizeof *e);
    reader r = {text, text + len, 0};
    if (parse_header(&r, want, len, e, err) != 0) {
        memset(e, 0, sizeof *e);
        return -1;
    }
    if (e->n && !(e->v = calloc(e->n, sizeof *e->v))) {
        memset(e, 0, sizeof *e);
        return bfio_fail(err, "out of memory");
    }
    const char *s;
    size_t n;
    int rc = parse_detections(&r, want->num_classes, e, err);
    if (rc == 0 && next_line(&r, &s, &n) != 0)
        rc = bfio_fail(err, "line %d: 'end' missing or not ended", r.line + 1);
    else if (rc == 0 && !line_is(s, n, "end", ""))
        rc = bfio_fail(err, "line %d: not 'end'", r.line);
    else if (rc == 0 && r.p != r.end)
        rc = bfio_fail(err, "line %d: text after 'end'", r.line + 1);
    if (rc != 0)
        bfio_journal_entry_free(e);
    return rc;
}

int bfio_journal_read(const char *file, const bfio_journal_want *want, bfio_journal_entry *e,
                      bfio_err *err)
{
    uint8_t *data = NULL;
    size_t size = 0;
    memset(e, 0, sizeof *e);
    if (bfio_read_file(file, BFIO_JOURNAL_VIDEO_MAX_BYTES, &data, &size, err) != 0)
        return -1;
    int rc = bfio_journal_parse((const char *)data, size, want, e, err);
    free(data);
    return rc;
}
