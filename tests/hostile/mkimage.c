/*
 * mkimage.c - hostile_mkimage IN OUT MAXSIDE: decodes IN (any format the
 * program reads), shrinks it (nearest neighbour) so that its longer side is
 * at most MAXSIDE, and writes OUT as a JPEG (quality 85). The batch tests use
 * it to turn assets/ into small images that decode and detect quickly.
 */
#include <stdio.h>
#include <stdlib.h>

#include "files.h"
#include "image.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: hostile_mkimage IN OUT MAXSIDE\n");
        return 2;
    }
    int max = atoi(argv[3]);
    bfio_image in, out;
    bfio_err err;
    if (max < 1 || bfio_image_load(argv[1], &in, &err) != 0) {
        fprintf(stderr, "hostile_mkimage: %s: %s\n", argv[1], max < 1 ? "bad MAXSIDE" : err.msg);
        return 1;
    }
    int side = in.width > in.height ? in.width : in.height;
    int w = side > max ? (int)((long long)in.width * max / side) : in.width;
    int h = side > max ? (int)((long long)in.height * max / side) : in.height;
    if (w < 1)
        w = 1;
    if (h < 1)
        h = 1;
    if (bfio_image_alloc(&out, w, h, &err) != 0) {
        fprintf(stderr, "hostile_mkimage: %s\n", err.msg);
        return 1;
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *s = in.pixels + (size_t)((long long)y * in.height / h) * in.stride +
                               (size_t)((long long)x * in.width / w) * 3;
            uint8_t *d = out.pixels + (size_t)y * out.stride + (size_t)x * 3;
            d[0] = s[0];
            d[1] = s[1];
            d[2] = s[2];
        }
    int rc = bfio_jpeg_save(argv[2], &out, 85, &err);
    if (rc != 0)
        fprintf(stderr, "hostile_mkimage: %s: %s\n", argv[2], err.msg);
    bfio_image_free(&in);
    bfio_image_free(&out);
    return rc ? 1 : 0;
}
