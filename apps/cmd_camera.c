/*
 * cmd_camera.c - `bitfalcon camera`: live detection on a V4L2 camera.
 *
 * Parses the command line and hands over to apps/camera_app.c (the
 * capture, detection and window threads). The detector comes from
 * cam_backend_open (apps/cmd_camera_engine.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "track_opts.h"

#ifdef BF_HAVE_CAMERA
#include "camera_app.h"
#ifdef BF_HAVE_VIDEO /* the program; the camera tests' stand-in has V4L2 only */
#include "camera_video.h"
#endif

#define DEFAULT_MODEL "models/bitfalcon-v8n.bfm"

static void help(void)
{
    printf("Usage: bitfalcon camera [OPTIONS]\n"
           "\n"
           "Live object detection on a V4L2 camera (webcam): video in a window with the\n"
           "boxes of the latest detection, or JSON lines with --headless.\n"
           "\n"
           "Options:\n"
           "  -m, --model FILE      model file (default: " DEFAULT_MODEL ")\n"
           "      --device PATH     camera device (default: /dev/video0)\n"
           "      --source SRC      what to read: a V4L2 device, a video file (read at its\n"
           "                        frame rate; the run ends with it) or a stream URL:\n"
           "                        rtsp:// (over TCP), tcp://, http(s):// (MJPEG, HLS), ...\n"
           "                        A lost stream is reopened with a back-off of 0.25 s\n"
           "                        doubling to 8 s, counted as \"reconnects\" (needs a build\n"
           "                        with FFmpeg, BITFALCON_VIDEO, for anything but V4L2)\n"
           "      --size WxH        capture size; the camera picks the nearest it has (default 640x480)\n"
           "      --fps N           capture rate to ask for (default: the camera's)\n"
           "      --input-size N    network input: 320 (faster) or 640 (default: the model's)\n"
           "      --conf X          confidence threshold (default 0.25; +/- keys change it)\n"
           "      --iou X           NMS IoU threshold (default 0.7)\n"
           "      --max-det N       at most N boxes per frame (default 300)\n"
           "      --classes LIST    only these classes: ids or the model's names, comma-separated\n"
           "      --threads N       detector threads (default: all cores)\n"
           "      --isa NAME        kernel path: auto, ref, avx2, ... (default auto)\n"
           "      --headless        no window: one JSON line per processed frame on stdout:\n"
           "                        {\"frame\": N, \"sequence\": S, \"timestamp\": SECONDS,\n"
           "                         \"time\": SECONDS (a video's own time), \"reconnects\": R, \"width\": W,\n"
           "                         \"height\": H, \"detections\": [{\"class\": ID, \"name\": NAME,\n"
           "                         \"score\": X, \"bbox\": [x, y, w, h]}, ...]}\n"
           "      --json            the same JSON lines while showing the window\n"
           "      --track           ByteTrack IDs across frames: \"#ID\" drawn on each box, and\n"
           "                        \"track\": ID (null: not in a confirmed track) in the JSON lines\n");
    bf_track_options_help(stdout, 24);
    printf(
           "      --record DIR      write every processed frame, boxes drawn, as DIR/frame-N.jpg\n"
           "      --frames N        stop after N processed frames\n"
           "      --window WxH      initial window size (default: the capture size)\n"
           "      --screenshot FILE at exit, save the window (last detected frame + boxes) as BMP\n"
           "  -q, --quiet           no progress lines on stderr\n"
           "  -h, --help            show this help\n"
           "\n"
           "Keys: q or Esc quit, space pause, s snapshot (JPEG, into DIR of --record or the\n"
           "current folder), + and - change the confidence threshold by 0.05.\n"
           "Detection runs in its own thread on the newest frame (frames that arrive while\n"
           "it is busy are skipped), so the video stays live. When the camera disconnects,\n"
           "the window says so and the camera is reopened every 0.5 s until it is back.\n"
           "\n"
           "Exit status: 0 ok; 1 the camera could not be used; 2 usage error or the model\n"
           "could not be loaded.\n");
}

enum { OPT_MODEL = 1, OPT_DEVICE, OPT_SIZE, OPT_FPS, OPT_INPUT, OPT_CONF, OPT_IOU, OPT_MAXDET, OPT_THREADS,
       OPT_ISA, OPT_HEADLESS, OPT_JSON, OPT_RECORD, OPT_FRAMES, OPT_WINDOW, OPT_SCREENSHOT,
       OPT_QUIET, OPT_HELP };

enum { OPT_CLASSES = 100, OPT_TRACK };

static const bf_opt options[] = {
    {"model", 'm', 1, OPT_MODEL},     {"device", 0, 1, OPT_DEVICE},    {"size", 0, 1, OPT_SIZE},
    {"source", 0, 1, OPT_DEVICE},
    {"fps", 0, 1, OPT_FPS},           {"input-size", 0, 1, OPT_INPUT}, {"conf", 0, 1, OPT_CONF},
    {"iou", 0, 1, OPT_IOU},           {"threads", 0, 1, OPT_THREADS},  {"isa", 0, 1, OPT_ISA},
    {"max-det", 0, 1, OPT_MAXDET},
    {"headless", 0, 0, OPT_HEADLESS}, {"json", 0, 0, OPT_JSON},        {"record", 0, 1, OPT_RECORD},
    {"frames", 0, 1, OPT_FRAMES},     {"window", 0, 1, OPT_WINDOW},    {"screenshot", 0, 1, OPT_SCREENSHOT},
    {"quiet", 'q', 0, OPT_QUIET},     {"help", 'h', 0, OPT_HELP},      {"classes", 0, 1, OPT_CLASSES},
    {"track", 0, 0, OPT_TRACK},       BF_TRACK_OPT_ENTRIES,
    {NULL, 0, 0, 0},
};

