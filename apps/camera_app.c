/*
 * camera_app.c - the live camera loop (see camera_app.h): application logic
 * of `bitfalcon camera` (keys, recording, JSON lines, the summary) over the
 * capture, window and detection-thread modules of src/capture. Built only
 * with the camera (BF_HAVE_CAMERA: SDL2 and libv4l2 found).
 */
#ifdef BF_HAVE_CAMERA

#include "camera_app.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytetrack.h"
#include "draw.h"
#include "files.h"
#include "frame_slot.h"
#include "image.h"
#include "json.h"
#include "source.h"
#include "strbuf.h"
#include "window.h"

#define JPEG_QUALITY 90
#define CONF_STEP 0.05f
#define STATUS_PERIOD_S 0.25 /* the status line changes at most 4 times a second */
/* The bitmap font is ASCII: "--" stands in for an em dash. */
#define DISCONNECTED_BANNER "camera disconnected -- waiting"

static volatile sig_atomic_t g_signal;

static void on_signal(int sig) { g_signal = sig; }

typedef struct app {
    const cam_app_config *cfg;
    const cam_backend *be;
    atomic_int stop;
    atomic_int paused;
    cam_slot det_slot, disp_slot;
    cam_source *src;
    cam_worker *worker;
    double t_start;

    /* written by the detection thread (on_result) */
    bfio_sb line;
    int json_out;
    uint64_t recorded, record_errors;
    double output_sum; /* seconds spent writing JSON / recording */
    pthread_mutex_t last_mu;
    cam_image last_frame; /* the last frame detected on, for the final screenshot */
    int keep_last;
    /* --track: the tracker and its buffers belong to the detection thread;
     * the tracked result (boxes + IDs) is handed to the window under trk_mu,
     * because the worker's own latest result carries no IDs. */
    bt_tracker *bt;
    bt_box *bt_boxes;
    long long *bt_ids;
    size_t bt_cap;
    pthread_mutex_t trk_mu;
    cam_detections trk_dets;
    long long *trk_ids;
    size_t trk_cap;

    /* main thread */
    float conf;
    int snapshots;
    uint64_t shown;
    double render_sum;
    /* what start_app set up, for stop_app to undo */
    int slots_ok, disp_ok, lock_ok, trk_lock_ok;
    struct sigaction old_int, old_term, old_pipe;
} app;

void cam_app_config_default(cam_app_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->device = "/dev/video0";
    cfg->width = 640;
    cfg->height = 480;
    cfg->conf = 0.25f;
    cfg->iou = 0.7f;
    cfg->title = "BitFalcon camera";
}

static int stopping(app *a)
{
    if (g_signal)
        atomic_store(&a->stop, 1);
    return atomic_load(&a->stop) != 0;
}

/* Boxes and "name 0.87" labels into img, scaled when the result came from a
 * frame of another size (after a reconnect changed the format). */
static void draw_detections(bfio_image *img, const cam_detections *d, const long long *ids,
                            const cam_backend *be)
{
    if (d->version == 0 || d->width <= 0 || d->height <= 0)
        return;
    float sx = (float)img->width / (float)d->width, sy = (float)img->height / (float)d->height;
    /* Lowest scores first, so the most confident box and label end up on top. */
    for (size_t k = d->count; k-- > 0;) {
        const bf_detection *b = &d->items[k];
        const char *name = be->class_name ? be->class_name(be->ctx, b->class_id) : NULL;
        char label[96], cls[32];
        if (!name) {
            snprintf(cls, sizeof cls, "class%d", b->class_id);
            name = cls;
        }
        long long id = ids ? ids[k] : -1;
        if (id >= 0)
            snprintf(label, sizeof label, "#%lld %s %.2f", id, name, (double)b->score);
        else
            snprintf(label, sizeof label, "%s %.2f", name, (double)b->score);
        /* A track keeps its colour (by ID), as in Ultralytics' track view. */
        bfio_draw_detection(img, b->x0 * sx, b->y0 * sy, b->x1 * sx, b->y1 * sy, label,
                            bfio_class_color(id >= 0 ? (int)(id % 1000000) : b->class_id));
    }
}

