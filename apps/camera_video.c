/* camera_video.c - see camera_video.h. Compiled into the program only: the
 * capture library and its tests stay free of FFmpeg. */
#include "camera_video.h"

#if defined(BF_HAVE_VIDEO) && defined(BF_HAVE_CAMERA)

#include <stdio.h>
#include <sys/stat.h>

#include "source.h"
#include "video_reader.h"

/* A character device is V4L2; a URL, a regular file or a FIFO is a video. */
static int kind(const char *path)
{
    if (bfv_is_url(path))
        return 2;
    struct stat st;
    if (stat(path, &st) != 0 || S_ISCHR(st.st_mode))
        return 0; /* V4L2 says why a missing device is missing */
    return S_ISREG(st.st_mode) ? 1 : 2;
}

static int open_video(const char *path, int timeout_ms, const atomic_int *stop, void **handle,
                      cam_video_info *info, char *why, size_t len)
{
    bfv_open_options o = {timeout_ms, stop};
    bfv_reader *r;
    bfio_err err;
    bfv_set_log_quiet(1);
    if (bfv_open(path, &o, &r, &err) != 0) {
        snprintf(why, len, "%s", err.msg);
        return -1;
    }
    const bfv_info *in = bfv_get_info(r);
    info->width = in->width;
    info->height = in->height;
    info->fps_num = in->fps_num;
    info->fps_den = in->fps_den;
    snprintf(info->name, sizeof info->name, "%.15s %.15s", in->container, in->codec);
    *handle = r;
    return 0;
}

static int next(void *handle, cam_video_frame *f, char *why, size_t len)
{
    bfv_frame v;
    bfio_err err;
    int r = bfv_next(handle, &v, &err);
    if (r < 0)
        snprintf(why, len, "%s", err.msg);
    if (r == 1) {
        f->rgb = v.rgb;
        f->width = v.width;
        f->height = v.height;
        f->stride = v.stride;
        f->index = v.index;
        f->time = v.time;
    }
    return r;
}

static void close_video(void *handle) { bfv_close(handle); }

static const cam_video_ops ops = {kind, open_video, next, close_video};

const struct cam_video_ops *bf_camera_video_ops(void) { return &ops; }

#else

const struct cam_video_ops *bf_camera_video_ops(void) { return 0; }

#endif
