/*
 * fake_v4l2.c - a stand-in V4L2 webcam, loaded with LD_PRELOAD (see fake_v4l2.h).
 *
 * Why a preload shim and not v4l2loopback: tests must run on machines without
 * kernel modules or root, and they must be able to make the device misbehave
 * on cue (truncated MJPEG, unplug and replug) which a loopback device cannot.
 *
 * How the device is modelled:
 *  - An fd for the fake path is a real fd on /dev/null (a character device, so
 *    fstat()/S_ISCHR checks pass and close() and fd counting behave normally);
 *    the shim keeps a table of which fds are "ours".
 *  - Each driver buffer is a memfd. mmap() of a buffer maps that memfd, so the
 *    caller gets genuine shared memory and a genuine munmap(); the shim keeps
 *    its own mapping to write frames into.
 *  - Frames are ready at the frame rate: poll() sleeps (in the real poll, so
 *    other fds in the same call still work) until the next one is due.
 *  - "Vanishing" bumps a device generation: fds from before are dead forever
 *    (ENODEV, POLLERR|POLLHUP, like a USB camera that was pulled), and the path
 *    does not exist until VANISH_MS later; then a new open works again.
 *
 * Everything is guarded by one mutex; it is never held while sleeping.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "fake_v4l2.h"

#define EXPORT __attribute__((visibility("default")))

/* Interposed by name, with no header in scope that declares them: glibc's
 * _FORTIFY_SOURCE entry points, ioctl (<sys/ioctl.h> would clash with the
 * variadic definition below) and the counters the tests find by dlsym.
 * Declared here for -Wmissing-prototypes. */
EXPORT void bf_fake_v4l2_get_counters(bf_fake_v4l2_counters *out);
EXPORT int __open_2(const char *path, int flags);
EXPORT int __open64_2(const char *path, int flags);
EXPORT int __openat_2(int dirfd, const char *path, int flags);
EXPORT int ioctl(int fd, unsigned long req, ...);
EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask,
                       size_t fdslen);

#ifndef BF_FAKE_V4L2_DEFAULT_ASSETS
#define BF_FAKE_V4L2_DEFAULT_ASSETS "assets"
#endif

#define MAX_FDS 16
#define MAX_BUFFERS 32
#define MAX_ASSETS 64
#define MAX_SIZES 16
#define MAX_MAPS 256
#define OFFSET_STRIDE ((off_t)1 << 24) /* mmap cookie: buffer index * 16 MiB */

/* ---------------------------------------------------------------- real libc */

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*close_fn)(int);
typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);
typedef int (*munmap_fn)(void *, size_t);
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
typedef int (*select_fn)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
typedef long (*syscall_fn)(long, ...);

static struct {
    open_fn open, open64;
    openat_fn openat, openat64;
    close_fn close;
    ioctl_fn ioctl;
    mmap_fn mmap, mmap64;
    munmap_fn munmap;
    poll_fn poll;
    ppoll_fn ppoll;
    select_fn select;
    syscall_fn syscall;
} real;

/* Resolved lazily without pthread_once: sanitizer runtimes call mmap while
 * they initialise, before their pthread interceptors work. Two threads
 * racing here store the same pointers. */
static atomic_int real_ready;

static void resolve_real(void)
{
    real.open = (open_fn)dlsym(RTLD_NEXT, "open");
    real.open64 = (open_fn)dlsym(RTLD_NEXT, "open64");
    real.openat = (openat_fn)dlsym(RTLD_NEXT, "openat");
    real.openat64 = (openat_fn)dlsym(RTLD_NEXT, "openat64");
    real.close = (close_fn)dlsym(RTLD_NEXT, "close");
    real.ioctl = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
    real.mmap = (mmap_fn)dlsym(RTLD_NEXT, "mmap");
    real.mmap64 = (mmap_fn)dlsym(RTLD_NEXT, "mmap64");
    real.munmap = (munmap_fn)dlsym(RTLD_NEXT, "munmap");
    real.poll = (poll_fn)dlsym(RTLD_NEXT, "poll");
    real.ppoll = (ppoll_fn)dlsym(RTLD_NEXT, "ppoll");
    real.select = (select_fn)dlsym(RTLD_NEXT, "select");
    real.syscall = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
    if (!real.open64)
        real.open64 = real.open;
    if (!real.openat64)
        real.openat64 = real.openat;
    if (!real.mmap64)
        real.mmap64 = real.mmap;
    atomic_store(&real_ready, 1);
}

#define REAL(name) ((atomic_load(&real_ready) ? (void)0 : resolve_real()), real.name)

/* ------------------------------------------------------------------- state */

enum { LAYER_LIBC, LAYER_SYSCALL };

typedef struct frame_data {
    uint8_t *bytes;
    size_t size;
} frame_data;

typedef struct fake_buffer {
    int memfd;
    uint8_t *view; /* the shim's own mapping */
    size_t length;
    int queued;
    struct v4l2_buffer last; /* what the last DQBUF returned */
} fake_buffer;

typedef struct fake_fd {
    int fd;        /* -1: free slot */
    int nonblock;
    unsigned gen;  /* device generation at open; a different one = unplugged */
    fake_buffer buf[MAX_BUFFERS];
    unsigned nbuf;
    int streaming;
} fake_fd;

typedef struct user_map {
    void *addr;
    size_t length;
} user_map;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int S_any_map; /* set at the first mmap of a buffer */
static pthread_once_t cfg_once = PTHREAD_ONCE_INIT;

static struct {
    /* configuration */
    char path[PATH_MAX];
    char *assets[MAX_ASSETS];
    int nassets;
    uint32_t formats[2];
    int nformats;
    int sizes[MAX_SIZES][2];
    int nsizes;
    int force_fps; /* -1: honour S_PARM */
    int hold;
    int quality;
    unsigned long corrupt_every;
    unsigned long vanish_after;
    long vanish_ms;
    int vanish_repeat;
    char vanish_file[PATH_MAX];
    int vanished_by_file;
    unsigned max_buffers;
    int no_streaming;
    char dump[PATH_MAX];
    int log;

