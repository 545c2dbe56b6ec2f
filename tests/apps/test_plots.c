/*
 * test_plots.c - `eval --plots`: the confusion matrix (confusion.c) and the
 * curves (bfio_eval_class_curves) against hand-worked cases, and the PNG files
 * (plots.c) decoded back and looked at where the hand-worked values put ink.
 */
#include "tmpdir.h" /* first: it sets _XOPEN_SOURCE for nftw */

#include <stdlib.h>
#include <string.h>

#include "check.h"

#include "confusion.h"
#include "image.h"
#include "metrics.h"
#include "plots.h"

static bfio_box B(float x0, float y0, float x1, float y1, float score, int cls)
{
    bfio_box b = {x0, y0, x1, y1, score, cls};
    return b;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_confusion(void)
{
    /* 2 classes; m[pred][true], index 2 = background; conf .25, IoU .45. */
    bfio_confusion *cm = bfio_confusion_create(2, 0.25, 0.45);
    bfio_err err;
    CHECK(cm != NULL);
    if (!cm)
        return;
    /* image 1: A (class 0) found as 0; B (class 1) found as class 0; a class-1
     * detection at .2 (under conf: ignored); a class-1 detection on nothing. */
    bfio_box g1[] = {B(0, 0, 10, 10, 0, 0), B(20, 20, 30, 30, 0, 1)};
    bfio_box d1[] = {B(0, 0, 10, 10, .9f, 0), B(20, 20, 30, 30, .8f, 0), B(0, 0, 10, 10, .2f, 1),
                     B(50, 50, 60, 60, .7f, 1)};
    CHECK(bfio_confusion_add_image(cm, g1, N(g1), d1, N(d1), &err) == 0);
    /* image 2: an object of class 1, missed */
    bfio_box g2[] = {B(0, 0, 10, 10, 0, 1)};
    CHECK(bfio_confusion_add_image(cm, g2, N(g2), NULL, 0, &err) == 0);
    /* image 3: no objects, one class-0 detection: a background false positive */
    bfio_box d3[] = {B(0, 0, 10, 10, .9f, 0)};
    CHECK(bfio_confusion_add_image(cm, NULL, 0, d3, N(d3), &err) == 0);
    /* image 4: two detections on one class-0 object: the box keeps the IoU-1
     * one (class 0, though the other scores higher); the IoU-.9 class-1 one
     * is left over, a false positive. */
    bfio_box g4[] = {B(0, 0, 10, 10, 0, 0)};
    bfio_box d4[] = {B(0, 0, 10, 9, .95f, 1), B(0, 0, 10, 10, .9f, 0)};
    CHECK(bfio_confusion_add_image(cm, g4, N(g4), d4, N(d4), &err) == 0);
    /* image 5: IoU 0.45 exactly is not a match (ultralytics: iou > thres) */
    bfio_box g5[] = {B(0, 0, 100, 10, 0, 1)};
    bfio_box d5[] = {B(0, 0, 45, 10, .9f, 1)};
    CHECK(bfio_confusion_add_image(cm, g5, N(g5), d5, N(d5), &err) == 0);
    /* class out of range: refused, nothing added */
    bfio_box bad[] = {B(0, 0, 1, 1, .9f, 2)};
    CHECK(bfio_confusion_add_image(cm, NULL, 0, bad, 1, &err) != 0);

    const uint64_t want[3][3] = {{2, 1, 1}, {0, 0, 3}, {0, 2, 0}};
    const uint64_t *m = bfio_confusion_matrix(cm);
    for (int p = 0; p < 3; p++)
        for (int t = 0; t < 3; t++) {
            if (m[p * 3 + t] != want[p][t])
                fprintf(stderr, "confusion[%d][%d] = %llu, expected %llu\n", p, t, (unsigned long long)m[p * 3 + t],
                        (unsigned long long)want[p][t]);
            CHECK(m[p * 3 + t] == want[p][t]);
        }
    bfio_confusion_destroy(cm);
    CHECK(bfio_confusion_create(0, .25, .45) == NULL);
    CHECK(bfio_confusion_create(2, 1.5, .45) == NULL);
}

/* One class, 2 objects; detections .9 hit, .8 miss, .7 hit (IoU 1 or 0). */
static bfio_eval *three_dets(void)
{
    bfio_eval *ev = bfio_eval_create(1, 100);
    bfio_box g[] = {B(0, 0, 10, 10, 0, 0), B(20, 0, 30, 10, 0, 0)};
    bfio_box d[] = {B(0, 0, 10, 10, .9f, 0), B(50, 0, 60, 10, .8f, 0), B(20, 0, 30, 10, .7f, 0)};
    bfio_err err;
    bfio_eval_result res;
    if (!ev || bfio_eval_add_image(ev, g, N(g), d, N(d), &err) != 0 || bfio_eval_compute(ev, &res, &err) != 0) {
        bfio_eval_destroy(ev);
        return NULL;
    }
    return ev;
}

static void test_curves(void)
{
    bfio_eval *ev = three_dets();
    CHECK(ev != NULL);
    if (!ev)
        return;
    const double *p, *r, *q;
    CHECK(bfio_eval_class_curves(ev, 0, &p, &r, &q) == 0);
    /* rc .5 .5 1, pr 1 .5 .667; envelope 1 .667 .667: recall <= .5 -> 1, above -> 2/3 */
    double s = 0;
    for (int k = 0; k < BFIO_EVAL_RECALL_STEPS; k++) {
        CHECK_NEAR(q[k], k <= 50 ? 1.0 : 2.0 / 3.0, 1e-9);
        s += q[k];
    }
    double ap, ap50;
    bfio_eval_class_ap(ev, 0, &ap, &ap50);
    CHECK_NEAR(s / BFIO_EVAL_RECALL_STEPS, ap50, 1e-12);
    /* over confidence: at 0 all three count (R 1, P 2/3); above .9 none (R 0, P 1);
     * between .8 and .9 one hit of one: R .5, P 1; at .75, halfway from .8 to .7:
     * R .75, P halfway from .5 to 2/3 */
    CHECK_NEAR(r[0], 1.0, 1e-12);
    CHECK_NEAR(p[0], 2.0 / 3.0, 1e-12);
    CHECK_NEAR(r[BFIO_EVAL_CURVE_POINTS - 1], 0.0, 1e-12);
    CHECK_NEAR(p[BFIO_EVAL_CURVE_POINTS - 1], 1.0, 1e-12);
    int k85 = (int)(0.85 * (BFIO_EVAL_CURVE_POINTS - 1) + 0.5);
    double c85 = k85 / (double)(BFIO_EVAL_CURVE_POINTS - 1);
    CHECK_NEAR(r[k85], 0.5, 1e-12);
    CHECK_NEAR(p[k85], 1.0 - (0.9 - c85) / 0.1 * 0.5, 1e-6); /* scores are floats: .9f, .8f */
    int k75 = 749; /* 749 / 999 = .74975 */
    double c75 = k75 / 999.0, f = (0.8 - c75) / 0.1;
    CHECK_NEAR(r[k75], 0.5 + f * 0.5, 1e-6);
    CHECK_NEAR(p[k75], 0.5 + f * (2.0 / 3.0 - 0.5), 1e-6);
    /* a class without ground truth, and before compute */
    CHECK(bfio_eval_class_curves(ev, 1, &p, &r, &q) != 0 && p == NULL);
    bfio_eval_destroy(ev);
    bfio_eval *fresh = bfio_eval_create(1, 100);
    CHECK(bfio_eval_class_curves(fresh, 0, &p, &r, &q) != 0);
    bfio_eval_destroy(fresh);
}

static int pixel_is(const bfio_image *img, int x, int y, int r, int g, int b)
{
    const uint8_t *px = img->pixels + (size_t)y * img->stride + (size_t)x * 3;
    return px[0] == r && px[1] == g && px[2] == b;
}

static void test_png_files(void)
{
    const char *dir = tmpdir_create("test_plots");
    /* a perfect detector of class 0 ("cat"), class 1 ("dog") with no ground truth */
    bfio_eval *ev = bfio_eval_create(2, 100);
    bfio_confusion *cm = bfio_confusion_create(2, .25, .45);
    bfio_box g[] = {B(0, 0, 10, 10, 0, 0), B(20, 0, 30, 10, 0, 0)};
    bfio_box d[] = {B(0, 0, 10, 10, .9f, 0), B(20, 0, 30, 10, .8f, 0)};
    bfio_err err;
    bfio_eval_result res;
    CHECK(ev && cm && bfio_eval_add_image(ev, g, N(g), d, N(d), &err) == 0 &&
          bfio_confusion_add_image(cm, g, N(g), d, N(d), &err) == 0 && bfio_eval_compute(ev, &res, &err) == 0);
    const char *names[] = {"cat", "dog"};
    int rc = bfio_write_eval_plots(ev, cm, names, 2, dir, &err);
    if (rc != 0)
        fprintf(stderr, "plots: %s\n", err.msg);
    CHECK(rc == 0);
    for (int i = 0; i < BFIO_PLOT_FILES; i++) {
        char path[512];
        tmp_file(path, sizeof path, bfio_plot_file_names[i]);
        bfio_image img;
        int ok = bfio_image_load(path, &img, &err) == 0;
        if (!ok)
            fprintf(stderr, "%s: %s\n", path, err.msg);
        CHECK(ok);
        if (!ok)
            continue;
        if (i == 0) {
            /* PR curve 900x640, plot area x 70..640, y 40..580: precision 1 at every
             * recall, so the bold mean line (31,119,180) runs along the top, not at .5 */
            CHECK(img.width == 900 && img.height == 640);
            CHECK(pixel_is(&img, 355, 40, 31, 119, 180));
            CHECK(!pixel_is(&img, 355, 310, 31, 119, 180));
        }
        if (i == 5) {
            /* normalised matrix: 3 cells of 48 px from (104, 40); [cat][cat] = 1 is
             * the dark end (8,48,107); [dog][cat] = 0 white */
            CHECK(img.width == 104 + 3 * 48 + 20);
            CHECK(pixel_is(&img, 104 + 3, 40 + 3, 8, 48, 107));
            CHECK(pixel_is(&img, 104 + 3, 40 + 48 + 3, 255, 255, 255));
        }
        bfio_image_free(&img);
    }
    /* a folder that does not exist: an error naming it, no crash */
    CHECK(bfio_write_eval_plots(ev, cm, names, 2, "/nonexistent/plots", &err) != 0);
    CHECK(strstr(err.msg, "/nonexistent/plots") != NULL);
    /* a file where the folder should be: an error, the file untouched */
    char file[512];
    CHECK(write_bytes(tmp_file(file, sizeof file, "not-a-folder"), "x", 1) == 0);
    CHECK(bfio_write_eval_plots(ev, cm, names, 2, file, &err) != 0);
    FILE *f = fopen(file, "rb");
    CHECK(f && fgetc(f) == 'x' && fgetc(f) == EOF);
    if (f)
        fclose(f);
    bfio_confusion_destroy(cm);
    bfio_eval_destroy(ev);
    if (!check_failures)
        tmpdir_remove();
}

int main(void)
{
    test_confusion();
    test_curves();
    test_png_files();
    return check_finish("test_plots");
}
