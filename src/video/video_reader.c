/* video_reader.c - see video_reader.h. */
#include "video_reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "image.h"

#define DEFAULT_TIMEOUT_MS 10000

struct bfv_reader {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    struct SwsContext *sws;
    int stream;             /* index of the video stream */
    bfv_info info;
    uint8_t *rgb;           /* the current frame as packed RGB */
    size_t rgb_cap;
    long long frames;       /* frames returned */
    long long bad_packets;  /* packets the decoder refused */
    long long corrupt;      /* frames the decoder flagged as damaged (still returned) */
    double last_time;       /* time of the last frame returned */
    int eof_sent;           /* the flush packet went to the decoder */
    int done;               /* the decoder is drained */
    char read_error[160];   /* a demuxer error other than the end of the file */
    /* Interrupt: every blocking FFmpeg call polls this through interrupt_cb. */
    double deadline;        /* CLOCK_MONOTONIC seconds */
    int timeout_ms;
    const atomic_int *stop;
    int timed_out;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int on_interrupt(void *opaque)
{
    bfv_reader *r = opaque;
    if (r->stop && atomic_load(r->stop))
        return 1;
    if (r->deadline > 0 && now_s() > r->deadline) {
        r->timed_out = 1;
        return 1;
    }
    return 0;
}

static void arm(bfv_reader *r)
{
    r->deadline = now_s() + r->timeout_ms / 1000.0;
    r->timed_out = 0;
}

static const char *av_msg(int code, char *buf, size_t len)
{
    if (av_strerror(code, buf, len) < 0)
        snprintf(buf, len, "error %d", code);
    return buf;
}

/* Why an FFmpeg call failed, naming a timeout as one. */
static int fail_av(bfv_reader *r, bfio_err *err, const char *what, int code)
{
    char m[128];
    if (r && r->timed_out)
        return bfio_fail(err, "%s: no answer for %.1f s", what, r->timeout_ms / 1000.0);
    if (r && r->stop && atomic_load(r->stop))
        return bfio_fail(err, "%s: stopped", what);
    return bfio_fail(err, "%s: %s", what, av_msg(code, m, sizeof m));
}

int bfv_probe_file(const char *path)
{
    enum { HEAD = 8192 };
    uint8_t *buf = calloc(1, HEAD + AVPROBE_PADDING_SIZE); /* probes read padding as zeros */
    FILE *f = buf ? fopen(path, "rb") : NULL;
    if (!f) {
        free(buf);
        return 0;
    }
    size_t n = fread(buf, 1, HEAD, f);
    fclose(f);
    AVProbeData pd = {"", buf, (int)n, ""}; /* no file name: content only */
    int score = 0;
    if (n > 0 && !av_probe_input_format3(&pd, 1, &score))
        score = 0;
    free(buf);
    return score;
}

int bfv_is_url(const char *s)
{
    const char *p = strstr(s, "://");
    if (!p || p == s)
        return 0;
    for (const char *q = s; q < p; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '+' || *q == '-' || *q == '.'))
            return 0;
    return strncmp(s, "file://", 7) != 0;
}

static int too_big(int w, int h)
{
    return w > BFIO_IMAGE_MAX_SIDE || h > BFIO_IMAGE_MAX_SIDE ||
           (long long)w * h > BFIO_IMAGE_MAX_PIXELS;
}

static void set_info(bfv_reader *r, const AVStream *st)
{
    bfv_info *in = &r->info;
    in->width = st->codecpar->width;
    in->height = st->codecpar->height;
    AVRational fr = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate
                                                                             : st->r_frame_rate;
    if (fr.num > 0 && fr.den > 0) {
        in->fps_num = fr.num;
        in->fps_den = fr.den;
        in->fps = av_q2d(fr);
    } else {
        in->fps_num = 0;
        in->fps_den = 1;
        in->fps = 0;
    }
    in->frames = st->nb_frames > 0 ? (long long)st->nb_frames : -1;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        in->duration = (double)st->duration * av_q2d(st->time_base);
    else if (r->fmt->duration != AV_NOPTS_VALUE && r->fmt->duration > 0)
        in->duration = (double)r->fmt->duration / AV_TIME_BASE;
    else
        in->duration = -1;
    snprintf(in->container, sizeof in->container, "%s", r->fmt->iformat->name);
    snprintf(in->codec, sizeof in->codec, "%s", avcodec_get_name(st->codecpar->codec_id));
    in->probe_score = r->fmt->probe_score;
}

