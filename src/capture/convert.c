/*
 * convert.c - MJPEG and YUYV camera frames to RGB (see convert.h).
 */
#include "convert.h"

#include <linux/videodev2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "say.h"

struct cam_converter {
    tjhandle dec;
};

cam_converter *cam_converter_create(void)
{
    cam_converter *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->dec = tjInitDecompress();
    if (!c->dec) {
        free(c);
        return NULL;
    }
    return c;
}

void cam_converter_destroy(cam_converter *c)
{
    if (!c)
        return;
    tjDestroy(c->dec);
    free(c);
}

size_t cam_mjpeg_trimmed_length(const uint8_t *src, size_t n)
{
    if (n < 4 || src[0] != 0xFF || src[1] != 0xD8)
        return 0;
    /* Some cameras hand over the whole buffer, zero-padded after the image. */
    while (n > 4 && src[n - 1] == 0)
        n--;
    if (src[n - 2] != 0xFF || src[n - 1] != 0xD9)
        return 0;
    return n;
}

static inline uint8_t clip(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

void cam_yuyv_to_rgb(const uint8_t *src, int w, int h, size_t src_stride, uint8_t *dst, size_t dst_stride)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *s = src + (size_t)y * src_stride;
        uint8_t *d = dst + (size_t)y * dst_stride;
        for (int x = 0; x + 1 < w; x += 2, s += 4, d += 6) {
            int c0 = 298 * (s[0] - 16), c1 = 298 * (s[2] - 16);
            int du = s[1] - 128, dv = s[3] - 128;
            int rv = 409 * dv + 128, gv = -100 * du - 208 * dv + 128, bv = 516 * du + 128;
            d[0] = clip((c0 + rv) >> 8);
            d[1] = clip((c0 + gv) >> 8);
            d[2] = clip((c0 + bv) >> 8);
            d[3] = clip((c1 + rv) >> 8);
            d[4] = clip((c1 + gv) >> 8);
            d[5] = clip((c1 + bv) >> 8);
        }
    }
}

int cam_convert_to_rgb(cam_converter *c, uint32_t fourcc, const uint8_t *src, size_t bytes, int w,
                       int h, size_t src_stride, uint8_t *dst, size_t dst_stride, char *why,
                       size_t why_len)
{
    if (fourcc == V4L2_PIX_FMT_YUYV) {
        if (src_stride < (size_t)w * 2)
            src_stride = (size_t)w * 2;
        size_t need = src_stride * (size_t)(h - 1) + (size_t)w * 2;
        if (bytes < need) {
            cam_say(why, why_len, "short YUYV frame: %zu of %zu bytes", bytes, need);
            return CAM_CONVERT_CORRUPT;
        }
        cam_yuyv_to_rgb(src, w, h, src_stride, dst, dst_stride);
        return CAM_CONVERT_OK;
    }
    if (fourcc != V4L2_PIX_FMT_MJPEG) {
        cam_say(why, why_len, "unsupported pixel format");
        return CAM_CONVERT_UNSUPPORTED;
    }
    size_t n = cam_mjpeg_trimmed_length(src, bytes);
    if (n == 0) {
        cam_say(why, why_len, "truncated MJPEG frame (%zu bytes, no end-of-image marker)", bytes);
        return CAM_CONVERT_CORRUPT;
    }
    int jw, jh, sub, cs;
    if (tjDecompressHeader3(c->dec, src, (unsigned long)n, &jw, &jh, &sub, &cs) != 0) {
        cam_say(why, why_len, "bad MJPEG header: %s", tjGetErrorStr2(c->dec));
        return CAM_CONVERT_CORRUPT;
    }
    if (jw != w || jh != h) {
        cam_say(why, why_len, "MJPEG frame is %dx%d, the stream is %dx%d", jw, jh, w, h);
        return CAM_CONVERT_CORRUPT;
    }
    /* STOPONWARNING: a damaged frame is dropped, so there is no point finishing it. */
    if (tjDecompress2(c->dec, src, (unsigned long)n, dst, w, (int)dst_stride, h, TJPF_RGB,
                      TJFLAG_STOPONWARNING) != 0) {
        cam_say(why, why_len, "corrupt MJPEG frame: %s", tjGetErrorStr2(c->dec));
        return CAM_CONVERT_CORRUPT;
    }
    return CAM_CONVERT_OK;
}
