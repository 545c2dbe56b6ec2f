/*
 * fake_v4l2.h - the stand-in V4L2 camera used by the camera tests.
 *
 * libfake_v4l2.so is loaded with LD_PRELOAD. It makes one device path
 * (default /dev/video-bitfalcon-test) behave like a UVC webcam: QUERYCAP,
 * ENUM_FMT, ENUM_FRAMESIZES, G/S/TRY_FMT, G/S_PARM, REQBUFS, QUERYBUF, QBUF,
 * DQBUF, STREAMON/OFF, mmap, poll and select. Every other path and fd is passed
 * to the real C library untouched.
 *
 * Frames are made from JPEG files (the .jpg files in assets/ by default): each is decoded,
 * resized to the negotiated size and served either re-encoded as MJPEG or
 * converted to YUYV (BT.601, limited range). Frame `sequence` shows asset
 * (sequence / HOLD) % number_of_assets, assets sorted by file name.
 *
 * Environment (all optional):
 *   BF_FAKE_V4L2_PATH            device path               (/dev/video-bitfalcon-test)
 *   BF_FAKE_V4L2_ASSETS          folder of .jpg files, or files separated by ':'
 *   BF_FAKE_V4L2_FORMATS         advertised formats, "mjpeg,yuyv" (both), "yuyv", "mjpeg"
 *   BF_FAKE_V4L2_SIZES           frame sizes, "640x480,320x240,1280x720"
 *   BF_FAKE_V4L2_FPS             force this rate; 0 = as fast as frames are asked for
 *                                (unset: the rate set with S_PARM, 30 by default)
 *   BF_FAKE_V4L2_HOLD            frames per asset before the next one (1)
 *   BF_FAKE_V4L2_QUALITY         JPEG quality of served MJPEG frames (90)
 *   BF_FAKE_V4L2_CORRUPT_EVERY=N every Nth frame (sequence % N == N-1) is truncated
 *                                to a third of its bytes
 *   BF_FAKE_V4L2_VANISH_AFTER=K  after the Kth frame served the device vanishes: open
 *                                fds get ENODEV / POLLERR|POLLHUP, opening gives ENOENT
 *   BF_FAKE_V4L2_VANISH_MS=T     ... for T ms (1000), then it can be opened again
 *   BF_FAKE_V4L2_VANISH_REPEAT=1 vanish again every K frames
 *   BF_FAKE_V4L2_VANISH_FILE=F   the device vanishes (once, for VANISH_MS) after the first
 *                                frame served once file F exists: a test makes it vanish
 *                                when it has seen what it needs (a count of output lines),
 *                                not after a number of frames that a loaded machine may
 *                                serve before the program has used any
 *   BF_FAKE_V4L2_RETURN_SIZES    after vanishing, come back offering only these sizes
 *   BF_FAKE_V4L2_MAX_BUFFERS=n   REQBUFS grants at most n buffers (8)
 *   BF_FAKE_V4L2_NO_STREAMING=1  QUERYCAP without V4L2_CAP_STREAMING
 *   BF_FAKE_V4L2_DUMP=dir        write each served frame kind once: dir/<i>-<name>.jpg
 *                                (MJPEG) or dir/<i>-<name>-<W>x<H>.yuyv (raw YUYV)
 *   BF_FAKE_V4L2_LOG=1           trace every intercepted call on stderr, with the layer
 *                                that carried it, and print the counters at exit
 *
 * Layers: libv4l2 does not call open()/ioctl()/mmap() from libc for the device;
 * it calls syscall(SYS_openat | SYS_ioctl | SYS_mmap | SYS_munmap | SYS_close, ...)
 * (v4l-utils, lib/include/libv4lsyscall-priv.h). syscall() is an exported glibc
 * function, so the shim defines it too. The numbers are per architecture:
 * x86-64 also has SYS_open and SYS_poll, aarch64 has only SYS_openat and
 * SYS_ppoll (glibc's poll() there is ppoll), so the shim intercepts each call
 * that exists, poll() and ppoll() among the libc functions. The counters below
 * tell a test which layer actually carried the calls.
 */
#ifndef BF_FAKE_V4L2_H
#define BF_FAKE_V4L2_H

enum {
    BF_FAKE_OP_OPEN,
    BF_FAKE_OP_CLOSE,
    BF_FAKE_OP_IOCTL,
    BF_FAKE_OP_MMAP,
    BF_FAKE_OP_MUNMAP,
    BF_FAKE_OP_POLL,
    BF_FAKE_OP_SELECT,
    BF_FAKE_OP_COUNT
};

typedef struct bf_fake_v4l2_counters {
    unsigned long libc[BF_FAKE_OP_COUNT];    /* calls on the fake device via libc functions */
    unsigned long syscall[BF_FAKE_OP_COUNT]; /* ... via the syscall() function */
    unsigned long open_fds;                  /* fake fds open now */
    unsigned long live_buffers;              /* driver buffers allocated now */
    unsigned long live_user_maps;            /* mmaps of buffers not yet munmap'ed */
    unsigned long frames_served;
    unsigned long corrupt_served;
    unsigned long vanishes;
    int gone;                                /* 1 while the device is absent */
} bf_fake_v4l2_counters;

/* Defined by the shim; look it up with dlsym(RTLD_DEFAULT, "bf_fake_v4l2_get_counters")
 * so that a test also runs (and skips) without it. */
typedef void (*bf_fake_v4l2_get_counters_fn)(bf_fake_v4l2_counters *out);

#endif /* BF_FAKE_V4L2_H */
