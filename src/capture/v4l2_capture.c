/*
 * v4l2_capture.c - V4L2 streaming capture through libv4l2 (see v4l2_capture.h).
 *
 * Follows the kernel's capture example (Documentation/userspace-api/media/v4l/
 * capture.c.rst): EINTR-safe ioctls, a character-device check, QUERYCAP,
 * S_FMT whose answer wins, REQBUFS with at least two buffers, mmap, poll with
 * a timeout, DQBUF/QBUF, teardown in reverse. Unlike the example it returns
 * instead of exit()ing, and it tells "the device went away" apart from "the
 * device cannot do this" so that the caller can reconnect after an unplug.
 */
#include "v4l2_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <libv4l2.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "say.h"

typedef struct cam_buffer {
    void *start;
    size_t length;
} cam_buffer;

struct cam_device {
    int fd;
    int streaming;
    cam_format fmt;
    cam_buffer buf[CAM_MAX_BUFFERS];
    unsigned nbuf;     /* buffers the driver granted (REQBUFS) */
    unsigned nmapped;  /* of which mapped */
};

void cam_config_default(cam_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->path = "/dev/video0";
    cfg->width = 640;
    cfg->height = 480;
    cfg->fps = 0;
    cfg->buffers = 4;
}

const char *cam_fourcc_str(uint32_t f, char buf[8])
{
    for (int i = 0; i < 4; i++) {
        char c = (char)((f >> (8 * i)) & 0xff);
        buf[i] = (c >= 32 && c < 127) ? c : '?';
    }
    buf[4] = 0;
    return buf;
}

/* An ioctl that is retried when a signal interrupts it. */
static int xioctl(int fd, unsigned long request, void *arg)
{
    int r;
    do
        r = v4l2_ioctl(fd, request, arg);
    while (r == -1 && errno == EINTR);
    return r;
}

/* errno values that mean "the device is not there (any more)". EIO is in the
 * list because USB cameras report a yanked cable that way on some kernels. */
static int errno_is_gone(int e)
{
    return e == ENODEV || e == ENXIO || e == EIO || e == ENOENT || e == ESHUTDOWN;
}

static int fail_errno(int e, char *why, size_t len, const char *what)
{
    cam_say(why, len, "%s: %s", what, strerror(e));
    return errno_is_gone(e) ? CAM_GONE : CAM_FAIL;
}

void cam_close(cam_device *dev)
{
    if (!dev)
        return;
    if (dev->streaming) {
        enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        xioctl(dev->fd, VIDIOC_STREAMOFF, &type);
    }
    for (unsigned i = 0; i < dev->nmapped; i++)
        v4l2_munmap(dev->buf[i].start, dev->buf[i].length);
    if (dev->nbuf) {
        /* count 0 frees the driver's buffers now instead of at close */
        struct v4l2_requestbuffers req;
        memset(&req, 0, sizeof req);
        req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        req.memory = V4L2_MEMORY_MMAP;
        xioctl(dev->fd, VIDIOC_REQBUFS, &req);
    }
    if (dev->fd >= 0)
        v4l2_close(dev->fd);
    free(dev);
}

/* Device enumeration: returns 1 when the camera offers `fourcc` natively.
 * libv4l2 adds formats it can emulate (flagged EMULATED); those are skipped:
 * we decode MJPEG and YUYV ourselves, faster than its generic converters. */
static int has_native_format(int fd, uint32_t fourcc)
{
    struct v4l2_fmtdesc d;
    for (unsigned i = 0; i < 64; i++) {
        memset(&d, 0, sizeof d);
        d.index = i;
        d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        if (xioctl(fd, VIDIOC_ENUM_FMT, &d) != 0)
            break;
        if (d.pixelformat == fourcc && !(d.flags & V4L2_FMT_FLAG_EMULATED))
            return 1;
    }
    return 0;
}

