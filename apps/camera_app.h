/*
 * camera_app.h - the `bitfalcon camera` loop: capture thread -> detection
 * thread -> window (or JSON lines), with the command line parsed elsewhere.
 *
 *   capture thread   camera --DQBUF--> RGB --QBUF at once
 *                        |  latest frame wins (frame_slot.h)
 *                        +--> detection slot --> detection thread --> results
 *                        +--> display slot  --> main thread: window, keys
 *                                                   (draws the latest results)
 *
 * Threads: the capture thread (source.h), the detection thread
 * (detect_worker.h) and the calling thread, which runs SDL (or, headless,
 * waits). SIGINT and SIGTERM set a flag (sigaction); every thread notices it
 * within ~100 ms, threads are joined and everything is freed before return.
 */
#ifndef BF_APPS_CAMERA_APP_H
#define BF_APPS_CAMERA_APP_H

#include <stdint.h>

#include "detect_worker.h"

typedef struct cam_app_config {
    const char *device;     /* "/dev/video0" */
    int width, height;      /* wanted capture size (640x480) */
    int fps;                /* wanted capture rate; 0 = the driver's default */
    int headless;           /* no window; JSON lines on stdout */
    int json;               /* JSON lines on stdout also with a window */
    const char *record_dir; /* annotated JPEGs of every processed frame, or NULL */
    uint64_t max_frames;    /* stop after this many processed frames; 0 = run until stopped */
    int window_w, window_h; /* initial window size; 0 = the frame's size */
    const char *screenshot; /* save the final window contents here (BMP), or NULL */
    float conf;             /* the starting confidence threshold (shown; +/- change it) */
    float iou;              /* passed on unchanged, for the record */
    const char *title;      /* window title; the device and format are appended */
    int quiet;              /* no progress lines on stderr */
    const struct cam_video_ops *video; /* reads files and stream URLs as device; NULL: V4L2 only */
    int track;              /* --track: ByteTrack IDs (src/track/), drawn and in the JSON lines */
    const struct bt_config *track_cfg; /* the tracker's settings; NULL: Ultralytics' defaults */
} cam_app_config;

void cam_app_config_default(cam_app_config *cfg);

/* The detector settings from the command line. */
typedef struct cam_detector_options {
    const char *model;  /* model file */
    int input_size;     /* 0 = the model's default */
    float conf, iou;
    int max_det;        /* most boxes per frame; 0 = the engine's default (300) */
    int threads;        /* 0 = all cores */
    const char *isa;    /* NULL = best for this CPU */
    const char *classes; /* --classes: ids or names, comma-separated; NULL = all */
} cam_detector_options;

/* Opens the detector behind the camera loop: the program links the BitFalcon
 * engine's version (apps/cmd_camera_engine.c), the camera tests a stand-in
 * (tests/camera/stub_backend.c); cam_app_run takes whichever was opened.
 * 0, or -1 with a reason. */
int cam_backend_open(const cam_detector_options *opt, cam_backend *out, char *why, size_t why_len);

/* Runs until q/Esc/window closed, SIGINT/SIGTERM or max_frames. The backend
 * is used, not closed. Returns 0, or 1 when the camera could not be started
 * or a fatal error happened (reported on stderr). */
int cam_app_run(const cam_app_config *cfg, const cam_backend *backend);

#endif /* BF_APPS_CAMERA_APP_H */