    /* the device */
    uint32_t pixfmt;
    int width, height;
    uint32_t bytesperline, sizeimage;
    unsigned fps_num, fps_den; /* time per frame = num/den s */
    unsigned gen;
    int gone;
    double gone_since;
    double next_due;
    int streaming_fd; /* fd that streams, -1 none */

    /* frames for (cache_fmt, cache_w, cache_h) */
    frame_data frames[MAX_ASSETS];
    uint32_t cache_fmt;
    int cache_w, cache_h;

    fake_fd fds[MAX_FDS];
    user_map maps[MAX_MAPS];
    bf_fake_v4l2_counters count;
} S;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    if (!S.log)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("fake-v4l2: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const char *layer_name(int layer) { return layer == LAYER_LIBC ? "libc" : "syscall()"; }

static void count_op(int layer, int op)
{
    if (layer == LAYER_LIBC)
        S.count.libc[op]++;
    else
        S.count.syscall[op]++;
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    return *end ? dflt : x;
}

static int parse_sizes(const char *sz);

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_jpeg_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

static void add_asset(const char *path)
{
    if (S.nassets < MAX_ASSETS) {
        char *copy = strdup(path);
        if (copy)
            S.assets[S.nassets++] = copy;
    }
}

static void load_config(void)
{
    const char *p = getenv("BF_FAKE_V4L2_PATH");
    snprintf(S.path, sizeof S.path, "%s", p && *p ? p : "/dev/video-bitfalcon-test");
    S.log = env_long("BF_FAKE_V4L2_LOG", 0) != 0;

    const char *assets = getenv("BF_FAKE_V4L2_ASSETS");
    if (!assets || !*assets)
        assets = BF_FAKE_V4L2_DEFAULT_ASSETS;
    char *list = strdup(assets);
    for (char *save = NULL, *item = list ? strtok_r(list, ":", &save) : NULL; item;
         item = strtok_r(NULL, ":", &save)) {
        struct stat st;
        if (stat(item, &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(item);
            struct dirent *e;
            int first = S.nassets;
            while (d && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.' || !has_jpeg_ext(e->d_name))
                    continue;
                char full[PATH_MAX];
                snprintf(full, sizeof full, "%s/%s", item, e->d_name);
                add_asset(full);
            }
            if (d)
                closedir(d);
            qsort(S.assets + first, (size_t)(S.nassets - first), sizeof(char *), cmp_str);
        } else {
            add_asset(item);
        }
    }
    free(list);

    const char *f = getenv("BF_FAKE_V4L2_FORMATS");
    if (!f || !*f)
        f = "mjpeg,yuyv";
    if (strstr(f, "mjpeg"))
        S.formats[S.nformats++] = V4L2_PIX_FMT_MJPEG;
    if (strstr(f, "yuyv"))
        S.formats[S.nformats++] = V4L2_PIX_FMT_YUYV;

    const char *sz = getenv("BF_FAKE_V4L2_SIZES");
    if (!sz || !*sz)
        sz = "640x480,320x240,1280x720";
    parse_sizes(sz);
    if (S.nsizes == 0) {
        S.sizes[0][0] = 640;
        S.sizes[0][1] = 480;
        S.nsizes = 1;
    }

    S.force_fps = (int)env_long("BF_FAKE_V4L2_FPS", -1);
    S.hold = (int)env_long("BF_FAKE_V4L2_HOLD", 1);
    if (S.hold < 1)
        S.hold = 1;
    S.quality = (int)env_long("BF_FAKE_V4L2_QUALITY", 90);
    S.corrupt_every = (unsigned long)env_long("BF_FAKE_V4L2_CORRUPT_EVERY", 0);
    S.vanish_after = (unsigned long)env_long("BF_FAKE_V4L2_VANISH_AFTER", 0);
    S.vanish_ms = env_long("BF_FAKE_V4L2_VANISH_MS", 1000);
    S.vanish_repeat = env_long("BF_FAKE_V4L2_VANISH_REPEAT", 0) != 0;
    const char *vf = getenv("BF_FAKE_V4L2_VANISH_FILE");
    snprintf(S.vanish_file, sizeof S.vanish_file, "%s", vf ? vf : "");
    S.max_buffers = (unsigned)env_long("BF_FAKE_V4L2_MAX_BUFFERS", 8);
    if (S.max_buffers > MAX_BUFFERS)
        S.max_buffers = MAX_BUFFERS;
    S.no_streaming = env_long("BF_FAKE_V4L2_NO_STREAMING", 0) != 0;
    const char *dump = getenv("BF_FAKE_V4L2_DUMP");
    snprintf(S.dump, sizeof S.dump, "%s", dump ? dump : "");

    S.pixfmt = S.nformats ? S.formats[0] : V4L2_PIX_FMT_YUYV;
    S.width = S.sizes[0][0];
    S.height = S.sizes[0][1];
    S.fps_num = 1;
    S.fps_den = 30;
    S.streaming_fd = -1;
    for (int i = 0; i < MAX_FDS; i++)
        S.fds[i].fd = -1;
    logf_("device %s, %d assets, %d formats", S.path, S.nassets, S.nformats);
}

static void config(void) { pthread_once(&cfg_once, load_config); }

/* A compact summary at exit when tracing: it shows which layer carried the calls. */
__attribute__((destructor)) static void report_at_exit(void)
{
    if (!S.log)
        return;
    static const char *names[BF_FAKE_OP_COUNT] = {"open", "close", "ioctl", "mmap",
                                                  "munmap", "poll", "select"};
    for (int op = 0; op < BF_FAKE_OP_COUNT; op++)
        fprintf(stderr, "fake-v4l2: %-6s libc %lu, syscall() %lu\n", names[op],
                S.count.libc[op], S.count.syscall[op]);
    fprintf(stderr, "fake-v4l2: frames %lu (corrupt %lu), vanished %lu times, open fds %lu, "
                    "live buffers %lu, live maps %lu\n",
            S.count.frames_served, S.count.corrupt_served, S.count.vanishes, S.count.open_fds,
            S.count.live_buffers, S.count.live_user_maps);
}

EXPORT void bf_fake_v4l2_get_counters(bf_fake_v4l2_counters *out)
{
    config();
    pthread_mutex_lock(&mu);
    *out = S.count;
    out->gone = S.gone;
    pthread_mutex_unlock(&mu);
}

/* --------------------------------------------------------------- frames */

static void resize_rgb(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh)
{
    /* Bilinear, 16.16 fixed point: deterministic on every machine. */
    for (int y = 0; y < dh; y++) {
        int64_t fy = ((int64_t)y * 2 + 1) * sh * 65536 / (2 * dh) - 32768;
        if (fy < 0)
            fy = 0;
        int y0 = (int)(fy >> 16), y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
        int wy = (int)(fy & 0xffff);
        for (int x = 0; x < dw; x++) {
            int64_t fx = ((int64_t)x * 2 + 1) * sw * 65536 / (2 * dw) - 32768;
            if (fx < 0)
                fx = 0;
            int x0 = (int)(fx >> 16), x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
            int wx = (int)(fx & 0xffff);
            for (int c = 0; c < 3; c++) {
                int64_t a = src[((size_t)y0 * sw + x0) * 3 + c], b = src[((size_t)y0 * sw + x1) * 3 + c];
                int64_t d = src[((size_t)y1 * sw + x0) * 3 + c], e = src[((size_t)y1 * sw + x1) * 3 + c];
                int64_t top = a * (65536 - wx) + b * wx, bot = d * (65536 - wx) + e * wx;
                int64_t v = (top * (65536 - wy) + bot * wy + ((int64_t)1 << 31)) >> 32;
                dst[((size_t)y * dw + x) * 3 + c] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
    }
}

static uint8_t clamp_u8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

/* RGB -> YUYV, BT.601 limited range; chroma is the mean of the pixel pair. */
static void rgb_to_yuyv(const uint8_t *rgb, int w, int h, uint8_t *out)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *s = rgb + (size_t)y * w * 3;
        uint8_t *d = out + (size_t)y * w * 2;
        for (int x = 0; x < w; x += 2, s += 6, d += 4) {
            int r0 = s[0], g0 = s[1], b0 = s[2], r1 = s[3], g1 = s[4], b1 = s[5];
            int y0 = ((66 * r0 + 129 * g0 + 25 * b0 + 128) >> 8) + 16;
            int y1 = ((66 * r1 + 129 * g1 + 25 * b1 + 128) >> 8) + 16;
            int r = (r0 + r1 + 1) >> 1, g = (g0 + g1 + 1) >> 1, b = (b0 + b1 + 1) >> 1;
            int u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
            int v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
            d[0] = clamp_u8(y0);
            d[1] = clamp_u8(u);
            d[2] = clamp_u8(y1);
            d[3] = clamp_u8(v);
        }
    }
}

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *p = realloc(data, cap);
            if (!p) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = p;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    *size = len;
    return data;
}

static void dump_frame(int i, const frame_data *fd)
{
    if (!S.dump[0])
        return;
    const char *base = strrchr(S.assets[i], '/');
    base = base ? base + 1 : S.assets[i];
    char stem[256];
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot)
        *dot = 0;
    char path[PATH_MAX + 300];
    if (S.cache_fmt == V4L2_PIX_FMT_MJPEG)
        snprintf(path, sizeof path, "%s/%d-%s.jpg", S.dump, i, stem);
    else
        snprintf(path, sizeof path, "%s/%d-%s-%dx%d.yuyv", S.dump, i, stem, S.cache_w, S.cache_h);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(fd->bytes, 1, fd->size, f);
        fclose(f);
    }
}

