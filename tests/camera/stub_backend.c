/*
 * stub_backend.c - a stand-in detector for the camera tests: cam_backend_open
 * without the engine or a model, so that the camera loop (threads, JSON
 * lines, window, boxes, recording, keys) is tested even where no model file
 * exists. It is linked into `camera_stub` (apps/cmd_camera.c + this file),
 * never into `bitfalcon`.
 *
 * Its "detections" are a pure function of the frame: three boxes at fixed
 * fractions of the frame (classes 0 person, 15 cat, 41 cup) whose scores are
 * the mean brightness of the boxed area, so they change with the picture and
 * the confidence threshold filters them like the real detector's.
 * BF_STUB_DELAY_MS=N makes each run take at least N ms (a slow detector).
 * BF_STUB_WAIT_FRAMES=K also makes it wait until the stand-in device has
 * served K more frames since the run began (a count, not a time: at least
 * K - 1 newer frames then reached the frame slot however loaded the machine
 * is, so "latest frame wins" must skip at least one; a 60 s deadline).
 */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "camera_app.h"
#include "fake_v4l2.h"

typedef struct stub {
    float conf;
    int delay_ms;
    int wait_frames;
    bf_fake_v4l2_get_counters_fn counters; /* the preloaded shim's, or NULL */
    bf_detection out[3];
} stub;

static unsigned long frames_served(const stub *s)
{
    bf_fake_v4l2_counters c;
    s->counters(&c);
    return c.frames_served;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Until the device served k more frames than `since`, or 60 s passed. */
static void wait_frames(const stub *s, unsigned long since, int k)
{
    double deadline = now_s() + 60;
    while (frames_served(s) < since + (unsigned long)k && now_s() < deadline) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
}

static const struct {
    int cls;
    float x0, y0, x1, y1;
} boxes[3] = {{0, 0.10f, 0.20f, 0.45f, 0.90f}, {15, 0.55f, 0.35f, 0.92f, 0.80f}, {41, 0.30f, 0.05f, 0.70f, 0.30f}};

static int stub_run(void *ctx, const uint8_t *rgb, int w, int h, size_t stride, const bf_detection **dets,
                    size_t *n, char *why, size_t len)
{
    (void)why;
    (void)len;
    stub *s = ctx;
    unsigned long served = s->wait_frames > 0 ? frames_served(s) : 0;
    if (s->delay_ms > 0) {
        struct timespec ts = {s->delay_ms / 1000, (long)(s->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (s->wait_frames > 0)
        wait_frames(s, served, s->wait_frames);
    size_t k = 0;
    for (int i = 0; i < 3; i++) {
        int x0 = (int)(boxes[i].x0 * w), y0 = (int)(boxes[i].y0 * h);
        int x1 = (int)(boxes[i].x1 * w), y1 = (int)(boxes[i].y1 * h);
        unsigned long long sum = 0, cnt = 0;
        for (int y = y0; y < y1; y += 4)
            for (int x = x0; x < x1; x += 4) {
                const uint8_t *p = rgb + (size_t)y * stride + (size_t)x * 3;
                sum += (unsigned)p[0] + p[1] + p[2];
                cnt += 3;
            }
        float score = cnt ? (float)sum / (float)cnt / 255.0f : 0.0f;
        score = 0.2f + 0.79f * score; /* 0.20 .. 0.99 */
        if (score < s->conf)
            continue;
        bf_detection *d = &s->out[k++];
        d->x0 = (float)x0;
        d->y0 = (float)y0;
        d->x1 = (float)x1;
        d->y1 = (float)y1;
        d->score = score;
        d->class_id = boxes[i].cls;
    }
    /* highest score first, like the engine */
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++)
            if (s->out[j].score > s->out[i].score) {
                bf_detection t = s->out[i];
                s->out[i] = s->out[j];
                s->out[j] = t;
            }
    *dets = s->out;
    *n = k;
    return 0;
}

static int stub_set_conf(void *ctx, float conf)
{
    ((stub *)ctx)->conf = conf;
    fprintf(stderr, "stub detector: threshold %.2f\n", (double)conf); /* for the keys test */
    return 0;
}

static const char *stub_class_name(void *ctx, int id)
{
    (void)ctx;
    return id == 0 ? "person" : id == 15 ? "cat" : id == 41 ? "cup" : NULL;
}

static const char *stub_describe(void *ctx)
{
    (void)ctx;
    return "stand-in detector";
}

static void stub_close(void *ctx) { free(ctx); }

int cam_backend_open(const cam_detector_options *o, cam_backend *out, char *why, size_t len)
{
    stub *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, len, "out of memory");
        return -1;
    }
    s->conf = o->conf;
    const char *d = getenv("BF_STUB_DELAY_MS");
    s->delay_ms = d ? atoi(d) : 0;
    const char *k = getenv("BF_STUB_WAIT_FRAMES");
    s->wait_frames = k ? atoi(k) : 0;
    s->counters = (bf_fake_v4l2_get_counters_fn)dlsym(RTLD_DEFAULT, "bf_fake_v4l2_get_counters");
    if (s->wait_frames > 0 && !s->counters) {
        snprintf(why, len, "BF_STUB_WAIT_FRAMES needs the stand-in device (libfake_v4l2.so) preloaded");
        free(s);
        return -1;
    }
    out->ctx = s;
    out->run = stub_run;
    out->set_conf = stub_set_conf;
    out->class_name = stub_class_name;
    out->describe = stub_describe;
    out->close = stub_close;
    return 0;
}
