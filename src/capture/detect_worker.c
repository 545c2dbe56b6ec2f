/*
 * detect_worker.c - the detection thread (see detect_worker.h).
 */
#include "detect_worker.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cam_worker {
    cam_worker_config cfg;
    pthread_t thread;
    int joined;
    pthread_mutex_t mu;     /* guards latest, stats, want_conf */
    cam_detections latest;
    cam_worker_stats stats;
    float want_conf;        /* NaN: no change pending */
    double fps_t0;
    uint64_t fps_n0;
    double t_last; /* when the latest result was published */
    double run_sum, lat_sum;
};

int cam_detections_copy(cam_detections *dst, const cam_detections *src)
{
    if (src->count > dst->capacity) {
        bf_detection *p = realloc(dst->items, src->count * sizeof *p);
        if (!p)
            return -1;
        dst->items = p;
        dst->capacity = src->count;
    }
    if (src->count)
        memcpy(dst->items, src->items, src->count * sizeof *dst->items);
    bf_detection *items = dst->items;
    size_t cap = dst->capacity;
    *dst = *src;
    dst->items = items;
    dst->capacity = cap;
    return 0;
}

void cam_detections_free(cam_detections *d)
{
    free(d->items);
    memset(d, 0, sizeof *d);
}

static int stopping(const cam_worker *w) { return atomic_load(w->cfg.stop) != 0; }

static void publish(cam_worker *w, const cam_image *img, const bf_detection *dets, size_t n,
                     double t0, double t1, cam_detections *scratch)
{
    /* Build the result outside the lock, then swap it in. */
    scratch->count = 0;
    if (n > scratch->capacity) {
        bf_detection *p = realloc(scratch->items, n * sizeof *p);
        if (!p)
            n = scratch->capacity; /* keep what fits rather than fail the frame */
        else {
            scratch->items = p;
            scratch->capacity = n;
        }
    }
    if (n)
        memcpy(scratch->items, dets, n * sizeof *dets);
    scratch->count = n;
    scratch->frame = img->frame;
    scratch->sequence = img->sequence;
    scratch->width = img->width;
    scratch->height = img->height;
    scratch->t_capture = img->t_capture;
    scratch->t_source = img->t_source;
    scratch->run_s = t1 - t0;
    scratch->latency_s = t1 - img->t_capture;

    pthread_mutex_lock(&w->mu);
    scratch->version = w->latest.version + 1;
    cam_detections t = w->latest;
    w->latest = *scratch;
    *scratch = t;
    cam_worker_stats *s = &w->stats;
    s->processed++;
    w->run_sum += t1 - t0;
    w->lat_sum += t1 - img->t_capture;
    s->run_ms_avg = 1000.0 * w->run_sum / (double)s->processed;
    s->latency_ms_avg = 1000.0 * w->lat_sum / (double)s->processed;
    s->latency_ms_last = 1000.0 * (t1 - img->t_capture);
    w->t_last = t1;
    if (w->fps_t0 == 0) {
        w->fps_t0 = t1;
        w->fps_n0 = s->processed;
    } else if (t1 - w->fps_t0 >= 0.5) {
        s->fps = (double)(s->processed - w->fps_n0) / (t1 - w->fps_t0);
        w->fps_t0 = t1;
        w->fps_n0 = s->processed;
    } else if (s->fps == 0 && t1 - w->fps_t0 >= 0.1) {
        s->fps = (double)(s->processed - w->fps_n0) / (t1 - w->fps_t0); /* a first estimate */
    }
    pthread_mutex_unlock(&w->mu);
}

static void *worker_main(void *arg)
{
    cam_worker *w = arg;
    cam_image img;
    memset(&img, 0, sizeof img);
    cam_detections scratch;
    memset(&scratch, 0, sizeof scratch);
    char why[256];
    uint64_t done = 0;
    while (!stopping(w)) {
        int r = cam_slot_take(w->cfg.in, &img, 100);
        if (r < 0)
            break;
        if (r == 0 || (w->cfg.paused && atomic_load(w->cfg.paused)))
            continue;
        pthread_mutex_lock(&w->mu);
        float conf = w->want_conf;
        w->want_conf = NAN;
        pthread_mutex_unlock(&w->mu);
        if (!isnan(conf) && w->cfg.backend.set_conf)
            w->cfg.backend.set_conf(w->cfg.backend.ctx, conf);

        const bf_detection *dets = NULL;
        size_t n = 0;
        double t0 = cam_now();
        if (w->cfg.backend.run(w->cfg.backend.ctx, img.rgb, img.width, img.height,
                               (size_t)img.width * 3, &dets, &n, why, sizeof why) != 0) {
            pthread_mutex_lock(&w->mu);
            uint64_t e = ++w->stats.errors;
            pthread_mutex_unlock(&w->mu);
            if (e <= 3)
                fprintf(stderr, "camera: detection failed on frame %llu: %s\n",
                        (unsigned long long)img.frame, why);
            continue;
        }
        double t1 = cam_now();
        publish(w, &img, dets, n, t0, t1, &scratch);
        if (w->cfg.on_result) {
            /* The callback gets the published copy's twin: same content, ours to use. */
            pthread_mutex_lock(&w->mu);
            cam_detections_copy(&scratch, &w->latest);
            pthread_mutex_unlock(&w->mu);
            w->cfg.on_result(w->cfg.on_result_ctx, &img, &scratch);
        }
        if (w->cfg.max_frames && ++done >= w->cfg.max_frames)
            atomic_store(w->cfg.stop, 1);
    }
    cam_image_free(&img);
    cam_detections_free(&scratch);
    return NULL;
}

int cam_worker_start(const cam_worker_config *cfg, cam_worker **out, char *why, size_t len)
{
    cam_worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(why, len, "out of memory");
        return -1;
    }
    w->cfg = *cfg;
    w->want_conf = NAN;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        snprintf(why, len, "cannot create a mutex");
        return -1;
    }
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        free(w);
        snprintf(why, len, "cannot start the detection thread");
        return -1;
    }
    *out = w;
    return 0;
}

int cam_worker_latest(cam_worker *w, cam_detections *out)
{
    pthread_mutex_lock(&w->mu);
    int r = 0;
    if (w->latest.version != out->version)
        r = cam_detections_copy(out, &w->latest) == 0;
    pthread_mutex_unlock(&w->mu);
    return r;
}

void cam_worker_set_conf(cam_worker *w, float conf)
{
    pthread_mutex_lock(&w->mu);
    w->want_conf = conf;
    pthread_mutex_unlock(&w->mu);
}

void cam_worker_get_stats(cam_worker *w, cam_worker_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    double idle = cam_now() - w->t_last;
    pthread_mutex_unlock(&w->mu);
    /* No result for well over one detection interval (camera gone, paused):
     * the rate is 0 now, not whatever it was. */
    if (out->fps > 0 && idle > 1.5 / out->fps + 0.5)
        out->fps = 0;
}

void cam_worker_join(cam_worker *w)
{
    if (!w || w->joined)
        return;
    atomic_store(w->cfg.stop, 1);
    cam_slot_close(w->cfg.in);
    pthread_join(w->thread, NULL);
    w->joined = 1;
}

void cam_worker_destroy(cam_worker *w)
{
    if (!w)
        return;
    cam_worker_join(w);
    cam_detections_free(&w->latest);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