/* "640x480" -> 640, 480; prints the error itself. */
static int parse_size(const bf_args *a, const char *s, int *w, int *h)
{
    char *end;
    long x = strtol(s, &end, 10), y = 0;
    if (end != s && (*end == 'x' || *end == 'X')) {
        const char *t = end + 1;
        y = strtol(t, &end, 10);
        if (end == t)
            y = 0;
    }
    if (*end != '\0' || x < 16 || x > 8192 || y < 16 || y > 8192) {
        fprintf(stderr, "bitfalcon %s: %s: '%s' is not a size WxH (16..8192)\n", a->cmd, a->opt_text, s);
        return -1;
    }
    *w = (int)x;
    *h = (int)y;
    return 0;
}

int bf_cmd_camera(int argc, char **argv)
{
    cam_app_config cfg;
    cam_app_config_default(&cfg);
    cam_detector_options dopt = {DEFAULT_MODEL, 0, 0.25f, 0.7f, 0, 0, NULL, NULL};
    bf_args a;
    bf_args_init(&a, argc, argv);
    int id, bad = 0, frames = 0;
    bt_config track_cfg;
    bt_config_default(&track_cfg);
    const char *v;
    while (!bad && (id = bf_args_next(&a, options, &v)) != BF_ARG_END) {
        switch (id) {
        case OPT_MODEL: dopt.model = v; break;
        case OPT_DEVICE: cfg.device = v; break;
        case OPT_SIZE: bad = parse_size(&a, v, &cfg.width, &cfg.height) != 0; break;
        case OPT_FPS: bad = bf_args_int(&a, v, 1, 1000, &cfg.fps) != 0; break;
        case OPT_INPUT:
            bad = bf_args_int(&a, v, 32, 4096, &dopt.input_size) != 0;
            if (!bad && dopt.input_size % 32 != 0) {
                fprintf(stderr, "bitfalcon camera: --input-size %d is not a multiple of 32\n", dopt.input_size);
                bad = 1;
            }
            break;
        case OPT_CONF: bad = bf_args_float(&a, v, 0.0, 1.0, &dopt.conf) != 0; break;
        case OPT_IOU: bad = bf_args_float(&a, v, 0.0, 1.0, &dopt.iou) != 0; break;
        case OPT_MAXDET: bad = bf_args_int(&a, v, 1, 100000, &dopt.max_det) != 0; break;
        case OPT_THREADS: bad = bf_args_int(&a, v, 0, 1024, &dopt.threads) != 0; break;
        case OPT_ISA: dopt.isa = v; break;
        case OPT_CLASSES: dopt.classes = v; break;
        case OPT_TRACK: cfg.track = 1; break;
        case OPT_HEADLESS: cfg.headless = 1; break;
        case OPT_JSON: cfg.json = 1; break;
        case OPT_RECORD: cfg.record_dir = v; break;
        case OPT_FRAMES: bad = bf_args_int(&a, v, 1, 1000000000, &frames) != 0; break;
        case OPT_WINDOW: bad = parse_size(&a, v, &cfg.window_w, &cfg.window_h) != 0; break;
        case OPT_SCREENSHOT: cfg.screenshot = v; break;
        case OPT_QUIET: cfg.quiet = 1; break;
        case OPT_HELP: help(); return BF_EXIT_OK;
        case BF_ARG_POSITIONAL:
            fprintf(stderr, "bitfalcon camera: unexpected argument '%s' (see 'bitfalcon camera --help')\n", v);
            bad = 1;
            break;
        default:
            if (bf_track_option(&a, id, v, &track_cfg, &bad))
                cfg.track = 1;
            else
                bad = 1; /* BF_ARG_ERROR: already printed */
            break;
        }
    }
    if (!bad && cfg.track && bf_track_options_check(&a, &track_cfg) != 0)
        bad = 1;
    cfg.track_cfg = &track_cfg;
    if (!bad && cfg.record_dir && !*cfg.record_dir) {
        fprintf(stderr, "bitfalcon camera: the --record folder name is empty\n");
        bad = 1;
    }
    if (!bad && cfg.screenshot && cfg.headless) {
        fprintf(stderr, "bitfalcon camera: --screenshot needs the window (not --headless)\n");
        bad = 1;
    }
    if (bad)
        return BF_EXIT_USAGE;
    cfg.max_frames = (uint64_t)frames;
#ifdef BF_HAVE_VIDEO
    cfg.video = bf_camera_video_ops();
#endif
    cfg.conf = dopt.conf;
    cfg.iou = dopt.iou;

    cam_backend be;
    memset(&be, 0, sizeof be);
    char why[512];
    if (cam_backend_open(&dopt, &be, why, sizeof why) != 0) {
        fprintf(stderr, "bitfalcon: %s\n", why);
        return BF_EXIT_USAGE;
    }
    char title[200];
    snprintf(title, sizeof title, "BitFalcon (%s)", be.describe ? be.describe(be.ctx) : "");
    cfg.title = title;
    int rc = cam_app_run(&cfg, &be);
    if (be.close)
        be.close(be.ctx);
    return rc;
}

#else /* built without SDL2/libv4l2 */

int bf_cmd_camera(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bitfalcon camera: this build has no camera support "
                    "(it needs SDL2 and libv4l2 when building; see docs/camera.md)\n");
    return BF_EXIT_USAGE;
}

#endif /* BF_HAVE_CAMERA */
