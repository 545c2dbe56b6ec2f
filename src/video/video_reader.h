/*
 * video_reader.h - video files and network streams to RGB frames, through
 * FFmpeg's libavformat (demux), libavcodec (decode) and libswscale (to RGB).
 *
 *     bfv_reader *r;
 *     bfio_err err;
 *     if (bfv_open("clip.mp4", NULL, &r, &err) != 0) { ...err.msg... }
 *     bfv_frame f;
 *     int rc;
 *     while ((rc = bfv_next(r, &f, &err)) == 1) { ...f.rgb, f.index, f.time... }
 *     // rc 0: the end; -1: a read error (err says which); then bfv_damage(r)
 *     bfv_close(r);
 *
 * The container is found by content (libavformat's probe), never by name. A
 * declared size over BFIO_IMAGE_MAX_SIDE / BFIO_IMAGE_MAX_PIXELS is refused
 * before any frame is allocated, and the decoder is capped there too
 * (max_pixels), as for images. Every blocking call is bounded: an interrupt
 * callback ends it when the timeout passes or the caller's stop flag is set,
 * so a dead network peer cannot hang the program.
 *
 * Damage: a file whose packets end early or fail to decode still gives every
 * frame that decodes; bfv_damage() then says what was wrong ("truncated: 31
 * of 60 frames", "5 packets failed to decode"), so the caller can keep the
 * frames and still report the file.
 */
#ifndef BFV_VIDEO_READER_H
#define BFV_VIDEO_READER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct bfv_open_options {
    int timeout_ms;          /* longest any open/read may block (default 10000) */
    const atomic_int *stop;  /* set by another thread to end a blocking read now; may be NULL */
} bfv_open_options;

typedef struct bfv_info {
    int width, height;       /* as declared by the stream (frames may differ: see bfv_frame) */
    int fps_num, fps_den;    /* the frame rate (avg, else r_frame_rate); 0/1 when unknown */
    double fps;              /* fps_num / fps_den, or 0 */
    long long frames;        /* frames declared by the container, or -1 */
    double duration;         /* seconds declared, or -1 */
    int is_stream;           /* a network URL or a pipe: no truncation checks */
    char container[32];      /* libavformat's short name ("mov,mp4,m4a,3gp,3g2,mj2" cut to fit) */
    char codec[32];          /* "h264", "mjpeg", "vp9", ... */
    int probe_score;         /* libavformat's confidence in the container, 1..100 (100: by content) */
} bfv_info;

typedef struct bfv_frame {
    const uint8_t *rgb;      /* packed RGB, valid until the next bfv_next or bfv_close */
    int width, height;
    size_t stride;           /* width * 3 */
    long long index;         /* 0-based, in presentation order */
    double time;             /* seconds from the stream's start (pts), else index / fps */
} bfv_frame;

typedef struct bfv_reader bfv_reader;

/* Opens a file path or URL (rtsp:// is read over TCP). opt may be NULL. */
int bfv_open(const char *url, const bfv_open_options *opt, bfv_reader **out, bfio_err *err);
const bfv_info *bfv_get_info(const bfv_reader *r);

/* The next frame: 1 (f filled), 0 (the end), -1 (a read error; err says which,
 * and the frames so far stay valid). Frames that fail to decode are skipped
 * and counted for bfv_damage. */
int bfv_next(bfv_reader *r, bfv_frame *f, bfio_err *err);

/* After the end or an error: 1 and a one-line description when the file was
 * damaged (truncated, undecodable packets, a read error), else 0. */
int bfv_damage(const bfv_reader *r, char *buf, size_t len);

/* Frames decoded so far, and packets that failed to decode. */
long long bfv_frames_read(const bfv_reader *r);

void bfv_close(bfv_reader *r);

/* FFmpeg logs to stderr by itself (one line per damaged macroblock). A
 * program calls this once to keep only fatal messages (quiet = 1) or
 * FFmpeg's default; it sets FFmpeg's process-wide level, so the library
 * never calls it on its own. */
void bfv_set_log_quiet(int quiet);

/* libavformat's confidence (0..100) that the file's first bytes start a
 * container it reads, judged by content alone (not the name); 0 when it
 * cannot be read. */
int bfv_probe_file(const char *path);

/* 1 when the name looks like a URL that libavformat should open as a network
 * stream (scheme://, not file:). */
int bfv_is_url(const char *s);

#endif /* BFV_VIDEO_READER_H */
