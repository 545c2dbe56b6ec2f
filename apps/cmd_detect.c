/*
 * cmd_detect.c - `bitfalcon detect`: run the detector on image files and folders.
 *
 * For each input: read, decode (by content), detect, then write what was
 * asked for. Every output file is written atomically (temp + rename), so an
 * interrupted run leaves whole files or none. A bad input is reported on
 * stderr and skipped; the others are still processed and written.
 *
 * Batches (docs/batch.md):
 *  --resume   an input is skipped when every output asked for already exists:
 *             DIR/REL.txt (--txt), DIR/REL.jpg (--draw) and, for --json, its
 *             journal entry. Atomic writes make "exists" mean "complete".
 *             --json is one array for all inputs, so it cannot be appended to
 *             safely; with --resume each image's detections are journaled
 *             instead, atomically, in DIR/.bitfalcon-journal/HH/HASH.det
 *             (src/io/journal.h: exact floats with the input path and a
 *             fingerprint of the model and thresholds), and the JSON file is
 *             assembled from the journal at the end, in input order: byte for
 *             byte what a run without --resume writes. An entry whose path or
 *             fingerprint differs, or that is not whole, is not trusted: that
 *             input runs again.
 *             A video gets an entry with every --resume (its detections
 *             with frame, time and track, the outputs written, whole or
 *             damaged), written when it is finished: a video is done when
 *             its entry says whole with the outputs asked for, and its
 *             --draw and --mot files exist (docs/video.md).
 *  --shard K/N  only the inputs whose relative path REL hashes (64-bit FNV-1a)
 *             to K-1 mod N: N runs with K = 1..N together process every input
 *             once, whatever the order, and adding files moves no others.
 *
 * Careless use (docs/batch.md, "What happens when"): every output target is
 * checked before the first image, and a run that would overwrite an input, the
 * model, an existing image with JSON, or write into a folder or block device
 * is refused with exit 2. The output folder is not walked as an input. On
 * SIGINT/SIGTERM the current image is finished, the outputs of the images done
 * are written, and the exit status is 128 + the signal; a second signal exits
 * at once.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "bitfalcon.h"
#include "classes.h"
#include "commands.h"
#include "detect_video.h"
#include "detfile.h"
#include "draw.h"
#include "files.h"
#include "image.h"
#include "inputs.h"
#include "journal.h"
#include "labels.h"
#include "model_path.h"
#include "report.h"
#include "track_opts.h"
#include "txt_out.h"

#define DRAW_JPEG_QUALITY 90

static void help(void)
{
    printf("Usage: bitfalcon detect [OPTIONS] PATH...\n"
           "\n"
           "Detects objects in images and videos. PATH is an image file (JPEG, PNG or BMP),\n"
           "a video file (mp4, mkv, avi, mov, webm, ...: any container and codec FFmpeg\n"
           "reads), each recognised by content, or a folder, searched recursively for .jpg\n"
           ".jpeg .png .bmp and .mp4 .m4v .mkv .avi .mov .webm files (hidden files skipped,\n"
           "symbolic links followed). Videos need a build with FFmpeg (BITFALCON_VIDEO).\n"
           "\n"
           "Options:\n"
           "  -m, --model FILE    model file (default:\n"
           "                      " BF_MODEL_DEFAULT_HELP ")\n"
           "  -o, --output DIR    folder for --txt and --draw outputs (default: out)\n"
           "      --json FILE     write all detections to FILE as one JSON array of\n"
           "                      {\"file\", \"class\", \"name\", \"score\", \"bbox\": [x, y, w, h]}\n"
           "                      in original image pixels ('-' for stdout)\n"
           "      --txt           write DIR/REL.txt per image in YOLO format with confidence:\n"
           "                      'class cx cy w h conf', normalised (empty: no objects)\n"
           "      --draw          write DIR/REL.jpg per image with the boxes drawn\n"
           "      --size N        network input size, a multiple of 32 in 32..4096\n"
           "                      (default: the model's, 640)\n"
           "      --conf X        confidence threshold (default 0.25)\n"
           "      --iou X         NMS IoU threshold (default 0.7)\n"
           "      --max-det N     at most N detections per image (default 300)\n"
           "      --classes LIST  only these classes: ids or the model's names, comma-separated\n"
           "                      (\"0,2\", \"person,traffic light\")\n"
           "      --threads N     worker threads (default: all cores)\n"
           "      --isa NAME      kernel path: auto, ref, avx2, ... (default auto)\n"
           "      --resume        skip inputs whose outputs all exist (needs --txt,\n"
           "                      --draw, --json or --mot; a video is done when it was\n"
           "                      finished whole, per its journal entry); with --json, use it from the\n"
           "                      first run on: each image's detections are kept in\n"
           "                      DIR/.bitfalcon-journal/, FILE is built from them\n"
           "      --shard K/N     only the K-th of N shards (1 <= K <= N): the inputs\n"
           "                      whose path REL hashes to K-1 mod N (docs/batch.md)\n"
           "      --vid-stride N  videos: detect every N-th frame (default 1)\n"
           "      --track         videos: ByteTrack IDs across frames (\"track\" in --json,\n"
           "                      #ID drawn, track=ID printed; docs/video.md)\n"
           "      --mot FILE      videos: also write MOT Challenge text of the tracks\n"
           "                      (frame,id,left,top,w,h,conf,-1,-1,-1; implies --track): FILE\n"
           "                      holds one video; --mot DIR/ (a trailing / or a folder) writes\n"
           "                      DIR/REL.txt for each video\n");
    bf_track_options_help(stdout, 22);
    printf(
           "      --no-exif       ignore JPEG EXIF orientation: detect on the frame as stored\n"
           "                      (by default it is turned as viewers show it, boxes in that frame)\n"
           "  -h, --help          show this help\n"
           "\n"
           "Videos (docs/video.md): --json detections gain \"frame\" (0-based) and \"time\"\n"
           "(seconds); --txt writes DIR/REL/NNNNNN.txt per detected frame; --draw writes\n"
           "DIR/REL.mp4 (H.264; .avi MJPEG without libx264), every frame at the source's\n"
           "rate. A damaged video keeps the frames before the damage and counts as failed.\n"
           "\n"
           "REL is the input's path relative to the folder argument it was found in (a\n"
           "file argument: its name), without its extension; so photos/a/x.jpg and\n"
           "photos/b/x.jpg from 'detect photos' go to DIR/a/x.* and DIR/b/x.*.\n"
           "Without --json, --txt or --draw, detections are printed on stdout, one per line:\n"
           "  PATH: NAME SCORE x=X y=Y w=W h=H\n"
           "\n"
           "Exit status: 0 all inputs succeeded; 1 some inputs failed (each reported on\n"
           "stderr as 'bitfalcon: PATH: CAUSE', the others' results were written);\n"
           "2 usage error, the model could not be loaded, or an output would overwrite an\n"
           "input, the model or an image, or cannot be written (checked before any work);\n"
           "130/143 interrupted by SIGINT/SIGTERM (the images done are written).\n");
}

enum { OPT_MODEL = 1, OPT_OUTPUT, OPT_JSON, OPT_TXT, OPT_DRAW, OPT_SIZE, OPT_CONF, OPT_IOU,
       OPT_MAXDET, OPT_THREADS, OPT_ISA, OPT_RESUME, OPT_SHARD, OPT_HELP, OPT_VID_STRIDE,
       OPT_NO_EXIF, OPT_TRACK, OPT_MOT };

enum { OPT_CLASSES = 100 };

static const bf_opt options[] = {
    {"model", 'm', 1, OPT_MODEL},   {"output", 'o', 1, OPT_OUTPUT}, {"json", 0, 1, OPT_JSON},
    {"txt", 0, 0, OPT_TXT},         {"draw", 0, 0, OPT_DRAW},       {"size", 0, 1, OPT_SIZE},
    {"conf", 0, 1, OPT_CONF},       {"iou", 0, 1, OPT_IOU},         {"max-det", 0, 1, OPT_MAXDET},
    {"threads", 0, 1, OPT_THREADS}, {"isa", 0, 1, OPT_ISA},         {"resume", 0, 0, OPT_RESUME},
    {"shard", 0, 1, OPT_SHARD},     {"help", 'h', 0, OPT_HELP},     {"vid-stride", 0, 1, OPT_VID_STRIDE},
    {"classes", 0, 1, OPT_CLASSES}, {"no-exif", 0, 0, OPT_NO_EXIF},
    {"track", 0, 0, OPT_TRACK},     {"mot", 0, 1, OPT_MOT},         BF_TRACK_OPT_ENTRIES,
    {NULL, 0, 0, 0},
};

typedef struct job {
    size_t input;  /* index into the inputs */
    char *out_base; /* DIR/REL without extension, or NULL when no file outputs */
    char *journal;  /* its journal file (--resume), else NULL */
    char *mot;      /* --mot DIR/: its MOT file DIR/REL.txt, else NULL */
    size_t mot_slot; /* --mot: its MOT file's entry in mot_owner (one per file) */
} job;

