/*
 * test_fixtures.c - bit-exactness against the Python integer simulation's
 * fixtures (tools/make_fixtures.py) for the tests/data PNGs:
 *
 *   test_fixtures letterbox MODEL EXPECTED DATA_DIR    letterbox_expected.txt
 *   test_fixtures heads MODEL EXPECTED DATA_DIR        heads_expected.txt
 *   test_fixtures boxes MODEL EXPECTED DATA_DIR        boxes_expected.txt
 *
 * letterbox runs without the model; with it, it also checks that the
 * detector's own pre-processing writes the same input tensor.
 *
 * Optional trailing "--sizes 320,640" limits the input sizes checked (the
 * sanitizer build runs unoptimised and checks 320 only), and "--isa NAME"
 * picks the kernel path (default: the best this CPU runs).
 * Exits 77 (skipped) when the model or the fixture file does not exist, or
 * when this CPU lacks the named path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bitfalcon.h"
#include "detector.h"
#include "dispatch.h"
#include "letterbox.h"
#include "test_util.h"

static const char *sizes_filter = NULL;
static const char *isa = NULL;

static int size_wanted(int size)
{
    if (sizes_filter == NULL)
        return 1;
    char buf[16];
    snprintf(buf, sizeof buf, "%d", size);
    const char *p = sizes_filter;
    size_t len = strlen(buf);
    while ((p = strstr(p, buf)) != NULL) {
        if ((p == sizes_filter || p[-1] == ',') && (p[len] == '\0' || p[len] == ','))
            return 1;
        p += len;
    }
    return 0;
}

typedef struct image {
    char stem[64];
    uint8_t *rgb;
    int w, h;
} image;

#define MAX_IMAGES 16
static image images[MAX_IMAGES];
static int n_images = 0;

static const image *get_image(const char *dir, const char *stem)
{
    for (int i = 0; i < n_images; i++)
        if (strcmp(images[i].stem, stem) == 0)
            return &images[i];
    if (n_images == MAX_IMAGES)
        return NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.png", dir, stem);
    image *im = &images[n_images];
    im->rgb = load_rgb(path, &im->w, &im->h);
    if (im->rgb == NULL) {
        fprintf(stderr, "cannot decode %s\n", path);
        return NULL;
    }
    snprintf(im->stem, sizeof im->stem, "%s", stem);
    n_images++;
    return im;
}

static void free_images(void)
{
    for (int i = 0; i < n_images; i++)
        free(images[i].rgb);
    n_images = 0;
}

/* One detector per input size, created on first use. */
#define MAX_SIZES 8
static struct {
    int size;
    bf_detector *det;
} detectors[MAX_SIZES];
static int n_detectors = 0;
static bf_model *model = NULL;
static float det_conf = 0.25f, det_iou = 0.7f; /* thresholds of new detectors */

static bf_detector *get_detector(int size)
{
    for (int i = 0; i < n_detectors; i++)
        if (detectors[i].size == size)
            return detectors[i].det;
    if (n_detectors == MAX_SIZES)
        return NULL;
    bf_options opt;
    bf_options_default(&opt);
    opt.input_size = size;
    opt.conf_threshold = det_conf;
    opt.iou_threshold = det_iou;
    opt.isa = isa;
    bf_error err;
    bf_detector *d = NULL;
    if (model == NULL)
        return NULL;
    if (bf_detector_create(model, &opt, &d, &err) != BF_OK) {
        fprintf(stderr, "detector at %d: %s\n", size, err.message);
        return NULL;
    }
    detectors[n_detectors].size = size;
    detectors[n_detectors].det = d;
    n_detectors++;
    return d;
}