static int negotiate_format(cam_device *dev, const cam_config *cfg, char *why, size_t len)
{
    static const uint32_t preferred[] = {V4L2_PIX_FMT_MJPEG, V4L2_PIX_FMT_YUYV};
    uint32_t chosen = 0;
    for (size_t i = 0; i < sizeof preferred / sizeof preferred[0] && !chosen; i++) {
        if (cfg->only_fourcc && cfg->only_fourcc != preferred[i])
            continue;
        if (has_native_format(dev->fd, preferred[i]))
            chosen = preferred[i];
    }
    if (!chosen) {
        if (errno_is_gone(errno))
            return fail_errno(errno, why, len, "VIDIOC_ENUM_FMT");
        cam_say(why, len, "the camera offers neither MJPEG nor YUYV%s",
            cfg->only_fourcc ? " (or not the one asked for)" : "");
        return CAM_FAIL;
    }

    struct v4l2_format f;
    memset(&f, 0, sizeof f);
    f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    f.fmt.pix.width = (uint32_t)cfg->width;
    f.fmt.pix.height = (uint32_t)cfg->height;
    f.fmt.pix.pixelformat = chosen;
    f.fmt.pix.field = V4L2_FIELD_ANY;
    if (xioctl(dev->fd, VIDIOC_S_FMT, &f) != 0)
        return fail_errno(errno, why, len, "VIDIOC_S_FMT");

    /* The driver may change the size (and, in theory, the format): its answer wins. */
    struct v4l2_pix_format *p = &f.fmt.pix;
    if (p->pixelformat != chosen) {
        char a[8], b[8];
        cam_say(why, len, "asked for %s, the driver set %s", cam_fourcc_str(chosen, a),
            cam_fourcc_str(p->pixelformat, b));
        return CAM_FAIL;
    }
    if (p->width == 0 || p->height == 0 || p->width > CAM_MAX_DIM || p->height > CAM_MAX_DIM) {
        cam_say(why, len, "the driver returned an unusable size %ux%u", p->width, p->height);
        return CAM_FAIL;
    }
    if (p->field != V4L2_FIELD_NONE && p->field != V4L2_FIELD_ANY) {
        cam_say(why, len, "interlaced video (field %u) is not supported", p->field);
        return CAM_FAIL;
    }
    size_t bpl = p->bytesperline, size = p->sizeimage;
    if (chosen == V4L2_PIX_FMT_YUYV) {
        /* Buggy drivers report 0 or too little: clamp to what the data must hold. */
        if (bpl < (size_t)p->width * 2)
            bpl = (size_t)p->width * 2;
        if (size < bpl * p->height)
            size = bpl * p->height;
    } else {
        bpl = 0;
    }
    dev->fmt.fourcc = chosen;
    dev->fmt.width = (int)p->width;
    dev->fmt.height = (int)p->height;
    dev->fmt.bytesperline = (int)bpl;
    dev->fmt.sizeimage = size;

    /* Frame rate: only where the driver supports setting it. */
    struct v4l2_streamparm parm;
    memset(&parm, 0, sizeof parm);
    parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(dev->fd, VIDIOC_G_PARM, &parm) == 0) {
        if (cfg->fps > 0 && (parm.parm.capture.capability & V4L2_CAP_TIMEPERFRAME)) {
            parm.parm.capture.timeperframe.numerator = 1;
            parm.parm.capture.timeperframe.denominator = (uint32_t)cfg->fps;
            if (xioctl(dev->fd, VIDIOC_S_PARM, &parm) != 0 && errno_is_gone(errno))
                return fail_errno(errno, why, len, "VIDIOC_S_PARM");
        }
        dev->fmt.fps_num = (int)parm.parm.capture.timeperframe.numerator;
        dev->fmt.fps_den = (int)parm.parm.capture.timeperframe.denominator;
    } else if (errno_is_gone(errno)) {
        return fail_errno(errno, why, len, "VIDIOC_G_PARM");
    }
    return CAM_OK;
}

/* A capture buffer of the mmap'ed set, as QUERYBUF, QBUF and DQBUF take it. */
static struct v4l2_buffer mmap_buffer(unsigned index)
{
    struct v4l2_buffer b;
    memset(&b, 0, sizeof b);
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    b.index = index;
    return b;
}

static int map_buffers(cam_device *dev, int wanted, char *why, size_t len)
{
    struct v4l2_requestbuffers req;
    memset(&req, 0, sizeof req);
    req.count = (uint32_t)(wanted < 2 ? 2 : wanted > CAM_MAX_BUFFERS ? CAM_MAX_BUFFERS : wanted);
    req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    req.memory = V4L2_MEMORY_MMAP;
    if (xioctl(dev->fd, VIDIOC_REQBUFS, &req) != 0) {
        if (errno == EINVAL) {
            cam_say(why, len, "the device does not support memory-mapped streaming");
            return CAM_FAIL;
        }
        return fail_errno(errno, why, len, "VIDIOC_REQBUFS");
    }
    dev->nbuf = req.count > CAM_MAX_BUFFERS ? CAM_MAX_BUFFERS : req.count;
    if (req.count < 2) {
        cam_say(why, len, "the driver granted %u buffer(s); at least 2 are needed", req.count);
        return CAM_FAIL;
    }
    for (unsigned i = 0; i < dev->nbuf; i++) {
        struct v4l2_buffer b = mmap_buffer(i);
        if (xioctl(dev->fd, VIDIOC_QUERYBUF, &b) != 0)
            return fail_errno(errno, why, len, "VIDIOC_QUERYBUF");
        void *p = v4l2_mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd, b.m.offset);
        if (p == MAP_FAILED)
            return fail_errno(errno, why, len, "mmap");
        dev->buf[i].start = p;
        dev->buf[i].length = b.length;
        dev->nmapped = i + 1;
    }
    dev->fmt.buffers = dev->nbuf;
    return CAM_OK;
}

static int start_streaming(cam_device *dev, char *why, size_t len)
{
    for (unsigned i = 0; i < dev->nbuf; i++) {
        struct v4l2_buffer b = mmap_buffer(i);
        if (xioctl(dev->fd, VIDIOC_QBUF, &b) != 0)
            return fail_errno(errno, why, len, "VIDIOC_QBUF");
    }
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(dev->fd, VIDIOC_STREAMON, &type) != 0)
        return fail_errno(errno, why, len, "VIDIOC_STREAMON");
    dev->streaming = 1;
    return CAM_OK;
}