static int by_out_base(const void *a, const void *b)
{
    const job *x = a, *y = b;
    int c = strcmp(x->out_base, y->out_base);
    return c ? c : (x->input < y->input ? -1 : x->input > y->input);
}

/* Two inputs whose outputs would land on the same file (x.jpg and x.png in
 * one folder, or the same relative path under two folder arguments): the
 * later one is reported and skipped rather than silently overwriting. This
 * looks at every input, sharded or not, so all shards skip the same ones;
 * only the shard an input belongs to reports it. */
static int check_collisions(job *jobs, size_t n, bf_inputs *in)
{
    int failures = 0;
    job *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return -1;
    memcpy(sorted, jobs, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_out_base);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(sorted[i].out_base, sorted[i - 1].out_base) != 0)
            continue;
        size_t first = i - 1;
        while (first > 0 && strcmp(sorted[first - 1].out_base, sorted[i].out_base) == 0)
            first--;
        in->items[sorted[i].input].skip = 1;
        if (!in->items[sorted[i].input].in_shard)
            continue; /* another shard reports it */
        bf_report_failure(in->items[sorted[i].input].path,
                          "its outputs %s.* would overwrite those of %s; skipped",
                          sorted[i].out_base, in->items[sorted[first].input].path);
        failures++;
    }
    free(sorted);
    return failures;
}

typedef struct detect_ctx {
    bf_model *model;
    bf_detector *det;
    int want_txt, want_draw, want_json, want_print;
    int journal;           /* --resume with --json: detections go to journal files */
    const char *fingerprint; /* model and thresholds, checked when reading a journal */
    int resume;            /* --resume: also every video gets a journal entry */
    const char *video_fingerprint; /* the fingerprint and the video options, for videos' entries */
    bfio_detfile_writer json;
    /* The JSON text goes out in pieces as it grows, so memory stays flat however
     * many images there are: to a hidden temporary renamed over FILE at the end,
     * or straight into stdout ('-'), a device or a FIFO (files.h). */
    int json_state; /* 0 no JSON, 1 open */
    bfio_atomic_file json_file;
    int vid_stride; /* --vid-stride */
    int track;      /* --track */
    bt_config track_cfg; /* --track-high ... --match */
    const char *mot_path; /* --mot FILE or DIR/ */
    char **mot_owner;     /* per MOT file: the one video it holds (strdup'ed), or NULL */
    unsigned image_flags; /* bfio_image_load_ex: BFIO_IMAGE_NO_EXIF with --no-exif */
} detect_ctx;

#define JSON_FLUSH_BYTES ((size_t)1 << 20)