/* Runs (stem, size) unless it is what the detector holds already. */
static bf_detector *run(const char *dir, const char *stem, int size)
{
    static char last_stem[64] = "";
    static int last_size = 0;
    bf_detector *d = get_detector(size);
    const image *im = get_image(dir, stem);
    if (d == NULL || im == NULL)
        return NULL;
    if (last_size == size && strcmp(last_stem, stem) == 0)
        return d;
    bf_error err;
    double t0 = now_ms();
    if (bf_detector_run(d, im->rgb, im->w, im->h, (size_t)im->w * 3, BF_PIXEL_RGB, &err) != BF_OK) {
        fprintf(stderr, "%s %d: %s\n", stem, size, err.message);
        return NULL;
    }
    fprintf(stderr, "ran %s at %d on %s in %.0f ms\n", stem, size, bf_detector_isa(d), now_ms() - t0);
    snprintf(last_stem, sizeof last_stem, "%s", stem);
    last_size = size;
    return d;
}

static FILE *open_fixture(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fprintf(stderr, "SKIP: %s does not exist yet (tools/make_fixtures.py writes it)\n", path);
    return f;
}

/* ---- letterbox ------------------------------------------------------------- */

static int check_letterbox(const char *expected, const char *dir)
{
    FILE *f = open_fixture(expected);
    if (f == NULL)
        return TEST_SKIP;
    char line[1024];
    int checked = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char stem[64];
        int size, left, top, nw, nh;
        unsigned long long want;
        if (sscanf(line, "%63s %d %d %d %d %d %llx", stem, &size, &left, &top, &nw, &nh, &want) != 7) {
            CHECK(0, "bad line in %s: %s", expected, line);
            continue;
        }
        if (!size_wanted(size))
            continue;
        const image *im = get_image(dir, stem);
        if (im == NULL) {
            CHECK(0, "no image for %s", stem);
            continue;
        }
        bf_letterbox lb;
        bf_letterbox_geometry(im->w, im->h, size, &lb);
        int8_t *q = malloc((size_t)size * size * 3);
        uint8_t *u = malloc((size_t)size * size * 3);
        int32_t *scratch = malloc(sizeof(int32_t) * bf_letterbox_scratch_words(size));
        bf_letterbox_run(&lb, im->rgb, (size_t)im->w * 3, 0, scratch, q);
        for (size_t i = 0; i < (size_t)size * size * 3; i++)
            u[i] = (uint8_t)(q[i] + 128);
        uint64_t got = fnv1a64(u, (size_t)size * size * 3, FNV1A64_INIT);
        CHECK(lb.left == left && lb.top == top && lb.nw == nw && lb.nh == nh,
              "%s %d: geometry left %d top %d nw %d nh %d, expected %d %d %d %d", stem, size, lb.left, lb.top, lb.nw,
              lb.nh, left, top, nw, nh);
        CHECK(got == want, "%s %d: letterbox digest %016llx, expected %016llx", stem, size, (unsigned long long)got,
              want);
        /* and the detector's own pre-processing writes the same bytes
         * (when the model exists) */
        bf_detector *d = get_detector(size);
        if (d != NULL) {
            bf_error err;
            CHECK(bf_detector_preprocess(d, im->rgb, im->w, im->h, (size_t)im->w * 3, BF_PIXEL_RGB, &err) == BF_OK,
                  "preprocess");
            CHECK(memcmp(bf_detector_input(d), q, (size_t)size * size * 3) == 0, "%s %d: detector input differs",
                  stem, size);
        }
        free(q);
        free(u);
        free(scratch);
        checked++;
    }
    fclose(f);
    fprintf(stderr, "letterbox: %d lines checked\n", checked);
    CHECK(checked > 0, "no line checked");
    return 0;
}

/* ---- head outputs ------------------------------------------------------------ */

