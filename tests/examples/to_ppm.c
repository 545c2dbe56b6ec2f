/*
 * to_ppm.c - writes an image as a binary PPM (P6) for examples/detect_buffer,
 * decoded by the same code as `bitfalcon detect` (src/io, EXIF orientation
 * applied), so that detect_buffer's boxes must equal the program's exactly.
 *
 *     to_ppm IN.jpg OUT.ppm
 */
#include "image.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: to_ppm IN OUT.ppm\n");
        return 2;
    }
    bfio_err err;
    bfio_image img;
    if (bfio_image_load(argv[1], &img, &err) != 0) {
        fprintf(stderr, "to_ppm: %s: %s\n", argv[1], err.msg);
        return 1;
    }
    FILE *f = fopen(argv[2], "wb");
    int ok = f != NULL && fprintf(f, "P6\n%d %d\n255\n", img.width, img.height) > 0;
    for (int y = 0; ok && y < img.height; y++)
        ok = fwrite(img.pixels + (size_t)y * img.stride, 3, (size_t)img.width, f) == (size_t)img.width;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    bfio_image_free(&img);
    if (!ok) {
        fprintf(stderr, "to_ppm: %s: cannot write\n", argv[2]);
        return 1;
    }
    return 0;
}
