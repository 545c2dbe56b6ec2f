/*
 * detect_video.h - `bitfalcon detect` on one video file (src/video/).
 *
 * cmd_detect.c hands every input here first; what is not a video goes on to
 * the image path. Per video: every frame is decoded, every --vid-stride'th is
 * detected, and
 *   --json  each detection gains "frame" (0-based) and "time" (seconds);
 *   --txt   DIR/REL/NNNNNN.txt per detected frame (NNNNNN: the frame number);
 *   --draw  DIR/REL.mp4 (H.264) or DIR/REL.avi (MJPEG, an FFmpeg without
 *           libx264), every source frame at the source's rate, the boxes of
 *           the latest detected frame drawn on it;
 *   no output option: one line per detection on stdout.
 * With --track, a ByteTrack tracker (src/track/) per video follows the
 * detected frames: each detection gains "track" in the JSON (its confirmed
 * track's ID, or null), a tracked one "#ID" in the drawing and " track=ID"
 * on stdout, and --mot writes MOT Challenge text (written when the video
 * ends; one video per file).
 * A damaged file keeps what decoded before the damage (all outputs written)
 * and is reported as a failure.
 */
#ifndef BF_APPS_DETECT_VIDEO_H
#define BF_APPS_DETECT_VIDEO_H

#include <signal.h>
#include <stddef.h>

#include "bitfalcon.h"
#include "bytetrack.h"
#include "detfile.h"
#include "journal.h"

/* One detection of a video, as the --resume journal keeps it (exact
 * values; track as bfio_detfile_add_video takes it): the journal's record,
 * so that the collected list is a video's entry as it is. */
typedef bfio_journal_det bf_video_det;

/* A growing list of them; failed: out of memory on the way (sticky). */
typedef struct bf_video_dets {
    bf_video_det *v;
    size_t n, cap;
    int failed;
} bf_video_dets;

void bf_video_dets_free(bf_video_dets *l);

typedef struct bf_video_job {
    bf_detector *det;
    const bf_model *model;
    const char *out_base;         /* DIR/REL without extension; NULL without --txt/--draw */
    int want_txt, want_draw, want_print;
    bfio_detfile_writer *json;    /* NULL without --json */
    void (*json_flush)(void *ctx); /* called now and then, to keep the JSON text small */
    void *json_ctx;
    int stride;                   /* --vid-stride: detect every stride'th frame (>= 1) */
    const volatile sig_atomic_t *stop; /* SIGINT/SIGTERM seen: stop after this frame */
    size_t input_no, inputs_total; /* for the progress line */
    int track;                    /* --track: ByteTrack IDs (src/track/bytetrack.h) */
    const bt_config *track_cfg;   /* its settings; NULL: Ultralytics' defaults */
    const char *mot_path;         /* --mot: this video's MOT Challenge text file, or NULL */
    char **mot_source;            /* --mot FILE (one file for the run): the one video it holds,
                                   * strdup'ed by the first; NULL: mot_path is this video's own */
    bf_video_dets *collect;       /* non-NULL (--resume): detections go here, not to json */
} bf_video_job;

/* What a file is, from its content (and, when the content says little, its name). */
enum { BF_VIDEO_NOT_VIDEO = 1 };

/* 0 done, -1 failed or damaged (reported as "bitfalcon: PATH: CAUSE"), or
 * BF_VIDEO_NOT_VIDEO: not a video (or no video support in this build), and
 * nothing was reported: the caller treats it as an image. */
int bf_detect_video(const bf_video_job *job, const char *path);

/* 1 when this build reads videos. */
int bf_detect_video_supported(void);

/* The extension --draw gives a video (".mp4", or ".avi" without libx264);
 * NULL without video support. */
const char *bf_detect_video_draw_ext(void);

#endif /* BF_APPS_DETECT_VIDEO_H */