static int check_heads(const char *expected, const char *dir)
{
    FILE *f = open_fixture(expected);
    if (f == NULL)
        return TEST_SKIP;
    char line[1024];
    int checked = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char stem[64];
        int size, index, kind, stride, h, w, c;
        unsigned long long want;
        long long sum, mn, mx;
        if (sscanf(line, "%63s %d %d %d %d %d %d %d %llx %lld %lld %lld", stem, &size, &index, &kind, &stride, &h, &w,
                   &c, &want, &sum, &mn, &mx) != 12) {
            CHECK(0, "bad line in %s: %s", expected, line);
            continue;
        }
        if (!size_wanted(size))
            continue;
        bf_detector *d = run(dir, stem, size);
        if (d == NULL) {
            CHECK(0, "%s %d: cannot run", stem, size);
            continue;
        }
        bf_output_kind gk_kind;
        int gs, gh, gw, gc;
        const int32_t *out = bf_detector_output(d, index, &gk_kind, &gs, &gh, &gw, &gc);
        const int gk = (int)gk_kind;
        CHECK(out != NULL, "%s %d: no output %d", stem, size, index);
        if (out == NULL)
            continue;
        CHECK(gk == kind && gs == stride && gh == h && gw == w && gc == c,
              "%s %d output %d: kind %d stride %d %dx%dx%d, expected %d %d %dx%dx%d", stem, size, index, gk, gs, gh, gw,
              gc, kind, stride, h, w, c);
        size_t n = (size_t)gh * gw * gc;
        uint8_t *le = malloc(n * 4);
        long long s = 0, lo = INT32_MAX, hi = INT32_MIN;
        for (size_t i = 0; i < n; i++) {
            uint32_t u = (uint32_t)out[i];
            le[4 * i] = (uint8_t)u;
            le[4 * i + 1] = (uint8_t)(u >> 8);
            le[4 * i + 2] = (uint8_t)(u >> 16);
            le[4 * i + 3] = (uint8_t)(u >> 24);
            s += out[i];
            lo = out[i] < lo ? out[i] : lo;
            hi = out[i] > hi ? out[i] : hi;
        }
        uint64_t got = fnv1a64(le, n * 4, FNV1A64_INIT);
        free(le);
        CHECK(got == want && s == sum && lo == mn && hi == mx,
              "%s %d output %d: fnv %016llx sum %lld min %lld max %lld, expected %016llx %lld %lld %lld "
              "(if the model changed, regenerate the fixtures with tools/make_fixtures.py)",
              stem, size, index, (unsigned long long)got, s, lo, hi, want, sum, mn, mx);
        checked++;
    }
    fclose(f);
    fprintf(stderr, "heads: %d outputs checked\n", checked);
    CHECK(checked > 0, "no line checked");
    return 0;
}

/* ---- decoded boxes ------------------------------------------------------------ */

typedef struct exp_box {
    char stem[64];
    int size, cls;
    double score, b[4];
    int matched;
} exp_box;

