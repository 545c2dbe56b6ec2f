/*
 * source.c - the capture thread with reconnection (see source.h).
 */
#include "source.h"

#include <errno.h>
#include <linux/videodev2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convert.h"

#define POLL_SLICE_MS 100 /* how often a waiting thread looks at the stop flag */
#define CORRUPT_REPORTS 3 /* corrupt frames described on stderr; later ones only counted */

struct cam_source {
    cam_source_config cfg;
    cam_device *dev;
    cam_converter *conv;
    cam_image img;        /* the frame being filled; swapped with slots[0] */
    pthread_t thread;
    int started;
    pthread_mutex_t mu;   /* guards stats */
    cam_source_stats stats;
    double convert_sum;   /* seconds spent converting, over `converted` frames */
    uint64_t converted;
    double fps_t0;        /* start of the current fps window */
    uint64_t fps_n0;      /* frames at fps_t0 */
    /* --source FILE or URL: read through cfg.video (FFmpeg) instead of V4L2. */
    int is_video;         /* 1 a file (paced at its frame rate), 2 a stream */
    void *video;
};

static int stopping(const cam_source *s) { return atomic_load(s->cfg.stop) != 0; }

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Sleeps up to ms, waking early when asked to stop. */
static void nap(const cam_source *s, int ms)
{
    while (ms > 0 && !stopping(s)) {
        int step = ms < 50 ? ms : 50;
        sleep_ms(step);
        ms -= step;
    }
}

static void describe_open(cam_source *s, int reconnect)
{
    if (s->cfg.quiet)
        return;
    const cam_format *f = cam_get_format(s->dev);
    char fc[8];
    fprintf(stderr, "camera: %s%s (%s): %s %dx%d", reconnect ? "reconnected " : "", s->cfg.cam.path,
            f->card, cam_fourcc_str(f->fourcc, fc), f->width, f->height);
    if (f->width != s->cfg.cam.width || f->height != s->cfg.cam.height)
        fprintf(stderr, " (asked for %dx%d)", s->cfg.cam.width, s->cfg.cam.height);
    if (f->fps_num > 0 && f->fps_den > 0)
        fprintf(stderr, ", %.4g fps", (double)f->fps_den / f->fps_num);
    fprintf(stderr, ", %u buffers\n", f->buffers);
}

static void set_state(cam_source *s, cam_state st)
{
    pthread_mutex_lock(&s->mu);
    if (st == CAM_STATE_STOPPED && s->stats.state != CAM_STATE_STOPPED)
        s->stats.gone_when_stopped = s->stats.state == CAM_STATE_DISCONNECTED;
    s->stats.state = st;
    if (st == CAM_STATE_STREAMING && s->dev)
        s->stats.format = *cam_get_format(s->dev);
    pthread_mutex_unlock(&s->mu);
}

/* Tears the device down after it failed; the loop reopens it. */
static void drop_device(cam_source *s, const char *why, int stalled)
{
    cam_close(s->dev);
    s->dev = NULL;
    pthread_mutex_lock(&s->mu);
    if (stalled)
        s->stats.stalls++;
    else
        s->stats.disconnects++;
    s->stats.state = CAM_STATE_DISCONNECTED;
    s->stats.fps = 0;
    pthread_mutex_unlock(&s->mu);
    if (!s->cfg.quiet)
        fprintf(stderr, "camera: %s: %s; reopening every %.1f s\n", s->cfg.cam.path, why,
                s->cfg.retry_ms / 1000.0);
}

static void count_frame(cam_source *s, double now)
{
    pthread_mutex_lock(&s->mu);
    s->stats.frames++;
    double dt = now - s->fps_t0;
    if (s->fps_t0 == 0) {
        s->fps_t0 = now;
        s->fps_n0 = s->stats.frames;
    } else if (dt >= 0.5) {
        s->stats.fps = (double)(s->stats.frames - s->fps_n0) / dt;
        s->fps_t0 = now;
        s->fps_n0 = s->stats.frames;
    } else if (s->stats.fps == 0 && dt >= 0.1) {
        s->stats.fps = (double)(s->stats.frames - s->fps_n0) / dt; /* a first estimate */
    }
    pthread_mutex_unlock(&s->mu);
}