static int save_jpeg(const char *path, const bfio_image *img, char *why, size_t len)
{
    uint8_t *jpeg = NULL;
    size_t size = 0;
    bfio_err err;
    int r = bfio_jpeg_encode(img->pixels, img->width, img->height, img->stride, JPEG_QUALITY, &jpeg,
                             &size, &err);
    if (r == 0)
        r = bfio_write_file_atomic(path, jpeg, size, &err);
    if (r != 0)
        snprintf(why, len, "%s", err.msg);
    bfio_jpeg_free(jpeg);
    return r;
}

static void write_json_line(app *a, const cam_detections *d, const long long *ids)
{
    bfio_sb *sb = &a->line;
    bfio_sb_clear(sb);
    /* "time": the frame's own time for a video or stream (its pts), the
     * capture time for a V4L2 camera; "reconnects": how often a lost source
     * came back so far. */
    cam_source_stats cs;
    cam_source_get_stats(a->src, &cs);
    double t = d->t_source >= 0 ? d->t_source : d->t_capture - a->t_start;
    bfio_sb_printf(sb, "{\"frame\": %llu, \"sequence\": %u, \"timestamp\": %.6f, \"time\": %.6f, "
                       "\"reconnects\": %llu, \"width\": %d, \"height\": %d, \"detections\": [",
                   (unsigned long long)d->frame, d->sequence, d->t_capture - a->t_start, t,
                   (unsigned long long)cs.reconnects, d->width, d->height);
    for (size_t i = 0; i < d->count; i++) {
        const bf_detection *b = &d->items[i];
        const char *name = a->be->class_name ? a->be->class_name(a->be->ctx, b->class_id) : NULL;
        bfio_sb_printf(sb, "%s{\"class\": %d, \"name\": ", i ? ", " : "", b->class_id);
        if (name)
            bfio_json_put_string(sb, name);
        else
            bfio_sb_puts(sb, "null");
        bfio_sb_puts(sb, ", \"score\": ");
        bfio_json_put_number(sb, b->score, 6);
        bfio_sb_puts(sb, ", \"bbox\": [");
        bfio_json_put_number(sb, b->x0, 6);
        bfio_sb_puts(sb, ", ");
        bfio_json_put_number(sb, b->y0, 6);
        bfio_sb_puts(sb, ", ");
        bfio_json_put_number(sb, (double)b->x1 - b->x0, 6);
        bfio_sb_puts(sb, ", ");
        bfio_json_put_number(sb, (double)b->y1 - b->y0, 6);
        bfio_sb_putc(sb, ']');
        /* --track: the ID, or null for a box no confirmed track took (a
         * first sighting, a low score), so every box has the key. */
        if (ids && ids[i] >= 0)
            bfio_sb_printf(sb, ", \"track\": %lld", ids[i]);
        else if (ids)
            bfio_sb_puts(sb, ", \"track\": null");
        bfio_sb_putc(sb, '}');
    }
    bfio_sb_puts(sb, "]}\n");
    if (sb->failed)
        return;
    /* One line per frame, flushed at once: a reader sees whole lines as they happen. */
    if (fwrite(sb->data, 1, sb->len, stdout) != sb->len || fflush(stdout) != 0) {
        if (!a->cfg->quiet)
            fprintf(stderr, "bitfalcon camera: cannot write to stdout: %s; stopping\n", strerror(errno));
        atomic_store(&a->stop, 1);
    }
}

/* Tracks this result's boxes (detection thread); the IDs, or NULL without
 * --track or when out of memory (then this frame goes untracked). */