static void json_flush(detect_ctx *c, int force)
{
    bfio_sb *sb = &c->json.sb;
    if (c->json_state <= 0 || sb->failed || (!force && sb->len < JSON_FLUSH_BYTES))
        return;
    bfio_err err; /* a failed write is sticky: commit reports it */
    (void)bfio_atomic_write(&c->json_file, sb->data, sb->len, &err);
    bfio_sb_clear(sb);
}

/* --- the --resume journal (src/io/journal.h has its format) ------------------ */

/* A video's entry is trusted only with the same options that change a
 * video's results: --vid-stride and the tracker's. */
static char *make_video_fingerprint(const char *fingerprint, int vid_stride, int track,
                                    const bt_config *t)
{
    bfio_sb sb;
    bfio_sb_init(&sb);
    bfio_sb_printf(&sb, "%s video vid-stride %d track %d", fingerprint, vid_stride, track);
    if (track)
        bfio_sb_printf(&sb, " high %a low %a new %a match %a buffer %d", (double)t->track_high,
                       (double)t->track_low, (double)t->new_track, (double)t->match, t->buffer);
    if (sb.failed) {
        bfio_sb_free(&sb);
        return NULL;
    }
    return sb.data;
}

/* --mot DIR/: DIR/REL.txt (REL without its extension). */
static char *mot_file_of(const char *mot_dir, const char *rel)
{
    char *rel_noext = bfio_path_replace_ext(rel, "");
    char *base = rel_noext ? bfio_path_join(mot_dir, rel_noext) : NULL;
    char *p = base ? malloc(strlen(base) + 5) : NULL;
    if (p)
        sprintf(p, "%s.txt", base);
    free(rel_noext);
    free(base);
    return p;
}

static const job *mot_sort_jobs; /* for by_mot_file: qsort has no context argument */

static int by_mot_file(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(mot_sort_jobs[x].mot, mot_sort_jobs[y].mot);
    return c ? c : (x < y ? -1 : x > y);
}

/* Gives every input the entry (mot_slot) of its MOT file in the returned
 * owner table: all share entry 0 with --mot FILE; with --mot DIR/ the inputs
 * whose DIR/REL.txt is the same file (a.mp4 and a.mkv in one folder) share
 * one, so the second video is refused as with FILE instead of overwriting
 * the first one's tracks. NULL: out of memory. */
