/*
 * test_journal.c - the --resume journal (src/io/journal.h): the exact bytes
 * an image's and a video's entry are written as (the on-disk format, which
 * entries of earlier runs are read in), exact round trips, and a corpus of
 * hostile entries (cut short, wrong magic, other path or fingerprint, huge
 * counts, bad numbers, NUL bytes and line breaks), each refused with the line
 * it names; then every prefix of a good entry and every byte of it replaced,
 * which must be refused or read as a well-formed entry, never crash (the
 * ASan build runs this too).
 */
#include "tmpdir.h"

#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

#include "check.h"
#include "files.h"
#include "journal.h"

#define FP "model m.bfm 1862788 1700000000 size 640 conf 0x1p-2 iou 0x1.666666p-1 max-det 300 exif 1"
#define VFP FP " video vid-stride 1 track 0"

static const bfio_journal_want want = {"photos/a.jpg", FP, VFP, 80};

/* What bfio_journal_write_image writes for image_dets: the format, byte for byte. */
static const bf_detection image_dets[2] = {{10.25f, 1.0f, 100.0f, 50.0f, 0.5f, 3},
                                           {0.0f, 0.0f, 2.0f, 2.0f, 0.25f, 0}};
static const char image_text[] = "bitfalcon-journal 1\n"
                                 "path photos/a.jpg\n"
                                 "fingerprint " FP "\n"
                                 "count 2\n"
                                 "3 0x1p-1 0x1.48p+3 0x1p+0 0x1.9p+6 0x1.9p+5\n"
                                 "0 0x1p-2 0x0p+0 0x0p+0 0x1p+1 0x1p+1\n"
                                 "end\n";
static const char video_text[] = "bitfalcon-journal 1\n"
                                 "path photos/a.jpg\n"
                                 "fingerprint " VFP "\n"
                                 "video txt mot whole\n"
                                 "count 2\n"
                                 "3 0x1p-1 0x1.48p+3 0x1p+0 0x1.9p+6 0x1.9p+5 12 0x1p-1 7\n"
                                 "0 0x1p-2 0x0p+0 0x0p+0 0x1p+1 0x1p+1 13 0x1.1p-1 -1\n"
                                 "end\n";

static char *slurp(const char *path, size_t *n)
{
    uint8_t *data;
    bfio_err err;
    return bfio_read_file(path, 1 << 20, &data, n, &err) == 0 ? (char *)data : NULL;
}

static int same_det(const bf_detection *a, const bf_detection *b)
{
    return a->class_id == b->class_id && a->score == b->score && a->x0 == b->x0 &&
           a->y0 == b->y0 && a->x1 == b->x1 && a->y1 == b->y1;
}

static void test_paths(void)
{
    /* FNV-1a 64 of "photos/a.jpg", computed independently in Python:
     * h = 0xcbf29ce484222325; for b in b"photos/a.jpg": h = ((h ^ b) * 0x100000001b3) % 2**64 */
    char *p = bfio_journal_path("out", "photos/a.jpg");
    CHECK(p && strcmp(p, "out/.bitfalcon-journal/d8/d86bcdad0c13ab99.det") == 0);
    char *q = bfio_journal_path("out", "photos/b.jpg");
    CHECK(p && q && strcmp(p, q) != 0);
    free(p);
    free(q);

    bf_options opt;
    bf_options_default(&opt);
    opt.input_size = 320;
    char *fp = bfio_journal_fingerprint("no-such-model.bfm", &opt, 0);
    char expect[256];
    snprintf(expect, sizeof expect, "model no-such-model.bfm -1 -1 size 320 conf %a iou %a max-det %d exif 0",
             (double)opt.conf_threshold, (double)opt.iou_threshold, opt.max_detections);
    CHECK(fp && strcmp(fp, expect) == 0);
    free(fp);
    CHECK(bfio_journal_fingerprint("two\nlines.bfm", &opt, 1) == NULL);
}

