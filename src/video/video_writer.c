/* video_writer.c - see video_writer.h. */
#include "video_writer.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

#include "files.h"

struct bfv_writer {
    AVFormatContext *oc;
    AVCodecContext *enc;
    AVStream *st;
    AVFrame *frame;
    AVPacket *pkt;
    struct SwsContext *sws;
    int width, height;       /* as given */
    int64_t next_pts;
    char *tmp, *path;
    int header_written;
};

static int have_x264(void) { return avcodec_find_encoder_by_name("libx264") != NULL; }

const char *bfv_writer_extension(void) { return have_x264() ? ".mp4" : ".avi"; }

static int av_fail(bfio_err *err, const char *what, int code)
{
    char m[128];
    if (av_strerror(code, m, sizeof m) < 0)
        snprintf(m, sizeof m, "error %d", code);
    return bfio_fail(err, "%s: %s", what, m);
}

static void free_all(bfv_writer *w)
{
    if (w->oc) {
        if (w->oc->pb)
            avio_closep(&w->oc->pb);
        avformat_free_context(w->oc);
    }
    avcodec_free_context(&w->enc);
    av_frame_free(&w->frame);
    av_packet_free(&w->pkt);
    sws_freeContext(w->sws);
    free(w->tmp);
    free(w->path);
    free(w);
}

void bfv_writer_abort(bfv_writer *w)
{
    if (!w)
        return;
    if (w->oc && w->oc->pb)
        avio_closep(&w->oc->pb);
    if (w->tmp)
        unlink(w->tmp);
    free_all(w);
}

/* A hidden temporary next to path: DIR/.NAME.XXXXXX (same file system, so
 * the rename is atomic). */
static char *make_tmp(const char *path, bfio_err *err)
{
    const char *base = bfio_path_basename(path);
    size_t dir_len = (size_t)(base - path);
    size_t n = dir_len + strlen(base) + 16;
    char *t = malloc(n);
    if (!t) {
        bfio_fail(err, "out of memory");
        return NULL;
    }
    snprintf(t, n, "%.*s.%s.XXXXXX", (int)dir_len, path, base);
    int fd = mkstemp(t);
    if (fd < 0) {
        bfio_fail(err, "cannot create a temporary file next to it");
        free(t);
        return NULL;
    }
    (void)fchmod(fd, 0644); /* mkstemp makes 0600; outputs are meant to be shared */
    close(fd);
    return t;
}

int bfv_writer_open(const char *path, int width, int height, int fps_num, int fps_den,
                    bfv_writer **out, bfio_err *err)
{
    *out = NULL;
    int x264 = have_x264();
    int ew = width & ~1, eh = height & ~1;
    if (ew < 2 || eh < 2)
        return bfio_fail(err, "frame size %dx%d is too small to encode", width, height);
    bfv_writer *w = calloc(1, sizeof *w);
    if (!w)
        return bfio_fail(err, "out of memory");
    w->width = width;
    w->height = height;
    if (!(w->path = strdup(path)) || !(w->tmp = make_tmp(path, err))) {
        if (!w->path)
            bfio_fail(err, "out of memory");
        free_all(w);
        return -1;
    }
    int rc = avformat_alloc_output_context2(&w->oc, NULL, x264 ? "mp4" : "avi", w->tmp);
    const AVCodec *codec = avcodec_find_encoder_by_name(x264 ? "libx264" : "mjpeg");
    if (rc < 0 || !w->oc || !codec) {
        bfio_fail(err, "no %s muxer or encoder in this FFmpeg", x264 ? "mp4/libx264" : "avi/mjpeg");
        bfv_writer_abort(w);
        return -1;
    }
    w->st = avformat_new_stream(w->oc, NULL);
    w->enc = avcodec_alloc_context3(codec);
    w->frame = av_frame_alloc();
    w->pkt = av_packet_alloc();
    if (!w->st || !w->enc || !w->frame || !w->pkt) {
        bfio_fail(err, "out of memory");
        bfv_writer_abort(w);
        return -1;
    }
    AVRational fps = fps_num > 0 && fps_den > 0 ? (AVRational){fps_num, fps_den} : (AVRational){30, 1};
    w->enc->width = ew;
    w->enc->height = eh;
    w->enc->time_base = av_inv_q(fps);
    w->enc->framerate = fps;
    w->enc->pix_fmt = x264 ? AV_PIX_FMT_YUV420P : AV_PIX_FMT_YUVJ420P;
    w->enc->thread_count = 1; /* the detector has the cores */
    if (w->oc->oformat->flags & AVFMT_GLOBALHEADER)
        w->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *o = NULL;
    if (x264) {
        av_dict_set(&o, "preset", "veryfast", 0);
        av_dict_set(&o, "crf", "23", 0);
    } else {
        w->enc->qmin = w->enc->qmax = 3; /* MJPEG: fixed, good quality */
        w->enc->flags |= AV_CODEC_FLAG_QSCALE;
        w->enc->global_quality = FF_QP2LAMBDA * 3;
    }
    rc = avcodec_open2(w->enc, codec, &o);
    av_dict_free(&o);
    if (rc < 0) {
        av_fail(err, "cannot open the encoder", rc);
        bfv_writer_abort(w);
        return -1;
    }
    w->st->time_base = w->enc->time_base;
    w->st->avg_frame_rate = fps;
    if ((rc = avcodec_parameters_from_context(w->st->codecpar, w->enc)) < 0 ||
        (rc = avio_open(&w->oc->pb, w->tmp, AVIO_FLAG_WRITE)) < 0 ||
        (rc = avformat_write_header(w->oc, NULL)) < 0) {
        av_fail(err, "cannot start the video file", rc);
        bfv_writer_abort(w);
        return -1;
    }
    w->header_written = 1;
    w->frame->format = w->enc->pix_fmt;
    w->frame->width = ew;
    w->frame->height = eh;
    if ((rc = av_frame_get_buffer(w->frame, 0)) < 0) {
        av_fail(err, "out of memory", rc);
        bfv_writer_abort(w);
        return -1;
    }
    w->sws = sws_getContext(ew, eh, AV_PIX_FMT_RGB24, ew, eh, w->enc->pix_fmt, SWS_BICUBIC, NULL,
                            NULL, NULL);
    if (!w->sws) {
        bfio_fail(err, "cannot convert RGB for the encoder");
        bfv_writer_abort(w);
        return -1;
    }
    *out = w;
    return 0;
}