static const long long *track_result(app *a, const cam_detections *d)
{
    if (!a->bt)
        return NULL;
    if (d->count > a->bt_cap) {
        bt_box *b = realloc(a->bt_boxes, d->count * sizeof *b);
        if (!b)
            return NULL;
        a->bt_boxes = b;
        long long *ids = realloc(a->bt_ids, d->count * sizeof *ids);
        if (!ids)
            return NULL;
        a->bt_ids = ids;
        a->bt_cap = d->count;
    }
    for (size_t i = 0; i < d->count; i++) {
        const bf_detection *x = &d->items[i];
        bt_box b = {x->x0, x->y0, x->x1, x->y1, x->score, x->class_id};
        a->bt_boxes[i] = b;
    }
    if (bt_update(a->bt, a->bt_boxes, d->count, a->bt_ids) != BT_OK)
        return NULL;
    /* For the window: this result with its IDs. */
    pthread_mutex_lock(&a->trk_mu);
    int ok = cam_detections_copy(&a->trk_dets, d) == 0;
    if (ok && d->count > a->trk_cap) {
        long long *p = realloc(a->trk_ids, d->count * sizeof *p);
        if (p) {
            a->trk_ids = p;
            a->trk_cap = d->count;
        } else {
            ok = 0;
        }
    }
    if (ok && d->count)
        memcpy(a->trk_ids, a->bt_ids, d->count * sizeof *a->trk_ids);
    else if (!ok)
        a->trk_dets.count = 0; /* shown without boxes rather than with wrong IDs */
    pthread_mutex_unlock(&a->trk_mu);
    return a->bt_ids;
}

/* The window's copy of the latest result: the worker's, or with --track the
 * tracked one (boxes and IDs); 1 when it changed. */
static int latest_result(app *a, cam_detections *out, long long **ids, size_t *ids_cap)
{
    if (!a->bt)
        return cam_worker_latest(a->worker, out);
    int changed = 0;
    pthread_mutex_lock(&a->trk_mu);
    if (a->trk_dets.version != out->version) {
        if (a->trk_dets.count > *ids_cap) {
            long long *p = realloc(*ids, a->trk_dets.count * sizeof *p);
            if (p) {
                *ids = p;
                *ids_cap = a->trk_dets.count;
            }
        }
        if (a->trk_dets.count <= *ids_cap && cam_detections_copy(out, &a->trk_dets) == 0) {
            if (out->count)
                memcpy(*ids, a->trk_ids, out->count * sizeof **ids);
            changed = 1;
        }
    }
    pthread_mutex_unlock(&a->trk_mu);
    return changed;
}

/* The detection thread's callback: tracking, JSON line, screenshot copy, recording. */
static void on_result(void *ctx, cam_image *frame, const cam_detections *d)
{
    app *a = ctx;
    double t0 = cam_now();
    const long long *ids = track_result(a, d);
    if (a->json_out)
        write_json_line(a, d, ids);
    if (a->keep_last) {
        pthread_mutex_lock(&a->last_mu);
        cam_image_copy(&a->last_frame, frame);
        pthread_mutex_unlock(&a->last_mu);
    }
    if (a->cfg->record_dir) {
        bfio_image img = {frame->rgb, frame->width, frame->height, (size_t)frame->width * 3};
        draw_detections(&img, d, ids, a->be); /* the frame is the worker's own until its next take */
        char *name = NULL, path_tail[64];
        snprintf(path_tail, sizeof path_tail, "frame-%08llu.jpg", (unsigned long long)d->frame);
        name = bfio_path_join(a->cfg->record_dir, path_tail);
        char why[256];
        if (!name || save_jpeg(name, &img, why, sizeof why) != 0) {
            if (a->record_errors++ < 3)
                fprintf(stderr, "bitfalcon camera: %s: %s\n", name ? name : a->cfg->record_dir,
                        name ? why : "out of memory");
        } else {
            a->recorded++;
        }
        free(name);
    }
    a->output_sum += cam_now() - t0;
}

/* Short enough to fit a 640-pixel window at font scale 2; the format, size and
 * detector are in the window title. */
