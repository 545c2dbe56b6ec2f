/*
 * fuzz_camera.c - libFuzzer target: the camera's frame conversion
 * (src/capture/convert.c): MJPEG framing checks and TurboJPEG decode, and
 * YUYV -> RGB with row strides.
 *
 * Input layout: byte 0 selects the format (bit 0: 0 MJPEG, 1 YUYV; bit 1: a
 * padded YUYV row stride), bytes 1..2 the width, 3..4 the height (both
 * 1..1024, the width made even for YUYV, as V4L2 gives them), then the frame
 * bytes exactly as a driver would hand them over (bytesused). The RGB
 * destination is sized from the negotiated width and height, as the capture
 * code does; a guard zone after it catches writes past it, TurboJPEG's too
 * (the system library is not instrumented, so ASan does not see those).
 */
#include <linux/videodev2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

static cam_converter *conv;

/* libFuzzer's entry point, called by name. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    if (!conv && !(conv = cam_converter_create()))
        abort();
    int yuyv = data[0] & 1;
    int w = 1 + ((data[1] | data[2] << 8) % 1024);
    int h = 1 + ((data[3] | data[4] << 8) % 1024);
    if (yuyv && (w & 1))
        w++;
    size_t src_stride = yuyv ? (size_t)w * 2 + ((data[0] & 2) ? 32 : 0) : 0;
    const uint8_t *frame = data + 5;
    size_t bytes = size - 5;
    size_t dst_stride = (size_t)w * 3;
    size_t dst_bytes = dst_stride * (size_t)h;
    /* TurboJPEG is the system library, not instrumented: ASan does not see its
     * writes. A guard zone after the frame catches a write past the end. */
    enum { GUARD = 256 };
    uint8_t *dst = malloc(dst_bytes + GUARD);
    /* the frame in its own exact-size buffer, so over-reads are caught */
    uint8_t *src = malloc(bytes ? bytes : 1);
    if (!dst || !src)
        abort();
    if (bytes)
        memcpy(src, frame, bytes);
    memset(dst + dst_bytes, 0xA5, GUARD);
    char why[128];
    int rc = cam_convert_to_rgb(conv, yuyv ? V4L2_PIX_FMT_YUYV : V4L2_PIX_FMT_MJPEG, src, bytes,
                                w, h, src_stride, dst, dst_stride, why, sizeof why);
    if (rc != CAM_CONVERT_OK && rc != CAM_CONVERT_CORRUPT)
        abort();
    if (rc == CAM_CONVERT_CORRUPT && (!memchr(why, 0, sizeof why) || !why[0]))
        abort(); /* a corrupt frame always says why */
    for (size_t i = 0; i < GUARD; i++)
        if (dst[dst_bytes + i] != 0xA5)
            abort(); /* written past the w x h x 3 destination */
    free(src);
    free(dst);
    return 0;
}
