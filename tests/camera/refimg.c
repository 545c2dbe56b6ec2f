/*
 * refimg.c - `camera_refimg IN.yuyv W H OUT.png`: converts a raw YUYV frame
 * (as the stand-in device served it, BF_FAKE_V4L2_DUMP) to a PNG with the
 * camera's own converter (src/capture/convert.c), so that `bitfalcon detect`
 * can be run on exactly the pixels the camera loop detected on.
 */
#include <stdio.h>
#include <stdlib.h>

#include "convert.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_ASSERT(x) ((void)0)
#include <stb_image_write.h>

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: camera_refimg IN.yuyv W H OUT.png\n");
        return 2;
    }
    int w = atoi(argv[2]), h = atoi(argv[3]);
    if (w <= 0 || h <= 0 || w % 2) {
        fprintf(stderr, "camera_refimg: bad size\n");
        return 2;
    }
    size_t n = (size_t)w * h * 2;
    unsigned char *yuyv = malloc(n), *rgb = malloc((size_t)w * h * 3);
    FILE *f = fopen(argv[1], "rb");
    if (!yuyv || !rgb || !f || fread(yuyv, 1, n, f) != n) {
        fprintf(stderr, "camera_refimg: cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(f);
    cam_yuyv_to_rgb(yuyv, w, h, (size_t)w * 2, rgb, (size_t)w * 3);
    if (!stbi_write_png(argv[4], w, h, 3, rgb, w * 3)) {
        fprintf(stderr, "camera_refimg: cannot write %s\n", argv[4]);
        return 1;
    }
    free(yuyv);
    free(rgb);
    return 0;
}