static void test_write_exact(void)
{
    char file[512], text[512];
    bfio_err err;
    size_t n = 0;
    /* Written into folders that do not exist yet, as the first entry of a run is. */
    tmp_file(file, sizeof file, "j/.bitfalcon-journal/ab/x.det");
    CHECK(bfio_journal_write_image(file, "photos/a.jpg", FP, image_dets, 2, &err) == 0);
    char *got = slurp(file, &n);
    CHECK(got && n == sizeof image_text - 1 && memcmp(got, image_text, n) == 0);
    free(got);

    bfio_journal_det v[2] = {{image_dets[0], 12, 0.5, 7}, {image_dets[1], 13, 0.53125, -1}};
    bfio_journal_entry e = {1, BFIO_JOURNAL_TXT | BFIO_JOURNAL_MOT, 1, v, 2};
    tmp_file(text, sizeof text, "video.det");
    CHECK(bfio_journal_write_video(text, "photos/a.jpg", VFP, &e, &err) == 0);
    got = slurp(text, &n);
    CHECK(got && n == sizeof video_text - 1 && memcmp(got, video_text, n) == 0);
    free(got);

    /* A path or fingerprint of two lines could not be read back: refused, nothing written. */
    tmp_file(file, sizeof file, "nl.det");
    CHECK(bfio_journal_write_image(file, "a\nb.jpg", FP, image_dets, 2, &err) == -1);
    CHECK(strstr(err.msg, "line break") != NULL);
    CHECK(bfio_journal_write_video(file, "a.mp4", "fp\nx", &e, &err) == -1);
    CHECK(strstr(err.msg, "line break") != NULL);
    struct stat st;
    CHECK(stat(file, &st) != 0);
}

static void test_round_trip(void)
{
    bfio_journal_entry e;
    bfio_err err;
    CHECK(bfio_journal_parse(image_text, sizeof image_text - 1, &want, &e, &err) == 0);
    CHECK(e.video == 0 && e.n == 2 && e.v);
    for (size_t i = 0; i < e.n && e.v; i++) {
        CHECK(same_det(&e.v[i].d, &image_dets[i]));
        CHECK(e.v[i].frame == -1 && e.v[i].time == 0 && e.v[i].track == BFIO_TRACK_NONE);
    }
    bfio_journal_entry_free(&e);
    CHECK(e.v == NULL && e.n == 0);

    CHECK(bfio_journal_parse(video_text, sizeof video_text - 1, &want, &e, &err) == 0);
    CHECK(e.video == 1 && e.whole == 1 && e.outputs == (BFIO_JOURNAL_TXT | BFIO_JOURNAL_MOT));
    CHECK(e.n == 2 && e.v);
    if (e.v && e.n == 2) {
        CHECK(same_det(&e.v[0].d, &image_dets[0]) && same_det(&e.v[1].d, &image_dets[1]));
        CHECK(e.v[0].frame == 12 && e.v[0].time == 0.5 && e.v[0].track == 7);
        CHECK(e.v[1].frame == 13 && e.v[1].time == 0.53125 && e.v[1].track == -1);
    }
    bfio_journal_entry_free(&e);

    /* No detections: count 0, and nothing allocated. */
    static const char empty[] = "bitfalcon-journal 1\npath photos/a.jpg\nfingerprint " FP
                                "\ncount 0\nend\n";
    CHECK(bfio_journal_parse(empty, sizeof empty - 1, &want, &e, &err) == 0);
    CHECK(e.n == 0 && e.v == NULL && e.video == 0);
}

/* The hostile corpus: each entry is refused, and the message names the line. */
#define HDR "bitfalcon-journal 1\npath photos/a.jpg\nfingerprint " FP "\n"
#define VHDR "bitfalcon-journal 1\npath photos/a.jpg\nfingerprint " VFP "\n"
#define DET "3 0x1p-1 0x1.48p+3 0x1p+0 0x1.9p+6 0x1.9p+5"
#define CASE(name, text, msg) {name, text, sizeof text - 1, msg}

