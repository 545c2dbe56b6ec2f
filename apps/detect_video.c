/* detect_video.c - see detect_video.h. */
#include "detect_video.h"

#ifdef BF_HAVE_VIDEO

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bytetrack.h"
#include "draw.h"
#include "files.h"
#include "image.h"
#include "labels.h"
#include "report.h"
#include "strbuf.h"
#include "txt_out.h"
#include "video_names.h"
#include "video_reader.h"
#include "video_writer.h"

int bf_detect_video_supported(void) { return 1; }

const char *bf_detect_video_draw_ext(void) { return bfv_writer_extension(); }

void bf_video_dets_free(bf_video_dets *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static void collect_add(bf_video_dets *l, const bf_detection *d, long long frame, double time,
                        long long track)
{
    if (l->failed)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        bf_video_det *p = realloc(l->v, cap * sizeof *p);
        if (!p) {
            l->failed = 1;
            return;
        }
        l->v = p;
        l->cap = cap;
    }
    bf_video_det x = {*d, frame, time, track};
    l->v[l->n++] = x;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* 1 when the first bytes are an image's: those never go to libavformat. */
static int looks_like_image(const char *path)
{
    uint8_t head[16];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0; /* the image path reports why it cannot be read */
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return bfio_image_sniff(head, n) != BFIO_FORMAT_UNKNOWN;
}

static int same_file(const char *a, const char *b)
{
    struct stat x, y;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static char *with_suffix(const char *base, const char *suffix)
{
    size_t n = strlen(base) + strlen(suffix) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s", base, suffix);
    return p;
}

static const char *name_of(const bf_model *m, int id, char *buf, size_t n)
{
    const char *s = bf_model_class_name(m, id);
    if (s)
        return s;
    snprintf(buf, n, "class%d", id);
    return buf;
}

/* Progress on a terminal: "[2/5] clip.mp4 frame 120/300 41.2 fps ETA 4 s". */
static void progress(const bf_video_job *j, const char *path, long long frame, long long total,
                     double fps)
{
    if (!bf_report_is_tty())
        return;
    size_t len = strlen(path);
    const char *shown = len > 32 ? path + len - 32 : path;
    fputs("\r\033[K", stderr);
    if (j->inputs_total)
        fprintf(stderr, "[%zu/%zu] ", j->input_no, j->inputs_total);
    fprintf(stderr, "%s%s frame %lld", len > 32 ? "..." : "", shown, frame);
    if (total > 0)
        fprintf(stderr, "/%lld", total);
    if (fps > 0) {
        fprintf(stderr, " %.1f fps", fps);
        if (total > frame)
            fprintf(stderr, " ETA %.0f s", (double)(total - frame) / fps);
    }
    fflush(stderr);
}

static int write_txt(const bf_video_job *j, const char *path, long long frame,
                     const bf_detection *d, size_t n, int w, int h)
{
    char name[48];
    snprintf(name, sizeof name, "/%06lld.txt", frame);
    char *txt = with_suffix(j->out_base, name);
    int rc = bf_write_txt_labels(txt, path, d, n, w, h);
    free(txt);
    return rc;
}

/* Boxes (and track IDs, -1 for none) of the latest detected frame, kept to
 * draw on the frames between. */
typedef struct kept {
    bf_detection *d;
    long long *ids;
    size_t n, cap;
} kept;

static int keep(kept *k, const bf_detection *d, const long long *ids, size_t n)
{
    if (n > k->cap) {
        bf_detection *p = realloc(k->d, n * sizeof *p);
        if (!p)
            return -1;
        k->d = p;
        long long *q = realloc(k->ids, n * sizeof *q);
        if (!q)
            return -1;
        k->ids = q;
        k->cap = n;
    }
    if (n)
        memcpy(k->d, d, n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        k->ids[i] = ids ? ids[i] : -1;
    k->n = n;
    return 0;
}

static void draw_kept(const bf_video_job *j, const kept *k, bfio_image *img)
{
    char buf[32], label[96];
    for (size_t i = k->n; i-- > 0;) { /* lowest score first: the best on top */
        const bf_detection *d = &k->d[i];
        const char *name = name_of(j->model, d->class_id, buf, sizeof buf);
        /* A tracked box is coloured by its ID, as Ultralytics draws tracks,
         * so that one object keeps one colour and two cats differ. */
        if (k->ids[i] >= 0)
            snprintf(label, sizeof label, "#%lld %s %.2f", k->ids[i], name, d->score);
        else
            snprintf(label, sizeof label, "%s %.2f", name, d->score);
        bfio_draw_detection(img, d->x0, d->y0, d->x1, d->y1, label,
                            bfio_class_color(k->ids[i] >= 0 ? (int)(k->ids[i] % 1000000) : d->class_id));
    }
}

/* The per-video tracker and its buffers. */
typedef struct tracking {
    bt_tracker *bt;
    bt_box *boxes;
    long long *ids;
    size_t cap;
    bfio_sb *mot; /* this video's MOT lines go here; NULL: none */
} tracking;

/* Runs the tracker on one detected frame; t->ids gets one ID per detection. 0 or -1. */
static int track_frame(tracking *t, const bf_detection *d, size_t n, long long frame)
{
    if (n > t->cap) {
        bt_box *b = realloc(t->boxes, n * sizeof *b);
        if (!b)
            return -1;
        t->boxes = b;
        long long *ids = realloc(t->ids, n * sizeof *ids);
        if (!ids)
            return -1;
        t->ids = ids;
        t->cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        bt_box b = {d[i].x0, d[i].y0, d[i].x1, d[i].y1, d[i].score, d[i].class_id};
        t->boxes[i] = b;
    }
    if (bt_update(t->bt, t->boxes, n, t->ids) != BT_OK)
        return -1;
    /* MOT Challenge: frame (1-based), id, left, top, width, height, conf, and
     * -1 for the 3D position; the detector's box of the frame. */
    for (size_t i = 0; i < n && t->mot; i++)
        if (t->ids[i] >= 0)
            bfio_sb_printf(t->mot, "%lld,%lld,%.2f,%.2f,%.2f,%.2f,%.4f,-1,-1,-1\n", frame + 1, t->ids[i],
                           d[i].x0, d[i].y0, (double)d[i].x1 - d[i].x0, (double)d[i].y1 - d[i].y0,
                           d[i].score);
    return t->mot && t->mot->failed ? -1 : 0;
}

/* One video's run: the reader, the outputs being written, the tracker. */
typedef struct video_run {
    const bf_video_job *j;
    const char *path;
    bfv_reader *r;
    const bfv_info *info;
    long long total;  /* frames expected, or -1 */
    int rc;           /* -1 once something failed (reported) */
    char *video_out;  /* --draw: DIR/REL.mp4 */
    bfv_writer *wr;
    int draw_failed;
    kept k;
    tracking trk;
    bfio_sb mot;
    long long detected;
    double t0, last_progress;
} video_run;

/* Opens path as a video: 0; BF_VIDEO_NOT_VIDEO; -1 after reporting why a
 * video could not be opened. */
static int open_video(video_run *v, const char *path)
{
    /* A FIFO or device with an image's name would block the sniffing open
     * below; the image path refuses it ("not a regular file") instead. */
    /* A file named as an image is never probed as a video either: libavformat
     * gives a text or a damaged JPEG some container score, and the user is
     * owed the image path's message ("not an image", "truncated") instead. */
    if (bfio_path_is_image_name(path))
        return BF_VIDEO_NOT_VIDEO;
    if (looks_like_image(path))
        return BF_VIDEO_NOT_VIDEO;
    bfv_set_log_quiet(1);
    /* A video by name (the walk found it, or the user named it so) or by
     * content (a container libavformat knows with some confidence). */
    int named_video = bfio_path_is_video_name(path) || bfv_probe_file(path) > 25;
    bfio_err err;
    if (bfv_open(path, NULL, &v->r, &err) != 0) {
        if (!named_video)
            return BF_VIDEO_NOT_VIDEO; /* the image path says what it is not */
        bf_report_failure(path, "%s", err.msg);
        return -1;
    }
    v->info = bfv_get_info(v->r);
    const bfv_info *info = v->info;
    v->total = info->frames > 0 ? info->frames
               : info->duration > 0 && info->fps > 0 ? (long long)(info->duration * info->fps + 0.5)
                                                     : -1;
    return 0;
}

/* --track: the tracker, and where its MOT text goes. -1: out of memory. */
static int start_tracking(video_run *v)
{
    const bf_video_job *j = v->j;
    bt_config bc;
    if (j->track_cfg)
        bc = *j->track_cfg;
    else
        bt_config_default(&bc);
    /* The command line checked the settings: BT_ERR_ARG cannot come. */
    if (bt_create(&bc, &v->trk.bt) != BT_OK) {
        bf_report_failure(v->path, "out of memory");
        return -1;
    }
    /* One --mot FILE holds one video: MOT Challenge numbers frames per
     * sequence, and IDs from two videos would collide. --mot DIR/ gives
     * each video its own file (mot_source NULL). */
    if (j->mot_path && same_file(j->mot_path, v->path)) {
        bf_report_failure(j->mot_path, "is the input; --mot would overwrite it");
        v->rc = -1;
    } else if (j->mot_path && j->mot_source && *j->mot_source) {
        bf_report_failure(v->path, "the --mot file %s holds the tracks of one video, and has those "
                          "of %s; none written for this one (--mot DIR/ writes DIR/REL.txt "
                          "per video)", j->mot_path, *j->mot_source);
        v->rc = -1;
    } else if (j->mot_path && j->mot_source) {
        *j->mot_source = strdup(v->path);
        v->trk.mot = *j->mot_source ? &v->mot : NULL;
    } else if (j->mot_path) {
        v->trk.mot = &v->mot;
    }
    return 0;
}

/* --draw: the annotated video's name (opened with the first frame). -1: out of memory. */
static int start_drawing(video_run *v)
{
    v->video_out = with_suffix(v->j->out_base, bfv_writer_extension());
    if (!v->video_out) {
        bf_report_failure(v->path, "out of memory");
        return -1;
    }
    if (same_file(v->video_out, v->path)) {
        bf_report_failure(v->video_out, "is the input; --draw would overwrite it (choose an "
                          "output folder, -o, outside the inputs)");
        v->draw_failed = 1;
        v->rc = -1;
    }
    return 0;
}

/* A frame's detections on stdout (no output option). */
static void print_frame(const video_run *v, const bfv_frame *f, const bf_detection *d, size_t n,
                        const long long *ids)
{
    char buf[32];
    if (n == 0)
        printf("%s frame %lld (%.3f s): no objects\n", v->path, f->index, f->time);
    for (size_t i = 0; i < n; i++) {
        printf("%s frame %lld (%.3f s): %s %.2f x=%.1f y=%.1f w=%.1f h=%.1f", v->path, f->index,
               f->time, name_of(v->j->model, d[i].class_id, buf, sizeof buf), d[i].score, d[i].x0,
               d[i].y0, d[i].x1 - d[i].x0, d[i].y1 - d[i].y0);
        if (ids && ids[i] >= 0)
            printf(" track=%lld", ids[i]);
        putchar('\n');
    }
}

/* Detects (and tracks) one frame and writes its results; 0, or -1 after
 * reporting a failure that ends the video. */
static int detect_frame(video_run *v, const bfv_frame *f)
{
    const bf_video_job *j = v->j;
    bf_error berr;
    if (bf_detector_run(j->det, f->rgb, f->width, f->height, f->stride, BF_PIXEL_RGB, &berr) != BF_OK) {
        bf_report_failure(v->path, "frame %lld: %s", f->index, berr.message);
        return -1;
    }
    size_t n = 0;
    const bf_detection *d = bf_detector_results(j->det, &n);
    v->detected++;
    if (v->trk.bt && track_frame(&v->trk, d, n, f->index) != 0) {
        bf_report_failure(v->path, "out of memory");
        return -1;
    }
    const long long *ids = v->trk.bt ? v->trk.ids : NULL;
    char buf[32];
    /* With --track every box has "track" (-1 from bt_update is null). */
    for (size_t i = 0; i < n && (j->json || j->collect); i++) {
        long long track = ids ? (ids[i] >= 0 ? ids[i] : BFIO_TRACK_NULL) : BFIO_TRACK_NONE;
        if (j->collect)
            collect_add(j->collect, &d[i], f->index, f->time, track);
        else
            bfio_detfile_add_video(j->json, v->path, d[i].class_id,
                                   name_of(j->model, d[i].class_id, buf, sizeof buf), d[i].score,
                                   d[i].x0, d[i].y0, d[i].x1, d[i].y1, f->index, f->time, track);
    }
    if (j->collect && j->collect->failed) {
        bf_report_failure(v->path, "out of memory");
        return -1;
    }
    if (j->json && j->json_flush)
        j->json_flush(j->json_ctx);
    if (j->want_print)
        print_frame(v, f, d, n, ids);
    if (j->want_txt && write_txt(j, v->path, f->index, d, n, f->width, f->height) != 0)
        return -1;
    if (j->want_draw && keep(&v->k, d, ids, n) != 0) {
        bf_report_failure(v->path, "out of memory");
        return -1;
    }
    return 0;
}

/* --draw: the frame with the latest boxes into the annotated video (opened
 * with the first frame, at the source's rate). */
static void draw_frame(video_run *v, const bfv_frame *f)
{
    bfio_err err;
    if (!v->wr && (bfio_mkdirs_for_file(v->video_out, &err) != 0 ||
                   bfv_writer_open(v->video_out, f->width, f->height, v->info->fps_num,
                                   v->info->fps_den, &v->wr, &err) != 0)) {
        bf_report_failure(v->video_out, "%s", err.msg);
        v->draw_failed = 1;
        v->rc = -1;
    }
    if (v->wr) {
        bfio_image img = {(uint8_t *)f->rgb, f->width, f->height, f->stride};
        draw_kept(v->j, &v->k, &img);
        if (bfv_writer_put(v->wr, f->rgb, f->stride, &err) != 0) {
            bf_report_failure(v->video_out, "%s", err.msg);
            bfv_writer_abort(v->wr);
            v->wr = NULL;
            v->draw_failed = 1;
            v->rc = -1;
        }
    }
}

/* Every frame until the end, a failure or a signal; the reader's last
 * answer (1 stopped early, 0 end, -1 error with *err). */
static int run_frames(video_run *v, bfio_err *err)
{
    const bf_video_job *j = v->j;
    bfv_frame f;
    int got = 0;
    v->t0 = now_s();
    while (!(j->stop && *j->stop) && (got = bfv_next(v->r, &f, err)) == 1) {
        if (f.index % j->stride == 0 && detect_frame(v, &f) != 0) {
            v->rc = -1;
            break;
        }
        if (j->want_draw && !v->draw_failed)
            draw_frame(v, &f);
        double t = now_s();
        if (t - v->last_progress > 0.25) {
            progress(j, v->path, f.index + 1, v->total,
                     v->detected / (t - v->t0 > 1e-6 ? t - v->t0 : 1e-6));
            v->last_progress = t;
        }
    }
    return got;
}

/* After the last frame: damage reported, the annotated video and the MOT
 * text written (also for a damaged file: they hold the frames that did
 * decode, which is what --draw and --mot promise). */
static void finish_video(video_run *v, int got, const bfio_err *read_err)
{
    const bf_video_job *j = v->j;
    bfio_err err;
    if (got < 0 && v->rc == 0) {
        bf_report_failure(v->path, "%s (after %lld frames; those are kept)", read_err->msg,
                          bfv_frames_read(v->r));
        v->rc = -1;
    }
    char damage[400];
    if (v->rc == 0 && !(j->stop && *j->stop) && bfv_damage(v->r, damage, sizeof damage)) {
        bf_report_failure(v->path, "%s; the %lld frames before the damage are kept", damage,
                          bfv_frames_read(v->r));
        v->rc = -1;
    }
    if (v->rc == 0 && bfv_frames_read(v->r) == 0) {
        bf_report_failure(v->path, "no frame could be decoded");
        v->rc = -1;
    }
    if (v->wr && bfv_writer_commit(v->wr, &err) != 0) {
        bf_report_failure(v->video_out, "%s", err.msg);
        v->rc = -1;
    }
    if (v->trk.mot) {
        if (v->mot.failed) {
            bf_report_failure(j->mot_path, "out of memory");
            v->rc = -1;
        } else if ((bfio_mkdirs_for_file(j->mot_path, &err) != 0 ||
                    bfio_write_file_atomic(j->mot_path, v->mot.data ? v->mot.data : "", v->mot.len,
                                           &err) != 0)) {
            bf_report_failure(j->mot_path, "%s (the --mot output)", err.msg);
            v->rc = -1;
        }
    }
}

int bf_detect_video(const bf_video_job *j, const char *path)
{
    video_run v;
    memset(&v, 0, sizeof v);
    v.j = j;
    v.path = path;
    int rc = open_video(&v, path);
    if (rc != 0)
        return rc;
    bfio_sb_init(&v.mot);
    if ((j->track && start_tracking(&v) != 0) || (j->want_draw && start_drawing(&v) != 0)) {
        v.rc = -1; /* out of memory before the first frame: nothing written */
    } else {
        bfio_err err;
        int got = run_frames(&v, &err);
        finish_video(&v, got, &err);
    }
    bfio_sb_free(&v.mot);
    free(v.k.d);
    free(v.k.ids);
    bt_destroy(v.trk.bt);
    free(v.trk.boxes);
    free(v.trk.ids);
    free(v.video_out);
    bfv_close(v.r);
    return v.rc;
}

#else /* no video support */

int bf_detect_video_supported(void) { return 0; }

const char *bf_detect_video_draw_ext(void) { return NULL; }

void bf_video_dets_free(bf_video_dets *l)
{
    (void)l;
}

int bf_detect_video(const bf_video_job *j, const char *path)
{
    (void)j;
    (void)path;
    return BF_VIDEO_NOT_VIDEO;
}

#endif
