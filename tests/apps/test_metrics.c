/*
 * test_metrics.c - the COCO mAP code against hand-worked cases.
 *
 * Notation in the comments: per class and IoU threshold the detections are
 * taken in score order; tp/fp are running counts; rc = tp / n_gt and
 * pr = tp / (tp + fp); the envelope replaces each pr by the max to its right;
 * AP = mean over the 101 recall points r = 0, .01, ..., 1 of the envelope
 * precision at the first rc >= r (0 when rc never reaches r).
 * pycocotools adds np.spacing(1) to the precision denominator, so a perfect
 * AP is 1 - 2e-16: the tolerance below absorbs that.
 */
#include <stdlib.h>

#include "check.h"
#include "metrics.h"

#define TOL 1e-9

static bfio_box B(float x0, float y0, float x1, float y1, float score, int cls)
{
    bfio_box b = {x0, y0, x1, y1, score, cls};
    return b;
}

typedef struct result {
    double map, map50;
    int classes;
    size_t images;
} result;

/* Runs a set of images through a fresh evaluator. */
typedef struct img {
    const bfio_box *gt;
    size_t n_gt;
    const bfio_box *dt;
    size_t n_dt;
} img;

static result run(const img *imgs, size_t n, int num_classes, int max_dets)
{
    bfio_eval *ev = bfio_eval_create(num_classes, max_dets);
    bfio_err err;
    result r = {-2, -2, -1, 0};
    if (!ev)
        return r;
    for (size_t i = 0; i < n; i++)
        if (bfio_eval_add_image(ev, imgs[i].gt, imgs[i].n_gt, imgs[i].dt, imgs[i].n_dt, &err) != 0)
            fprintf(stderr, "add_image: %s\n", err.msg);
    bfio_eval_result res;
    if (bfio_eval_compute(ev, &res, &err) == 0) {
        r.map = res.map;
        r.map50 = res.map50;
        r.classes = res.classes;
        r.images = res.images;
    }
    bfio_eval_destroy(ev);
    return r;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_thresholds(void)
{
    /* numpy.linspace(.5, .95, 10): i * 0.049999999999999996 + 0.5. */
    CHECK(bfio_eval_iou_threshold(0) == 0.5);
    CHECK(bfio_eval_iou_threshold(2) == 0.6); /* exactly the double 0.6 */
    CHECK(bfio_eval_iou_threshold(8) == 0.8999999999999999);
    CHECK(bfio_eval_iou_threshold(9) == 0.95);
    CHECK(bfio_eval_recall_threshold(50) == 0.5);
    CHECK(bfio_eval_recall_threshold(57) == 0.5700000000000001);
    CHECK(bfio_eval_recall_threshold(100) == 1.0);
}

static void test_iou(void)
{
    bfio_box a = B(0, 0, 10, 10, 0, 0);
    bfio_box b = B(0, 0, 10, 6, 0, 0);
    bfio_box c = B(10, 0, 20, 10, 0, 0); /* touches a: no overlap (no +1 convention) */
    bfio_box d = B(5, 5, 15, 15, 0, 0);  /* inter 25, union 175 */
    CHECK(bfio_box_iou(&a, &b) == 0.6);
    CHECK(bfio_box_iou(&a, &c) == 0);
    CHECK_NEAR(bfio_box_iou(&a, &d), 25.0 / 175.0, 1e-15);
    CHECK(bfio_box_iou(&a, &a) == 1);
}

static void test_perfect(void)
{
    /* Every object found exactly, nothing else: AP 1 for every class and threshold. */
    bfio_box g1[] = {B(10, 10, 50, 60, 0, 0), B(100, 20, 180, 90, 0, 3)};
    bfio_box d1[] = {B(10, 10, 50, 60, .9f, 0), B(100, 20, 180, 90, .8f, 3)};
    bfio_box g2[] = {B(0, 0, 5, 5, 0, 3)};
    bfio_box d2[] = {B(0, 0, 5, 5, .3f, 3)};
    img imgs[] = {{g1, 2, d1, 2}, {g2, 1, d2, 1}};
    result r = run(imgs, 2, 80, 100);
    CHECK_NEAR(r.map, 1.0, TOL);
    CHECK_NEAR(r.map50, 1.0, TOL);
    CHECK(r.classes == 2);
    CHECK(r.images == 2);
}

static void test_iou_06(void)
{
    /* One object, one detection with IoU exactly 0.6 (60 / 100).
     * Matched at t = .50, .55, .60 (IoU >= t; .60 is the same double as 0.6)
     * -> AP 1 there; a false positive at .65 ... .95 -> AP 0.
     * mAP50-95 = 3/10, mAP50 = 1. */
    bfio_box g[] = {B(0, 0, 10, 10, 0, 0)};
    bfio_box d[] = {B(0, 0, 10, 6, .9f, 0)};
    img imgs[] = {{g, 1, d, 1}};
    result r = run(imgs, 1, 80, 100);
    CHECK_NEAR(r.map, 0.3, TOL);
    CHECK_NEAR(r.map50, 1.0, TOL);

    /* IoU 0.9 = 90/100 against t[8] = 0.8999999999999999: matched at 9 of 10. */
    bfio_box d9[] = {B(0, 0, 10, 9, .9f, 0)};
    img imgs9[] = {{g, 1, d9, 1}};
    r = run(imgs9, 1, 80, 100);
    CHECK_NEAR(r.map, 0.9, TOL);
}

static void test_duplicates(void)
{
    /* Two objects; a duplicate of the first, scored between the two true hits.
     *   order: d1 (.9, TP on g1), d2 (.8, g1 already taken: FP), d3 (.7, TP on g2)
     *   tp = 1 1 2, fp = 0 1 1, rc = .5 .5 1, pr = 1 1/2 2/3
     *   envelope: pr = 1 2/3 2/3
     *   r = 0 .. .50 (51 points): first rc >= r is index 0 -> 1
     *   r = .51 .. 1 (50 points): index 2 -> 2/3
     *   AP = (51 + 50 * 2/3) / 101 = 253/303 at every threshold (all IoUs are 1). */
    bfio_box g[] = {B(0, 0, 10, 10, 0, 0), B(20, 0, 30, 10, 0, 0)};
    bfio_box d[] = {B(0, 0, 10, 10, .9f, 0), B(0, 0, 10, 10, .8f, 0), B(20, 0, 30, 10, .7f, 0)};
    img imgs[] = {{g, 2, d, 3}};
    result r = run(imgs, 1, 80, 100);
    CHECK_NEAR(r.map, 253.0 / 303.0, TOL);
    CHECK_NEAR(r.map50, 253.0 / 303.0, TOL);

    /* A duplicate scored below the only true hit costs nothing:
     *   tp = 1 1, fp = 0 1, rc = 1 1, pr = 1 1/2 -> envelope 1 1/2; every r -> index 0 -> AP 1. */
    bfio_box d2[] = {B(0, 0, 10, 10, .9f, 0), B(0, 0, 10, 10, .8f, 0)};
    img imgs2[] = {{g, 1, d2, 2}};
    r = run(imgs2, 1, 80, 100);
    CHECK_NEAR(r.map, 1.0, TOL);
}

static void test_missed(void)
{
    /* Two objects, one found: rc = .5, pr = 1.
     * r = 0 .. .50 -> 1 (51 points), r > .5 -> never reached -> 0.
     * AP = 51/101 (not 0.5: the 101-point grid includes both ends). */
    bfio_box g[] = {B(0, 0, 10, 10, 0, 0), B(20, 0, 30, 10, 0, 0)};
    bfio_box d[] = {B(0, 0, 10, 10, .9f, 0)};
    img imgs[] = {{g, 2, d, 1}};
    result r = run(imgs, 1, 80, 100);
    CHECK_NEAR(r.map, 51.0 / 101.0, TOL);
    CHECK_NEAR(r.map50, 51.0 / 101.0, TOL);

    /* No detection at all for a class with ground truth: AP 0, still averaged. */
    img none[] = {{g, 2, NULL, 0}};
    r = run(none, 1, 80, 100);
    CHECK_NEAR(r.map, 0.0, TOL);
    CHECK(r.classes == 1);
}

static void test_empty_images(void)
{
    /* Image A: one object, found (score .9). Image B: no objects, one
     * detection of the same class scored higher (.95): a false positive.
     *   order: B's (.95, FP), A's (.9, TP)
     *   tp = 0 1, fp = 1 1, rc = 0 1, pr = 0 1/2 -> envelope 1/2 1/2
     *   r = 0 -> index 0 -> 1/2; r > 0 -> index 1 -> 1/2. AP = 1/2. */
    bfio_box ga[] = {B(0, 0, 10, 10, 0, 0)};
    bfio_box da[] = {B(0, 0, 10, 10, .9f, 0)};
    bfio_box db[] = {B(0, 0, 10, 10, .95f, 0)};
    img imgs[] = {{ga, 1, da, 1}, {NULL, 0, db, 1}, {NULL, 0, NULL, 0}};
    result r = run(imgs, 3, 80, 100);
    CHECK_NEAR(r.map, 0.5, TOL);
    CHECK_NEAR(r.map50, 0.5, TOL);
    CHECK(r.images == 3);

    /* The same false positive scored below the hit: tp = 1 1, rc = 1 1 -> AP 1. */
    bfio_box db2[] = {B(0, 0, 10, 10, .5f, 0)};
    img imgs2[] = {{ga, 1, da, 1}, {NULL, 0, db2, 1}};
    r = run(imgs2, 2, 80, 100);
    CHECK_NEAR(r.map, 1.0, TOL);

    /* No ground truth anywhere: the mean is undefined (-1, as pycocotools). */
    img imgs3[] = {{NULL, 0, db, 1}};
    r = run(imgs3, 1, 80, 100);
    CHECK(r.map == -1 && r.map50 == -1 && r.classes == 0);
}

static void test_class_without_gt(void)
{
    /* Class 0 perfect; class 5 has detections but no ground truth anywhere:
     * left out of the mean, so mAP = 1 over 1 class. */
    bfio_box g[] = {B(0, 0, 10, 10, 0, 0)};
    bfio_box d[] = {B(0, 0, 10, 10, .9f, 0), B(30, 30, 40, 40, .99f, 5)};
    img imgs[] = {{g, 1, d, 2}};
    result r = run(imgs, 1, 80, 100);
    CHECK_NEAR(r.map, 1.0, TOL);
    CHECK(r.classes == 1);

    /* Add class 7 with ground truth but no detection: AP 0 counts -> (1 + 0) / 2. */
    bfio_box g2[] = {B(0, 0, 10, 10, 0, 0), B(50, 50, 60, 60, 0, 7)};
    img imgs2[] = {{g2, 2, d, 2}};
    r = run(imgs2, 1, 80, 100);
    CHECK_NEAR(r.map, 0.5, TOL);
    CHECK_NEAR(r.map50, 0.5, TOL);
    CHECK(r.classes == 2);
}

static void test_best_iou_match(void)
{
    /* Two overlapping objects g1 = [0,10], g2 = [1,11] (x; y 0..10).
     * d1 (.9) = [1,11]: IoU with g1 = 90/110 = .818, with g2 = 1 -> takes g2
     *   (the best IoU, not the first box above the threshold).
     * d2 (.8) = [0,10]: g2 taken; g1 IoU 1 -> TP.
     * Both TP at every threshold -> mAP 1. A first-match rule would give d1 g1
     * and leave d2 with IoU .818 on g2: FP at .85 .. .95. */
    bfio_box g[] = {B(0, 0, 10, 10, 0, 0), B(1, 0, 11, 10, 0, 0)};
    bfio_box d[] = {B(1, 0, 11, 10, .9f, 0), B(0, 0, 10, 10, .8f, 0)};
    img imgs[] = {{g, 2, d, 2}};
    result r = run(imgs, 1, 80, 100);
    CHECK_NEAR(r.map, 1.0, TOL);

    /* g1 = [0,10], g2 = [5,15]; d1 (.9) = [4,14]: IoU g1 = 60/140, g2 = 90/110 = .818
     * -> g2 for t <= .80 (7 thresholds); unmatched for .85 .90 .95.
     * d2 (.8) = [0,10] -> g1, IoU 1.
     *   t <= .80: both TP -> AP 1.
     *   t >= .85: tp = 0 1, fp = 1 1, rc = 0 .5, pr = 0 .5 -> envelope .5 .5;
     *             r = 0 .. .5 (51 points) -> .5, r > .5 -> 0: AP = 25.5/101.
     * mAP = (7 + 3 * 25.5/101) / 10, mAP50 = 1. */
    bfio_box g3[] = {B(0, 0, 10, 10, 0, 0), B(5, 0, 15, 10, 0, 0)};
    bfio_box d3[] = {B(4, 0, 14, 10, .9f, 0), B(0, 0, 10, 10, .8f, 0)};
    img imgs3[] = {{g3, 2, d3, 2}};
    r = run(imgs3, 1, 80, 100);
    CHECK_NEAR(r.map, (7 + 3 * 25.5 / 101) / 10, TOL);
    CHECK_NEAR(r.map50, 1.0, TOL);
}

static void test_ties_in_image_order(void)
{
    /* Equal scores keep the order in which images were added (COCO's stable
     * mergesort). A: a false positive at .5; B: the only object, found at .5.
     *   A first: tp = 0 1, fp = 1 1 -> envelope .5 .5 -> AP .5
     *   B first: tp = 1 1, fp = 0 1 -> rc 1 1, envelope 1 .5 -> AP 1 */
    bfio_box gb[] = {B(0, 0, 10, 10, 0, 0)};
    bfio_box db[] = {B(0, 0, 10, 10, .5f, 0)};
    bfio_box da[] = {B(50, 50, 60, 60, .5f, 0)};
    img ab[] = {{NULL, 0, da, 1}, {gb, 1, db, 1}};
    img ba[] = {{gb, 1, db, 1}, {NULL, 0, da, 1}};
    CHECK_NEAR(run(ab, 2, 80, 100).map, 0.5, TOL);
    CHECK_NEAR(run(ba, 2, 80, 100).map, 1.0, TOL);
}

static void test_max_dets(void)
{
    /* One object. 100 false positives (scores .9 down) and the true hit
     * scored lowest (.01): the hit is the 101st by score.
     *   max 100 per image: the hit is dropped -> AP 0.
     *   max 101: tp = 0 ... 0 1, fp = 1 ... 100 100 -> pr[100] = 1/101, envelope
     *   1/101 everywhere; r = 0 -> index 0, r > 0 -> index 100: AP = 1/101. */
    bfio_box g[] = {B(0, 0, 10, 10, 0, 0)};
    bfio_box d[101];
    for (int i = 0; i < 100; i++)
        d[i] = B(100 + 20 * i, 0, 110 + 20 * i, 10, 0.9f - 0.001f * i, 0);
    d[100] = B(0, 0, 10, 10, 0.01f, 0);
    img imgs[] = {{g, 1, d, 101}};
    CHECK_NEAR(run(imgs, 1, 80, 100).map, 0.0, TOL);
    CHECK_NEAR(run(imgs, 1, 80, 101).map, 1.0 / 101.0, TOL);

    /* The limit is per image, across classes: 100 higher-scored detections
     * of class 1 push the class-0 hit out too. */
    for (int i = 0; i < 100; i++)
        d[i].class_id = 1;
    CHECK_NEAR(run(imgs, 1, 80, 100).map, 0.0, TOL);

    /* The input order does not matter, only scores: put the hit first. */
    bfio_box d2[101];
    d2[0] = B(0, 0, 10, 10, 0.95f, 0);
    for (int i = 0; i < 100; i++)
        d2[i + 1] = B(100 + 20 * i, 0, 110 + 20 * i, 10, 0.9f - 0.001f * i, 0);
    img imgs2[] = {{g, 1, d2, 101}};
    CHECK_NEAR(run(imgs2, 1, 80, 100).map, 1.0, TOL);
}

static void test_bad_input(void)
{
    bfio_eval *ev = bfio_eval_create(80, 100);
    bfio_err err;
    bfio_box g[] = {B(0, 0, 10, 10, 0, 0)};
    bfio_box bad_class[] = {B(0, 0, 10, 10, .5f, 80)};
    bfio_box bad_order[] = {B(10, 0, 0, 10, .5f, 0)};
    bfio_box bad_nan[] = {B(0, 0, NAN, 10, .5f, 0)};
    CHECK(bfio_eval_add_image(ev, g, 1, bad_class, 1, &err) != 0);
    CHECK(bfio_eval_add_image(ev, bad_order, 1, NULL, 0, &err) != 0);
    CHECK(bfio_eval_add_image(ev, g, 1, bad_nan, 1, &err) != 0);
    bfio_eval_result res;
    CHECK(bfio_eval_compute(ev, &res, &err) == 0);
    CHECK(res.images == 0 && res.classes == 0); /* nothing was added */
    bfio_eval_destroy(ev);
    CHECK(bfio_eval_create(0, 100) == NULL);
    CHECK(bfio_eval_create(80, 0) == NULL);
    bfio_eval_destroy(NULL);
}

static void test_class_ap(void)
{
    bfio_box g[] = {B(0, 0, 10, 10, 0, 0), B(0, 0, 10, 10, 0, 2)};
    bfio_box d[] = {B(0, 0, 10, 6, .9f, 0), B(0, 0, 10, 10, .9f, 2)};
    bfio_eval *ev = bfio_eval_create(3, 100);
    bfio_err err;
    bfio_eval_result res;
    CHECK(bfio_eval_add_image(ev, g, 2, d, 2, &err) == 0);
    CHECK(bfio_eval_compute(ev, &res, &err) == 0);
    double ap, ap50;
    CHECK(bfio_eval_class_ap(ev, 0, &ap, &ap50) == 0);
    CHECK_NEAR(ap, 0.3, TOL); /* IoU 0.6 as in test_iou_06 */
    CHECK_NEAR(ap50, 1.0, TOL);
    CHECK(bfio_eval_class_ap(ev, 1, &ap, &ap50) == -1); /* no ground truth */
    CHECK(bfio_eval_class_ap(ev, 2, &ap, &ap50) == 0);
    CHECK_NEAR(ap, 1.0, TOL);
    CHECK_NEAR(res.map, (0.3 + 1.0) / 2, TOL);
    bfio_eval_destroy(ev);
}

int main(void)
{
    test_thresholds();
    test_iou();
    test_perfect();
    test_iou_06();
    test_duplicates();
    test_missed();
    test_empty_images();
    test_class_without_gt();
    test_best_iou_match();
    test_ties_in_image_order();
    test_max_dets();
    test_bad_input();
    test_class_ap();
    return check_finish("test_metrics");
}