static int check_boxes(const char *expected, const char *dir)
{
    FILE *f = open_fixture(expected);
    if (f == NULL)
        return TEST_SKIP;
    char line[1024];
    double conf = -1, iou = 0.7;
    size_t n = 0, cap = 256;
    exp_box *e = malloc(cap * sizeof *e);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "# conf ", 7) == 0) {
            if (sscanf(line, "# conf %lf iou %lf", &conf, &iou) < 1)
                CHECK(0, "bad header: %s", line);
            continue;
        }
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (n == cap) {
            cap *= 2;
            e = realloc(e, cap * sizeof *e);
        }
        exp_box *x = &e[n];
        memset(x, 0, sizeof *x);
        if (sscanf(line, "%63s %d %d %lf %lf %lf %lf %lf", x->stem, &x->size, &x->cls, &x->score, &x->b[0], &x->b[1],
                   &x->b[2], &x->b[3]) != 8) {
            CHECK(0, "bad line in %s: %s", expected, line);
            continue;
        }
        n++;
    }
    fclose(f);
    CHECK(conf >= 0, "%s has no '# conf C iou I' line", expected);
    if (conf < 0) {
        free(e);
        return 1;
    }
    det_conf = (float)conf;
    det_iou = (float)iou;
    /* every (image, size) of the fixture set, also those with no boxes */
    static const char *stems[] = {"astronaut", "chelsea", "coffee", "rocket"};
    static const int sizes[] = {320, 640};
    int compared = 0;
    for (size_t si = 0; si < 2; si++) {
        if (!size_wanted(sizes[si]))
            continue;
        for (size_t st = 0; st < 4; st++) {
            bf_detector *d = run(dir, stems[st], sizes[si]);
            if (d == NULL) {
                CHECK(0, "%s %d: cannot run", stems[st], sizes[si]);
                continue;
            }
            size_t got_n;
            const bf_detection *got = bf_detector_results(d, &got_n);
            size_t want_n = 0;
            for (size_t i = 0; i < n; i++)
                want_n += strcmp(e[i].stem, stems[st]) == 0 && e[i].size == sizes[si];
            CHECK(got_n == want_n, "%s %d: %zu detections, Python has %zu", stems[st], sizes[si], got_n, want_n);
            int *used = calloc(got_n + 1, sizeof *used);
            for (size_t i = 0; i < n; i++) {
                exp_box *x = &e[i];
                if (strcmp(x->stem, stems[st]) != 0 || x->size != sizes[si])
                    continue;
                /* match in any order: equal scores may come out in either */
                for (size_t k = 0; k < got_n && !x->matched; k++) {
                    if (used[k] || got[k].class_id != x->cls || fabs(got[k].score - x->score) > 1e-4)
                        continue;
                    const float gb[4] = {got[k].x0, got[k].y0, got[k].x1, got[k].y1};
                    int ok = 1;
                    for (int j = 0; j < 4; j++)
                        ok &= fabs(gb[j] - x->b[j]) <= 0.05;
                    if (ok)
                        used[k] = x->matched = 1;
                }
                CHECK(x->matched, "%s %d: Python's class %d score %.6f box %.4f %.4f %.4f %.4f has no match", x->stem,
                      x->size, x->cls, x->score, x->b[0], x->b[1], x->b[2], x->b[3]);
            }
            for (size_t k = 0; k < got_n; k++)
                CHECK(used[k], "%s %d: engine's class %d score %.6f box %.4f %.4f %.4f %.4f is not in Python's list",
                      stems[st], sizes[si], got[k].class_id, (double)got[k].score, (double)got[k].x0,
                      (double)got[k].y0, (double)got[k].x1, (double)got[k].y1);
            free(used);
            compared += (int)want_n;
        }
    }
    fprintf(stderr, "boxes: %d detections compared at conf %g iou %g\n", compared, conf, iou);
    free(e);
    return 0;
}

int main(int argc, char **argv)
{
    for (int again = 1; again && argc >= 3;) {
        again = 0;
        if (strcmp(argv[argc - 2], "--sizes") == 0) {
            sizes_filter = argv[argc - 1];
            argc -= 2;
            again = 1;
        } else if (strcmp(argv[argc - 2], "--isa") == 0) {
            isa = argv[argc - 1];
            argc -= 2;
            again = 1;
        }
    }
    if (argc != 5 || (strcmp(argv[1], "letterbox") != 0 && strcmp(argv[1], "heads") != 0 &&
                      strcmp(argv[1], "boxes") != 0)) {
        fprintf(stderr, "usage: test_fixtures letterbox|heads|boxes MODEL EXPECTED DATA_DIR [--sizes 320,640] [--isa NAME]\n");
        return 2;
    }
    const char *mode = argv[1], *model_path = argv[2], *expected = argv[3], *dir = argv[4];
    char why[256];
    if (isa != NULL && bf_t2i8_gemm_select(isa, why, sizeof why) == NULL && strstr(why, "lacks") != NULL) {
        fprintf(stderr, "SKIP: %s\n", why); /* a rung of the ladder this CPU does not have */
        return TEST_SKIP;
    }
    if (file_exists(model_path)) {
        bf_error err;
        if (bf_model_open(model_path, &model, &err) != BF_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
    } else if (strcmp(mode, "letterbox") != 0) {
        fprintf(stderr, "SKIP: model %s does not exist yet\n", model_path);
        return TEST_SKIP;
    }
    int rc = strcmp(mode, "letterbox") == 0 ? check_letterbox(expected, dir)
             : strcmp(mode, "heads") == 0   ? check_heads(expected, dir)
                                            : check_boxes(expected, dir);
    for (int i = 0; i < n_detectors; i++)
        bf_detector_destroy(detectors[i].det);
    bf_model_close(model);
    free_images();
    if (rc != 0)
        return rc;
    if (check_failures) {
        fprintf(stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    fprintf(stderr, "ok\n");
    return 0;
}