static const struct hostile {
    const char *name, *text;
    size_t len;
    const char *msg; /* what err.msg starts with */
} corpus[] = {
    CASE("empty", "", "line 1: not 'bitfalcon-journal 1'"),
    CASE("wrong-magic", "bitfalcon-journal 2\npath photos/a.jpg\n", "line 1: not"),
    CASE("magic-unended", "bitfalcon-journal 1", "line 1: not"),
    CASE("crlf", "bitfalcon-journal 1\r\npath photos/a.jpg\r\n", "line 1: not"),
    CASE("other-path", "bitfalcon-journal 1\npath photos/b.jpg\nfingerprint " FP "\ncount 0\nend\n",
         "line 2: not 'path '"),
    CASE("path-prefix", "bitfalcon-journal 1\npath photos/a.jpg.x\nfingerprint " FP "\ncount 0\nend\n",
         "line 2: not 'path '"),
    CASE("path-nul", "bitfalcon-journal 1\npath photos/a.jpg\0x\nfingerprint " FP "\ncount 0\nend\n",
         "line 2: not 'path '"),
    CASE("path-line-break", "bitfalcon-journal 1\npath photos/a\n.jpg\nfingerprint " FP "\ncount 0\nend\n",
         "line 2: not 'path '"),
    CASE("no-fingerprint", "bitfalcon-journal 1\npath photos/a.jpg\ncount 0\nend\n",
         "line 3: not 'fingerprint ...'"),
    CASE("other-fingerprint", "bitfalcon-journal 1\npath photos/a.jpg\nfingerprint model x\ncount 0\nend\n",
         "line 3: made with another model or other settings"),
    CASE("video-fingerprint-on-image", "bitfalcon-journal 1\npath photos/a.jpg\nfingerprint " VFP
         "\ncount 0\nend\n", "line 3: made with another model"),
    CASE("cut-after-fingerprint", HDR, "line 4: missing or not ended"),
    CASE("count-missing", HDR "end\n", "line 4: not 'count N'"),
    CASE("count-negative", HDR "count -1\nend\n", "line 4: not 'count N'"),
    CASE("count-space", HDR "count  1\n" DET "\nend\n", "line 4: not 'count N'"),
    CASE("count-plus", HDR "count +1\n" DET "\nend\n", "line 4: not 'count N'"),
    CASE("count-20-digits", HDR "count 18446744073709551616\nend\n", "line 4: not 'count N'"),
    CASE("count-huge", HDR "count 1000001\n" DET "\nend\n", "line 4: count 1000001 is more"),
    CASE("count-beyond-file", HDR "count 5\n" DET "\nend\n", "line 4: count 5 is more"),
    CASE("detection-missing", HDR "count 2\n" DET "\n" "end\n" "                                        \n",
         "line 6: not 'CLASS SCORE"),
    CASE("detection-cut", HDR "count 2\n" DET "\n" DET " " DET, "line 6: missing or not ended"),
    CASE("class-too-big", HDR "count 1\n80 0x1p-1 0x1p+0 0x1p+0 0x1p+1 0x1p+1\nend\n",
         "line 5: not 'CLASS SCORE X0 Y0 X1 Y1' with CLASS in 0..79"),
    CASE("class-negative", HDR "count 1\n-1 0x1p-1 0x1p+0 0x1p+0 0x1p+1 0x1p+1\nend\n", "line 5: not"),
    CASE("class-overflow", HDR "count 1\n99999999999999999999 0x1p-1 0x1p+0 0x1p+0 0x1p+1 0x1p+1\nend\n",
         "line 5: not"),
    CASE("score-nan", HDR "count 1\n3 nan 0x1p+0 0x1p+0 0x1p+1 0x1p+1\nend\n", "line 5: not"),
    CASE("score-inf", HDR "count 1\n3 inf 0x1p+0 0x1p+0 0x1p+1 0x1p+1\nend\n", "line 5: not"),
    CASE("score-minus-inf", HDR "count 1\n3 -inf 0x1p+0 0x1p+0 0x1p+1 0x1p+1\nend\n", "line 5: not"),
    CASE("float-overflow", HDR "count 1\n3 0x1p+200 0x1p+0 0x1p+0 0x1p+1 0x1p+1\nend\n", "line 5: not"),
    CASE("number-garbage", HDR "count 1\n3 0x1p-1x 0x1p+0 0x1p+0 0x1p+1 0x1p+1\nend\n", "line 5: not"),
    CASE("two-spaces", HDR "count 1\n3  0x1p-1 0x1p+0 0x1p+0 0x1p+1 0x1p+1\nend\n", "line 5: not"),
    /* Five fields of six, long enough that the count fits the file. */
    CASE("field-missing", HDR "count 1\n3 0x1.800000p-1 0x1.400000p+0 0x1.400000p+0 0x1.400000p+1\nend\n",
         "line 5: not"),
    CASE("field-extra", HDR "count 1\n" DET " 0x1p+1\nend\n", "line 5: not"),
    CASE("detection-nul", HDR "count 1\n3 0x1p-1\0 0x1p+0 0x1p+0 0x1p+1 0x1p+1\nend\n",
         "line 5: missing or not ended"),
    CASE("detection-too-long", HDR "count 1\n3 0x1p-1 0x1p+0 0x1p+0 0x1p+1 0x1p+1"
         "                                                                                "
         "                                                                                "
         "                                                                                "
         "\nend\n", "line 5: too long"),
    CASE("end-missing", HDR "count 1\n" DET "\n", "line 6: 'end' missing or not ended"),
    CASE("end-unended", HDR "count 1\n" DET "\nend", "line 6: 'end' missing or not ended"),
    CASE("end-wrong", HDR "count 1\n" DET "\nEND\n", "line 6: not 'end'"),
    CASE("after-end", HDR "count 1\n" DET "\nend\nend\n", "line 7: text after 'end'"),
    CASE("nul-after-end", HDR "count 1\n" DET "\nend\n\0", "line 7: text after 'end'"),
    CASE("video-no-status", VHDR "video txt\ncount 0\nend\n", "line 4: not 'video"),
    CASE("video-status-first", VHDR "video whole txt\ncount 0\nend\n", "line 4: not 'video"),
    CASE("video-unknown-word", VHDR "video txt json whole\ncount 0\nend\n", "line 4: not 'video"),
    CASE("video-two-spaces", VHDR "video  whole\ncount 0\nend\n", "line 4: not 'video"),
    CASE("video-frame-negative", VHDR "video whole\ncount 1\n" DET " -1 0x0p+0 7\nend\n", "line 6: not"),
    CASE("video-track-below", VHDR "video whole\ncount 1\n" DET " 1 0x0p+0 -3\nend\n", "line 6: not"),
    CASE("video-time-nan", VHDR "video whole\ncount 1\n" DET " 1 nan 7\nend\n", "line 6: not"),
    CASE("video-fields-missing", VHDR "video whole\ncount 1\n" DET "\nend\n", "line 6: not"),
    CASE("video-count-huge", VHDR "video whole\ncount 100000001\nend\n", "line 5: count 100000001"),
};