int cam_open(const cam_config *cfg, cam_device **out, char *why, size_t len)
{
    if (!cfg || !cfg->path || !out || cfg->width <= 0 || cfg->height <= 0) {
        cam_say(why, len, "invalid camera configuration");
        return CAM_FAIL;
    }
    cam_device *dev = calloc(1, sizeof *dev);
    if (!dev) {
        cam_say(why, len, "out of memory");
        return CAM_FAIL;
    }
    /* Non-blocking: DQBUF never sleeps; poll() does the waiting, with a timeout. */
    dev->fd = v4l2_open(cfg->path, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
    if (dev->fd < 0) {
        int e = errno;
        free(dev);
        if (e == ENOTTY || e == EINVAL) /* libv4l2 opens, then QUERYCAP fails */
            cam_say(why, len, "not a V4L2 device");
        else
            cam_say(why, len, "cannot open: %s", strerror(e));
        return errno_is_gone(e) ? CAM_GONE : CAM_FAIL;
    }
    int rc = CAM_OK;
    struct stat st;
    struct v4l2_capability cap;
    memset(&cap, 0, sizeof cap);
    if (fstat(dev->fd, &st) != 0) {
        rc = fail_errno(errno, why, len, "fstat");
    } else if (!S_ISCHR(st.st_mode)) {
        cam_say(why, len, "not a device");
        rc = CAM_FAIL;
    } else if (xioctl(dev->fd, VIDIOC_QUERYCAP, &cap) != 0) {
        if (errno == EINVAL || errno == ENOTTY) {
            cam_say(why, len, "not a V4L2 device");
            rc = CAM_FAIL;
        } else {
            rc = fail_errno(errno, why, len, "VIDIOC_QUERYCAP");
        }
    } else {
        /* device_caps describes this node; capabilities the whole device. */
        uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
        if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) {
            cam_say(why, len, "not a video capture device");
            rc = CAM_FAIL;
        } else if (!(caps & V4L2_CAP_STREAMING)) {
            cam_say(why, len, "the device does not support streaming I/O");
            rc = CAM_FAIL;
        }
        snprintf(dev->fmt.card, sizeof dev->fmt.card, "%s", (const char *)cap.card);
    }
    if (rc == CAM_OK)
        rc = negotiate_format(dev, cfg, why, len);
    if (rc == CAM_OK)
        rc = map_buffers(dev, cfg->buffers, why, len);
    if (rc == CAM_OK)
        rc = start_streaming(dev, why, len);
    if (rc != CAM_OK) {
        cam_close(dev);
        return rc;
    }
    *out = dev;
    return CAM_OK;
}

const cam_format *cam_get_format(const cam_device *dev) { return &dev->fmt; }

int cam_next(cam_device *dev, int timeout_ms, cam_frame *out, char *why, size_t len)
{
    struct pollfd pfd = {.fd = dev->fd, .events = POLLIN};
    int r = poll(&pfd, 1, timeout_ms);
    if (r < 0) {
        if (errno == EINTR)
            return CAM_AGAIN;
        return fail_errno(errno, why, len, "poll");
    }
    if (r == 0)
        return CAM_TIMEOUT;
    if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
        /* An unplugged device reports POLLERR|POLLHUP; a streaming one never does. */
        cam_say(why, len, "the device reported an error (poll events 0x%x)", (unsigned)pfd.revents);
        return CAM_GONE;
    }
    struct v4l2_buffer b = mmap_buffer(0); /* the driver fills in the index */
    if (xioctl(dev->fd, VIDIOC_DQBUF, &b) != 0) {
        if (errno == EAGAIN)
            return CAM_AGAIN; /* woken without a frame: poll again */
        return fail_errno(errno, why, len, "VIDIOC_DQBUF");
    }
    if (b.index >= dev->nbuf) {
        cam_say(why, len, "the driver returned buffer %u of %u", b.index, dev->nbuf);
        return CAM_FAIL;
    }
    out->data = dev->buf[b.index].start;
    out->bytes = b.bytesused <= dev->buf[b.index].length ? b.bytesused : dev->buf[b.index].length;
    out->sequence = b.sequence;
    out->timestamp = (double)b.timestamp.tv_sec + (double)b.timestamp.tv_usec * 1e-6;
    out->error_flag = (b.flags & V4L2_BUF_FLAG_ERROR) != 0;
    out->index = b.index;
    return CAM_FRAME;
}

int cam_release(cam_device *dev, const cam_frame *frame, char *why, size_t len)
{
    struct v4l2_buffer b = mmap_buffer(frame->index);
    if (xioctl(dev->fd, VIDIOC_QBUF, &b) != 0)
        return fail_errno(errno, why, len, "VIDIOC_QBUF");
    return CAM_OK;
}