static void format_status(app *a, char *buf, size_t len, const cam_source_stats *cs,
                          const cam_worker_stats *ws)
{
    int n = snprintf(buf, len, "cam %.1f fps  det %.1f fps  lat %.0f ms  conf %.2f%s", cs->fps, ws->fps,
                     ws->latency_ms_last, (double)a->conf, atomic_load(&a->paused) ? "  PAUSED" : "");
    if (cs->reconnects > 0 && n > 0 && (size_t)n < len) /* a flaky source shows */
        snprintf(buf + n, len - (size_t)n, "  reconnects %llu", (unsigned long long)cs->reconnects);
}

static void snapshot(app *a, const bfio_image *img)
{
    char name[96], why[256];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    size_t n = strftime(name, sizeof name, "bitfalcon-%Y%m%d-%H%M%S", &tm);
    snprintf(name + n, sizeof name - n, "-%03d.jpg", a->snapshots++);
    char *path = bfio_path_join(a->cfg->record_dir ? a->cfg->record_dir : ".", name);
    if (!path)
        return;
    if (save_jpeg(path, img, why, sizeof why) == 0)
        fprintf(stderr, "camera: snapshot saved to %s\n", path);
    else
        fprintf(stderr, "bitfalcon camera: %s: %s\n", path, why);
    free(path);
}

static void change_conf(app *a, float step)
{
    float c = a->conf + step;
    c = c < CONF_STEP ? CONF_STEP : c > 0.95f ? 0.95f : c;
    a->conf = (float)((int)(c * 100.0f + 0.5f)) / 100.0f; /* keep 0.30, not 0.29999 */
    cam_worker_set_conf(a->worker, a->conf);
    if (!a->cfg->quiet)
        fprintf(stderr, "camera: confidence threshold %.2f\n", (double)a->conf);
}

/* Copies frame into compose (resizing it) and draws the boxes; 0 or -1. */
static int compose(app *a, bfio_image *out, const cam_image *frame, const cam_detections *d,
                   const long long *ids)
{
    size_t need = (size_t)frame->width * frame->height * 3;
    if (!out->pixels || (size_t)out->width * out->height * 3 < need) {
        uint8_t *p = realloc(out->pixels, need);
        if (!p)
            return -1;
        out->pixels = p;
    }
    out->width = frame->width;
    out->height = frame->height;
    out->stride = (size_t)frame->width * 3;
    memcpy(out->pixels, frame->rgb, need);
    draw_detections(out, d, ids, a->be);
    return 0;
}

/* The window's state, kept by the main thread. */
typedef struct view {
    cam_window *win;
    cam_image frame;      /* the newest frame taken from the display slot */
    cam_detections dets;  /* the newest result */
    long long *ids;       /* its track IDs with --track (NULL without) */
    size_t ids_cap;
    bfio_image shown;     /* frame + boxes, as on screen (for snapshots) */
    int have_frame;
} view;

static void nap_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* BF_CAMERA_KEYS="+,+,-,space,s,q": key presses queued through SDL's event
 * queue once video shows, so that tests exercise the keys. Each key waits
 * for the one before to have taken effect, by counts, not by time alone (a
 * loaded machine or a sanitizer stretches any fixed pause): at least 0.3 s
 * and two more detector results (the second began after the key, so a new
 * threshold reached the detector), unless paused or the camera is gone (no
 * results come then). "@gone" presses nothing: it waits until the camera is
 * disconnected. */
#define KEY_GAP_S 0.3
#define KEY_RESULTS 2

typedef struct key_script {
    char keys[128];
    char *next;
    double due;
    uint64_t results; /* the detector's count once the last key was handled */
    int pending;      /* a key was pushed: take the count on the next step */
} key_script;

static void script_init(key_script *k)
{
    const char *env = getenv("BF_CAMERA_KEYS");
    snprintf(k->keys, sizeof k->keys, "%s", env ? env : "");
    k->next = k->keys[0] ? k->keys : NULL;
    k->due = 0;
    k->results = 0;
    k->pending = 0;
}

