/*
 * orient.h - turning decoded pixels from the frame a camera stored to the
 * frame it is displayed in, by the EXIF orientation (1..8, as in the TIFF
 * specification and jpegmeta.h):
 *
 *     1 as stored          2 mirrored left-right   3 turned 180 degrees
 *     4 mirrored top-down  5 transposed            6 turned 90 degrees clockwise
 *     7 transversed        8 turned 90 degrees anticlockwise
 *
 * 5 to 8 swap width and height. This is what OpenCV's imread and PIL's
 * ImageOps.exif_transpose do, so boxes found on the result are in the frame
 * a viewer shows.
 */
#ifndef BFIO_ORIENT_H
#define BFIO_ORIENT_H

#include "err.h"
#include "image.h"

/* The displayed size of a stored width x height image. */
void bfio_orient_size(int orientation, int width, int height, int *out_width, int *out_height);

/* Replaces img's pixels by the displayed frame. Orientation 1 (or a value
 * outside 1..8) leaves img as it is. On failure (out of memory) img is
 * unchanged. */
int bfio_image_orient(bfio_image *img, int orientation, bfio_err *err);

#endif /* BFIO_ORIENT_H */
