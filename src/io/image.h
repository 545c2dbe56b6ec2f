/*
 * image.h - image files to RGB8 and back.
 *
 *     bfio_image img;
 *     bfio_err err;
 *     if (bfio_image_load("photo.jpg", &img, &err) != 0) {
 *         fprintf(stderr, "bitfalcon: photo.jpg: %s\n", err.msg);
 *         ...
 *     }
 *     // img.pixels: img.height rows of img.width RGB triplets, img.stride bytes apart
 *     bfio_image_free(&img);
 *
 * The format is found from the content (magic bytes), never from the file
 * name: JPEG through libjpeg-turbo's TurboJPEG API, PNG and BMP through
 * stb_image. Before any pixel memory is allocated the header's dimensions are
 * checked against BFIO_IMAGE_MAX_SIDE and BFIO_IMAGE_MAX_PIXELS, so a 40-byte
 * file claiming 100000 x 100000 pixels costs nothing. A truncated or corrupt
 * JPEG is an error (libjpeg's "premature end" warnings are not accepted: a
 * half-grey picture would silently lower the detector's accuracy).
 *
 * JPEG decoding uses libjpeg-turbo's defaults (accurate integer DCT, smooth
 * chroma upsampling), the same as PIL, so the C and Python tools see the same
 * pixels. A JPEG's EXIF orientation (jpegmeta.h) is applied, as OpenCV's
 * imread and Ultralytics apply it: pixels, width and height are those of the
 * frame a viewer displays, so boxes and YOLO labels are in that frame
 * (PIL's Image.open does not turn them: ImageOps.exif_transpose does).
 * BFIO_IMAGE_NO_EXIF keeps the stored frame (`--no-exif`). PNG and BMP have
 * no orientation here. Formats that are valid but not decoded (lossless,
 * hierarchical or 12-bit JPEG, RLE BMP) are called unsupported, not corrupt.
 */
#ifndef BFIO_IMAGE_H
#define BFIO_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define BFIO_IMAGE_MAX_SIDE 16384
#define BFIO_IMAGE_MAX_PIXELS 100000000LL /* 100 megapixels: 300 MB of RGB */

typedef enum bfio_format {
    BFIO_FORMAT_UNKNOWN = 0,
    BFIO_FORMAT_JPEG,
    BFIO_FORMAT_PNG,
    BFIO_FORMAT_BMP
} bfio_format;

typedef struct bfio_image {
    uint8_t *pixels; /* RGB, 3 bytes per pixel */
    int width;
    int height;
    size_t stride;   /* bytes between rows (width * 3 for decoded images) */
} bfio_image;

/* The format from the first bytes; BFIO_FORMAT_UNKNOWN if none matches. */
bfio_format bfio_image_sniff(const uint8_t *data, size_t size);
const char *bfio_format_name(bfio_format format);

/* Decoding flags (the _ex functions; the others pass 0). */
#define BFIO_IMAGE_NO_EXIF 1u /* keep a JPEG's stored frame, ignoring its EXIF orientation */

/* Reads only the header: format and dimensions (as displayed: a JPEG's EXIF
 * orientation 5..8 swaps them), with the size limits applied. */
int bfio_image_info(const uint8_t *data, size_t size, bfio_format *format, int *width, int *height,
                    bfio_err *err);
int bfio_image_info_ex(const uint8_t *data, size_t size, unsigned flags, bfio_format *format,
                       int *width, int *height, bfio_err *err);

/* Decodes a whole file held in memory to RGB8, in the displayed frame. On
 * failure *out is untouched. */
int bfio_image_decode(const uint8_t *data, size_t size, bfio_image *out, bfio_err *err);
int bfio_image_decode_ex(const uint8_t *data, size_t size, unsigned flags, bfio_image *out,
                         bfio_err *err);

/* Reads and decodes a file. */
int bfio_image_load(const char *path, bfio_image *out, bfio_err *err);
int bfio_image_load_ex(const char *path, unsigned flags, bfio_image *out, bfio_err *err);

/* Allocates a width x height RGB image (contents undefined), limits applied. */
int bfio_image_alloc(bfio_image *out, int width, int height, bfio_err *err);

void bfio_image_free(bfio_image *img);

/* Encodes RGB8 as a baseline JPEG (4:2:0, quality 1..100). *out_jpeg is
 * released with bfio_jpeg_free. */
int bfio_jpeg_encode(const uint8_t *rgb, int width, int height, size_t stride, int quality,
                     uint8_t **out_jpeg, size_t *out_size, bfio_err *err);
void bfio_jpeg_free(uint8_t *jpeg);

/* Encodes and writes atomically (files.h). */
int bfio_jpeg_save(const char *path, const bfio_image *img, int quality, bfio_err *err);

#endif /* BFIO_IMAGE_H */
