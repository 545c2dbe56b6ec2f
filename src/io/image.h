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
 * pixels. EXIF orientation is not applied (PIL's Image.open does not either).
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

/* Reads only the header: format and dimensions, with the size limits applied. */
int bfio_image_info(const uint8_t *data, size_t size, bfio_format *format, int *width, int *height,
                    bfio_err *err);

/* Decodes a whole file held in memory to RGB8. On failure *out is untouched. */
int bfio_image_decode(const uint8_t *data, size_t size, bfio_image *out, bfio_err *err);

/* Reads and decodes a file. */
int bfio_image_load(const char *path, bfio_image *out, bfio_err *err);

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