static void test_hostile_corpus(void)
{
    bfio_journal_want image_only = want;
    image_only.video_fingerprint = NULL;
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        const struct hostile *h = &corpus[i];
        /* Replayed as files, through the reader a run uses. */
        char file[512];
        snprintf(file, sizeof file, "%s/corpus-%s.det", tmpdir_path, h->name);
        CHECK(write_bytes(file, h->text, h->len) == 0);
        bfio_journal_entry e = {1, 7, 1, (bfio_journal_det *)1, 99}; /* must be emptied */
        bfio_err err = {{0}};
        int rc = bfio_journal_read(file, &want, &e, &err);
        int ok = rc == -1 && e.v == NULL && e.n == 0 && strncmp(err.msg, h->msg, strlen(h->msg)) == 0;
        if (!ok)
            fprintf(stderr, "corpus %s: rc %d, message '%s', expected '%s...'\n", h->name, rc,
                    err.msg, h->msg);
        CHECK(ok);
    }
    /* A video's entry when the run trusts no video entry. */
    bfio_journal_entry e;
    bfio_err err;
    CHECK(bfio_journal_parse(video_text, sizeof video_text - 1, &image_only, &e, &err) == -1);
    CHECK(strncmp(err.msg, "line 3: made with another model", 31) == 0);
    /* The path asked for holds a line break: no entry can be for it. */
    bfio_journal_want nl = want;
    nl.input_path = "photos/a\n.jpg";
    static const char nl_text[] = "bitfalcon-journal 1\npath photos/a\n.jpg\nfingerprint " FP
                                  "\ncount 0\nend\n";
    CHECK(bfio_journal_parse(nl_text, sizeof nl_text - 1, &nl, &e, &err) == -1);
    CHECK(strncmp(err.msg, "line 2:", 7) == 0);
    /* Missing, and too big to be an entry (a sparse file: refused by its size, unread). */
    char file[512];
    CHECK(bfio_journal_read(tmp_file(file, sizeof file, "none.det"), &want, &e, &err) == -1);
    CHECK(err.msg[0] != 0 && e.v == NULL);
    tmp_file(file, sizeof file, "huge.det");
    FILE *f = fopen(file, "wb");
    CHECK(f && fclose(f) == 0);
    CHECK(truncate(file, (off_t)BFIO_JOURNAL_VIDEO_MAX_BYTES + 1) == 0);
    CHECK(bfio_journal_read(file, &want, &e, &err) == -1 && e.v == NULL);
    CHECK(strstr(err.msg, "more than the 1073741824 byte limit") != NULL);
}

