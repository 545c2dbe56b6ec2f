/*
 * fuzz_journal.c - libFuzzer target: the --resume journal reader
 * (bfio_journal_parse, src/io/journal.c), which reads back entries left by
 * crashed, copied and hand-edited runs. The input is an entry's text; the
 * entry asked for is the input "a.jpg" with the image fingerprint "m 1" and the
 * video fingerprint "m 1 v", 80 classes (the seeds in corpus/journal/ use them).
 *
 * Checks beyond "no crash" (ASan + UBSan):
 * - a refusal says why and leaves the entry empty;
 * - an accepted entry is what the format promises: classes in range, finite
 *   numbers, an image's detections without frame/time/track, a video's with
 *   frame >= 0 and track >= BFIO_TRACK_NONE;
 * - it round-trips: written again by the writer's formatter
 *   (bfio_journal_format_*) it reads back identical, and writing that gives
 *   the same bytes;
 * - the trust rules: a video's entry is refused when no video fingerprint is
 *   asked for (an image's is still read the same), and an entry whose largest
 *   class is K is accepted with K + 1 classes and refused with K.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "strbuf.h"

/* libFuzzer's entry point, called by name. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const bfio_journal_want want = {"a.jpg", "m 1", "m 1 v", 80};

static int refused_cleanly(int rc, const bfio_journal_entry *e, const bfio_err *err)
{
    return rc == -1 && err->msg[0] != 0 && e->v == NULL && e->n == 0;
}

static int well_formed(const bfio_journal_entry *e, int num_classes)
{
    if (e->n > 0 && e->v == NULL)
        return 0;
    for (size_t i = 0; i < e->n; i++) {
        const bfio_journal_det *x = &e->v[i];
        if (x->d.class_id < 0 || x->d.class_id >= num_classes || !isfinite(x->d.score) ||
            !isfinite(x->d.x0) || !isfinite(x->d.y0) || !isfinite(x->d.x1) ||
            !isfinite(x->d.y1) || !isfinite(x->time))
            return 0;
        if (e->video ? (x->frame < 0 || x->track < BFIO_TRACK_NONE)
                     : (x->frame != -1 || x->time != 0 || x->track != BFIO_TRACK_NONE))
            return 0;
    }
    return !e->video || e->whole == 0 || e->whole == 1;
}

static int same_entry(const bfio_journal_entry *a, const bfio_journal_entry *b)
{
    if (a->video != b->video || a->n != b->n ||
        (a->video && (a->outputs != b->outputs || a->whole != b->whole)))
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        const bfio_journal_det *x = &a->v[i], *y = &b->v[i];
        if (x->d.class_id != y->d.class_id || x->d.score != y->d.score || x->d.x0 != y->d.x0 ||
            x->d.y0 != y->d.y0 || x->d.x1 != y->d.x1 || x->d.y1 != y->d.y1 ||
            x->frame != y->frame || x->time != y->time || x->track != y->track)
            return 0;
    }
    return 1;
}

/* The entry's text as the writer makes it (sb cleared first); -1 when that fails. */
static int format(bfio_sb *sb, const bfio_journal_entry *e)
{
    bfio_err err;
    bfio_sb_clear(sb);
    if (e->video)
        return bfio_journal_format_video(sb, want.input_path, want.video_fingerprint, e, &err);
    /* an image's detections as the writer takes them */
    bf_detection *d = malloc((e->n ? e->n : 1) * sizeof *d);
    if (!d)
        return -1;
    for (size_t i = 0; i < e->n; i++)
        d[i] = e->v[i].d;
    int rc = bfio_journal_format_image(sb, want.input_path, want.fingerprint, d, e->n, &err);
    free(d);
    return rc;
}

/* Written again, read back identical; written once more, the same bytes. */
static void check_round_trip(const bfio_journal_entry *e)
{
    bfio_sb a, b;
    bfio_sb_init(&a);
    bfio_sb_init(&b);
    if (format(&a, e) != 0)
        abort(); /* the path and fingerprints are one line each: only memory can fail */
    bfio_journal_entry again;
    bfio_err err = {{0}};
    if (bfio_journal_parse(a.data, a.len, &want, &again, &err) != 0 || !same_entry(e, &again))
        abort();
    if (format(&b, &again) != 0 || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        abort();
    bfio_journal_entry_free(&again);
    bfio_sb_free(&a);
    bfio_sb_free(&b);
}

/* The trust rules beside the format: video fingerprint and class range. */
static void check_trust(const char *text, size_t size, const bfio_journal_entry *e)
{
    bfio_journal_want w = want;
    bfio_journal_entry x;
    bfio_err err = {{0}};
    w.video_fingerprint = NULL;
    int rc = bfio_journal_parse(text, size, &w, &x, &err);
    if (e->video ? !refused_cleanly(rc, &x, &err) : (rc != 0 || !same_entry(e, &x)))
        abort();
    if (rc == 0)
        bfio_journal_entry_free(&x);
    if (e->n == 0)
        return;
    int top = 0;
    for (size_t i = 0; i < e->n; i++)
        if (e->v[i].d.class_id > top)
            top = e->v[i].d.class_id;
    w = want;
    w.num_classes = top + 1;
    if (bfio_journal_parse(text, size, &w, &x, &err) != 0 || !same_entry(e, &x))
        abort();
    bfio_journal_entry_free(&x);
    w.num_classes = top;
    err.msg[0] = 0;
    if (!refused_cleanly(bfio_journal_parse(text, size, &w, &x, &err), &x, &err))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    bfio_journal_entry e;
    bfio_err err = {{0}};
    int rc = bfio_journal_parse(text, size, &want, &e, &err);
    if (rc != 0) {
        if (!refused_cleanly(rc, &e, &err))
            abort();
        return 0;
    }
    if (!well_formed(&e, want.num_classes))
        abort();
    check_round_trip(&e);
    check_trust(text, size, &e);
    bfio_journal_entry_free(&e);
    return 0;
}