static void free_frames(void)
{
    for (int i = 0; i < MAX_ASSETS; i++) {
        if (S.frames[i].bytes)
            tjFree(S.frames[i].bytes); /* both kinds come from tjAlloc */
        S.frames[i].bytes = NULL;
        S.frames[i].size = 0;
    }
    S.cache_fmt = 0;
}

/* Builds the served frames for the current format; 0 on success, else an errno. */
static int build_frames(void)
{
    if (S.cache_fmt == S.pixfmt && S.cache_w == S.width && S.cache_h == S.height)
        return 0;
    free_frames();
    if (S.nassets == 0)
        return EIO;
    tjhandle dec = tjInitDecompress(), enc = tjInitCompress();
    uint8_t *rgb = malloc((size_t)S.width * S.height * 3);
    int rc = (dec && enc && rgb) ? 0 : ENOMEM;
    S.cache_fmt = S.pixfmt;
    S.cache_w = S.width;
    S.cache_h = S.height;
    for (int i = 0; i < S.nassets && rc == 0; i++) {
        size_t jsize = 0;
        uint8_t *jpeg = read_all(S.assets[i], &jsize);
        int w, h, sub, cs;
        uint8_t *src = NULL;
        if (!jpeg || tjDecompressHeader3(dec, jpeg, jsize, &w, &h, &sub, &cs) != 0 ||
            !(src = malloc((size_t)w * h * 3)) ||
            tjDecompress2(dec, jpeg, jsize, src, w, 0, h, TJPF_RGB, 0) != 0) {
            fprintf(stderr, "fake-v4l2: cannot read %s\n", S.assets[i]);
            rc = EIO;
        } else {
            resize_rgb(src, w, h, rgb, S.width, S.height);
            if (S.pixfmt == V4L2_PIX_FMT_MJPEG) {
                unsigned char *out = NULL;
                unsigned long out_size = 0;
                if (tjCompress2(enc, rgb, S.width, 0, S.height, TJPF_RGB, &out, &out_size,
                                TJSAMP_422, S.quality, 0) != 0) {
                    rc = EIO;
                } else {
                    S.frames[i].bytes = out;
                    S.frames[i].size = out_size;
                }
            } else {
                S.frames[i].size = (size_t)S.width * S.height * 2;
                S.frames[i].bytes = tjAlloc((int)S.frames[i].size);
                if (!S.frames[i].bytes)
                    rc = ENOMEM;
                else
                    rgb_to_yuyv(rgb, S.width, S.height, S.frames[i].bytes);
            }
            if (rc == 0)
                dump_frame(i, &S.frames[i]);
        }
        free(src);
        free(jpeg);
    }
    free(rgb);
    if (dec)
        tjDestroy(dec);
    if (enc)
        tjDestroy(enc);
    if (rc)
        free_frames();
    return rc;
}

/* ------------------------------------------------------------ the device */