/* Converts the dequeued frame into s->img; 1 when it is usable. */
static int convert_frame(cam_source *s, const cam_frame *f)
{
    const cam_format *fmt = cam_get_format(s->dev);
    char why[160] = "";
    int r;
    if (f->error_flag) {
        snprintf(why, sizeof why, "the driver flagged the frame as damaged");
        r = CAM_CONVERT_CORRUPT;
    } else if (cam_image_reserve(&s->img, fmt->width, fmt->height) != 0) {
        snprintf(why, sizeof why, "out of memory");
        r = CAM_CONVERT_NOMEM;
    } else {
        r = cam_convert_to_rgb(s->conv, fmt->fourcc, f->data, f->bytes, fmt->width, fmt->height,
                               (size_t)fmt->bytesperline, s->img.rgb, (size_t)fmt->width * 3, why,
                               sizeof why);
    }
    if (r == CAM_CONVERT_OK)
        return 1;
    pthread_mutex_lock(&s->mu);
    uint64_t n = ++s->stats.corrupt;
    pthread_mutex_unlock(&s->mu);
    if (!s->cfg.quiet && n <= CORRUPT_REPORTS)
        fprintf(stderr, "camera: dropped frame (sequence %u): %s%s\n", f->sequence, why,
                n == CORRUPT_REPORTS ? " (further drops are only counted)" : "");
    return 0;
}

static void publish(cam_source *s, uint64_t frame, uint32_t sequence, double t, double t_source)
{
    s->img.frame = frame;
    s->img.sequence = sequence;
    s->img.t_capture = t;
    s->img.t_source = t_source;
    /* Copies first: the swap below hands s->img's pixels away. */
    for (int i = 1; i < s->cfg.nslots; i++)
        cam_slot_put_copy(s->cfg.slots[i], &s->img);
    if (s->cfg.nslots > 0)
        cam_slot_put(s->cfg.slots[0], &s->img);
}

/* --- a video file or network stream (cfg.video) --------------------------- */

#define STREAM_TIMEOUT_MS 5000  /* a stream silent this long is lost */
#define BACKOFF_FIRST_MS 250    /* reconnect waits double from here ... */
#define BACKOFF_MAX_MS 8000     /* ... up to this */

static int video_open(cam_source *s, char *why, size_t len)
{
    cam_video_info in;
    memset(&in, 0, sizeof in);
    if (s->cfg.video->open(s->cfg.cam.path, STREAM_TIMEOUT_MS, s->cfg.stop, &s->video, &in, why,
                           len) != 0)
        return CAM_FAIL;
    pthread_mutex_lock(&s->mu);
    memset(&s->stats.format, 0, sizeof s->stats.format);
    s->stats.format.width = in.width;
    s->stats.format.height = in.height;
    snprintf(s->stats.format.card, sizeof s->stats.format.card, "%s", in.name);
    if (in.fps_num > 0 && in.fps_den > 0) {
        s->stats.format.fps_num = in.fps_den; /* V4L2 keeps the frame interval */
        s->stats.format.fps_den = in.fps_num;
    }
    pthread_mutex_unlock(&s->mu);
    if (!s->cfg.quiet)
        fprintf(stderr, "camera: %s: %s %dx%d, %.4g fps\n", s->cfg.cam.path, in.name, in.width,
                in.height, in.fps_den > 0 ? (double)in.fps_num / in.fps_den : 0.0);
    return CAM_OK;
}

/* Reads frames until stopped. A stream that ends or fails is closed and
 * reopened with a doubling back-off (a restarting camera or server is not
 * hammered); a file is read at its own frame rate, so that "newest frame
 * wins" sees it as a live camera would, and ends the run at its end. */
