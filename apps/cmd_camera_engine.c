/*
 * cmd_camera_engine.c - the BitFalcon engine behind `bitfalcon camera`: the
 * cam_backend of src/capture/detect_worker.h implemented with bitfalcon.h.
 *
 * Kept apart from the command so that the camera tests can link the same
 * command with a stand-in detector before a model exists.
 */
#ifdef BF_HAVE_CAMERA

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitfalcon.h"
#include "camera_app.h"
#include "classes.h"

typedef struct engine {
    bf_model *model;
    bf_detector *det;
    float iou;
    char desc[64];
} engine;

/* "PATH: message", without doubling the path when the engine's message has it. */
static void model_error(char *why, size_t len, const char *path, const char *message)
{
    size_t n = strlen(path);
    if (strncmp(message, path, n) == 0 && message[n] == ':')
        snprintf(why, len, "%s", message);
    else
        snprintf(why, len, "%s: %s", path, message);
}

static int engine_run(void *ctx, const uint8_t *rgb, int w, int h, size_t stride,
                      const bf_detection **dets, size_t *n, char *why, size_t len)
{
    engine *e = ctx;
    bf_error err;
    if (bf_detector_run(e->det, rgb, w, h, stride, BF_PIXEL_RGB, &err) != BF_OK) {
        snprintf(why, len, "%s", err.message);
        return -1;
    }
    *dets = bf_detector_results(e->det, n);
    return 0;
}

static int engine_set_conf(void *ctx, float conf)
{
    engine *e = ctx;
    return bf_detector_set_thresholds(e->det, conf, e->iou, NULL) == BF_OK ? 0 : -1;
}

static const char *engine_class_name(void *ctx, int id)
{
    engine *e = ctx;
    return bf_model_class_name(e->model, id);
}

static const char *engine_describe(void *ctx)
{
    engine *e = ctx;
    return e->desc;
}

static void engine_close(void *ctx)
{
    engine *e = ctx;
    if (!e)
        return;
    bf_detector_destroy(e->det); /* before the model it uses */
    bf_model_close(e->model);
    free(e);
}

int cam_backend_open(const cam_detector_options *o, cam_backend *out, char *why, size_t len)
{
    engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(why, len, "out of memory");
        return -1;
    }
    bf_error err;
    if (bf_model_open(o->model, &e->model, &err) != BF_OK) {
        model_error(why, len, o->model, err.message);
        free(e);
        return -1;
    }
    bf_options opt;
    bf_options_default(&opt);
    if (o->input_size)
        opt.input_size = o->input_size;
    opt.conf_threshold = o->conf;
    opt.iou_threshold = o->iou;
    opt.threads = o->threads;
    if (o->max_det > 0)
        opt.max_detections = o->max_det;
    opt.isa = o->isa;
    if (bf_detector_create(e->model, &opt, &e->det, &err) != BF_OK) {
        model_error(why, len, o->model, err.message);
        bf_model_close(e->model);
        free(e);
        return -1;
    }
    if (o->classes) {
        int *ids;
        size_t n;
        char cause[256];
        bf_error cerr;
        int bad = bf_classes_parse(o->classes, e->model, &ids, &n, cause, sizeof cause) != 0;
        if (!bad && bf_detector_set_classes(e->det, ids, n, &cerr) != BF_OK) {
            snprintf(cause, sizeof cause, "%s", cerr.message);
            bad = 1;
        }
        if (bad) {
            snprintf(why, len, "--classes: %s", cause);
            free(ids);
            bf_detector_destroy(e->det);
            bf_model_close(e->model);
            free(e);
            return -1;
        }
        free(ids);
    }
    e->iou = o->iou;
    snprintf(e->desc, sizeof e->desc, "%s, %d px", bf_detector_isa(e->det),
             o->input_size ? o->input_size : bf_model_default_input_size(e->model));
    out->ctx = e;
    out->run = engine_run;
    out->set_conf = engine_set_conf;
    out->class_name = engine_class_name;
    out->describe = engine_describe;
    out->close = engine_close;
    return 0;
}

#else
typedef int bf_camera_engine_unused; /* ISO C: a translation unit is not empty */
#endif /* BF_HAVE_CAMERA */
