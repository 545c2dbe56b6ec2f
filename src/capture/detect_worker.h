/*
 * detect_worker.h - the detection thread: newest frame in, boxes out.
 *
 * The worker takes the newest frame from its slot (frame_slot.h: frames that
 * arrived while it was busy are skipped, never queued), runs the detector and
 * publishes the result. The window reads the latest result whenever it draws,
 * so video stays live at the camera's rate while boxes update at the
 * detector's rate.
 *
 * The detector itself is behind cam_backend: the camera command plugs in the
 * BitFalcon engine (apps/cmd_camera_engine.c); tests can plug in a stand-in.
 * A backend is used by the worker thread only, except class_name, which must
 * be safe to call from any thread (bf_model_class_name is: the model is
 * immutable).
 */
#ifndef BF_CAPTURE_DETECT_WORKER_H
#define BF_CAPTURE_DETECT_WORKER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bitfalcon.h" /* bf_detection */
#include "frame_slot.h"

typedef struct cam_backend {
    void *ctx;
    /* Detects on packed RGB; *dets (n of them) stay valid until the next run. 0 or -1. */
    int (*run)(void *ctx, const uint8_t *rgb, int w, int h, size_t stride,
               const bf_detection **dets, size_t *n, char *why, size_t why_len);
    /* Confidence threshold for later runs. 0 or -1. */
    int (*set_conf)(void *ctx, float conf);
    /* The class's name, or NULL. Any thread. */
    const char *(*class_name)(void *ctx, int class_id);
    /* A short description for the status line ("avx2, 640 px"); may be NULL. */
    const char *(*describe)(void *ctx);
    void (*close)(void *ctx);
} cam_backend;

/* One detector result, in the pixel coordinates of the frame it was run on. */
typedef struct cam_detections {
    bf_detection *items;
    size_t count, capacity;
    uint64_t frame;      /* cam_image.frame of the frame */
    uint32_t sequence;   /* the driver's sequence number of the frame */
    int width, height;   /* of that frame */
    double t_capture;    /* when the frame was dequeued (cam_now seconds) */
    double t_source;     /* the frame's own time (cam_image.t_source), or -1 */
    double run_s;        /* the detector's run time */
    double latency_s;    /* capture -> result available */
    uint64_t version;    /* 0 = no result yet; +1 per result */
} cam_detections;

/* Copies src into dst (growing dst); -1 when out of memory. */
int cam_detections_copy(cam_detections *dst, const cam_detections *src);
void cam_detections_free(cam_detections *d);

/* Called in the worker thread after each run, with the frame that was
 * detected on (the callback may draw on it) and the result. */
typedef void (*cam_result_fn)(void *ctx, cam_image *frame, const cam_detections *result);

typedef struct cam_worker_config {
    cam_backend backend;   /* owned by the caller; not closed by the worker */
    cam_slot *in;
    atomic_int *stop;      /* set by the app; the worker also sets it after max_frames */
    atomic_int *paused;    /* while set, frames are taken and dropped without detecting */
    uint64_t max_frames;   /* 0 = no limit */
    cam_result_fn on_result;
    void *on_result_ctx;
} cam_worker_config;

typedef struct cam_worker_stats {
    uint64_t processed;
    uint64_t errors;
    double fps;          /* results per second over the last second or so */
    double run_ms_avg;   /* mean detector time */
    double latency_ms_avg;
    double latency_ms_last;
} cam_worker_stats;

typedef struct cam_worker cam_worker;

int cam_worker_start(const cam_worker_config *cfg, cam_worker **out, char *why, size_t why_len);

/* Copies the latest result into *out when it is newer than out->version.
 * Returns 1 when it copied, 0 when there was nothing newer. */
int cam_worker_latest(cam_worker *w, cam_detections *out);

/* The threshold is applied by the worker thread before its next run. */
void cam_worker_set_conf(cam_worker *w, float conf);

void cam_worker_get_stats(cam_worker *w, cam_worker_stats *out);

/* Sets *stop, closes the input slot and joins the thread; the latest result
 * and the stats stay readable. Safe to call twice. */
void cam_worker_join(cam_worker *w);

/* Joins (if not yet done) and frees; NULL is fine. The backend is not closed. */
void cam_worker_destroy(cam_worker *w);

#endif /* BF_CAPTURE_DETECT_WORKER_H */