/* The detector's count of results so far. */
static uint64_t results_so_far(app *a)
{
    cam_worker_stats ws;
    cam_worker_get_stats(a->worker, &ws);
    return ws.processed;
}

static void script_step(key_script *k, app *a, cam_window *win, int have_frame)
{
    if (!k->next || !have_frame)
        return;
    if (k->pending) { /* the loop has handled the key since: a new threshold is set */
        k->pending = 0;
        k->results = results_so_far(a);
        return;
    }
    double now = cam_now();
    if (k->due == 0) { /* the first frame just showed: start in 0.3 s */
        k->due = now + KEY_GAP_S;
        k->results = results_so_far(a);
        return;
    }
    if (now < k->due)
        return;
    cam_source_stats cs;
    cam_source_get_stats(a->src, &cs);
    int gone = cs.state == CAM_STATE_DISCONNECTED;
    if (!atomic_load(&a->paused) && !gone && results_so_far(a) < k->results + KEY_RESULTS)
        return;
    char *end = strchr(k->next, ',');
    if (end)
        *end = 0;
    if (strcmp(k->next, "@gone") == 0) {
        if (!gone) {
            if (end)
                *end = ',';
            return;
        }
        k->results = results_so_far(a); /* the next key at once */
    } else {
        if (cam_window_push_key(win, k->next) != 0)
            fprintf(stderr, "bitfalcon camera: BF_CAMERA_KEYS: unknown key '%s'\n", k->next);
        k->due = now + KEY_GAP_S;
        k->pending = 1;
    }
    k->next = end ? end + 1 : NULL;
}

/* Runs the window until q/Esc/close, a signal or max_frames. 0 or 1. */
static int window_loop(app *a, view *v)
{
    char why[256], status[200] = "", banner[64] = "";
    double next_status = 0;
    cam_source_stats cs;
    key_script script;
    script_init(&script);
    while (!stopping(a)) {
        int dirty = 0;
        cam_action act;
        script_step(&script, a, v->win, v->have_frame);
        while ((act = cam_window_poll(v->win, 0)) != CAM_ACTION_NONE) {
            if (act == CAM_ACTION_QUIT)
                atomic_store(&a->stop, 1);
            else if (act == CAM_ACTION_PAUSE) {
                int p = !atomic_load(&a->paused);
                atomic_store(&a->paused, p);
                if (!a->cfg->quiet)
                    fprintf(stderr, "camera: %s\n", p ? "paused" : "resumed");
            }
            else if (act == CAM_ACTION_SNAPSHOT && v->have_frame)
                snapshot(a, &v->shown);
            else if (act == CAM_ACTION_CONF_UP)
                change_conf(a, CONF_STEP);
            else if (act == CAM_ACTION_CONF_DOWN)
                change_conf(a, -CONF_STEP);
            dirty = 1;
        }
        if (stopping(a))
            break;
        int paused = atomic_load(&a->paused), changed = 0;
        if (!paused) {
            /* Waits <= 10 ms for a frame, so keys are still handled promptly. */
            if (cam_slot_take(&a->disp_slot, &v->frame, 10) == 1)
                v->have_frame = changed = 1;
            if (latest_result(a, &v->dets, &v->ids, &v->ids_cap))
                changed = 1;
        } else {
            nap_ms(10); /* frozen: only keys and the status line change */
        }
        double now = cam_now();
        if (now >= next_status) {
            cam_worker_stats ws;
            cam_source_get_stats(a->src, &cs);
            cam_worker_get_stats(a->worker, &ws);
            format_status(a, status, sizeof status, &cs, &ws);
            snprintf(banner, sizeof banner, "%s",
                     cs.state == CAM_STATE_DISCONNECTED ? DISCONNECTED_BANNER : "");
            next_status = now + STATUS_PERIOD_S;
            dirty = 1;
        }
        if (!dirty && !changed)
            continue;
        if (changed && compose(a, &v->shown, &v->frame, &v->dets, v->ids) != 0) {
            fprintf(stderr, "bitfalcon camera: out of memory\n");
            return 1;
        }
        double t0 = cam_now();
        if (cam_window_show(v->win, changed ? v->shown.pixels : NULL, v->shown.width, v->shown.height,
                            status, banner, NULL, why, sizeof why) != 0) {
            fprintf(stderr, "bitfalcon camera: %s\n", why);
            return 1;
        }
        a->render_sum += cam_now() - t0;
        a->shown++;
    }
    return 0;
}