static fake_fd *find_fd(int fd)
{
    if (fd < 0)
        return NULL;
    for (int i = 0; i < MAX_FDS; i++)
        if (S.fds[i].fd == fd)
            return &S.fds[i];
    return NULL;
}

static int is_fake_fd(int fd)
{
    config();
    pthread_mutex_lock(&mu);
    int r = find_fd(fd) != NULL;
    pthread_mutex_unlock(&mu);
    return r;
}

static int is_fake_path(const char *path)
{
    if (!path)
        return 0;
    config();
    return strcmp(path, S.path) == 0;
}

/* Lazily brings a vanished device back once its absence is over. */
static int parse_sizes(const char *sz)
{
    int n = 0;
    for (const char *s = sz; *s && n < MAX_SIZES;) {
        int w, h, k;
        if (sscanf(s, "%dx%d%n", &w, &h, &k) != 2 || w < 2 || h < 1)
            break;
        S.sizes[n][0] = w & ~1; /* YUYV needs an even width */
        S.sizes[n][1] = h;
        n++;
        s += k;
        if (*s == ',')
            s++;
    }
    if (n > 0)
        S.nsizes = n;
    return n;
}

static void update_presence(double now)
{
    if (S.gone && now - S.gone_since >= (double)S.vanish_ms / 1000.0) {
        S.gone = 0;
        /* A different camera (or mode) may come back: new sizes, format reset. */
        const char *sz = getenv("BF_FAKE_V4L2_RETURN_SIZES");
        if (sz && *sz && parse_sizes(sz) > 0) {
            S.width = S.sizes[0][0];
            S.height = S.sizes[0][1];
        }
        logf_("device is back");
    }
}

static int fd_alive(const fake_fd *f) { return !S.gone && f->gen == S.gen; }

static double frame_interval(void)
{
    if (S.force_fps == 0)
        return 0.0;
    if (S.force_fps > 0)
        return 1.0 / S.force_fps;
    return S.fps_den ? (double)S.fps_num / S.fps_den : 1.0 / 30;
}

static void free_buffers(fake_fd *f)
{
    for (unsigned i = 0; i < f->nbuf; i++) {
        REAL(munmap)(f->buf[i].view, f->buf[i].length);
        REAL(close)(f->buf[i].memfd);
        S.count.live_buffers--;
    }
    memset(f->buf, 0, sizeof f->buf);
    f->nbuf = 0;
}

static void stop_streaming(fake_fd *f)
{
    f->streaming = 0;
    for (unsigned i = 0; i < f->nbuf; i++)
        f->buf[i].queued = 0;
    if (S.streaming_fd == f->fd)
        S.streaming_fd = -1;
}

/* Returns a new fd or -errno. */
static int fake_open(int flags, int layer)
{
    pthread_mutex_lock(&mu);
    count_op(layer, BF_FAKE_OP_OPEN);
    update_presence(now_s());
    int r;
    fake_fd *slot = NULL;
    for (int i = 0; i < MAX_FDS && !slot; i++)
        if (S.fds[i].fd < 0)
            slot = &S.fds[i];
    if (S.gone) {
        r = -ENOENT;
    } else if (!slot) {
        r = -EMFILE;
    } else {
        int fd = REAL(open)("/dev/null", O_RDWR | (flags & (O_NONBLOCK | O_CLOEXEC)));
        if (fd < 0) {
            r = -errno;
        } else {
            memset(slot, 0, sizeof *slot);
            slot->fd = fd;
            slot->nonblock = (flags & O_NONBLOCK) != 0;
            slot->gen = S.gen;
            S.count.open_fds++;
            r = fd;
        }
    }
    logf_("[%s] open(%s) = %d", layer_name(layer), S.path, r);
    pthread_mutex_unlock(&mu);
    return r;
}

static int fake_close(int fd, int layer)
{
    pthread_mutex_lock(&mu);
    count_op(layer, BF_FAKE_OP_CLOSE);
    fake_fd *f = find_fd(fd);
    if (f) {
        stop_streaming(f);
        free_buffers(f);
        f->fd = -1;
        S.count.open_fds--;
    }
    pthread_mutex_unlock(&mu);
    logf_("[%s] close(%d)", layer_name(layer), fd);
    return REAL(close)(fd) == 0 ? 0 : -errno;
}

static void fill_pix(struct v4l2_pix_format *p, uint32_t fmt, int w, int h)
{
    memset(p, 0, sizeof *p);
    p->width = (uint32_t)w;
    p->height = (uint32_t)h;
    p->pixelformat = fmt;
    p->field = V4L2_FIELD_NONE;
    if (fmt == V4L2_PIX_FMT_YUYV) {
        p->bytesperline = (uint32_t)w * 2;
        p->sizeimage = p->bytesperline * (uint32_t)h;
        p->colorspace = V4L2_COLORSPACE_SMPTE170M;
    } else {
        p->bytesperline = 0;
        p->sizeimage = (uint32_t)w * (uint32_t)h * 3 + 65536; /* worst-case JPEG */
        p->colorspace = V4L2_COLORSPACE_JPEG;
    }
}

static int format_supported(uint32_t fmt)
{
    for (int i = 0; i < S.nformats; i++)
        if (S.formats[i] == fmt)
            return 1;
    return 0;
}

/* Like a driver: an unknown format becomes the first one, the size the nearest listed. */
static void adjust_format(struct v4l2_pix_format *p)
{
    uint32_t fmt = format_supported(p->pixelformat) ? p->pixelformat
                                                     : (S.nformats ? S.formats[0] : V4L2_PIX_FMT_YUYV);
    int best = 0;
    long best_d = LONG_MAX;
    for (int i = 0; i < S.nsizes; i++) {
        long d = labs((long)S.sizes[i][0] - (long)p->width) + labs((long)S.sizes[i][1] - (long)p->height);
        if (d < best_d) {
            best_d = d;
            best = i;
        }
    }
    fill_pix(p, fmt, S.sizes[best][0], S.sizes[best][1]);
}

