/*
 * fuzz_image.c - libFuzzer target: image decoding by content (src/io/image.c):
 * format sniffing, the header-only size check, then the full JPEG
 * (TurboJPEG) / PNG / BMP (stb_image) decode. Checks that a decoded image
 * agrees with its header and respects the size limits, and that the decoder
 * never allocates more than the limits allow (run with -rss_limit_mb and
 * -malloc_limit_mb, as fuzz/run.sh does). TurboJPEG is the system library and
 * not instrumented: its own accesses are not checked, ours and stb's are.
 */
#include <stdint.h>
#include <stdlib.h>

#include "image.h"

/* libFuzzer's entry point, called by name. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bfio_err err;
    bfio_format f = BFIO_FORMAT_UNKNOWN;
    int w = 0, h = 0;
    int info = bfio_image_info(data, size, &f, &w, &h, &err);
    if (info == 0 && (w <= 0 || h <= 0 || w > BFIO_IMAGE_MAX_SIDE || h > BFIO_IMAGE_MAX_SIDE ||
                      (long long)w * h > BFIO_IMAGE_MAX_PIXELS))
        abort();
    bfio_image img;
    if (bfio_image_decode(data, size, &img, &err) == 0) {
        if (info != 0 || img.width != w || img.height != h || img.stride != (size_t)w * 3)
            abort();
        /* touch every pixel: reading uninitialised or short buffers shows up under ASan/MSan */
        unsigned sum = 0;
        for (int y = 0; y < img.height; y++)
            for (size_t x = 0; x < (size_t)img.width * 3; x++)
                sum += img.pixels[(size_t)y * img.stride + x];
        (void)sum;
        bfio_image_free(&img);
    }
    return 0;
}