/* After the threads stopped: the last frame detected on, with its boxes, saved as BMP. */
static int final_screenshot(app *a, view *v, const cam_source_stats *cs, const cam_worker_stats *ws)
{
    char why[256], status[200];
    latest_result(a, &v->dets, &v->ids, &v->ids_cap);
    pthread_mutex_lock(&a->last_mu);
    int have_last = a->last_frame.rgb != NULL;
    if (have_last)
        cam_image_copy(&v->frame, &a->last_frame);
    pthread_mutex_unlock(&a->last_mu);
    if (!have_last && !v->have_frame) {
        fprintf(stderr, "bitfalcon camera: no frame to take a screenshot of\n");
        return 1;
    }
    format_status(a, status, sizeof status, cs, ws);
    /* The capture thread may have stopped before these stats were read (a slow
     * detection delays the join above): what counts is the state it stopped in. */
    int gone = cs->state == CAM_STATE_DISCONNECTED ||
               (cs->state == CAM_STATE_STOPPED && cs->gone_when_stopped);
    const char *banner = gone ? DISCONNECTED_BANNER : NULL;
    if (compose(a, &v->shown, &v->frame, &v->dets, v->ids) != 0 ||
        cam_window_show(v->win, v->shown.pixels, v->shown.width, v->shown.height, status, banner,
                        a->cfg->screenshot, why, sizeof why) != 0) {
        fprintf(stderr, "bitfalcon camera: screenshot: %s\n", why);
        return 1;
    }
    return 0;
}

static void print_summary(app *a, const cam_source_stats *cs, const cam_worker_stats *ws, uint64_t det_overwritten)
{
    double elapsed = cam_now() - a->t_start;
    fprintf(stderr,
            "camera: %.1f s: %llu frames captured (%.1f fps), %llu detected (%.1f fps), "
            "%llu skipped by the detector (latest frame wins), %llu corrupt dropped, "
            "%llu disconnects, %llu reconnects\n",
            elapsed, (unsigned long long)cs->frames, elapsed > 0 ? cs->frames / elapsed : 0.0,
            (unsigned long long)ws->processed, elapsed > 0 ? ws->processed / elapsed : 0.0,
            (unsigned long long)det_overwritten, (unsigned long long)cs->corrupt,
            (unsigned long long)cs->disconnects, (unsigned long long)cs->reconnects);
    fprintf(stderr,
            "camera: time per frame: decode %.1f ms, detector %.1f ms, capture-to-result latency "
            "%.1f ms, output (JSON/record) %.1f ms",
            cs->convert_ms_avg, ws->run_ms_avg, ws->latency_ms_avg,
            ws->processed ? 1000.0 * a->output_sum / (double)ws->processed : 0.0);
    if (a->shown)
        fprintf(stderr, ", display %.1f ms (%llu frames shown, %.1f fps)",
                1000.0 * a->render_sum / (double)a->shown, (unsigned long long)a->shown,
                elapsed > 0 ? a->shown / elapsed : 0.0);
    fputc('\n', stderr);
    if (a->cfg->record_dir)
        fprintf(stderr, "camera: %llu annotated frames written to %s\n", (unsigned long long)a->recorded,
                a->cfg->record_dir);
}