static void serve_frame(fake_fd *f, fake_buffer *b, unsigned index, double now)
{
    unsigned long seq = S.count.frames_served;
    const frame_data *fr = &S.frames[(seq / (unsigned long)S.hold) % (unsigned long)S.nassets];
    size_t n = fr->size < b->length ? fr->size : b->length;
    if (S.corrupt_every && seq % S.corrupt_every == S.corrupt_every - 1) {
        n /= 3; /* a truncated transfer: the tail (and the JPEG EOI marker) is missing */
        S.count.corrupt_served++;
    }
    memcpy(b->view, fr->bytes, n);
    b->queued = 0;
    struct v4l2_buffer *v = &b->last;
    memset(v, 0, sizeof *v);
    v->index = index;
    v->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    v->memory = V4L2_MEMORY_MMAP;
    v->bytesused = (uint32_t)n;
    v->length = (uint32_t)b->length;
    v->m.offset = (uint32_t)(index * OFFSET_STRIDE);
    v->field = V4L2_FIELD_NONE;
    v->sequence = (uint32_t)seq;
    v->flags = V4L2_BUF_FLAG_MAPPED | V4L2_BUF_FLAG_DONE | V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
    v->timestamp.tv_sec = (time_t)now;
    v->timestamp.tv_usec = (suseconds_t)((now - (double)(time_t)now) * 1e6);
    S.count.frames_served++;
    double iv = frame_interval();
    S.next_due += iv;
    if (S.next_due < now)
        S.next_due = now; /* a slow reader gets no burst of stale frames */
    int by_file = S.vanish_file[0] && !S.vanished_by_file && access(S.vanish_file, F_OK) == 0;
    if (by_file)
        S.vanished_by_file = 1;
    if (by_file || (S.vanish_after && (S.vanish_repeat ? S.count.frames_served % S.vanish_after == 0
                                                       : S.count.frames_served == S.vanish_after))) {
        S.gone = 1;
        S.gone_since = now;
        S.gen++;
        S.count.vanishes++;
        logf_("device vanishes after frame %lu for %ld ms", S.count.frames_served, S.vanish_ms);
    }
    (void)f;
}

/* Returns the poll events of a fake fd now, and the time until it can change. */
static short fake_revents(fake_fd *f, short events, double now, double *wait)
{
    update_presence(now);
    *wait = 1e9;
    if (!fd_alive(f))
        return POLLERR | POLLHUP | POLLPRI;
    if (!f->streaming)
        return POLLERR; /* vb2: nothing to wait for */
    int queued = 0;
    for (unsigned i = 0; i < f->nbuf; i++)
        queued |= f->buf[i].queued;
    if (!queued)
        return 0; /* waits until the application queues a buffer */
    if (now >= S.next_due)
        return (short)(events & (POLLIN | POLLRDNORM));
    *wait = S.next_due - now;
    return 0;
}

