/*
 * v4l2_capture.h - one V4L2 camera, streaming through mmap'ed buffers.
 *
 * All device I/O goes through libv4l2 (v4l2_open, v4l2_ioctl, v4l2_mmap, ...):
 * it smooths over driver quirks (and fixes upside-down laptop cameras) while
 * passing the formats we ask for, MJPEG and YUYV, through unconverted.
 *
 *     cam_device *dev;
 *     char why[256];
 *     if (cam_open(&cfg, &dev, why, sizeof why) != CAM_OK) ...
 *     for (;;) {
 *         cam_frame f;
 *         int r = cam_next(dev, 200, &f);      // poll (with a timeout) + DQBUF
 *         if (r == CAM_FRAME) {
 *             ... read f.data (mmap'ed driver memory) ...
 *             r = cam_release(dev, &f);        // QBUF at once
 *         }
 *         if (r == CAM_GONE) break;            // unplugged: close, reopen later
 *     }
 *     cam_close(dev);                          // STREAMOFF, munmap, close
 *
 * The calls never exit() and never print: failures come back as a status and
 * a one-line reason; the caller decides what to tell the user.
 */
#ifndef BF_CAPTURE_V4L2_CAPTURE_H
#define BF_CAPTURE_V4L2_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#define CAM_MAX_BUFFERS 8
#define CAM_MAX_DIM 8192 /* refuse absurd driver answers before allocating */

/* Status of the cam_* calls. */
enum {
    CAM_OK = 0,
    CAM_FRAME = 1,   /* cam_next: a frame is in *out */
    CAM_TIMEOUT = 2, /* cam_next: no frame within the timeout (the caller counts them) */
    CAM_AGAIN = 3,   /* cam_next: interrupted or spurious wake-up; just call again */
    CAM_GONE = -1,   /* the device is absent or was unplugged: close it, reopen later */
    CAM_FAIL = -2    /* it exists but cannot be used as configured (not a camera, ...) */
};

typedef struct cam_config {
    const char *path; /* "/dev/video0" */
    int width, height; /* wanted size; the driver picks the nearest it has */
    int fps;           /* wanted rate, 0 = the driver's default */
    uint32_t only_fourcc; /* 0 = MJPEG preferred, YUYV fallback; else just this one */
    int buffers;       /* driver buffers to ask for (4); fewer than 2 granted fails */
} cam_config;

void cam_config_default(cam_config *cfg);

/* What was negotiated; valid until cam_close. */
typedef struct cam_format {
    uint32_t fourcc;     /* V4L2_PIX_FMT_MJPEG or V4L2_PIX_FMT_YUYV */
    int width, height;   /* as the driver returned them, not as asked */
    int bytesperline;    /* YUYV row pitch (>= width * 2); 0 for MJPEG */
    size_t sizeimage;    /* the largest frame the driver will deliver */
    int fps_num, fps_den; /* frame interval num/den seconds; 0/0 when unknown */
    unsigned buffers;    /* driver buffers granted */
    char card[32];       /* the device's name */
} cam_format;

/* A dequeued frame: data points into driver memory until cam_release. */
typedef struct cam_frame {
    const uint8_t *data;
    size_t bytes;        /* bytesused: a short MJPEG frame is truncated */
    uint32_t sequence;   /* the driver's frame counter (gaps = frames it dropped) */
    double timestamp;    /* driver time stamp, seconds (CLOCK_MONOTONIC on modern drivers) */
    int error_flag;      /* the driver marked the data as corrupt (V4L2_BUF_FLAG_ERROR) */
    unsigned index;      /* buffer index, for cam_release */
} cam_frame;

typedef struct cam_device cam_device;

/* Opens, checks capture+streaming, negotiates, maps and queues buffers, streams.
 * Returns CAM_OK, CAM_GONE (no such device: try again later) or CAM_FAIL;
 * on failure nothing stays open and *out is untouched. */
int cam_open(const cam_config *cfg, cam_device **out, char *why, size_t why_len);

const cam_format *cam_get_format(const cam_device *dev);

/* Waits up to timeout_ms for a frame. Returns CAM_FRAME, CAM_TIMEOUT, CAM_AGAIN,
 * CAM_GONE (ENODEV/ENXIO/EIO or POLLERR: the device went away) or CAM_FAIL. */
int cam_next(cam_device *dev, int timeout_ms, cam_frame *out, char *why, size_t why_len);

/* Gives the buffer back to the driver (QBUF). CAM_OK, CAM_GONE or CAM_FAIL. */
int cam_release(cam_device *dev, const cam_frame *frame, char *why, size_t why_len);

/* Stops streaming, unmaps, frees the driver buffers and closes: setup in
 * reverse. Errors are ignored (an unplugged device fails every call) so that
 * nothing leaks. NULL is fine. */
void cam_close(cam_device *dev);

/* Writes the fourcc as text ("MJPG", "YUYV") into buf and returns it. */
const char *cam_fourcc_str(uint32_t fourcc, char buf[8]);

#endif /* BF_CAPTURE_V4L2_CAPTURE_H */