/* A parse that succeeds must give what the format promises. */
static int well_formed(const bfio_journal_entry *e)
{
    for (size_t i = 0; i < e->n; i++) {
        const bfio_journal_det *x = &e->v[i];
        if (x->d.class_id < 0 || x->d.class_id >= want.num_classes || !isfinite(x->d.score) ||
            !isfinite(x->d.x0) || !isfinite(x->d.y0) || !isfinite(x->d.x1) || !isfinite(x->d.y1) ||
            !isfinite(x->time) || x->track < BFIO_TRACK_NONE || (e->video && x->frame < 0))
            return 0;
    }
    return e->n == 0 || e->v != NULL;
}

/* Every prefix of a good entry is refused; every byte replaced by each of a
 * few telling ones is refused with a message or read as a well-formed entry.
 * Each text is copied to a buffer of its exact size, so ASan sees a read one
 * past the end. */
static void test_mutations(const char *good, size_t len)
{
    int refused = 0, accepted = 0, bad = 0;
    for (size_t cut = 0; cut < len; cut++) {
        char *t = malloc(cut ? cut : 1);
        memcpy(t, good, cut);
        bfio_journal_entry e;
        bfio_err err = {{0}};
        if (bfio_journal_parse(t, cut, &want, &e, &err) == 0) {
            bad++;
            bfio_journal_entry_free(&e);
        } else if (!err.msg[0]) {
            bad++;
        }
        free(t);
    }
    static const char bytes[] = {0, '\n', ' ', '-', '9', 'x', '.', 'p', '\r', (char)0xff};
    for (size_t at = 0; at < len; at++) {
        for (size_t b = 0; b < sizeof bytes; b++) {
            if (good[at] == bytes[b])
                continue;
            char *t = malloc(len);
            memcpy(t, good, len);
            t[at] = bytes[b];
            bfio_journal_entry e;
            bfio_err err = {{0}};
            if (bfio_journal_parse(t, len, &want, &e, &err) == 0) {
                accepted++;
                bad += !well_formed(&e);
                bfio_journal_entry_free(&e);
            } else {
                refused++;
                bad += !err.msg[0] || e.v != NULL || e.n != 0;
            }
            free(t);
        }
    }
    CHECK(bad == 0);
    /* Most mutations break the entry; a few are still entries (a digit of a
     * number changed), and those must be read, not refused. */
    CHECK(refused > 0 && accepted > 0);
}

int main(void)
{
    tmpdir_create("test_journal");
    test_paths();
    test_write_exact();
    test_round_trip();
    test_hostile_corpus();
    test_mutations(image_text, sizeof image_text - 1);
    test_mutations(video_text, sizeof video_text - 1);
    int rc = check_finish("test_journal");
    if (rc == 0)
        tmpdir_remove();
    return rc;
}
