/*
 * video_writer.h - an annotated video out: RGB frames -> H.264 in .mp4
 * (libx264) or, when this FFmpeg has no libx264, MJPEG in .avi, through
 * libavcodec, libswscale and libavformat.
 *
 * Written like every other output (src/io/files.h): into a hidden temporary
 * in the destination's folder, renamed over the destination by commit, so a
 * run that is interrupted or fails leaves the old file or none, never half a
 * video. Odd widths and heights lose their last column or row (4:2:0 chroma
 * needs even sizes).
 */
#ifndef BFV_VIDEO_WRITER_H
#define BFV_VIDEO_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct bfv_writer bfv_writer;

/* ".mp4" when libx264 is available, else ".avi": the extension the caller
 * gives the destination. */
const char *bfv_writer_extension(void);

/* Opens path for w x h frames at fps_num/fps_den frames per second (0/0: 30). */
int bfv_writer_open(const char *path, int width, int height, int fps_num, int fps_den,
                    bfv_writer **out, bfio_err *err);
/* Appends one frame (packed RGB rows, stride bytes apart, the size given to open). */
int bfv_writer_put(bfv_writer *w, const uint8_t *rgb, size_t stride, bfio_err *err);
/* Flushes the encoder, writes the trailer, renames into place, frees w. */
int bfv_writer_commit(bfv_writer *w, bfio_err *err);
/* Removes the temporary and frees w (NULL: nothing). */
void bfv_writer_abort(bfv_writer *w);

#endif /* BFV_VIDEO_WRITER_H */