static int fake_ioctl(int fd, unsigned long req, void *arg, int layer)
{
    pthread_mutex_lock(&mu);
    count_op(layer, BF_FAKE_OP_IOCTL);
    fake_fd *f = find_fd(fd);
    double now = now_s();
    update_presence(now);
    int r = 0;
    if (!f) {
        r = -EBADF;
        goto out;
    }
    if (!fd_alive(f)) {
        r = -ENODEV;
        goto out;
    }
    switch (req) {
    case VIDIOC_QUERYCAP: {
        struct v4l2_capability *c = arg;
        memset(c, 0, sizeof *c);
        snprintf((char *)c->driver, sizeof c->driver, "bf-fake");
        snprintf((char *)c->card, sizeof c->card, "BitFalcon test camera");
        snprintf((char *)c->bus_info, sizeof c->bus_info, "platform:bf-fake");
        c->version = (6u << 16) | (1u << 8);
        c->device_caps = V4L2_CAP_VIDEO_CAPTURE | (S.no_streaming ? 0 : V4L2_CAP_STREAMING);
        c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
        break;
    }
    case VIDIOC_ENUM_FMT: {
        struct v4l2_fmtdesc *d = arg;
        if (d->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || d->index >= (unsigned)S.nformats) {
            r = -EINVAL;
            break;
        }
        uint32_t idx = d->index, fmt = S.formats[idx];
        memset(d, 0, sizeof *d);
        d->index = idx;
        d->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        d->pixelformat = fmt;
        d->flags = fmt == V4L2_PIX_FMT_MJPEG ? V4L2_FMT_FLAG_COMPRESSED : 0;
        snprintf((char *)d->description, sizeof d->description, "%s",
                 fmt == V4L2_PIX_FMT_MJPEG ? "Motion-JPEG" : "YUYV 4:2:2");
        break;
    }
    case VIDIOC_ENUM_FRAMESIZES: {
        struct v4l2_frmsizeenum *s = arg;
        if (!format_supported(s->pixel_format) || s->index >= (unsigned)S.nsizes) {
            r = -EINVAL;
            break;
        }
        s->type = V4L2_FRMSIZE_TYPE_DISCRETE;
        s->discrete.width = (uint32_t)S.sizes[s->index][0];
        s->discrete.height = (uint32_t)S.sizes[s->index][1];
        break;
    }
    case VIDIOC_ENUM_FRAMEINTERVALS: {
        struct v4l2_frmivalenum *iv = arg;
        if (!format_supported(iv->pixel_format) || iv->index > 1) {
            r = -EINVAL;
            break;
        }
        iv->type = V4L2_FRMIVAL_TYPE_DISCRETE;
        iv->discrete.numerator = 1;
        iv->discrete.denominator = iv->index == 0 ? 30 : 15;
        break;
    }
    case VIDIOC_G_FMT: {
        struct v4l2_format *fm = arg;
        if (fm->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) {
            r = -EINVAL;
            break;
        }
        fill_pix(&fm->fmt.pix, S.pixfmt, S.width, S.height);
        break;
    }
    case VIDIOC_TRY_FMT:
    case VIDIOC_S_FMT: {
        struct v4l2_format *fm = arg;
        if (fm->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) {
            r = -EINVAL;
            break;
        }
        if (req == VIDIOC_S_FMT && f->nbuf > 0) {
            r = -EBUSY; /* buffers allocated: the format is locked */
            break;
        }
        adjust_format(&fm->fmt.pix);
        if (req == VIDIOC_S_FMT) {
            S.pixfmt = fm->fmt.pix.pixelformat;
            S.width = (int)fm->fmt.pix.width;
            S.height = (int)fm->fmt.pix.height;
            logf_("S_FMT %.4s %dx%d", (const char *)&S.pixfmt, S.width, S.height);
        }
        break;
    }
    case VIDIOC_G_PARM:
    case VIDIOC_S_PARM: {
        struct v4l2_streamparm *p = arg;
        if (p->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) {
            r = -EINVAL;
            break;
        }
        if (req == VIDIOC_S_PARM) {
            struct v4l2_fract t = p->parm.capture.timeperframe;
            if (t.numerator && t.denominator && t.denominator / t.numerator <= 240 &&
                t.denominator / t.numerator >= 1) {
                S.fps_num = t.numerator;
                S.fps_den = t.denominator;
            }
        }
        memset(&p->parm, 0, sizeof p->parm);
        p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
        p->parm.capture.timeperframe.numerator = S.fps_num;
        p->parm.capture.timeperframe.denominator = S.fps_den;
        p->parm.capture.readbuffers = 0;
        break;
    }
    case VIDIOC_G_INPUT:
        *(int *)arg = 0;
        break;
    case VIDIOC_S_INPUT:
        r = *(int *)arg == 0 ? 0 : -EINVAL;
        break;
    case VIDIOC_ENUMINPUT: {
        struct v4l2_input *in = arg;
        if (in->index != 0) {
            r = -EINVAL;
            break;
        }
        memset(in, 0, sizeof *in);
        snprintf((char *)in->name, sizeof in->name, "Camera 1");
        in->type = V4L2_INPUT_TYPE_CAMERA;
        break;
    }
    case VIDIOC_REQBUFS: {
        struct v4l2_requestbuffers *rb = arg;
        if (rb->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || rb->memory != V4L2_MEMORY_MMAP ||
            S.no_streaming) {
            r = -EINVAL;
            break;
        }
        if (S.streaming_fd >= 0 && S.streaming_fd != fd) {
            r = -EBUSY;
            break;
        }
        stop_streaming(f);
        free_buffers(f);
        unsigned n = rb->count < S.max_buffers ? rb->count : S.max_buffers;
        struct v4l2_pix_format pix;
        fill_pix(&pix, S.pixfmt, S.width, S.height);
        size_t len = ((size_t)pix.sizeimage + 4095) & ~(size_t)4095;
        for (unsigned i = 0; i < n; i++) {
            int mfd = memfd_create("bf-fake-v4l2", MFD_CLOEXEC);
            void *view = MAP_FAILED;
            if (mfd < 0 || ftruncate(mfd, (off_t)len) != 0 ||
                (view = REAL(mmap)(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0)) == MAP_FAILED) {
                r = -ENOMEM;
                if (mfd >= 0)
                    REAL(close)(mfd);
                break;
            }
            f->buf[i].memfd = mfd;
            f->buf[i].view = view;
            f->buf[i].length = len;
            f->nbuf = i + 1;
            S.count.live_buffers++;
        }
        if (r)
            free_buffers(f);
        rb->count = f->nbuf;
        rb->capabilities = V4L2_BUF_CAP_SUPPORTS_MMAP;
        break;
    }
    case VIDIOC_QUERYBUF:
    case VIDIOC_QBUF:
    case VIDIOC_DQBUF: {
        struct v4l2_buffer *b = arg;
        if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b->memory != V4L2_MEMORY_MMAP) {
            r = -EINVAL;
            break;
        }
        if (req == VIDIOC_DQBUF) {
            if (!f->streaming) {
                r = -EINVAL;
                break;
            }
            double wait;
            short ev = fake_revents(f, POLLIN, now, &wait);
            if (!(ev & POLLIN)) {
                /* Blocking mode would sleep; the camera code always opens non-blocking. */
                r = -EAGAIN;
                break;
            }
            for (unsigned i = 0; i < f->nbuf; i++) {
                if (f->buf[i].queued) {
                    serve_frame(f, &f->buf[i], i, now);
                    *b = f->buf[i].last;
                    break;
                }
            }
            break;
        }
        if (b->index >= f->nbuf) {
            r = -EINVAL;
            break;
        }
        fake_buffer *fb = &f->buf[b->index];
        if (req == VIDIOC_QBUF) {
            if (fb->queued) {
                r = -EINVAL;
                break;
            }
            fb->queued = 1;
            b->flags = (b->flags & ~(uint32_t)V4L2_BUF_FLAG_DONE) | V4L2_BUF_FLAG_QUEUED;
            break;
        }
        uint32_t idx = b->index;
        memset(b, 0, sizeof *b);
        b->index = idx;
        b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        b->memory = V4L2_MEMORY_MMAP;
        b->length = (uint32_t)fb->length;
        b->m.offset = (uint32_t)(idx * OFFSET_STRIDE);
        b->flags = V4L2_BUF_FLAG_MAPPED | (fb->queued ? V4L2_BUF_FLAG_QUEUED : 0);
        break;
    }
    case VIDIOC_STREAMON: {
        if (*(int *)arg != V4L2_BUF_TYPE_VIDEO_CAPTURE || f->nbuf == 0) {
            r = -EINVAL;
            break;
        }
        if (S.streaming_fd >= 0 && S.streaming_fd != fd) {
            r = -EBUSY;
            break;
        }
        int e = build_frames();
        if (e) {
            r = -e;
            break;
        }
        f->streaming = 1;
        S.streaming_fd = fd;
        S.next_due = now;
        break;
    }
    case VIDIOC_STREAMOFF:
        if (*(int *)arg != V4L2_BUF_TYPE_VIDEO_CAPTURE) {
            r = -EINVAL;
            break;
        }
        stop_streaming(f);
        break;
    default:
        r = -ENOTTY; /* controls, crop, ...: this camera has none */
        break;
    }
out:
    if (S.log && !(req == VIDIOC_DQBUF && r == -EAGAIN))
        logf_("[%s] ioctl(%d, %s%lu) = %d", layer_name(layer), fd, "nr ", (unsigned long)_IOC_NR(req), r);
    pthread_mutex_unlock(&mu);
    return r;
}