void bfv_set_log_quiet(int quiet) { av_log_set_level(quiet ? AV_LOG_FATAL : AV_LOG_INFO); }

/* avformat_open_input with the options for a URL (timeouts, RTSP over TCP)
 * or a file (no protocol but file). -1 (err set) with r->fmt NULL. */
static int open_input(bfv_reader *r, const char *url, int is_url, bfio_err *err)
{
    AVDictionary *o = NULL;
    char us[32];
    snprintf(us, sizeof us, "%lld", (long long)r->timeout_ms * 1000);
    if (is_url) {
        av_dict_set(&o, "rw_timeout", us, 0); /* every protocol: socket reads and writes */
        if (strncmp(url, "rtsp://", 7) == 0 || strncmp(url, "rtsps://", 8) == 0) {
            /* TCP: no lost UDP packets, and it passes NAT and firewalls. */
            av_dict_set(&o, "rtsp_transport", "tcp", 0);
            av_dict_set(&o, "timeout", us, 0);
        }
    } else {
        /* A local file must not make us open URLs: an HLS playlist or concat
         * script named clip.mp4 could otherwise fetch from the network or
         * read other files. */
        av_dict_set(&o, "protocol_whitelist", "file", 0);
    }
    arm(r);
    int rc = avformat_open_input(&r->fmt, url, NULL, &o);
    av_dict_free(&o);
    if (rc < 0) {
        r->fmt = NULL; /* freed by avformat_open_input */
        if (r->timed_out)
            return bfio_fail(err, "no answer for %.1f s", r->timeout_ms / 1000.0);
        char m[128];
        return bfio_fail(err, "not a video libavformat can read (%s)", av_msg(rc, m, sizeof m));
    }
    return 0;
}

/* The video stream: sizes within the limits (the header's, before anything
 * is decoded, then the probed one), the others discarded. -1 (err set). */
static int find_video_stream(bfv_reader *r, const AVCodec **codec, bfio_err *err)
{
    for (unsigned i = 0; i < r->fmt->nb_streams; i++) {
        const AVCodecParameters *p = r->fmt->streams[i]->codecpar;
        if (p->codec_type == AVMEDIA_TYPE_VIDEO && too_big(p->width, p->height))
            return bfio_fail(err, "declared video size %dx%d is over the limit (%d per side, %lld pixels)",
                             p->width, p->height, BFIO_IMAGE_MAX_SIDE, (long long)BFIO_IMAGE_MAX_PIXELS);
    }
    /* find_stream_info may decode frames: cap every decoder it opens. */
    AVDictionary **sopts = NULL;
    unsigned ns = r->fmt->nb_streams;
    char maxpix[32];
    snprintf(maxpix, sizeof maxpix, "%lld", (long long)BFIO_IMAGE_MAX_PIXELS);
    if (ns > 0 && (sopts = calloc(ns, sizeof *sopts)) != NULL)
        for (unsigned i = 0; i < ns; i++) {
            av_dict_set(&sopts[i], "max_pixels", maxpix, 0);
            av_dict_set(&sopts[i], "threads", "1", 0);
        }
    arm(r);
    int rc = avformat_find_stream_info(r->fmt, sopts);
    if (sopts) {
        for (unsigned i = 0; i < ns; i++)
            av_dict_free(&sopts[i]);
        free(sopts);
    }
    if (rc < 0)
        return fail_av(r, err, "cannot read the stream parameters", rc);
    rc = av_find_best_stream(r->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, codec, 0);
    if (rc < 0)
        return bfio_fail(err, rc == AVERROR_DECODER_NOT_FOUND ? "no decoder for its video stream"
                                                              : "no video stream (a %s file)",
                         r->fmt->iformat->name);
    r->stream = rc;
    AVStream *vs = r->fmt->streams[r->stream];
    for (unsigned i = 0; i < r->fmt->nb_streams; i++)
        if ((int)i != r->stream)
            r->fmt->streams[i]->discard = AVDISCARD_ALL; /* audio etc.: not even demuxed */
    if (too_big(vs->codecpar->width, vs->codecpar->height))
        return bfio_fail(err, "video size %dx%d is over the limit", vs->codecpar->width, vs->codecpar->height);
    set_info(r, vs);
    return 0;
}