static void video_main(cam_source *s)
{
    char why[256], last_why[256] = "";
    uint64_t frame_no = 0;
    int backoff = BACKOFF_FIRST_MS;
    double lost_at = 0, t0 = 0, pts0 = 0;
    while (!stopping(s)) {
        if (!s->video) {
            if (video_open(s, why, sizeof why) != CAM_OK) {
                if (!s->cfg.quiet && strcmp(why, last_why) != 0)
                    fprintf(stderr, "camera: %s: %s; retrying (back-off up to %.0f s)\n",
                            s->cfg.cam.path, why, BACKOFF_MAX_MS / 1000.0);
                snprintf(last_why, sizeof last_why, "%s", why);
                nap(s, backoff);
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                continue;
            }
            last_why[0] = 0;
            backoff = BACKOFF_FIRST_MS;
            pthread_mutex_lock(&s->mu);
            s->stats.reconnects++;
            s->stats.state = CAM_STATE_STREAMING;
            pthread_mutex_unlock(&s->mu);
            if (!s->cfg.quiet)
                fprintf(stderr, "camera: reconnected after %.1f s\n", cam_now() - lost_at);
            t0 = 0;
        }
        cam_video_frame f;
        int r = s->cfg.video->next(s->video, &f, why, sizeof why);
        if (r == 1) {
            double t = cam_now();
            if (s->is_video == 1) { /* a file: pace it at its own rate */
                if (t0 == 0) {
                    t0 = t;
                    pts0 = f.time;
                }
                double due = t0 + (f.time - pts0);
                if (due > t)
                    nap(s, (int)((due - t) * 1000));
                t = cam_now();
            }
            if (cam_image_reserve(&s->img, f.width, f.height) != 0) {
                pthread_mutex_lock(&s->mu);
                s->stats.corrupt++;
                pthread_mutex_unlock(&s->mu);
                continue;
            }
            for (int y = 0; y < f.height; y++)
                memcpy(s->img.rgb + (size_t)y * f.width * 3, f.rgb + (size_t)y * f.stride,
                       (size_t)f.width * 3);
            s->img.width = f.width;
            s->img.height = f.height;
            publish(s, frame_no++, (uint32_t)f.index, t, f.time);
            count_frame(s, t);
            continue;
        }
        if (stopping(s))
            break;
        if (s->is_video == 1) { /* the end of the file: the run is over */
            if (!s->cfg.quiet)
                fprintf(stderr, "camera: %s: %s\n", s->cfg.cam.path, r < 0 ? why : "end of the video");
            atomic_store(s->cfg.stop, 1);
            break;
        }
        s->cfg.video->close(s->video);
        s->video = NULL;
        lost_at = cam_now();
        pthread_mutex_lock(&s->mu);
        s->stats.disconnects++;
        s->stats.state = CAM_STATE_DISCONNECTED;
        s->stats.fps = 0;
        pthread_mutex_unlock(&s->mu);
        if (!s->cfg.quiet)
            fprintf(stderr, "camera: %s: stream lost (%s); reconnecting\n", s->cfg.cam.path,
                    r < 0 ? why : "it ended");
    }
    if (s->video)
        s->cfg.video->close(s->video);
    s->video = NULL;
    set_state(s, CAM_STATE_STOPPED);
}