/* Returns the address or MAP_FAILED with errno set. */
static void *fake_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off, int layer)
{
    pthread_mutex_lock(&mu);
    count_op(layer, BF_FAKE_OP_MMAP);
    fake_fd *f = find_fd(fd);
    void *p = MAP_FAILED;
    int err = 0;
    update_presence(now_s());
    if (!f || !fd_alive(f)) {
        err = ENODEV;
    } else if (off % OFFSET_STRIDE != 0 || (unsigned long)(off / OFFSET_STRIDE) >= f->nbuf ||
               len > f->buf[off / OFFSET_STRIDE].length || !(flags & MAP_SHARED)) {
        err = EINVAL;
    } else {
        p = REAL(mmap)(addr, len, prot, flags, f->buf[off / OFFSET_STRIDE].memfd, 0);
        if (p == MAP_FAILED) {
            err = errno;
        } else {
            for (int i = 0; i < MAX_MAPS; i++) {
                if (!S.maps[i].addr) {
                    S.maps[i].addr = p;
                    S.maps[i].length = len;
                    S.count.live_user_maps++;
                    atomic_store(&S_any_map, 1);
                    break;
                }
            }
        }
    }
    logf_("[%s] mmap(fd %d, offset %lld) = %p", layer_name(layer), fd, (long long)off, p);
    pthread_mutex_unlock(&mu);
    errno = err;
    return p;
}

/* Forgets a user mapping of a buffer when it is unmapped; 1 when it was one. */
static int note_munmap(void *addr, int layer)
{
    /* No config() here: sanitizer runtimes unmap memory before main, when
     * reading the environment would be too early; no map exists before a
     * fake device was opened anyway. */
    if (!atomic_load(&S_any_map))
        return 0;
    pthread_mutex_lock(&mu);
    int found = 0;
    for (int i = 0; i < MAX_MAPS && addr; i++) {
        if (S.maps[i].addr == addr) {
            S.maps[i].addr = NULL;
            S.count.live_user_maps--;
            count_op(layer, BF_FAKE_OP_MUNMAP);
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    if (found)
        logf_("[%s] munmap(%p)", layer_name(layer), addr);
    return found;
}

/* poll() over any mix of fake and real fds. */
static int fake_poll(struct pollfd *fds, nfds_t n, int timeout_ms, int layer)
{
    double deadline = timeout_ms < 0 ? 1e300 : now_s() + timeout_ms / 1000.0;
    struct pollfd stack[64];
    struct pollfd *real_fds = n <= 64 ? stack : malloc(n * sizeof *real_fds);
    if (!real_fds) {
        errno = ENOMEM;
        return -1;
    }
    int result;
    for (;;) {
        double now = now_s(), wait = deadline - now;
        int ready = 0;
        pthread_mutex_lock(&mu);
        count_op(layer, BF_FAKE_OP_POLL);
        for (nfds_t i = 0; i < n; i++) {
            fake_fd *f = find_fd(fds[i].fd);
            real_fds[i] = fds[i];
            fds[i].revents = 0;
            if (f) {
                double w;
                fds[i].revents = fake_revents(f, fds[i].events, now, &w);
                if (w < wait)
                    wait = w;
                real_fds[i].fd = -1; /* the real poll ignores it */
                ready += fds[i].revents != 0;
            }
        }
        pthread_mutex_unlock(&mu);
        if (wait < 0)
            wait = 0;
        /* Sleep in the real poll (it wakes for real fds) at most until a fake fd changes. */
        int ms = ready ? 0 : (int)(wait * 1000.0 + 0.999);
        if (ms > 1000)
            ms = 1000;
        int r = REAL(poll)(real_fds, n, ms);
        if (r < 0) {
            result = -1;
            break;
        }
        for (nfds_t i = 0; i < n; i++) {
            if (real_fds[i].fd >= 0) {
                fds[i].revents = real_fds[i].revents;
                ready += fds[i].revents != 0;
            }
        }
        if (ready || now_s() >= deadline) {
            result = ready;
            break;
        }
    }
    if (real_fds != stack)
        free(real_fds);
    return result;
}

static int any_fake_in(int nfds, fd_set *r, fd_set *w, fd_set *e)
{
    config();
    pthread_mutex_lock(&mu);
    int found = 0;
    for (int i = 0; i < MAX_FDS && !found; i++) {
        int fd = S.fds[i].fd;
        if (fd >= 0 && fd < nfds && fd < FD_SETSIZE &&
            ((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e))))
            found = 1;
    }
    pthread_mutex_unlock(&mu);
    return found;
}

/* select() over fake fds: translated to poll (as the kernel does internally). */
static int fake_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
    struct pollfd pf[FD_SETSIZE];
    nfds_t n = 0;
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
        short ev = 0;
        if (rd && FD_ISSET(fd, rd))
            ev |= POLLIN;
        if (wr && FD_ISSET(fd, wr))
            ev |= POLLOUT;
        if (ex && FD_ISSET(fd, ex))
            ev |= POLLPRI;
        if (ev) {
            pf[n].fd = fd;
            pf[n].events = ev;
            pf[n].revents = 0;
            n++;
        }
    }
    int ms = tv ? (int)(tv->tv_sec * 1000 + tv->tv_usec / 1000) : -1;
    pthread_mutex_lock(&mu);
    count_op(LAYER_LIBC, BF_FAKE_OP_SELECT);
    pthread_mutex_unlock(&mu);
    int r = fake_poll(pf, n, ms, LAYER_LIBC);
    if (r < 0)
        return -1;
    if (rd)
        FD_ZERO(rd);
    if (wr)
        FD_ZERO(wr);
    if (ex)
        FD_ZERO(ex);
    int count = 0;
    for (nfds_t i = 0; i < n; i++) {
        /* select reports errors as readable, like the kernel's POLLERR mapping */
        if (rd && (pf[i].revents & (POLLIN | POLLERR | POLLHUP)) && (pf[i].events & POLLIN)) {
            FD_SET(pf[i].fd, rd);
            count++;
        }
        if (wr && (pf[i].revents & (POLLOUT | POLLERR)) && (pf[i].events & POLLOUT)) {
            FD_SET(pf[i].fd, wr);
            count++;
        }
        if (ex && (pf[i].revents & POLLPRI) && (pf[i].events & POLLPRI)) {
            FD_SET(pf[i].fd, ex);
            count++;
        }
    }
    if (tv)
        tv->tv_sec = tv->tv_usec = 0;
    return count;
}

static int ret_errno(int r)
{
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return r;
}

