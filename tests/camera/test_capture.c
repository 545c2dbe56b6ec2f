/*
 * test_capture.c - drives src/capture directly against the stand-in device
 * (libfake_v4l2.so, loaded with LD_PRELOAD by ctest).
 *
 *   test_capture formats  EXPECT_FOURCC W H N   open, check format + size, grab N frames
 *   test_capture negotiate                      the driver's size wins; nearest size chosen
 *   test_capture refuse KIND                    missing / notv4l2 / nostreaming / onebuffer
 *   test_capture corrupt  N                     every Nth MJPEG frame truncated: dropped, counted
 *   test_capture vanish                         unplug + replug mid-stream: reconnects, frames
 *                                               flow again, no fd / buffer / mapping leak
 *   test_capture convert                        YUYV maths and MJPEG damage detection, no device
 *
 * Exit 0 = pass, 1 = fail, 77 = skipped (the shim is not loaded).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <linux/videodev2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "check.h"
#include "convert.h"
#include "fake_v4l2.h"
#include "frame_slot.h"
#include "source.h"
#include "v4l2_capture.h"

#define DEV "/dev/video-bitfalcon-test"

static bf_fake_v4l2_get_counters_fn shim_counters;

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the fd of the DIR itself */
}

static void counters(bf_fake_v4l2_counters *c)
{
    memset(c, 0, sizeof *c);
    if (shim_counters)
        shim_counters(c);
}

/* Every kind of device call the capture code makes (open, ioctl, mmap,
 * munmap, close, poll) reached the shim through one layer or the other. The
 * calls differ per architecture (aarch64 has no open or poll system call:
 * libv4l2 uses openat, glibc's poll() uses ppoll), and a call that slips
 * past the shim would hit the real /dev/null fd or fail to open. */