static void *capture_main(void *arg)
{
    cam_source *s = arg;
    if (s->is_video) {
        video_main(s);
        return NULL;
    }
    int idle_ms = 0;
    double lost_at = 0;
    char why[256], last_why[256] = "";
    uint64_t frame_no = 0;
    while (!stopping(s)) {
        if (!s->dev) {
            int r = cam_open(&s->cfg.cam, &s->dev, why, sizeof why);
            if (r != CAM_OK) {
                /* Still gone, or back but not usable yet (USB re-enumeration, another
                 * program holds it): retry; say why once, not every 0.5 s. */
                if (r == CAM_FAIL && !s->cfg.quiet && strcmp(why, last_why) != 0)
                    fprintf(stderr, "camera: %s: %s; still retrying\n", s->cfg.cam.path, why);
                snprintf(last_why, sizeof last_why, "%s", r == CAM_FAIL ? why : "");
                nap(s, s->cfg.retry_ms);
                continue;
            }
            last_why[0] = 0;
            pthread_mutex_lock(&s->mu);
            s->stats.reconnects++;
            pthread_mutex_unlock(&s->mu);
            describe_open(s, 1);
            if (!s->cfg.quiet && lost_at > 0)
                fprintf(stderr, "camera: frames flow again after %.1f s\n", cam_now() - lost_at);
            set_state(s, CAM_STATE_STREAMING);
            idle_ms = 0;
        }
        cam_frame f;
        int r = cam_next(s->dev, POLL_SLICE_MS, &f, why, sizeof why);
        if (r == CAM_TIMEOUT) {
            idle_ms += POLL_SLICE_MS;
            if (idle_ms >= s->cfg.stall_ms) {
                char msg[64];
                snprintf(msg, sizeof msg, "no frame for %.1f s", idle_ms / 1000.0);
                lost_at = cam_now();
                drop_device(s, msg, 1);
            }
            continue;
        }
        if (r == CAM_AGAIN)
            continue;
        if (r != CAM_FRAME) {
            lost_at = cam_now();
            drop_device(s, why, 0);
            continue;
        }
        idle_ms = 0;
        double t = cam_now();
        int ok = convert_frame(s, &f);
        double dt = cam_now() - t;
        pthread_mutex_lock(&s->mu);
        s->convert_sum += dt;
        s->converted++;
        s->stats.convert_ms_avg = 1000.0 * s->convert_sum / (double)s->converted;
        pthread_mutex_unlock(&s->mu);
        /* Back to the driver before anything else: it must never run out of buffers. */
        r = cam_release(s->dev, &f, why, sizeof why);
        if (ok) {
            publish(s, frame_no++, f.sequence, t, -1);
            count_frame(s, t);
        }
        if (r != CAM_OK) {
            lost_at = cam_now();
            drop_device(s, why, 0);
        }
    }
    cam_close(s->dev);
    s->dev = NULL;
    set_state(s, CAM_STATE_STOPPED);
    return NULL;
}

int cam_source_start(const cam_source_config *cfg, cam_source **out, char *why, size_t len)
{
    cam_source *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, len, "out of memory");
        return CAM_FAIL;
    }
    s->cfg = *cfg;
    if (s->cfg.retry_ms <= 0)
        s->cfg.retry_ms = 500;
    if (s->cfg.stall_ms <= 0)
        s->cfg.stall_ms = 2000;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        snprintf(why, len, "cannot create a mutex");
        return CAM_FAIL;
    }
    s->conv = cam_converter_create();
    int r;
    s->is_video = s->cfg.video ? s->cfg.video->kind(s->cfg.cam.path) : 0;
    if (s->is_video)
        r = s->conv ? video_open(s, why, len) : CAM_FAIL; /* a wrong URL fails at once, too */
    else
        r = s->conv ? cam_open(&s->cfg.cam, &s->dev, why, len) : CAM_FAIL;
    if (!s->conv)
        snprintf(why, len, "cannot create a JPEG decoder");
    if (r == CAM_OK) {
        if (s->dev) /* a video source was described by video_open */
            describe_open(s, 0);
        set_state(s, CAM_STATE_STREAMING);
        if (pthread_create(&s->thread, NULL, capture_main, s) != 0) {
            snprintf(why, len, "cannot start the capture thread");
            r = CAM_FAIL;
        } else {
            s->started = 1;
        }
    }
    if (r != CAM_OK) {
        cam_close(s->dev);
        if (s->video)
            s->cfg.video->close(s->video);
        cam_converter_destroy(s->conv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return r;
    }
    *out = s;
    return CAM_OK;
}

void cam_source_get_stats(cam_source *s, cam_source_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
}

void cam_source_join(cam_source *s)
{
    if (!s)
        return;
    atomic_store(s->cfg.stop, 1);
    if (s->started)
        pthread_join(s->thread, NULL);
    s->started = 0;
}

void cam_source_stop(cam_source *s)
{
    if (!s)
        return;
    cam_source_join(s);
    cam_close(s->dev);
    cam_converter_destroy(s->conv);
    cam_image_free(&s->img);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