/* Sends frame (NULL: flush) and writes every packet that comes out. */
static int encode(bfv_writer *w, AVFrame *frame, bfio_err *err)
{
    int rc = avcodec_send_frame(w->enc, frame);
    if (rc < 0)
        return av_fail(err, "encoding", rc);
    for (;;) {
        rc = avcodec_receive_packet(w->enc, w->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return av_fail(err, "encoding", rc);
        av_packet_rescale_ts(w->pkt, w->enc->time_base, w->st->time_base);
        w->pkt->stream_index = w->st->index;
        rc = av_interleaved_write_frame(w->oc, w->pkt);
        if (rc < 0)
            return av_fail(err, "writing", rc);
    }
}

int bfv_writer_put(bfv_writer *w, const uint8_t *rgb, size_t stride, bfio_err *err)
{
    int rc = av_frame_make_writable(w->frame);
    if (rc < 0)
        return av_fail(err, "out of memory", rc);
    const uint8_t *src[4] = {rgb, NULL, NULL, NULL};
    int src_stride[4] = {(int)stride, 0, 0, 0};
    sws_scale(w->sws, src, src_stride, 0, w->enc->height, w->frame->data, w->frame->linesize);
    w->frame->pts = w->next_pts++;
    return encode(w, w->frame, err);
}

int bfv_writer_commit(bfv_writer *w, bfio_err *err)
{
    int rc = encode(w, NULL, err);
    if (rc == 0 && (rc = av_write_trailer(w->oc)) < 0)
        rc = av_fail(err, "finishing the video file", rc);
    if (rc == 0 && w->oc->pb) {
        avio_flush(w->oc->pb);
        if (w->oc->pb->error < 0)
            rc = av_fail(err, "writing", w->oc->pb->error);
        int c = avio_closep(&w->oc->pb);
        if (rc == 0 && c < 0)
            rc = av_fail(err, "closing", c);
    }
    if (rc == 0) { /* on disk before the rename makes it visible, as files.h does */
        int fd = open(w->tmp, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0)
            rc = bfio_fail(err, "fsync of the temporary failed");
        if (fd >= 0)
            close(fd);
    }
    if (rc == 0 && rename(w->tmp, w->path) != 0)
        rc = bfio_fail(err, "cannot rename the temporary into place");
    if (rc != 0) {
        bfv_writer_abort(w);
        return -1;
    }
    free(w->tmp);
    w->tmp = NULL;
    free_all(w);
    return 0;
}