static char **assign_mot_slots(job *jobs, size_t n)
{
    char **owner = calloc(n + 1, sizeof *owner);
    if (!owner || n == 0 || !jobs[0].mot)
        return owner;
    size_t *order = malloc(n * sizeof *order);
    if (!order) {
        free(owner);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    mot_sort_jobs = jobs;
    qsort(order, n, sizeof *order, by_mot_file);
    for (size_t k = 0; k < n; k++)
        jobs[order[k]].mot_slot =
            k && strcmp(jobs[order[k]].mot, jobs[order[k - 1]].mot) == 0 ? jobs[order[k - 1]].mot_slot
                                                                          : order[k];
    free(order);
    return owner;
}

/* Reads input_path's entry: 1 and *e (free e->v) when it is complete and
 * made for this input with these settings (an image's with c->fingerprint,
 * a video's with c->video_fingerprint), 0 when it is missing or not to be
 * trusted: why does not matter here, the input then simply runs again. */
static int journal_read(const detect_ctx *c, const char *file, const char *input_path,
                        bfio_journal_entry *e)
{
    bfio_journal_want want = {input_path, c->fingerprint, c->video_fingerprint,
                              bf_model_num_classes(c->model)};
    bfio_err err;
    return bfio_journal_read(file, &want, e, &err) == 0;
}

static int file_exists(const char *base, const char *ext)
{
    size_t n = strlen(base) + strlen(ext) + 1;
    char *p = malloc(n);
    if (!p)
        return 0;
    snprintf(p, n, "%s%s", base, ext);
    struct stat st;
    int yes = stat(p, &st) == 0 && S_ISREG(st.st_mode);
    free(p);
    return yes;
}

/* The outputs a video is asked for, as its journal entry records them. */
static unsigned video_outputs_wanted(const detect_ctx *c)
{
    return (c->want_txt ? BFIO_JOURNAL_TXT : 0) | (c->want_draw ? BFIO_JOURNAL_DRAW : 0) | (c->mot_path ? BFIO_JOURNAL_MOT : 0);
}

/* --resume, a video: its entry (written last, so it exists only for a video
 * that was finished) says it decoded whole with these outputs, and the files
 * that can be checked exist (the per-frame --txt files are trusted to the
 * entry). A --mot file holding one video becomes this video's, as if it had
 * been run now. */
static int video_done(detect_ctx *c, const bf_input *input, const job *j, const bfio_journal_entry *e)
{
    unsigned want = video_outputs_wanted(c);
    if (!e->whole || (e->outputs & want) != want)
        return 0;
    const char *ext = bf_detect_video_draw_ext();
    if (c->want_draw && !(ext && file_exists(j->out_base, ext)))
        return 0;
    if (c->mot_path) {
        char **owner = &c->mot_owner[j->mot_slot];
        if (!file_exists(j->mot ? j->mot : c->mot_path, "") || *owner)
            return 0; /* gone, or another video of this run holds the file */
        if (!(*owner = strdup(input->path)))
            return 0;
    }
    return 1;
}

/* --resume: every output asked for is already there. A video is known by its
 * journal entry, which --resume writes for every video (an image has one only
 * with --json); without one an input counts as an image, done when the image
 * outputs asked for exist, and at least one is asked for (else it could be a
 * video never run, with --mot only). */
static int already_done(detect_ctx *c, const bf_input *input, const job *j)
{
    bfio_journal_entry e;
    int have = j->journal && journal_read(c, j->journal, input->path, &e);
    if (have && e.video) {
        free(e.v);
        return video_done(c, input, j, &e);
    }
    if (have)
        free(e.v);
    if (!c->want_txt && !c->want_draw && !c->journal)
        return 0;
    if (c->want_txt && !file_exists(j->out_base, ".txt"))
        return 0;
    if (c->want_draw && !file_exists(j->out_base, ".jpg"))
        return 0;
    return !c->journal || have;
}

static const char *class_name(const detect_ctx *c, int id, char *buf, size_t n)
{
    const char *name = bf_model_class_name(c->model, id);
    if (name)
        return name;
    snprintf(buf, n, "class%d", id);
    return buf;
}

/* An entry's detections into the JSON: an image's as add_json, a video's
 * with frame, time and track. */
static void add_json_entry(detect_ctx *c, const char *path, const bfio_journal_entry *e)
{
    char buf[32];
    for (size_t i = 0; i < e->n; i++) {
        const bf_detection *d = &e->v[i].d;
        bfio_detfile_add_video(&c->json, path, d->class_id, class_name(c, d->class_id, buf, sizeof buf),
                               d->score, d->x0, d->y0, d->x1, d->y1, e->v[i].frame, e->v[i].time,
                               e->v[i].track);
    }
}

static void add_json(detect_ctx *c, const char *path, const bf_detection *d, size_t n)
{
    char buf[32];
    for (size_t i = 0; i < n; i++)
        bfio_detfile_add(&c->json, path, d[i].class_id, class_name(c, d[i].class_id, buf, sizeof buf),
                         d[i].score, d[i].x0, d[i].y0, d[i].x1, d[i].y1);
}

static volatile sig_atomic_t stop_signal; /* defined with the handlers below */

static void json_flush_cb(void *ctx) { json_flush(ctx, 0); }

/* Processes one image; returns 0, or -1 after reporting a failure. */
static int process(detect_ctx *c, const bf_input *input, const job *j)
{
    const char *out_base = j->out_base;
    bfio_image img;
    bfio_err err;
    bf_error berr;
    /* A video goes to detect_video.c; what is not one is an image. Its
     * detections go straight into the JSON; with --resume into its journal
     * entry instead, written when the video is finished (also when damaged:
     * the JSON is built from it; only a whole one counts as done), so that a
     * resumed run skips it. */
    bf_video_dets coll = {0};
    bf_video_job vj = {c->det, c->model, out_base, c->want_txt, c->want_draw, c->want_print,
                       c->want_json && !c->resume ? &c->json : NULL, json_flush_cb, c,
                       c->vid_stride, &stop_signal, 0, 0, c->track, &c->track_cfg,
                       c->mot_path ? (j->mot ? j->mot : c->mot_path) : NULL,
                       c->mot_path ? &c->mot_owner[j->mot_slot] : NULL, c->resume ? &coll : NULL};
    int vrc = bf_detect_video(&vj, input->path);
    if (vrc != BF_VIDEO_NOT_VIDEO) {
        if (c->resume && !stop_signal && !coll.failed) {
            bfio_journal_entry e = {1, vrc == 0 ? video_outputs_wanted(c) : 0, vrc == 0, coll.v, coll.n};
            if (bfio_journal_write_video(j->journal, input->path, c->video_fingerprint, &e, &err) != 0) {
                bf_report_failure(j->journal, "%s", err.msg);
                vrc = -1;
            }
        }
        bf_video_dets_free(&coll);
        return vrc;
    }
    if (bfio_image_load_ex(input->path, c->image_flags, &img, &err) != 0) {
        bf_report_failure(input->path, "%s", err.msg);
        return -1;
    }
    if (bf_detector_run(c->det, img.pixels, img.width, img.height, img.stride, BF_PIXEL_RGB,
                        &berr) != BF_OK) {
        bf_report_path_message(input->path, berr.message);
        bfio_image_free(&img);
        return -1;
    }
    size_t n = 0;
    const bf_detection *d = bf_detector_results(c->det, &n);
    char buf[32];
    int rc = 0;

    if (c->want_print) {
        if (n == 0)
            printf("%s: no objects\n", input->path);
        for (size_t i = 0; i < n; i++)
            printf("%s: %s %.2f x=%.1f y=%.1f w=%.1f h=%.1f\n", input->path,
                   class_name(c, d[i].class_id, buf, sizeof buf), d[i].score, d[i].x0, d[i].y0,
                   d[i].x1 - d[i].x0, d[i].y1 - d[i].y0);
    }
    if (c->want_json && !c->journal)
        add_json(c, input->path, d, n);
    if (c->want_txt) {
        char *txt = malloc(strlen(out_base) + 5);
        if (txt)
            sprintf(txt, "%s.txt", out_base);
        if (bf_write_txt_labels(txt, input->path, d, n, img.width, img.height) != 0)
            rc = -1;
        free(txt);
    }
    if (c->want_draw && rc == 0) {
        /* Lowest score first, so the most confident boxes end up on top. */
        for (size_t k = n; k-- > 0;) {
            char label[80];
            snprintf(label, sizeof label, "%s %.2f", class_name(c, d[k].class_id, buf, sizeof buf),
                     d[k].score);
            bfio_draw_detection(&img, d[k].x0, d[k].y0, d[k].x1, d[k].y1, label,
                                bfio_class_color(d[k].class_id));
        }
        char *jpg = malloc(strlen(out_base) + 5);
        if (!jpg) {
            bf_report_failure(input->path, "out of memory");
            rc = -1;
        } else {
            sprintf(jpg, "%s.jpg", out_base);
            if (bfio_mkdirs_for_file(jpg, &err) != 0 ||
                bfio_jpeg_save(jpg, &img, DRAW_JPEG_QUALITY, &err) != 0) {
                bf_report_failure(jpg, "%s", err.msg);
                rc = -1;
            }
            free(jpg);
        }
    }
    /* Last: an image counts as done for --resume only once everything else is written. */
    if (c->journal && rc == 0 &&
        bfio_journal_write_image(j->journal, input->path, c->fingerprint, d, n, &err) != 0) {
        bf_report_failure(j->journal, "%s", err.msg);
        rc = -1;
    }
    bfio_image_free(&img);
    return rc;
}

/* --- SIGINT / SIGTERM ------------------------------------------------------ */

/* While the images are processed, the first signal only asks the loop to stop
 * after the current image; the second exits at once, removing the JSON
 * temporary first (its path is copied here beforehand: the handler may call
 * only async-signal-safe functions). Before the loop (loading the model,
 * walking the folders, opening a FIFO that waits for its reader) nothing is
 * written yet, so the first signal exits at once. */
static volatile sig_atomic_t stop_signal = 0;
static volatile sig_atomic_t in_loop = 0;
static char json_tmp_for_signal[4096];

static void on_stop_signal(int sig)
{
    if (stop_signal || !in_loop) {
        if (json_tmp_for_signal[0])
            unlink(json_tmp_for_signal);
        _exit(128 + sig);
    }
    stop_signal = sig;
}

static void install_stop_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* reads and writes go on; the loop checks the flag */
    static const int sigs[] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++) {
        /* An ignored signal stays ignored: a shell starts background jobs and
         * nohup its command with SIGINT ignored, on purpose. */
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

/* --- outputs checked before any work --------------------------------------- */

typedef struct file_id {
    unsigned long long dev, ino;
    size_t input;
} file_id;

static int by_id(const void *a, const void *b)
{
    const file_id *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* The input whose file is `path` (links followed), or -1. */
static long find_input(const file_id *ids, size_t n, const char *path)
{
    struct stat st;
    if (n == 0 || stat(path, &st) != 0)
        return -1;
    file_id key = {(unsigned long long)st.st_dev, (unsigned long long)st.st_ino, 0};
    const file_id *hit = bsearch(&key, ids, n, sizeof *ids, by_id);
    return hit ? (long)hit->input : -1;
}

static int same_file(const char *a, const char *b)
{
    struct stat x, y;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* Refuses (reports, returns the count of problems) every --txt/--draw output
 * that is an existing input file: "-o photos photos" would replace the photos
 * with their annotated copies. Checked over all inputs, sharded or not. */
static int check_outputs_vs_inputs(const job *jobs, const bf_inputs *in, int want_txt,
                                   int want_draw, const file_id *ids)
{
    int problems = 0;
    const char *exts[2] = {want_draw ? ".jpg" : NULL, want_txt ? ".txt" : NULL};
    for (size_t i = 0; i < in->count; i++) {
        for (int k = 0; k < 2; k++) {
            if (!exts[k])
                continue;
            size_t len = strlen(jobs[i].out_base) + 5;
            char *p = malloc(len);
            if (!p)
                return problems + 1;
            snprintf(p, len, "%s%s", jobs[i].out_base, exts[k]);
            long hit = find_input(ids, in->count, p);
            if (hit >= 0) {
                const char *opt = k == 0 ? "--draw" : "--txt";
                if (problems >= 10)
                    ; /* counted, summarised below */
                else if ((size_t)hit == i)
                    bf_report_failure(p, "is an input; %s would overwrite it with its own result "
                                      "(choose an output folder, -o, outside the inputs)", opt);
                else
                    bf_report_failure(p, "is the input %s; %s for %s would overwrite it (choose "
                                      "an output folder, -o, outside the inputs)", in->items[hit].path,
                                      opt, in->items[i].path);
                problems++;
            }
            free(p);
        }
    }
    if (problems > 10)
        bf_report_message("... %d outputs in all would overwrite inputs", problems);
    return problems;
}

/* The --json target: not a folder or block device (bfio_output_resolve), not
 * an input, not the model, not an existing image (`detect --json shots/IMG*`
 * the file name forgotten, would turn the first photo into JSON). */
static int check_json_target(const char *json_path, const char *model_path, const file_id *ids,
                             const bf_inputs *in)
{
    bfio_output o;
    bfio_err err;
    if (bfio_output_resolve(json_path, &o, &err) != 0) {
        bf_report_failure(json_path, "%s (the --json output)", err.msg);
        return -1;
    }
    int rc = 0;
    if (o.kind == BFIO_OUT_REGULAR) {
        long hit = find_input(ids, in->count, o.target);
        if (hit >= 0) {
            bf_report_failure(json_path, "is the input %s; refusing to overwrite it with --json",
                              in->items[hit].path);
            rc = -1;
        } else if (same_file(o.target, model_path)) {
            bf_report_failure(json_path, "is the model; refusing to overwrite it with --json");
            rc = -1;
        } else if (bfio_file_looks_like_image(o.target)) {
            bf_report_failure(json_path, "exists and is an image; refusing to replace it with "
                              "--json (was the JSON file name forgotten?)");
            rc = -1;
        }
    }
    free(o.target);
    return rc;
}

/* "K/N" with 1 <= K <= N <= 1000000. */
static int parse_shard(const char *s, unsigned *k, unsigned *n)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*s)) /* strtoul would skip spaces and take a sign */
        return -1;
    unsigned long a = strtoul(s, &end, 10);
    if (*end != '/' || errno || !isdigit((unsigned char)end[1]))
        return -1;
    const char *t = end + 1;
    unsigned long b = strtoul(t, &end, 10);
    if (*end || errno)
        return -1;
    if (a < 1 || b < 1 || a > b || b > 1000000)
        return -1;
    *k = (unsigned)a;
    *n = (unsigned)b;
    return 0;
}