/* ------------------------------------------------------- libc interposers */

static mode_t va_mode(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = va_mode(flags, ap);
    va_end(ap);
    if (is_fake_path(path))
        return ret_errno(fake_open(flags, LAYER_LIBC));
    return REAL(open)(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = va_mode(flags, ap);
    va_end(ap);
    if (is_fake_path(path))
        return ret_errno(fake_open(flags, LAYER_LIBC));
    return REAL(open64)(path, flags, mode);
}

EXPORT int __open_2(const char *path, int flags) { return open(path, flags); }
EXPORT int __open64_2(const char *path, int flags) { return open64(path, flags); }

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = va_mode(flags, ap);
    va_end(ap);
    if (is_fake_path(path))
        return ret_errno(fake_open(flags, LAYER_LIBC));
    return REAL(openat)(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = va_mode(flags, ap);
    va_end(ap);
    if (is_fake_path(path))
        return ret_errno(fake_open(flags, LAYER_LIBC));
    return REAL(openat64)(dirfd, path, flags, mode);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags) { return openat(dirfd, path, flags); }

EXPORT int close(int fd)
{
    if (is_fake_fd(fd))
        return ret_errno(fake_close(fd, LAYER_LIBC));
    return REAL(close)(fd);
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (is_fake_fd(fd))
        return ret_errno(fake_ioctl(fd, req, arg, LAYER_LIBC));
    return REAL(ioctl)(fd, req, arg);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (!(flags & MAP_ANONYMOUS) && is_fake_fd(fd))
        return fake_mmap(addr, len, prot, flags, fd, off, LAYER_LIBC);
    return REAL(mmap)(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (!(flags & MAP_ANONYMOUS) && is_fake_fd(fd))
        return fake_mmap(addr, len, prot, flags, fd, off, LAYER_LIBC);
    return REAL(mmap64)(addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len)
{
    note_munmap(addr, LAYER_LIBC);
    return REAL(munmap)(addr, len);
}

static int poll_has_fake(struct pollfd *fds, nfds_t n)
{
    config();
    pthread_mutex_lock(&mu);
    int found = 0;
    for (nfds_t i = 0; i < n && !found; i++)
        found = find_fd(fds[i].fd) != NULL;
    pthread_mutex_unlock(&mu);
    return found;
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (poll_has_fake(fds, n))
        return fake_poll(fds, n, timeout, LAYER_LIBC);
    return REAL(poll)(fds, n, timeout);
}

EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
    (void)fdslen;
    return poll(fds, n, timeout);
}

EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
    if (any_fake_in(nfds, rd, wr, ex))
        return fake_select(nfds, rd, wr, ex, tv);
    return REAL(select)(nfds, rd, wr, ex, tv);
}

/* The timeout of a ppoll() in poll()'s milliseconds (rounded up, as the
 * kernel does not wake early); NULL waits forever. */
static int timespec_ms(const struct timespec *t)
{
    if (!t)
        return -1;
    const long long ms = (long long)t->tv_sec * 1000 + (t->tv_nsec + 999999) / 1000000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* aarch64 has no poll system call: glibc's poll() and any direct ppoll()
 * caller end up here. The signal mask is not applied to fake fds (nothing
 * that drives the stand-in device relies on it); real fds go to the real
 * ppoll untouched. */
EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
    if (poll_has_fake(fds, n))
        return fake_poll(fds, n, timespec_ms(tmo), LAYER_LIBC);
    return REAL(ppoll)(fds, n, tmo, mask);
}

EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask,
                       size_t fdslen)
{
    (void)fdslen;
    return ppoll(fds, n, tmo, mask);
}

/* A syscall() argument as a pointer. The arguments are read as `long`, the
 * kernel ABI's register word (on LP64 Linux, x86-64 and aarch64, as wide as
 * a pointer); going through uintptr_t keeps the conversion defined. */
static void *arg_ptr(long v) { return (void *)(uintptr_t)v; }

/* libv4l2's path: syscall(SYS_openat, ...), syscall(SYS_ioctl, ...), ...
 * The numbers differ per architecture and some calls are missing: aarch64
 * (like every newer Linux port) has only openat and ppoll, no open or poll,
 * so each case exists where its number does. */
EXPORT long syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long); /* the kernel ABI: up to six word-sized arguments */
    va_end(ap);
    switch (number) {
#ifdef SYS_open
    case SYS_open:
        if (is_fake_path(arg_ptr(a[0])))
            return ret_errno(fake_open((int)a[1], LAYER_SYSCALL));
        break;
#endif
    case SYS_openat:
        if (is_fake_path(arg_ptr(a[1])))
            return ret_errno(fake_open((int)a[2], LAYER_SYSCALL));
        break;
    case SYS_close:
        if (is_fake_fd((int)a[0]))
            return ret_errno(fake_close((int)a[0], LAYER_SYSCALL));
        break;
    case SYS_ioctl:
        if (is_fake_fd((int)a[0]))
            return ret_errno(fake_ioctl((int)a[0], (unsigned long)a[1], arg_ptr(a[2]), LAYER_SYSCALL));
        break;
    case SYS_mmap:
        if (!(a[3] & MAP_ANONYMOUS) && is_fake_fd((int)a[4])) {
            void *p = fake_mmap(arg_ptr(a[0]), (size_t)a[1], (int)a[2], (int)a[3], (int)a[4],
                                (off_t)a[5], LAYER_SYSCALL);
            return p == MAP_FAILED ? -1 : (long)(uintptr_t)p;
        }
        break;
    case SYS_munmap:
        note_munmap(arg_ptr(a[0]), LAYER_SYSCALL);
        break;
#ifdef SYS_poll
    case SYS_poll:
        if (poll_has_fake(arg_ptr(a[0]), (nfds_t)a[1]))
            return fake_poll(arg_ptr(a[0]), (nfds_t)a[1], (int)a[2], LAYER_SYSCALL);
        break;
#endif
    case SYS_ppoll:
        if (poll_has_fake(arg_ptr(a[0]), (nfds_t)a[1]))
            return fake_poll(arg_ptr(a[0]), (nfds_t)a[1], timespec_ms(arg_ptr(a[2])), LAYER_SYSCALL);
        break;
    default:
        break;
    }
    return REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
