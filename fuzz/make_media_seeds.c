/*
 * make_media_seeds.c - writes the image and camera fuzzers' seed corpora:
 * tiny JPEGs (4:2:0, 4:4:4, grey, progressive), PNGs and BMPs (grey, grey +
 * alpha, RGB, RGBA) of a 16x12 gradient, and camera frames in fuzz_camera's
 * layout ([format][w-1 LE16][h-1 LE16] frame): MJPEG whole, zero-padded,
 * truncated; YUYV packed, with a padded stride, short. Build and run:
 *   cc -I/usr/include/stb fuzz/make_media_seeds.c -lturbojpeg -o /tmp/mms \
 *      && /tmp/mms fuzz/corpus/image fuzz/corpus/camera
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

enum { W = 16, H = 12 };

static void put(const char *dir, const char *name, const void *hdr, size_t hn, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (hn && fwrite(hdr, 1, hn, f) != hn) || (n && fwrite(p, 1, n, f) != n) || fclose(f)) {
        perror(path);
        exit(1);
    }
}

static unsigned char *jpeg(const unsigned char *px, int comp, int sub, int flags, unsigned long *n)
{
    tjhandle tj = tjInitCompress();
    unsigned char *out = NULL;
    *n = 0;
    if (tjCompress2(tj, px, W, W * comp, H, comp == 1 ? TJPF_GRAY : TJPF_RGB, &out, n, sub, 75,
                    flags) != 0) {
        fprintf(stderr, "%s\n", tjGetErrorStr2(tj));
        exit(1);
    }
    tjDestroy(tj);
    return out;
}

int main(int argc, char **argv)
{
    const char *img = argc > 1 ? argv[1] : ".", *cam = argc > 2 ? argv[2] : ".";
    unsigned char rgba[W * H * 4], rgb[W * H * 3], grey[W * H], ga[W * H * 2];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int i = y * W + x;
            unsigned char r = (unsigned char)(x * 16), g = (unsigned char)(y * 20),
                          b = (unsigned char)((x ^ y) * 15);
            rgb[3 * i] = rgba[4 * i] = r;
            rgb[3 * i + 1] = rgba[4 * i + 1] = g;
            rgb[3 * i + 2] = rgba[4 * i + 2] = b;
            rgba[4 * i + 3] = (unsigned char)(i * 3);
            grey[i] = ga[2 * i] = (unsigned char)((r + g + b) / 3);
            ga[2 * i + 1] = (unsigned char)(255 - i);
        }
    unsigned long n;
    unsigned char *j;
    j = jpeg(rgb, 3, TJSAMP_420, 0, &n); put(img, "420.jpg", 0, 0, j, n); tjFree(j);
    j = jpeg(rgb, 3, TJSAMP_444, 0, &n); put(img, "444.jpg", 0, 0, j, n); tjFree(j);
    j = jpeg(rgb, 3, TJSAMP_422, TJFLAG_PROGRESSIVE, &n); put(img, "prog.jpg", 0, 0, j, n); tjFree(j);
    j = jpeg(grey, 1, TJSAMP_GRAY, 0, &n); put(img, "grey.jpg", 0, 0, j, n); tjFree(j);

    const struct { const char *name; int comp; const unsigned char *p; } pics[] = {
        {"grey", 1, grey}, {"grey-alpha", 2, ga}, {"rgb", 3, rgb}, {"rgba", 4, rgba}};
    char name[64];
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof name, "%s/%s.png", img, pics[k].name);
        if (!stbi_write_png(name, W, H, pics[k].comp, pics[k].p, W * pics[k].comp))
            return 1;
        snprintf(name, sizeof name, "%s/%s.bmp", img, pics[k].name);
        if (k != 1 && !stbi_write_bmp(name, W, H, pics[k].comp, pics[k].p))
            return 1;
    }

    unsigned char hdr[5] = {0, (W - 1) & 0xFF, (W - 1) >> 8, (H - 1) & 0xFF, (H - 1) >> 8};
    j = jpeg(rgb, 3, TJSAMP_422, 0, &n); /* UVC MJPEG is usually 4:2:2 */
    put(cam, "mjpeg.bin", hdr, 5, j, n);
    unsigned char *pad = calloc(1, n + 64);
    memcpy(pad, j, n);
    put(cam, "mjpeg-padded.bin", hdr, 5, pad, n + 64);
    put(cam, "mjpeg-truncated.bin", hdr, 5, j, n / 2);
    free(pad);
    tjFree(j);
    unsigned char yuyv[(W * 2 + 32) * H];
    for (size_t i = 0; i < sizeof yuyv; i++)
        yuyv[i] = (unsigned char)(i * 37 + (i >> 3));
    hdr[0] = 1;
    put(cam, "yuyv.bin", hdr, 5, yuyv, W * 2 * H);
    put(cam, "yuyv-short.bin", hdr, 5, yuyv, W * H);
    hdr[0] = 3;
    put(cam, "yuyv-stride.bin", hdr, 5, yuyv, sizeof yuyv);
    return 0;
}