/* The slots, locks, tracker and signal handlers. 0, or 1 (reported). */
static int start_app(app *a)
{
    const cam_app_config *cfg = a->cfg;
    a->conf = cfg->conf;
    a->json_out = cfg->headless || cfg->json;
    a->keep_last = cfg->screenshot != NULL && !cfg->headless;
    a->t_start = cam_now();
    atomic_init(&a->stop, 0);
    atomic_init(&a->paused, 0);
    bfio_sb_init(&a->line);

    /* Signals only set a flag; the threads look at it. SIGPIPE is ignored so
     * that a closed stdout becomes a write error (and a clean stop). */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_signal = 0;
    sigaction(SIGINT, &sa, &a->old_int);
    sigaction(SIGTERM, &sa, &a->old_term);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &a->old_pipe);

    a->slots_ok = cam_slot_init(&a->det_slot) == 0;
    a->disp_ok = a->slots_ok && cam_slot_init(&a->disp_slot) == 0;
    a->lock_ok = pthread_mutex_init(&a->last_mu, NULL) == 0;
    a->trk_lock_ok = a->lock_ok && pthread_mutex_init(&a->trk_mu, NULL) == 0;
    if (!a->slots_ok || !a->disp_ok || !a->lock_ok || !a->trk_lock_ok) {
        fprintf(stderr, "bitfalcon camera: cannot initialise threads\n");
        return 1;
    }
    if (cfg->track) {
        bt_config bc;
        if (cfg->track_cfg)
            bc = *cfg->track_cfg;
        else
            bt_config_default(&bc); /* Ultralytics' bytetrack.yaml */
        int brc = bt_create(&bc, &a->bt);
        if (brc != BT_OK) {
            fprintf(stderr, "bitfalcon camera: %s\n",
                    brc == BT_ERR_ARG ? "invalid tracker settings" : "out of memory");
            return 1;
        }
    }
    return 0;
}

/* The capture thread. 0, or 1 (reported). */
static int start_source(app *a)
{
    const cam_app_config *cfg = a->cfg;
    char why[256];
    cam_source_config sc;
    memset(&sc, 0, sizeof sc);
    cam_config_default(&sc.cam);
    sc.cam.path = cfg->device;
    sc.cam.width = cfg->width;
    sc.cam.height = cfg->height;
    sc.cam.fps = cfg->fps;
    sc.slots[0] = &a->det_slot;
    sc.slots[1] = &a->disp_slot;
    sc.nslots = cfg->headless ? 1 : 2;
    sc.stop = &a->stop;
    sc.quiet = cfg->quiet;
    sc.video = cfg->video;
    if (cam_source_start(&sc, &a->src, why, sizeof why) != CAM_OK) {
        fprintf(stderr, "bitfalcon camera: %s: %s\n", cfg->device, why);
        return 1;
    }
    return 0;
}

/* The window, titled with the device and the format it delivers. 0, or 1 (reported). */
static int open_window(app *a, view *v)
{
    const cam_app_config *cfg = a->cfg;
    char why[256];
    cam_source_stats first;
    cam_source_get_stats(a->src, &first);
    int ww = cfg->window_w > 0 ? cfg->window_w : first.format.width;
    int wh = cfg->window_h > 0 ? cfg->window_h : first.format.height;
    char title[300], fc[8];
    snprintf(title, sizeof title, "%s - %s %s %dx%d", cfg->title, cfg->device,
             cam_fourcc_str(first.format.fourcc, fc), first.format.width, first.format.height);
    if (cam_window_open(title, ww, wh, &v->win, why, sizeof why) != 0) {
        fprintf(stderr, "bitfalcon camera: %s\n", why);
        return 1;
    }
    return 0;
}

/* The detection thread. 0, or 1 (reported). */
static int start_worker(app *a)
{
    char why[256];
    cam_worker_config wc;
    memset(&wc, 0, sizeof wc);
    wc.backend = *a->be;
    wc.in = &a->det_slot;
    wc.stop = &a->stop;
    wc.paused = &a->paused;
    wc.max_frames = a->cfg->max_frames;
    wc.on_result = on_result;
    wc.on_result_ctx = a;
    if (cam_worker_start(&wc, &a->worker, why, sizeof why) != 0) {
        fprintf(stderr, "bitfalcon camera: %s\n", why);
        return 1;
    }
    return 0;
}

