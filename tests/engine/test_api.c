/*
 * test_api.c - the public detector API's contract (include/bitfalcon.h):
 * defaults, argument checking with out-parameters untouched, status strings,
 * outputs and thresholds, pixel formats and strides, determinism, and two
 * detectors sharing one model from two threads.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bitfalcon.h"
#include "model_builder.h"
#include "test_util.h"

static bf_model *load(mb_model *mb, char *path, size_t path_size)
{
    temp_path(path, path_size, "api.bfm");
    if (mb_write(mb, path) != 0)
        return NULL;
    bf_model *m = NULL;
    bf_error err;
    if (bf_model_open(path, &m, &err) != BF_OK) {
        fprintf(stderr, "%s\n", err.message);
        return NULL;
    }
    return m;
}

static void expect_create_fails(const bf_model *m, const bf_options *o, bf_status want, const char *what)
{
    bf_detector *sentinel = (bf_detector *)(uintptr_t)0x77, *d = sentinel;
    bf_error err;
    memset(&err, 0, sizeof err);
    bf_status st = bf_detector_create(m, o, &d, &err);
    CHECK(st == want, "%s: status %d, want %d (%s)", what, st, want, err.message);
    CHECK(d == sentinel, "%s: out_detector written on failure", what);
    CHECK(err.status == st && err.message[0] != '\0', "%s: error not filled", what);
    if (st == BF_OK && d != sentinel)
        bf_detector_destroy(d);
}

typedef struct job {
    const bf_model *model;
    const uint8_t *img;
    int w, h;
    bf_detection dets[300];
    size_t n;
    int ok;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    bf_options o;
    bf_options_default(&o);
    o.input_size = 96;
    bf_detector *d = NULL;
    j->ok = 0;
    if (bf_detector_create(j->model, &o, &d, NULL) != BF_OK)
        return NULL;
    for (int rep = 0; rep < 3; rep++)
        if (bf_detector_run(d, j->img, j->w, j->h, (size_t)j->w * 3, BF_PIXEL_RGB, NULL) != BF_OK) {
            bf_detector_destroy(d);
            return NULL;
        }
    const bf_detection *r = bf_detector_results(d, &j->n);
    if (j->n > 300)
        j->n = 300;
    memcpy(j->dets, r, j->n * sizeof *r);
    bf_detector_destroy(d);
    j->ok = 1;
    return NULL;
}

int main(void)
{
    rng r;
    rng_init(&r, test_seed(4242));

    bf_options o;
    memset(&o, 0xAB, sizeof o);
    bf_options_default(&o);
    CHECK(o.input_size == 0 && o.conf_threshold == 0.25f && o.iou_threshold == 0.7f && o.max_detections == 300 &&
              o.threads == 0 && o.isa == NULL,
          "defaults");
    bf_options_default(NULL);

    const bf_status all[] = {BF_OK, BF_ERR_ARGUMENT, BF_ERR_IO, BF_ERR_FORMAT, BF_ERR_NOMEM, BF_ERR_UNSUPPORTED,
                             BF_ERR_IMAGE};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        CHECK(bf_status_str(all[i]) != NULL && bf_status_str(all[i])[0] != '\0', "status %zu", i);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(bf_status_str(all[i]), bf_status_str(all[j])) != 0, "status strings %zu %zu equal", i, j);
    }
    CHECK(bf_status_str((bf_status)99) != NULL, "unknown status");

    mb_model *mb = mb_build_test_graph(0, 11);
    char path[512];
    bf_model *m = load(mb, path, sizeof path);
    CHECK(m != NULL, "load");
    if (m == NULL)
        return 1;

    /* the same file from memory: the same model, the buffer free to go at once; a
     * damaged buffer is a format error, NULLs and empty buffers argument/format errors */
    {
        size_t n = 0;
        uint8_t *bytes = read_file(path, &n);
        CHECK(bytes != NULL && n > 64, "read back %s", path);
        bf_model *mm = NULL;
        bf_error merr = {BF_OK, ""};
        CHECK(bytes != NULL && bf_model_open_memory(bytes, n, &mm, &merr) == BF_OK, "from memory: %s", merr.message);
        if (bytes != NULL)
            memset(bytes, 0xA5, n); /* the model must not point into the caller's buffer */
        CHECK(mm != NULL && bf_model_num_classes(mm) == bf_model_num_classes(m) &&
                  bf_model_default_input_size(mm) == bf_model_default_input_size(m),
              "from memory: same model");
        bf_model_close(mm);
        bf_model *sentinel = (bf_model *)(uintptr_t)0x77, *bad = sentinel;
        CHECK(bytes != NULL && bf_model_open_memory(bytes, n, &bad, &merr) == BF_ERR_FORMAT && bad == sentinel,
              "a damaged buffer: %s", merr.message);
        CHECK(bf_model_open_memory(NULL, 10, &bad, &merr) == BF_ERR_ARGUMENT, "NULL data");
        CHECK(bf_model_open_memory(bytes, 0, &bad, &merr) == BF_ERR_FORMAT, "0 bytes");
        CHECK(bf_model_open_memory(bytes, n, NULL, &merr) == BF_ERR_ARGUMENT, "NULL out");
        free(bytes);
    }

    /* creation arguments */
    expect_create_fails(NULL, &o, BF_ERR_ARGUMENT, "NULL model");
    CHECK(bf_detector_create(m, &o, NULL, NULL) == BF_ERR_ARGUMENT, "NULL out");
    const int bad_sizes[] = {31, 33, 48, -32, 4128, 8192};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        bf_options b = o;
        b.input_size = bad_sizes[i];
        expect_create_fails(m, &b, BF_ERR_ARGUMENT, "bad input size");
    }
    const float bad_unit[] = {-0.01f, 1.01f, NAN, INFINITY};
    for (size_t i = 0; i < 4; i++) {
        bf_options b = o;
        b.conf_threshold = bad_unit[i];
        expect_create_fails(m, &b, BF_ERR_ARGUMENT, "bad conf");
        b = o;
        b.iou_threshold = bad_unit[i];
        expect_create_fails(m, &b, BF_ERR_ARGUMENT, "bad iou");
    }
    bf_options b = o;
    b.max_detections = 0;
    expect_create_fails(m, &b, BF_ERR_ARGUMENT, "max_detections 0");
    b = o;
    b.threads = -1;
    expect_create_fails(m, &b, BF_ERR_ARGUMENT, "threads -1");
    /* options not made by bf_options_default (struct_size unset or foreign) */
    b = o;
    b.struct_size = 0;
    expect_create_fails(m, &b, BF_ERR_ARGUMENT, "struct_size 0");
    b = o;
    b.struct_size = sizeof b + 8;
    expect_create_fails(m, &b, BF_ERR_ARGUMENT, "struct_size from a newer header");
    /* environment values the library cannot honour are errors, never ignored */
    {
        static const struct {
            const char *name, *value;
            bf_status want;
        } bad_env[] = {
            {"BITFALCON_MAX_TERMS", "7", BF_ERR_ARGUMENT},
            {"BITFALCON_MAX_TERMS", "two", BF_ERR_ARGUMENT},
            {"BITFALCON_CPU_DISABLE", "avx512vnni,avx9000", BF_ERR_ARGUMENT},
            {"BITFALCON_REQUANT", "sse9", BF_ERR_UNSUPPORTED},
            {"BITFALCON_DIRECT_CONV", "off", BF_ERR_ARGUMENT},
            {"BITFALCON_IGEMM", "yes", BF_ERR_ARGUMENT},
        };
        for (size_t i = 0; i < sizeof bad_env / sizeof bad_env[0]; i++) {
            const char *saved = getenv(bad_env[i].name);
            char keep[256] = "";
            if (saved != NULL)
                snprintf(keep, sizeof keep, "%s", saved);
            setenv(bad_env[i].name, bad_env[i].value, 1);
            bf_detector *e = NULL;
            bf_error eerr = {BF_OK, ""};
            bf_status st = bf_detector_create(m, &o, &e, &eerr);
            CHECK(st == bad_env[i].want && e == NULL && strstr(eerr.message, bad_env[i].name) != NULL,
                  "%s=%s: status %d: %s", bad_env[i].name, bad_env[i].value, (int)st, eerr.message);
            bf_detector_destroy(e);
            if (saved != NULL)
                setenv(bad_env[i].name, keep, 1);
            else
                unsetenv(bad_env[i].name);
        }
        /* empty = unset, and valid values run */
        setenv("BITFALCON_MAX_TERMS", "", 1);
        setenv("BITFALCON_REQUANT", "ref", 1);
        setenv("BITFALCON_DIRECT_CONV", "0", 1);
        setenv("BITFALCON_IGEMM", "0", 1);
        bf_detector *e = NULL;
        bf_error eerr = {BF_OK, ""};
        CHECK(bf_detector_create(m, &o, &e, &eerr) == BF_OK,
              "empty MAX_TERMS, REQUANT=ref, DIRECT_CONV=0, IGEMM=0: %s", eerr.message);
        bf_detector_destroy(e);
        unsetenv("BITFALCON_MAX_TERMS");
        unsetenv("BITFALCON_REQUANT");
        unsetenv("BITFALCON_DIRECT_CONV");
        unsetenv("BITFALCON_IGEMM");
    }
    b = o;
    b.isa = "no-such-isa";
    expect_create_fails(m, &b, BF_ERR_UNSUPPORTED, "unknown isa");

    /* defaults: the model's input size */
    bf_detector *d = NULL;
    bf_error err;
    CHECK(bf_detector_create(m, NULL, &d, &err) == BF_OK, "NULL options: %s", err.message);
    if (d != NULL) {
        int h = 0;
        CHECK(bf_detector_output(d, 0, NULL, NULL, &h, NULL, NULL) != NULL && h == 64 / 8, "default size");
        bf_detector_destroy(d);
    }
    b = o;
    b.isa = "ref";
    b.threads = 4;
    d = NULL;
    CHECK(bf_detector_create(m, &b, &d, &err) == BF_OK, "ref: %s", err.message);
    CHECK(d != NULL && strcmp(bf_detector_isa(d), "ref") == 0, "isa name");
    CHECK(bf_detector_num_outputs(d) == 6, "outputs %d", bf_detector_num_outputs(d));

    /* outputs before any run: zeros of the right shape */
    bf_output_kind kind;
    int stride, h, w, c;
    const int32_t *out = bf_detector_output(d, 1, &kind, &stride, &h, &w, &c);
    CHECK(out != NULL && kind == BF_OUTPUT_CLASS_LOGITS && stride == 8 && h == 8 && w == 8 && c == 5,
          "output 1 metadata");
    CHECK(bf_detector_output(d, 0, &kind, NULL, NULL, NULL, NULL) != NULL && kind == BF_OUTPUT_BOX_DFL, "output 0 kind");
    int zero = 1;
    for (int i = 0; out != NULL && i < h * w * c; i++)
        zero &= out[i] == 0;
    CHECK(zero, "outputs before a run are zero");
    CHECK(bf_detector_output(d, -1, NULL, NULL, NULL, NULL, NULL) == NULL, "index -1");
    CHECK(bf_detector_output(d, 6, NULL, NULL, NULL, NULL, NULL) == NULL, "index 6");
    CHECK(bf_detector_output(NULL, 0, NULL, NULL, NULL, NULL, NULL) == NULL, "NULL detector");
    size_t n = 99;
    CHECK(bf_detector_results(d, &n) != NULL && n == 0, "no results before a run");
    CHECK(bf_detector_results(NULL, &n) == NULL && n == 0, "NULL detector results");
    CHECK(bf_detector_num_outputs(NULL) == 0 && bf_detector_isa(NULL) == NULL, "NULL getters");

    /* run arguments: refused before any pixel is read */
    uint8_t px[3] = {1, 2, 3};
    CHECK(bf_detector_run(NULL, px, 1, 1, 3, BF_PIXEL_RGB, &err) == BF_ERR_ARGUMENT, "NULL detector");
    CHECK(bf_detector_run(d, NULL, 1, 1, 3, BF_PIXEL_RGB, &err) == BF_ERR_ARGUMENT, "NULL pixels");
    CHECK(bf_detector_run(d, px, 0, 1, 3, BF_PIXEL_RGB, &err) == BF_ERR_ARGUMENT, "width 0");
    CHECK(bf_detector_run(d, px, 1, -5, 3, BF_PIXEL_RGB, &err) == BF_ERR_ARGUMENT, "height -5");
    CHECK(bf_detector_run(d, px, 2, 1, 5, BF_PIXEL_RGB, &err) == BF_ERR_ARGUMENT, "stride < 3w");
    CHECK(bf_detector_run(d, px, 1, 1, 3, (bf_pixel_format)7, &err) == BF_ERR_ARGUMENT, "format 7");
    CHECK(bf_detector_run(d, px, 1 << 21, 1, (size_t)3 << 21, BF_PIXEL_RGB, &err) == BF_ERR_IMAGE, "huge width: %s",
          err.message);
    CHECK(bf_detector_run(d, px, 1, 1, 3, BF_PIXEL_RGB, &err) == BF_OK, "1x1 image: %s", err.message);

    /* thresholds */
    bf_error terr = {BF_OK, ""};
    CHECK(bf_detector_set_thresholds(d, 1.5f, 0.5f, &terr) == BF_ERR_ARGUMENT && terr.status == BF_ERR_ARGUMENT &&
              strstr(terr.message, "1.5") != NULL,
          "conf 1.5: %s", terr.message);
    CHECK(bf_detector_set_thresholds(d, 0.5f, NAN, &terr) == BF_ERR_ARGUMENT && strstr(terr.message, "IoU") != NULL,
          "iou NaN: %s", terr.message);
    CHECK(bf_detector_set_thresholds(NULL, 0.5f, 0.5f, NULL) == BF_ERR_ARGUMENT, "NULL");

    /* formats, strides, determinism */
    const int W = 150, H = 97;
    uint8_t *rgb = malloc((size_t)W * H * 3), *bgr = malloc((size_t)W * H * 3);
    size_t pstride = (size_t)W * 3 + 13;
    uint8_t *padded = malloc(pstride * H);
    for (int i = 0; i < W * H; i++) {
        for (int k = 0; k < 3; k++)
            rgb[i * 3 + k] = (uint8_t)rng_int(&r, 0, 255);
        bgr[i * 3 + 0] = rgb[i * 3 + 2];
        bgr[i * 3 + 1] = rgb[i * 3 + 1];
        bgr[i * 3 + 2] = rgb[i * 3 + 0];
    }
    for (int y = 0; y < H; y++) {
        memcpy(padded + (size_t)y * pstride, rgb + (size_t)y * W * 3, (size_t)W * 3);
        memset(padded + (size_t)y * pstride + (size_t)W * 3, 0xEE, 13);
    }
    CHECK(bf_detector_set_thresholds(d, 0.1f, 0.6f, NULL) == BF_OK, "thresholds");
    bf_detection first[300];
    size_t n1 = 0, n2;
    CHECK(bf_detector_run(d, rgb, W, H, (size_t)W * 3, BF_PIXEL_RGB, &err) == BF_OK, "rgb");
    const bf_detection *res = bf_detector_results(d, &n1);
    CHECK(n1 > 0 && n1 <= 300, "some detections (%zu)", n1);
    memcpy(first, res, n1 * sizeof *res);
    for (size_t i = 0; i < n1; i++)
        CHECK(res[i].x0 <= res[i].x1 && res[i].y0 <= res[i].y1 && res[i].x0 >= 0 && res[i].x1 <= W &&
                  res[i].y0 >= 0 && res[i].y1 <= H && res[i].score >= 0.1f && res[i].score <= 1 &&
                  (i == 0 || res[i].score <= res[i - 1].score),
              "detection %zu sane", i);
    CHECK(bf_detector_run(d, bgr, W, H, (size_t)W * 3, BF_PIXEL_BGR, &err) == BF_OK, "bgr");
    res = bf_detector_results(d, &n2);
    CHECK(n2 == n1 && memcmp(res, first, n1 * sizeof *res) == 0, "BGR input gives the RGB result");
    CHECK(bf_detector_run(d, padded, W, H, pstride, BF_PIXEL_RGB, &err) == BF_OK, "padded");
    res = bf_detector_results(d, &n2);
    CHECK(n2 == n1 && memcmp(res, first, n1 * sizeof *res) == 0, "a padded stride gives the same result");
    CHECK(bf_detector_set_thresholds(d, 1.0f, 0.6f, NULL) == BF_OK, "conf 1");
    CHECK(bf_detector_run(d, rgb, W, H, (size_t)W * 3, BF_PIXEL_RGB, &err) == BF_OK, "conf 1 run");
    bf_detector_results(d, &n2);
    CHECK(n2 == 0, "conf 1 keeps nothing (%zu)", n2);
    bf_detector_destroy(d);
    bf_detector_destroy(NULL);

    /* two detectors on one model, in two threads at once, agree */
    job jobs[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        jobs[i] = (job){.model = m, .img = rgb, .w = W, .h = H};
        pthread_create(&th[i], NULL, run_job, &jobs[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK(jobs[0].ok && jobs[1].ok, "threads ran");
    CHECK(jobs[0].n == jobs[1].n && memcmp(jobs[0].dets, jobs[1].dets, jobs[0].n * sizeof(bf_detection)) == 0,
          "threads agree");

    free(rgb);
    free(bgr);
    free(padded);
    bf_model_close(m);
    remove(path);
    mb_free(mb);
    if (check_failures) {
        fprintf(stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    fprintf(stderr, "ok\n");
    return 0;
}