/* The decoder of the chosen stream. -1 (err set). */
static int open_decoder(bfv_reader *r, const AVCodec *codec, bfio_err *err)
{
    AVStream *vs = r->fmt->streams[r->stream];
    r->dec = avcodec_alloc_context3(codec);
    r->pkt = av_packet_alloc();
    r->frame = av_frame_alloc();
    if (!r->dec || !r->pkt || !r->frame)
        return bfio_fail(err, "out of memory");
    int rc;
    if ((rc = avcodec_parameters_to_context(r->dec, vs->codecpar)) < 0)
        return fail_av(r, err, "cannot set up the decoder", rc);
    r->dec->max_pixels = BFIO_IMAGE_MAX_PIXELS;
    /* One decoding thread: the detector wants the cores, and frame threads
     * would add latency to live streams. */
    r->dec->thread_count = 1;
    r->dec->pkt_timebase = vs->time_base;
    if ((rc = avcodec_open2(r->dec, codec, NULL)) < 0)
        return fail_av(r, err, "cannot open the decoder", rc);
    return 0;
}

int bfv_open(const char *url, const bfv_open_options *opt, bfv_reader **out, bfio_err *err)
{
    *out = NULL;
    bfv_reader *r = calloc(1, sizeof *r);
    if (!r)
        return bfio_fail(err, "out of memory");
    r->timeout_ms = opt && opt->timeout_ms > 0 ? opt->timeout_ms : DEFAULT_TIMEOUT_MS;
    r->stop = opt ? opt->stop : NULL;
    r->stream = -1;
    int is_url = bfv_is_url(url);
    struct stat st;
    r->info.is_stream = is_url || (stat(url, &st) == 0 && !S_ISREG(st.st_mode));

    r->fmt = avformat_alloc_context();
    if (!r->fmt) {
        free(r);
        return bfio_fail(err, "out of memory");
    }
    r->fmt->interrupt_callback.callback = on_interrupt;
    r->fmt->interrupt_callback.opaque = r;
    if (open_input(r, url, is_url, err) != 0) {
        free(r);
        return -1;
    }
    const AVCodec *codec = NULL;
    if (find_video_stream(r, &codec, err) != 0 || open_decoder(r, codec, err) != 0) {
        bfv_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

const bfv_info *bfv_get_info(const bfv_reader *r) { return &r->info; }
long long bfv_frames_read(const bfv_reader *r) { return r->frames; }

/* The decoded r->frame as packed RGB in r->rgb. */
static int to_rgb(bfv_reader *r, bfio_err *err)
{
    AVFrame *f = r->frame;
    if (f->width <= 0 || f->height <= 0 || too_big(f->width, f->height))
        return bfio_fail(err, "decoded frame size %dx%d is not usable", f->width, f->height);
    size_t need = (size_t)f->width * 3 * (size_t)f->height;
    if (need > r->rgb_cap) {
        uint8_t *p = realloc(r->rgb, need);
        if (!p)
            return bfio_fail(err, "out of memory");
        r->rgb = p;
        r->rgb_cap = need;
    }
    /* Bicubic is what the ffmpeg program uses for its own conversions, so a
     * frame here has the pixels of the same frame extracted with `ffmpeg -i
     * clip.mp4 frame%d.png`. Same size in and out: only the chroma is
     * interpolated. */
    r->sws = sws_getCachedContext(r->sws, f->width, f->height, (enum AVPixelFormat)f->format,
                                  f->width, f->height, AV_PIX_FMT_RGB24, SWS_BICUBIC, NULL, NULL,
                                  NULL);
    if (!r->sws)
        return bfio_fail(err, "cannot convert pixel format %s to RGB",
                         av_get_pix_fmt_name((enum AVPixelFormat)f->format));
    uint8_t *dst[4] = {r->rgb, NULL, NULL, NULL};
    int dst_stride[4] = {f->width * 3, 0, 0, 0};
    sws_scale(r->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dst_stride);
    return 0;
}

static void fill(bfv_reader *r, bfv_frame *out)
{
    AVFrame *f = r->frame;
    const AVStream *st = r->fmt->streams[r->stream];
    double t;
    int64_t pts = f->best_effort_timestamp;
    if (pts != AV_NOPTS_VALUE) {
        int64_t start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
        t = (double)(pts - start) * av_q2d(st->time_base);
    } else {
        t = r->info.fps > 0 ? (double)r->frames / r->info.fps : 0;
    }
    out->rgb = r->rgb;
    out->width = f->width;
    out->height = f->height;
    out->stride = (size_t)f->width * 3;
    out->index = r->frames;
    out->time = t;
    r->last_time = t;
    r->frames++;
}

int bfv_next(bfv_reader *r, bfv_frame *out, bfio_err *err)
{
    for (;;) {
        if (r->done)
            return 0;
        int rc = avcodec_receive_frame(r->dec, r->frame);
        if (rc == 0) {
            if ((r->frame->flags & AV_FRAME_FLAG_CORRUPT) || r->frame->decode_error_flags)
                r->corrupt++;
            int c = to_rgb(r, err);
            if (c == 0)
                fill(r, out);
            av_frame_unref(r->frame);
            return c == 0 ? 1 : -1;
        }
        if (rc == AVERROR_EOF) {
            r->done = 1;
            return 0;
        }
        if (rc != AVERROR(EAGAIN)) {
            /* A decoder error on this frame: counted, and decoding goes on. */
            r->bad_packets++;
            if (r->bad_packets > 1000000)
                return fail_av(r, err, "decoding", rc);
            continue;
        }
        if (r->eof_sent) { /* drained but no EOF: should not happen */
            r->done = 1;
            return 0;
        }
        arm(r);
        rc = av_read_frame(r->fmt, r->pkt);
        if (rc < 0) {
            if (rc != AVERROR_EOF) {
                /* Keep what decoded; the error is damage (a file) or a lost
                 * stream, told apart by the caller. */
                char m[128];
                if (r->timed_out)
                    snprintf(r->read_error, sizeof r->read_error, "no data for %.1f s",
                             r->timeout_ms / 1000.0);
                else
                    snprintf(r->read_error, sizeof r->read_error, "%s", av_msg(rc, m, sizeof m));
                if (r->info.is_stream) {
                    fail_av(r, err, "reading the stream", rc);
                    return -1;
                }
            }
            avcodec_send_packet(r->dec, NULL);
            r->eof_sent = 1;
            continue;
        }
        if (r->pkt->stream_index == r->stream) {
            rc = avcodec_send_packet(r->dec, r->pkt);
            if (rc < 0 && rc != AVERROR(EAGAIN))
                r->bad_packets++;
        }
        av_packet_unref(r->pkt);
    }
}

int bfv_damage(const bfv_reader *r, char *buf, size_t len)
{
    char part[3][200];
    int n = 0;
    const bfv_info *in = &r->info;
    if (r->read_error[0])
        snprintf(part[n++], sizeof part[0], "read error after %lld frames: %s", r->frames,
                 r->read_error);
    if (!in->is_stream && r->done) {
        /* The container's own count, else its declared duration: a file that
         * ends early was cut off (a copy or download that did not finish). */
        if (in->frames > 0 && r->frames < in->frames)
            snprintf(part[n++], sizeof part[0], "truncated or damaged: %lld of the %lld frames "
                     "it declares", r->frames, in->frames);
        else if (in->frames <= 0 && in->duration > 0 && in->fps > 0 &&
                 (r->frames == 0 || r->last_time + 2.0 / in->fps < in->duration - 1.0 / in->fps))
            snprintf(part[n++], sizeof part[0], "truncated: the frames end at %.2f s of the %.2f s "
                     "it declares", r->frames ? r->last_time + 1.0 / in->fps : 0.0, in->duration);
    }
    if (r->bad_packets || r->corrupt)
        snprintf(part[n++], sizeof part[0], "%lld packet%s failed to decode, %lld frame%s damaged",
                 r->bad_packets, r->bad_packets == 1 ? "" : "s", r->corrupt,
                 r->corrupt == 1 ? "" : "s");
    if (n == 0) {
        if (len)
            buf[0] = 0;
        return 0;
    }
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? "; " : "", part[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return 1;
}

void bfv_close(bfv_reader *r)
{
    if (!r)
        return;
    sws_freeContext(r->sws);
    av_frame_free(&r->frame);
    av_packet_free(&r->pkt);
    avcodec_free_context(&r->dec);
    if (r->fmt)
        avformat_close_input(&r->fmt);
    free(r->rgb);
    free(r);
}