/* Stops and joins the threads, takes the final screenshot, prints the
 * summary; the exit status given rc, the run's. */
static int stop_threads(app *a, view *v, int rc)
{
    const cam_app_config *cfg = a->cfg;
    atomic_store(&a->stop, 1);
    /* Without a screenshot to take the window goes at once; a detection still
     * running (it cannot be interrupted) only delays the join below. */
    if (v->win && !(cfg->screenshot && rc == 0)) {
        cam_window_close(v->win);
        v->win = NULL;
    }
    /* Join the detection thread first: its last result is then final (for the
     * screenshot); then the capture thread, which closes the device. */
    cam_worker_join(a->worker);
    cam_source_stats cs;
    cam_worker_stats ws;
    memset(&cs, 0, sizeof cs);
    memset(&ws, 0, sizeof ws);
    if (a->worker)
        cam_worker_get_stats(a->worker, &ws);
    if (a->src)
        cam_source_get_stats(a->src, &cs);
    cam_source_stop(a->src);
    if (v->win && cfg->screenshot && rc == 0)
        rc = final_screenshot(a, v, &cs, &ws);
    cam_window_close(v->win);
    free(v->shown.pixels);
    cam_image_free(&v->frame);
    cam_detections_free(&v->dets);
    free(v->ids);
    cam_worker_destroy(a->worker);
    if (a->src && !cfg->quiet)
        print_summary(a, &cs, &ws, a->det_slot.overwritten);
    return rc;
}

/* Undoes start_app. */
static void free_app(app *a)
{
    if (a->lock_ok)
        pthread_mutex_destroy(&a->last_mu);
    if (a->trk_lock_ok)
        pthread_mutex_destroy(&a->trk_mu);
    bt_destroy(a->bt);
    free(a->bt_boxes);
    free(a->bt_ids);
    cam_detections_free(&a->trk_dets);
    free(a->trk_ids);
    if (a->disp_ok)
        cam_slot_destroy(&a->disp_slot);
    if (a->slots_ok)
        cam_slot_destroy(&a->det_slot);
    cam_image_free(&a->last_frame);
    bfio_sb_free(&a->line);
    sigaction(SIGINT, &a->old_int, NULL);
    sigaction(SIGTERM, &a->old_term, NULL);
    sigaction(SIGPIPE, &a->old_pipe, NULL);
    free(a);
}

int cam_app_run(const cam_app_config *cfg, const cam_backend *backend)
{
    if (cfg->record_dir) {
        bfio_err err;
        if (bfio_mkdirs(cfg->record_dir, &err) != 0) {
            fprintf(stderr, "bitfalcon camera: %s: %s\n", cfg->record_dir, err.msg);
            return 1;
        }
    }
    app *a = calloc(1, sizeof *a);
    if (!a) {
        fprintf(stderr, "bitfalcon camera: out of memory\n");
        return 1;
    }
    a->cfg = cfg;
    a->be = backend;
    view v;
    memset(&v, 0, sizeof v);
    int rc = start_app(a);
    if (rc == 0)
        rc = start_source(a);
    /* The window before the detector: with --frames, results must not all be
     * done before anything could be shown. */
    if (rc == 0 && !cfg->headless)
        rc = open_window(a, &v);
    if (rc == 0)
        rc = start_worker(a);
    if (rc == 0) {
        if (cfg->headless) {
            while (!stopping(a))
                nap_ms(20);
        } else {
            rc = window_loop(a, &v);
        }
        if (g_signal && !cfg->quiet)
            fprintf(stderr, "camera: %s received, stopping\n", g_signal == SIGINT ? "SIGINT" : "SIGTERM");
    }
    rc = stop_threads(a, &v, rc);
    free_app(a);
    return rc;
}

#else
typedef int bf_camera_app_unused; /* ISO C: a translation unit is not empty */
#endif /* BF_HAVE_CAMERA */