static int check_every_op_intercepted(void)
{
    static const char *names[] = {"open", "close", "ioctl", "mmap", "munmap", "poll"};
    bf_fake_v4l2_counters c;
    counters(&c);
    for (int op = BF_FAKE_OP_OPEN; op <= BF_FAKE_OP_POLL; op++)
        CHECK(c.libc[op] + c.syscall[op] > 0, "no %s call reached the shim", names[op]);
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint32_t fourcc_of(const char *s)
{
    return strcmp(s, "MJPG") == 0 ? V4L2_PIX_FMT_MJPEG : strcmp(s, "YUYV") == 0 ? V4L2_PIX_FMT_YUYV : 0;
}

static int test_formats(const char *expect, int w, int h, int n)
{
    cam_config cfg;
    cam_config_default(&cfg);
    cfg.path = DEV;
    cfg.width = w;
    cfg.height = h;
    cam_device *dev = NULL;
    char why[256];
    int r = cam_open(&cfg, &dev, why, sizeof why);
    CHECK(r == CAM_OK, "cam_open: %s", why);
    if (r != CAM_OK)
        return 1;
    const cam_format *f = cam_get_format(dev);
    char fc[8];
    CHECK(f->fourcc == fourcc_of(expect), "chose %s, expected %s", cam_fourcc_str(f->fourcc, fc), expect);
    CHECK(f->width == w && f->height == h, "size %dx%d", f->width, f->height);
    CHECK(f->buffers == 4, "%u buffers", f->buffers);
    cam_converter *conv = cam_converter_create();
    uint8_t *rgb = malloc((size_t)f->width * f->height * 3);
    int got = 0, tries = 0;
    uint32_t last_seq = 0;
    while (got < n && tries++ < 200) {
        cam_frame fr;
        r = cam_next(dev, 1000, &fr, why, sizeof why);
        if (r == CAM_AGAIN || r == CAM_TIMEOUT)
            continue;
        CHECK(r == CAM_FRAME, "cam_next = %d: %s", r, why);
        if (r != CAM_FRAME)
            break;
        int c = cam_convert_to_rgb(conv, f->fourcc, fr.data, fr.bytes, f->width, f->height,
                                   (size_t)f->bytesperline, rgb, (size_t)f->width * 3, why, sizeof why);
        CHECK(c == CAM_CONVERT_OK, "frame %u: %s", fr.sequence, why);
        CHECK(got == 0 || fr.sequence > last_seq, "sequence %u after %u", fr.sequence, last_seq);
        last_seq = fr.sequence;
        CHECK(cam_release(dev, &fr, why, sizeof why) == CAM_OK, "QBUF: %s", why);
        got++;
    }
    CHECK(got == n, "got %d of %d frames", got, n);
    free(rgb);
    cam_converter_destroy(conv);
    cam_close(dev);
    return check_every_op_intercepted();
}

static int test_negotiate(void)
{
    static const int cases[][4] = {{800, 600, 640, 480}, {1280, 700, 1280, 720}, {300, 200, 320, 240}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cam_config cfg;
        cam_config_default(&cfg);
        cfg.path = DEV;
        cfg.width = cases[i][0];
        cfg.height = cases[i][1];
        cam_device *dev = NULL;
        char why[256];
        int r = cam_open(&cfg, &dev, why, sizeof why);
        CHECK(r == CAM_OK, "%s", why);
        if (r != CAM_OK)
            continue;
        const cam_format *f = cam_get_format(dev);
        CHECK(f->width == cases[i][2] && f->height == cases[i][3], "asked %dx%d, got %dx%d",
              cases[i][0], cases[i][1], f->width, f->height);
        cam_close(dev);
    }
    /* only_fourcc picks YUYV even though MJPEG is offered */
    cam_config cfg;
    cam_config_default(&cfg);
    cfg.path = DEV;
    cfg.only_fourcc = V4L2_PIX_FMT_YUYV;
    cam_device *dev = NULL;
    char why[256];
    CHECK(cam_open(&cfg, &dev, why, sizeof why) == CAM_OK, "%s", why);
    if (dev) {
        CHECK(cam_get_format(dev)->fourcc == V4L2_PIX_FMT_YUYV, "not YUYV");
        CHECK(cam_get_format(dev)->bytesperline == 640 * 2, "bytesperline %d", cam_get_format(dev)->bytesperline);
        cam_close(dev);
    }
    return 0;
}

/* kind: "missing" (no such path), "notv4l2" (/dev/null), "nostreaming" or
 * "onebuffer" (the shim started with BF_FAKE_V4L2_NO_STREAMING / MAX_BUFFERS=1). */
static int test_refuse(const char *kind)
{
    cam_config cfg;
    cam_config_default(&cfg);
    char why[256] = "";
    cam_device *dev = NULL;
    int want = CAM_FAIL;
    cfg.path = DEV;
    if (strcmp(kind, "missing") == 0) {
        cfg.path = "/dev/video-bitfalcon-no-such-device";
        want = CAM_GONE;
    } else if (strcmp(kind, "notv4l2") == 0) {
        cfg.path = "/dev/null";
    }
    int fds_before = count_fds();
    int r = cam_open(&cfg, &dev, why, sizeof why);
    printf("%s: %s\n", kind, why);
    CHECK(r == want && dev == NULL, "%s: status %d (%s)", kind, r, why);
    if (strcmp(kind, "onebuffer") == 0)
        CHECK(strstr(why, "at least 2") != NULL, "reason: %s", why);
    if (strcmp(kind, "nostreaming") == 0)
        CHECK(strstr(why, "streaming") != NULL, "reason: %s", why);
    bf_fake_v4l2_counters c;
    counters(&c);
    CHECK(count_fds() == fds_before, "fd leak after a refused open");
    CHECK(c.open_fds == 0 && c.live_buffers == 0 && c.live_user_maps == 0,
          "device state left: %lu fds, %lu buffers, %lu maps", c.open_fds, c.live_buffers, c.live_user_maps);
    return 0;
}

/* Frames through cam_source (the capture thread) into a slot. */
typedef struct run_result {
    cam_source_stats stats;
    uint64_t taken;
    uint64_t taken_after_reconnect;
} run_result;

/* How long run_source waits for its frames before giving up. Only a broken
 * capture path gets near it: the tests wait for counts of frames, never for a
 * rate, so a loaded machine or valgrind (20-50x slower) only makes them slower.
 * Below ctest's TIMEOUT (120 s) so that a failure says what was missing. */
#define RUN_DEADLINE_MS 90000

/* Takes frames until frames_wanted were taken and after_reconnect_wanted of
 * them came after a reconnect, or RUN_DEADLINE_MS passed. */
static int run_source(int frames_wanted, int after_reconnect_wanted, run_result *res)
{
    memset(res, 0, sizeof *res);
    cam_slot slot;
    if (cam_slot_init(&slot) != 0)
        return -1;
    atomic_int stop = 0;
    cam_source_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cam_config_default(&cfg.cam);
    cfg.cam.path = DEV;
    cfg.retry_ms = 100;
    cfg.stall_ms = 1000;
    cfg.slots[0] = &slot;
    cfg.nslots = 1;
    cfg.stop = &stop;
    cam_source *src = NULL;
    char why[256];
    int r = cam_source_start(&cfg, &src, why, sizeof why);
    CHECK(r == CAM_OK, "cam_source_start: %s", why);
    if (r != CAM_OK) {
        cam_slot_destroy(&slot);
        return -1;
    }
    cam_image img;
    memset(&img, 0, sizeof img);
    double t_end = cam_now() + RUN_DEADLINE_MS / 1000.0;
    while (((int)res->taken < frames_wanted ||
            (int)res->taken_after_reconnect < after_reconnect_wanted) &&
           cam_now() < t_end) {
        if (cam_slot_take(&slot, &img, 100) == 1) {
            res->taken++;
            cam_source_stats st;
            cam_source_get_stats(src, &st);
            if (st.reconnects > 0)
                res->taken_after_reconnect++;
            CHECK(img.width > 0 && img.height > 0 && img.rgb, "empty image");
        }
    }
    cam_source_join(src); /* final counts: nothing is captured after this */
    cam_source_get_stats(src, &res->stats);
    cam_source_stop(src);
    cam_image_free(&img);
    cam_slot_destroy(&slot);
    return 0;
}

static int test_corrupt(int every)
{
    run_result res;
    if (run_source(3 * every + 2, 0, &res) != 0)
        return 1;
    printf("frames %llu, corrupt %llu\n", (unsigned long long)res.stats.frames,
           (unsigned long long)res.stats.corrupt);
    CHECK(res.stats.corrupt >= 2, "only %llu corrupt frames dropped", (unsigned long long)res.stats.corrupt);
    CHECK(res.stats.disconnects == 0, "%llu disconnects", (unsigned long long)res.stats.disconnects);
    CHECK(res.taken >= (uint64_t)(3 * every + 2), "took %llu frames", (unsigned long long)res.taken);
    bf_fake_v4l2_counters c;
    counters(&c);
    CHECK(c.corrupt_served == res.stats.corrupt, "shim served %lu corrupt, %llu dropped",
          c.corrupt_served, (unsigned long long)res.stats.corrupt);
    return 0;
}

#define AFTER_RECONNECT 10

static int test_vanish(void)
{
    int fds_before = count_fds();
    run_result res;
    /* 10 frames before the device vanishes (BF_FAKE_V4L2_VANISH_AFTER), then 10
     * after it came back: counts, however long a loaded machine takes. */
    if (run_source(10, AFTER_RECONNECT, &res) != 0)
        return 1;
    int fds_after = count_fds();
    bf_fake_v4l2_counters c;
    counters(&c);
    printf("frames %llu, taken %llu (%llu after reconnecting), disconnects %llu, reconnects %llu\n",
           (unsigned long long)res.stats.frames, (unsigned long long)res.taken,
           (unsigned long long)res.taken_after_reconnect, (unsigned long long)res.stats.disconnects,
           (unsigned long long)res.stats.reconnects);
    printf("fds before %d after %d; shim: open fds %lu, buffers %lu, maps %lu, vanishes %lu\n", fds_before,
           fds_after, c.open_fds, c.live_buffers, c.live_user_maps, c.vanishes);
    printf("calls via libc: open %lu ioctl %lu mmap %lu munmap %lu close %lu poll %lu\n",
           c.libc[BF_FAKE_OP_OPEN], c.libc[BF_FAKE_OP_IOCTL], c.libc[BF_FAKE_OP_MMAP],
           c.libc[BF_FAKE_OP_MUNMAP], c.libc[BF_FAKE_OP_CLOSE], c.libc[BF_FAKE_OP_POLL]);
    printf("calls via syscall(): open %lu ioctl %lu mmap %lu munmap %lu close %lu poll %lu\n",
           c.syscall[BF_FAKE_OP_OPEN], c.syscall[BF_FAKE_OP_IOCTL], c.syscall[BF_FAKE_OP_MMAP],
           c.syscall[BF_FAKE_OP_MUNMAP], c.syscall[BF_FAKE_OP_CLOSE], c.syscall[BF_FAKE_OP_POLL]);
    CHECK(c.vanishes >= 1, "the device never vanished");
    CHECK(res.stats.disconnects >= 1, "no disconnect seen");
    CHECK(res.stats.reconnects >= 1, "never reconnected");
    CHECK(res.taken_after_reconnect >= AFTER_RECONNECT, "only %llu frames after reconnecting",
          (unsigned long long)res.taken_after_reconnect);
    CHECK(fds_before == fds_after, "fd leak: %d before, %d after", fds_before, fds_after);
    CHECK(c.open_fds == 0 && c.live_buffers == 0 && c.live_user_maps == 0,
          "device state left: %lu fds, %lu buffers, %lu maps", c.open_fds, c.live_buffers, c.live_user_maps);
    /* The capture code uses libv4l2: its device I/O must have reached the shim. */
    return check_every_op_intercepted();
}

/* --- conversion, no device --- */

static int test_convert(void)
{
    cam_converter *conv = cam_converter_create();
    CHECK(conv != NULL, "converter");
    char why[256];
    /* YUYV: known values (BT.601 limited range) */
    const uint8_t yuyv[8] = {16, 128, 235, 128, 81, 90, 145, 240};
    uint8_t rgb[12];
    cam_yuyv_to_rgb(yuyv, 4, 1, 8, rgb, 12);
    CHECK(rgb[0] == 0 && rgb[1] == 0 && rgb[2] == 0, "black %d %d %d", rgb[0], rgb[1], rgb[2]);
    CHECK(rgb[3] == 255 && rgb[4] == 255 && rgb[5] == 255, "white %d %d %d", rgb[3], rgb[4], rgb[5]);
    /* Y=81 U=90 V=240 is BT.601 pure red */
    CHECK(rgb[6] >= 250 && rgb[7] <= 5 && rgb[8] <= 5, "red %d %d %d", rgb[6], rgb[7], rgb[8]);
    /* a short YUYV frame is corrupt */
    CHECK(cam_convert_to_rgb(conv, V4L2_PIX_FMT_YUYV, yuyv, 6, 4, 1, 8, rgb, 12, why, sizeof why) ==
              CAM_CONVERT_CORRUPT, "short YUYV accepted");

    /* MJPEG: a good frame, a truncated one, one with EOI but cut entropy data,
     * one zero-padded (fine), one of the wrong size. */
    enum { W = 64, H = 48 };
    static uint8_t img[W * H * 3], out[W * H * 3];
    for (int i = 0; i < W * H * 3; i++)
        img[i] = (uint8_t)((i * 7) ^ (i >> 5));
    tjhandle enc = tjInitCompress();
    unsigned char *jpeg = NULL;
    unsigned long n = 0;
    CHECK(tjCompress2(enc, img, W, 0, H, TJPF_RGB, &jpeg, &n, TJSAMP_422, 90, 0) == 0, "encode");
    CHECK(cam_convert_to_rgb(conv, V4L2_PIX_FMT_MJPEG, jpeg, n, W, H, 0, out, W * 3, why, sizeof why) ==
              CAM_CONVERT_OK, "good JPEG: %s", why);
    CHECK(cam_convert_to_rgb(conv, V4L2_PIX_FMT_MJPEG, jpeg, n / 2, W, H, 0, out, W * 3, why,
                             sizeof why) == CAM_CONVERT_CORRUPT, "truncated JPEG accepted");
    printf("truncated: %s\n", why);
    uint8_t *cut = malloc(n + 4096);
    memcpy(cut, jpeg, n * 2 / 3);
    cut[n * 2 / 3] = 0xFF;
    cut[n * 2 / 3 + 1] = 0xD9;
    CHECK(cam_convert_to_rgb(conv, V4L2_PIX_FMT_MJPEG, cut, n * 2 / 3 + 2, W, H, 0, out, W * 3, why,
                             sizeof why) == CAM_CONVERT_CORRUPT, "cut entropy data accepted");
    printf("cut with EOI (TurboJPEG): %s\n", why);
    memcpy(cut, jpeg, n);
    memset(cut + n, 0, 4096);
    CHECK(cam_convert_to_rgb(conv, V4L2_PIX_FMT_MJPEG, cut, n + 4096, W, H, 0, out, W * 3, why,
                             sizeof why) == CAM_CONVERT_OK, "zero padding refused: %s", why);
    CHECK(cam_convert_to_rgb(conv, V4L2_PIX_FMT_MJPEG, jpeg, n, W * 2, H, 0, out, W * 3, why,
                             sizeof why) == CAM_CONVERT_CORRUPT, "wrong size accepted");
    free(cut);
    tjFree(jpeg);
    tjDestroy(enc);
    cam_converter_destroy(conv);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: test_capture formats|negotiate|refuse|corrupt|vanish|convert ...\n");
        return 2;
    }
    if (strcmp(argv[1], "convert") == 0) {
        test_convert();
        return check_failures ? 1 : 0;
    }
    shim_counters = (bf_fake_v4l2_get_counters_fn)dlsym(RTLD_DEFAULT, "bf_fake_v4l2_get_counters");
    if (!shim_counters) {
        fprintf(stderr, "SKIP: the stand-in device (libfake_v4l2.so) is not preloaded\n");
        return 77;
    }
    if (strcmp(argv[1], "formats") == 0 && argc == 6)
        test_formats(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    else if (strcmp(argv[1], "negotiate") == 0)
        test_negotiate();
    else if (strcmp(argv[1], "refuse") == 0 && argc == 3)
        test_refuse(argv[2]);
    else if (strcmp(argv[1], "corrupt") == 0 && argc == 3)
        test_corrupt(atoi(argv[2]));
    else if (strcmp(argv[1], "vanish") == 0)
        test_vanish();
    else {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    (void)sleep_ms;
    if (check_failures)
        fprintf(stderr, "%d check(s) failed\n", check_failures);
    return check_failures ? 1 : 0;
}