/* --- the command line ------------------------------------------------------ */

typedef struct detect_args {
    const char **paths; /* the PATH arguments (argv's strings) */
    size_t n_paths;
    const char *classes; /* --classes */
    const char *model_path, *out_dir, *json_path, *isa, *mot_path;
    int want_txt, want_draw, resume, vid_stride, no_exif, track;
    unsigned shard_k, shard_n;
    bt_config track_cfg;
    bf_options opt;
} detect_args;

/* The options into d; 1 when one was wrong (reported), else 0. */
static int parse_options(int argc, char **argv, detect_args *d, int *help_shown)
{
    bf_args a;
    bf_args_init(&a, argc, argv);
    int id, bad = 0;
    const char *v;
    while (!bad && (id = bf_args_next(&a, options, &v)) != BF_ARG_END) {
        switch (id) {
        case BF_ARG_POSITIONAL: d->paths[d->n_paths++] = v; break;
        case OPT_MODEL: d->model_path = v; break;
        case OPT_OUTPUT: d->out_dir = v; break;
        case OPT_JSON: d->json_path = v; break;
        case OPT_TXT: d->want_txt = 1; break;
        case OPT_DRAW: d->want_draw = 1; break;
        case OPT_SIZE:
            /* The engine's range (BF_MAX_INPUT_SIZE in src/core/model.h), checked
             * here so that a wrong size is blamed on the option, not the model. */
            bad = bf_args_int(&a, v, 32, 4096, &d->opt.input_size) != 0;
            if (!bad && d->opt.input_size % 32 != 0) {
                fprintf(stderr, "bitfalcon detect: --size %d is not a multiple of 32\n",
                        d->opt.input_size);
                bad = 1;
            }
            break;
        case OPT_CONF: bad = bf_args_float(&a, v, 0.0, 1.0, &d->opt.conf_threshold) != 0; break;
        case OPT_IOU: bad = bf_args_float(&a, v, 0.0, 1.0, &d->opt.iou_threshold) != 0; break;
        case OPT_MAXDET: bad = bf_args_int(&a, v, 1, 100000, &d->opt.max_detections) != 0; break;
        case OPT_THREADS: bad = bf_args_int(&a, v, 0, 1024, &d->opt.threads) != 0; break;
        case OPT_ISA: d->isa = v; break;
        case OPT_RESUME: d->resume = 1; break;
        case OPT_VID_STRIDE: bad = bf_args_int(&a, v, 1, 1000000, &d->vid_stride) != 0; break;
        case OPT_SHARD:
            if (parse_shard(v, &d->shard_k, &d->shard_n) != 0) {
                fprintf(stderr, "bitfalcon detect: --shard: '%s' is not K/N with 1 <= K <= N\n", v);
                bad = 1;
            }
            break;
        case OPT_CLASSES: d->classes = v; break;
        case OPT_NO_EXIF: d->no_exif = 1; break;
        case OPT_TRACK: d->track = 1; break;
        case OPT_MOT:
            d->mot_path = v;
            d->track = 1;
            if (!*v) {
                fprintf(stderr, "bitfalcon detect: the --mot file name is empty\n");
                bad = 1;
            }
            break;
        case OPT_HELP:
            help();
            *help_shown = 1;
            return 0;
        default:
            if (bf_track_option(&a, id, v, &d->track_cfg, &bad))
                d->track = 1;
            else
                bad = 1; /* BF_ARG_ERROR: already printed */
            break;
        }
    }
    if (!bad && d->track && bf_track_options_check(&a, &d->track_cfg) != 0)
        bad = 1;
    return bad;
}

