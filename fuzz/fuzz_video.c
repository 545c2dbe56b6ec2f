/*
 * fuzz_video.c - libFuzzer target: the video reader (src/video/video_reader.c)
 * on arbitrary bytes: libavformat's probe and demuxers, the size check
 * before allocation, libavcodec's decoders, the RGB conversion and the
 * damage report. The bytes are served as a file (a memfd, through
 * /proc/self/fd) because the reader opens paths, as `bitfalcon detect`
 * does. Checks that every frame respects the size limits and that its
 * pixels can be read. FFmpeg itself is the system library and not
 * instrumented: our accesses are checked, its are not.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image.h"
#include "video_reader.h"

#define MAX_FRAMES 64 /* enough to reach the damage paths, few enough to stay fast */

/* libFuzzer's entry point, called by name. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_video", 0);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    bfv_set_log_quiet(1);
    bfv_reader *r;
    bfio_err err;
    if (bfv_open(path, NULL, &r, &err) == 0) {
        bfv_frame f;
        unsigned sum = 0;
        for (int i = 0; i < MAX_FRAMES && bfv_next(r, &f, &err) == 1; i++) {
            if (f.width <= 0 || f.height <= 0 || f.width > BFIO_IMAGE_MAX_SIDE ||
                f.height > BFIO_IMAGE_MAX_SIDE || f.stride != (size_t)f.width * 3 || f.index != i)
                abort();
            for (int y = 0; y < f.height; y += 7)
                for (size_t x = 0; x < f.stride; x += 5)
                    sum += f.rgb[(size_t)y * f.stride + x];
        }
        char buf[300];
        (void)bfv_damage(r, buf, sizeof buf);
        (void)sum;
        bfv_close(r);
    }
    close(fd);
    return 0;
}
