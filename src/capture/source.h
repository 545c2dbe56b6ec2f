/*
 * source.h - the capture thread: camera -> RGB frames -> frame slots, and
 * reconnection when the camera goes away.
 *
 * The thread owns the device. For each frame it dequeues, converts to RGB
 * (MJPEG or YUYV, see convert.h), re-queues the buffer at once, and publishes
 * the RGB image: swapped into the first slot (the detector's) and copied into
 * the others (the window's). Damaged frames are dropped and counted.
 *
 * A file or stream URL goes through cfg.video instead; a stream that ends or
 * fails is reopened with a back-off of 0.25 s doubling to 8 s, each return
 * counted in reconnects.
 *
 * When the device vanishes (unplugged: ENODEV/ENXIO/EIO, POLLERR) or stalls
 * (no frame for stall_ms) it is torn down completely (munmap, close) and
 * reopened every retry_ms until it is back; meanwhile the state says
 * DISCONNECTED so that the window can say so.
 */
#ifndef BF_CAPTURE_SOURCE_H
#define BF_CAPTURE_SOURCE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "frame_slot.h"
#include "v4l2_capture.h"

#define CAM_SOURCE_MAX_SLOTS 2

typedef enum cam_state {
    CAM_STATE_STREAMING = 0,
    CAM_STATE_DISCONNECTED = 1, /* waiting for the device to come back */
    CAM_STATE_STOPPED = 2
} cam_state;

/* A video file or network stream instead of a V4L2 device (`camera --source`):
 * the program passes FFmpeg's reader (apps/camera_video.c over src/video) so
 * that this library, and the tests that link it, do not depend on FFmpeg. */
typedef struct cam_video_info {
    int width, height;
    int fps_num, fps_den;    /* 0/0 when unknown */
    char name[32];           /* container and codec, for messages */
} cam_video_info;

typedef struct cam_video_frame {
    const uint8_t *rgb;      /* packed RGB rows, stride bytes apart; valid until the next call */
    int width, height;
    size_t stride;
    long long index;         /* the source's frame number */
    double time;             /* the frame's own time, seconds */
} cam_video_frame;

typedef struct cam_video_ops {
    /* 0: a V4L2 device (not ours); 1: a file (read at its frame rate, the run
     * ends with it); 2: a stream (reopened when lost). */
    int (*kind)(const char *path);
    /* Every call blocks at most timeout_ms, and less once *stop is set. 0 or -1 + why. */
    int (*open)(const char *path, int timeout_ms, const atomic_int *stop, void **handle,
                cam_video_info *info, char *why, size_t len);
    int (*next)(void *handle, cam_video_frame *f, char *why, size_t len); /* 1, 0 end, -1 */
    void (*close)(void *handle);
} cam_video_ops;

typedef struct cam_source_config {
    cam_config cam;
    int retry_ms;        /* reopen interval while disconnected (500) */
    int stall_ms;        /* no frame for this long = reopen (2000) */
    cam_slot *slots[CAM_SOURCE_MAX_SLOTS]; /* [0] gets the frame, the rest copies */
    int nslots;
    atomic_int *stop;    /* the application's stop flag, checked at least every 100 ms */
    int quiet;           /* 1: no progress lines on stderr */
    const cam_video_ops *video; /* files and URLs; NULL: V4L2 only */
} cam_source_config;

typedef struct cam_source_stats {
    uint64_t frames;      /* converted and published */
    uint64_t corrupt;     /* dropped: damaged or short frames */
    uint64_t stalls;      /* reopened because no frame came for stall_ms */
    uint64_t disconnects; /* the device went away */
    uint64_t reconnects;  /* ... and came back (the first open is not counted) */
    double fps;           /* frames per second over the last second or so */
    double convert_ms_avg; /* mean time to turn a dequeued frame into RGB (decode) */
    cam_state state;
    int gone_when_stopped; /* STOPPED: the device was gone (DISCONNECTED) then */
    cam_format format;    /* of the current (or last) connection */
} cam_source_stats;

typedef struct cam_source cam_source;

/* Opens the camera in the calling thread (so that a wrong path fails at once,
 * with its reason) and starts the capture thread. */
int cam_source_start(const cam_source_config *cfg, cam_source **out, char *why, size_t why_len);

void cam_source_get_stats(cam_source *src, cam_source_stats *out);

/* Sets *cfg.stop, joins the thread, closes the device and frees everything. */
void cam_source_stop(cam_source *src);
/* Stops the capture thread and waits for it, keeping the source (and its final
 * stats) until cam_source_stop: a frame dequeued before the stop is counted by
 * then, so the stats can be compared exactly with what the device served. */
void cam_source_join(cam_source *src);

#endif /* BF_CAPTURE_SOURCE_H */