/* The options and the combinations of them that make sense, and the model
 * to use. 0 to go on; BF_EXIT_OK after --help (*help_shown); BF_EXIT_USAGE
 * (reported) otherwise. d->paths is to be freed in every case. */
static int parse_args(int argc, char **argv, detect_args *d, int *help_shown)
{
    memset(d, 0, sizeof *d);
    d->out_dir = "out";
    d->vid_stride = 1;
    bt_config_default(&d->track_cfg);
    bf_options_default(&d->opt);
    *help_shown = 0;
    if (!(d->paths = calloc((size_t)argc + 1, sizeof *d->paths))) {
        fprintf(stderr, "bitfalcon detect: out of memory\n");
        return BF_EXIT_USAGE;
    }
    int bad = parse_options(argc, argv, d, help_shown);
    if (*help_shown)
        return BF_EXIT_OK;
    if (!bad && d->n_paths == 0) {
        fprintf(stderr, "bitfalcon detect: no images given (see 'bitfalcon detect --help')\n");
        bad = 1;
    }
    if (!bad && d->resume && !d->want_txt && !d->want_draw && !d->json_path && !d->mot_path) {
        fprintf(stderr, "bitfalcon detect: --resume needs --txt, --draw, --json FILE or --mot\n");
        bad = 1;
    }
    if (!bad && (d->want_txt || d->want_draw || d->resume) && !*d->out_dir) {
        fprintf(stderr, "bitfalcon detect: the output folder name is empty\n");
        bad = 1;
    }
    if (bad)
        return BF_EXIT_USAGE;
    d->opt.isa = d->isa;
    if (!d->model_path) {
        const char *looked = NULL;
        if (!(d->model_path = bf_default_model(&looked))) {
            bf_report_message("%s", looked);
            return BF_EXIT_USAGE;
        }
    }
    return 0;
}

/* The model and the detector (with --classes), and what the run is asked
 * for. 0, or -1 after reporting why not. */
static int open_engine(const detect_args *d, detect_ctx *c)
{
    bf_error berr;
    if (bf_model_open(d->model_path, &c->model, &berr) != BF_OK) {
        bf_report_path_message(d->model_path, berr.message);
        return -1;
    }
    if (bf_detector_create(c->model, &d->opt, &c->det, &berr) != BF_OK) {
        bf_report_path_message(d->model_path, berr.message);
        return -1;
    }
    if (d->classes && bf_classes_apply(d->classes, c->model, c->det) != 0)
        return -1; /* reported */
    c->want_txt = d->want_txt;
    c->want_draw = d->want_draw;
    c->want_json = d->json_path != NULL;
    c->want_print = !d->want_txt && !d->want_draw && !d->json_path;
    c->journal = d->resume && c->want_json;
    c->resume = d->resume;
    c->vid_stride = d->vid_stride;
    c->track = d->track;
    c->track_cfg = d->track_cfg;
    c->mot_path = d->mot_path;
    c->image_flags = d->no_exif ? BFIO_IMAGE_NO_EXIF : 0;
    return 0;
}

/* --- the run ---------------------------------------------------------------- */

/* A step's result besides 0 (go on) and an exit status: out of memory, for
 * which the run still writes what it can and exits 1. */
#define STEP_OOM (-1)

typedef struct detect_run {
    bf_inputs in;
    job *jobs;     /* per input */
    file_id *ids;  /* the inputs' files, sorted by identity */
    char *fingerprint, *video_fingerprint; /* --resume */
    int failures;
    size_t total;       /* inputs of this shard, not skipped */
    size_t n_processed; /* of them, reached before a signal */
    size_t done_before; /* --resume: found done */
} detect_run;

/* The output folder: made now, so that a name that is a file, or a folder
 * that cannot be made, stops the run before any work; and known by
 * identity, so that the walk does not take our own results as inputs. */
static int prepare_out_dir(const char *out_dir, bf_inputs *in)
{
    bfio_err err;
    struct stat st;
    if (stat(out_dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        bf_report_failure(out_dir, "not a folder (the -o output folder)");
        return BF_EXIT_USAGE;
    }
    if (bfio_mkdirs(out_dir, &err) != 0) {
        bf_report_failure(out_dir, "%s (the -o output folder)", err.msg);
        return BF_EXIT_USAGE;
    }
    if (access(out_dir, W_OK | X_OK) != 0) {
        bf_report_failure(out_dir, "%s (the -o output folder)", strerror(errno));
        return BF_EXIT_USAGE;
    }
    if (stat(out_dir, &st) == 0) {
        in->has_skip_dir = 1;
        in->skip_dev = (unsigned long long)st.st_dev;
        in->skip_ino = (unsigned long long)st.st_ino;
    }
    return 0;
}

/* The inputs, and per input its output names (DIR/REL, journal entry, MOT
 * file) and file identity. 0 or STEP_OOM. */
static int plan_jobs(const detect_args *d, const char *mot_dir, detect_ctx *c, detect_run *r)
{
    if (d->resume && !(r->fingerprint = bfio_journal_fingerprint(d->model_path, &d->opt, !d->no_exif)))
        return STEP_OOM;
    c->fingerprint = r->fingerprint;
    if (d->resume && !(r->video_fingerprint = make_video_fingerprint(r->fingerprint, d->vid_stride,
                                                                     d->track, &d->track_cfg)))
        return STEP_OOM;
    c->video_fingerprint = r->video_fingerprint;
    for (size_t i = 0; i < d->n_paths; i++)
        if (bf_inputs_add(&r->in, d->paths[i]) != 0)
            return STEP_OOM;
    r->failures = r->in.failures;
    const bf_inputs *in = &r->in;
    r->jobs = calloc(in->count + 1, sizeof *r->jobs);
    r->ids = calloc(in->count + 1, sizeof *r->ids);
    if (!r->jobs || !r->ids)
        return STEP_OOM;
    for (size_t i = 0; i < in->count; i++) {
        job *j = &r->jobs[i];
        r->ids[i] = (file_id){in->items[i].dev, in->items[i].ino, i};
        j->input = i;
        if (d->want_txt || d->want_draw) {
            char *rel_noext = bfio_path_replace_ext(in->items[i].rel, "");
            j->out_base = rel_noext ? bfio_path_join(d->out_dir, rel_noext) : NULL;
            free(rel_noext);
            if (!j->out_base)
                return STEP_OOM;
        }
        if (d->resume && !(j->journal = bfio_journal_path(d->out_dir, in->items[i].path)))
            return STEP_OOM;
        if (mot_dir && !(j->mot = mot_file_of(mot_dir, in->items[i].rel)))
            return STEP_OOM;
    }
    if (d->mot_path && !(c->mot_owner = assign_mot_slots(r->jobs, in->count)))
        return STEP_OOM;
    qsort(r->ids, in->count, sizeof *r->ids, by_id);
    return 0;
}

/* The --json target checked and opened now, so that one that cannot be
 * written is found before the first image rather than after the last. */
static int open_json(const detect_args *d, detect_ctx *c, detect_run *r)
{
    bfio_err err;
    if (check_json_target(d->json_path, d->model_path, r->ids, &r->in) != 0)
        return BF_EXIT_USAGE;
    if ((strcmp(d->json_path, "-") != 0 && bfio_mkdirs_for_file(d->json_path, &err) != 0) ||
        bfio_atomic_open(&c->json_file, d->json_path, &err) != 0) {
        bf_report_failure(d->json_path, "%s (the --json output)", err.msg);
        return BF_EXIT_USAGE;
    }
    c->json_state = 1;
    bfio_detfile_begin(&c->json);
    const char *tmp = bfio_atomic_tmp_path(&c->json_file);
    if (tmp && strlen(tmp) < sizeof json_tmp_for_signal)
        memcpy(json_tmp_for_signal, tmp, strlen(tmp) + 1);
    return 0;
}

/* Everything checked before the first image: 0, an exit status, or STEP_OOM. */
static int start_run(const detect_args *d, detect_ctx *c, detect_run *r)
{
    r->in.shard_k = d->shard_k;
    r->in.shard_n = d->shard_n;
    /* --mot DIR/ (a trailing slash, or an existing folder): one MOT file per
     * video, DIR/REL.txt, as TrackEval lays out a tracker's results
     * (<seq>.txt); else FILE holds the one video of the run. */
    struct stat mot_st;
    const char *mot_dir = NULL;
    if (d->mot_path && (d->mot_path[strlen(d->mot_path) - 1] == '/' ||
                        (stat(d->mot_path, &mot_st) == 0 && S_ISDIR(mot_st.st_mode))))
        mot_dir = d->mot_path;
    int st;
    if ((d->want_txt || d->want_draw || d->resume) && /* --resume: the journal is in it */
        (st = prepare_out_dir(d->out_dir, &r->in)) != 0)
        return st;
    if ((st = plan_jobs(d, mot_dir, c, r)) != 0)
        return st;
    if ((d->want_txt || d->want_draw) &&
        check_outputs_vs_inputs(r->jobs, &r->in, d->want_txt, d->want_draw, r->ids))
        return BF_EXIT_USAGE;
    if (c->want_json && (st = open_json(d, c, r)) != 0)
        return st;
    if (d->want_txt || d->want_draw) {
        int f = check_collisions(r->jobs, r->in.count, &r->in);
        if (f < 0)
            return STEP_OOM;
        r->failures += f;
    }
    return 0;
}

/* Every input of this shard, until a signal; then, with the journal, the
 * JSON from it in input order. */
static void run_inputs(const detect_args *d, detect_ctx *c, detect_run *r)
{
    bf_inputs *in = &r->in;
    for (size_t i = 0; i < in->count; i++) {
        if (!in->items[i].in_shard)
            in->items[i].skip = 1;
        r->total += !in->items[i].skip;
    }
    size_t n_done = 0;
    in_loop = 1;
    for (size_t i = 0; i < in->count && !stop_signal; i++) {
        const bf_input *input = &in->items[i];
        if (input->skip)
            continue;
        bf_report_progress(++n_done, r->total, input->path);
        r->n_processed++;
        if (d->resume && already_done(c, input, &r->jobs[i])) {
            r->done_before++;
            continue;
        }
        if (process(c, input, &r->jobs[i]) != 0)
            r->failures++;
        json_flush(c, 0);
    }
    bf_report_progress_end();
    if (d->resume && bf_report_is_tty())
        bf_report_message("--resume: %zu of %zu input%s already done", r->done_before, r->total,
                          r->total == 1 ? "" : "s");
    for (size_t i = 0; c->journal && i < in->count; i++) {
        bfio_journal_entry e;
        if (!in->items[i].skip && journal_read(c, r->jobs[i].journal, in->items[i].path, &e)) {
            add_json_entry(c, in->items[i].path, &e);
            free(e.v);
            json_flush(c, 0);
        }
    }
}

/* The JSON committed, the --mot check, stdout flushed; the exit status. */
static int finish_run(const detect_args *d, detect_ctx *c, detect_run *r)
{
    if (c->want_json) {
        bfio_detfile_end(&c->json);
        bfio_err err;
        json_flush(c, 1);
        const char *shown = strcmp(d->json_path, "-") == 0 ? "stdout (--json -)" : d->json_path;
        if (c->json.sb.failed) {
            bf_report_failure(shown, "out of memory");
            bfio_atomic_abort(&c->json_file);
            r->failures++;
        } else if (bfio_atomic_commit(&c->json_file, &err) != 0) {
            bf_report_failure(shown, "%s", err.msg);
            r->failures++;
        }
        json_tmp_for_signal[0] = 0;
        c->json_state = 0;
    }
    int mot_written = 0;
    for (size_t i = 0; d->mot_path && i < r->in.count; i++)
        mot_written |= c->mot_owner[i] != NULL;
    if (d->mot_path && !mot_written && !stop_signal) {
        bf_report_failure(d->mot_path, "not written: no video among the inputs (--mot)");
        r->failures++;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        bf_report_failure("stdout", "write failed: %s", strerror(errno ? errno : EIO));
        r->failures++;
    }
    if (stop_signal) {
        /* Only the images finished are in the outputs; say how to go on. */
        int sig = stop_signal;
        bf_report_message("interrupted by %s after %zu of %zu input%s; the outputs of those "
                          "done are written. %s", sig == SIGINT ? "SIGINT" : "SIGTERM", r->n_processed,
                          r->total, r->total == 1 ? "" : "s",
                          d->resume ? "Run the same command again to do the rest."
                          : c->want_json ? "Run again with --resume to redo the run resumably "
                                           "(--json can be continued only when --resume was used "
                                           "from the first run on)."
                          : "Run the same command with --resume to do the rest.");
        return 128 + sig;
    }
    if (r->failures && bf_report_is_tty())
        bf_report_message("%d input%s failed", r->failures, r->failures == 1 ? "" : "s");
    return r->failures ? BF_EXIT_SOME_FAILED : BF_EXIT_OK;
}

static void free_run(detect_ctx *c, detect_run *r)
{
    for (size_t i = 0; r->jobs && i < r->in.count; i++) {
        free(r->jobs[i].out_base);
        free(r->jobs[i].journal);
        free(r->jobs[i].mot);
        if (c->mot_owner)
            free(c->mot_owner[i]);
    }
    free(c->mot_owner);
    free(r->jobs);
    free(r->ids);
    free(r->fingerprint);
    free(r->video_fingerprint);
    bf_inputs_free(&r->in);
    if (c->json_state == 1) { /* not committed: out of memory on the way */
        bfio_atomic_abort(&c->json_file);
        json_tmp_for_signal[0] = 0;
    }
    if (c->want_json)
        bfio_detfile_writer_free(&c->json);
}

int bf_cmd_detect(int argc, char **argv)
{
    detect_args d;
    int help_shown;
    int status = parse_args(argc, argv, &d, &help_shown);
    if (status != 0 || help_shown) {
        free(d.paths);
        return status;
    }
    install_stop_handlers();
    detect_ctx c = {0};
    if (open_engine(&d, &c) != 0) {
        status = BF_EXIT_USAGE;
    } else {
        detect_run r;
        memset(&r, 0, sizeof r);
        status = start_run(&d, &c, &r);
        if (status == 0) {
            run_inputs(&d, &c, &r);
            status = finish_run(&d, &c, &r);
        } else if (status == STEP_OOM) {
            bf_report_message("out of memory");
            status = BF_EXIT_SOME_FAILED;
        }
        free_run(&c, &r);
    }
    bf_detector_destroy(c.det);
    bf_model_close(c.model);
    free(d.paths);
    return status;
}
