/*
 * test_evalproto.c - the COCO protocol of `bitfalcon eval` against hand-worked cases:
 * maxDets per image and class (COCOeval.evaluateImg) vs per image, the per-class
 * counts and yolo-val P/R, the COCO results JSON (80 -> 91 ids, image ids), and
 * the multi-label candidate decode (bf_decode_heads_multi, top-K by score).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "evalreport.h"
#include "metrics.h"
#include "postprocess.h"

#define TOL 1e-9

static bfio_box B(float x0, float y0, float x1, float y1, float score, int cls)
{
    bfio_box b = {x0, y0, x1, y1, score, cls};
    return b;
}

static bfio_eval *run(const bfio_box *g, size_t ng, const bfio_box *d, size_t nd, bfio_eval_limit lim,
                      bfio_eval_result *res)
{
    bfio_eval *ev = bfio_eval_create(3, 100);
    bfio_err err;
    CHECK(ev != NULL);
    CHECK(bfio_eval_set_limit(ev, lim) == 0);
    CHECK(bfio_eval_add_image(ev, g, ng, d, nd, &err) == 0);
    CHECK(bfio_eval_set_limit(ev, lim) == -1); /* after an image: refused */
    CHECK(bfio_eval_compute(ev, res, &err) == 0);
    return ev;
}

static void test_150_over_2_classes(void)
{
    /* One image, one object of class 0 (GA) and one of class 1 (GB).
     * 150 detections: 100 class-0 false positives scored .90 down to .801, the
     * class-0 hit on GA at .5, the class-1 hit on GB at .4 and 48 class-1 false
     * positives below it (.3 down).
     *  - per image (100 over all classes): the top 100 are the class-0 false
     *    positives; both hits are cut: AP0 = AP1 = 0, mAP = 0.
     *  - per image and class (COCOeval): class 0 keeps its 100 best (the false
     *    positives; its hit is the 101st): AP0 = 0. Class 1 keeps all 49; its
     *    hit ranks first: precision 1 at recall 1 on every threshold (IoU 1):
     *    AP1 = 1. mAP50-95 = mAP50 = (0 + 1) / 2 = 0.5. */
    bfio_box g[] = {B(0, 0, 10, 10, 0, 0), B(50, 50, 70, 70, 0, 1)};
    bfio_box d[150];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        d[n++] = B(200 + 20 * i, 0, 210 + 20 * i, 10, 0.9f - 0.001f * i, 0);
    d[n++] = B(0, 0, 10, 10, 0.5f, 0);
    d[n++] = B(50, 50, 70, 70, 0.4f, 1);
    for (int i = 0; i < 48; i++)
        d[n++] = B(200 + 20 * i, 100, 210 + 20 * i, 110, 0.3f - 0.001f * i, 1);
    CHECK(n == 150);
    bfio_eval_result r;
    bfio_eval *ev = run(g, 2, d, n, BFIO_LIMIT_PER_IMAGE, &r);
    CHECK_NEAR(r.map, 0.0, TOL);
    CHECK_NEAR(r.map50, 0.0, TOL);
    CHECK(r.det_boxes == 100);
    bfio_eval_destroy(ev);

    ev = run(g, 2, d, n, BFIO_LIMIT_PER_IMAGE_CLASS, &r);
    CHECK_NEAR(r.map, 0.5, TOL);
    CHECK_NEAR(r.map50, 0.5, TOL);
    CHECK(r.det_boxes == 149);
    double ap, ap50;
    CHECK(bfio_eval_class_ap(ev, 0, &ap, &ap50) == 0 && fabs(ap) < TOL);
    CHECK(bfio_eval_class_ap(ev, 1, &ap, &ap50) == 0 && fabs(ap - 1) < TOL && fabs(ap50 - 1) < TOL);
    size_t im, inst;
    CHECK(bfio_eval_class_counts(ev, 1, &im, &inst) == 0 && im == 1 && inst == 1);
    CHECK(bfio_eval_class_counts(ev, 2, &im, &inst) == 0 && im == 0 && inst == 0);
    /* P/R: class 0 never hits (P = R = 0 at every confidence); class 1's hit is
     * its top score (.4): R = 1 for confidences <= .4 and P falls linearly from
     * 1 (at .4) to 1/2 (at .3), then 1/3 ... The smoothed mean F1 (101-point box
     * filter over px = linspace(0, 1, 1000)) peaks at index 349 (px .3493), where
     * class 1 has P = .5 + .5 * (.3493 - .3) / .1 = .7467467 (ultralytics'
     * ap_per_class on these scores gives the same index and values). */
    double p, rc;
    CHECK(bfio_eval_class_pr(ev, 0, &p, &rc) == 0 && fabs(p) < TOL && fabs(rc) < TOL);
    CHECK(bfio_eval_class_pr(ev, 1, &p, &rc) == 0 && fabs(rc - 1) < TOL && fabs(p - 0.7467467) < 1e-6);
    CHECK(bfio_eval_class_pr(ev, 2, &p, &rc) == -1);
    CHECK(bfio_eval_class_pr(ev, -1, &p, &rc) == 0 && fabs(rc - 0.5) < TOL);
    FILE *f = tmpfile();
    CHECK(f != NULL);
    bfio_eval_print_table(f, ev, 3, NULL, NULL, &r);
    rewind(f);
    char line[256];
    CHECK(fgets(line, sizeof line, f) && strstr(line, "Class") && strstr(line, "mAP50-95"));
    CHECK(fgets(line, sizeof line, f) && strstr(line, "all") && strstr(line, "0.5000"));
    CHECK(fgets(line, sizeof line, f) && strstr(line, " 0 ")); /* class 0 */
    CHECK(fgets(line, sizeof line, f) && strstr(line, " 1.0000"));
    CHECK(!fgets(line, sizeof line, f)); /* class 2 has no ground truth: no row */
    fclose(f);
    bfio_eval_destroy(ev);
}

static void test_coco_json(void)
{
    CHECK(bfio_coco91_id(0) == 1 && bfio_coco91_id(11) == 13 && bfio_coco91_id(79) == 90);
    CHECK(bfio_coco91_id(80) == -1 && bfio_coco91_id(-1) == -1);
    CHECK(!strcmp(bfio_coco80_name(79), "toothbrush"));
    bfio_box d[] = {B(1, 2, 11, 22, 0.5f, 11), B(0, 0, 1, 1, 0.25f, 0)};
    bfio_sb sb;
    bfio_sb_init(&sb);
    int first = 1;
    bfio_coco_results_add(&sb, &first, "dir/000000397133.jpg", d, 1, 1);
    bfio_coco_results_add(&sb, &first, "x/my \"pic\".png", d + 1, 1, 0);
    CHECK(!sb.failed);
    CHECK(strstr(sb.data, "{\"image_id\": 397133, \"category_id\": 13, \"bbox\": [1.000, 2.000, 10.000, 20.000], "
                          "\"score\": 0.50000}") != NULL);
    CHECK(strstr(sb.data, "},\n{\"image_id\": \"my \\\"pic\\\"\", \"category_id\": 1,") != NULL);
    bfio_sb_free(&sb);
}

static void test_multi_label_decode(void)
{
    /* One 2x1 head, 3 classes, reg_max 1 (distance 0: boxes are points at
     * the cell centre x stride). Class logits (dequant 1): cell 0: 2, 0, -9;
     * cell 1: 1, 3, -9. conf .5 (logit 0): single-label keeps (0, c0) and
     * (1, c1); multi-label keeps (0, c0 2), (0, c1 0 -> .5), (1, c0), (1, c1). */
    int32_t box[2 * 4] = {0};
    int32_t cls[2 * 3] = {2, 0, -9, 1, 3, -9};
    float box_dq[4] = {1, 1, 1, 1}, cls_dq[3] = {1, 1, 1};
    bf_head h = {box, cls, box_dq, cls_dq, 1, 2, 8};
    bf_candidate c[8];
    CHECK(bf_decode_heads(&h, 1, 3, 1, 0.5f, c, 8) == 2);
    CHECK(c[0].class_id == 0 && c[1].class_id == 1);
    size_t n = bf_decode_heads_multi(&h, 1, 3, 1, 0.5f, c, 8);
    CHECK(n == 4);
    /* cap 2: the two best, sigmoid(3) (cell 1 class 1) and sigmoid(2) (cell 0 class 0) */
    n = bf_decode_heads_multi(&h, 1, 3, 1, 0.5f, c, 2);
    CHECK(n == 2);
    size_t kept = bf_nms(c, n, 0.7f, 300);
    CHECK(kept == 2 && c[0].class_id == 1 && c[0].cell == 1 * 3 + 1 && c[1].class_id == 0 && c[1].cell == 0);
    CHECK(fabsf(c[0].x0 - 12.0f) < 1e-6f && fabsf(c[1].x0 - 4.0f) < 1e-6f);
    /* cap 3: sigmoid(1) (cell 1 class 0) is kept, sigmoid(0) (cell 0 class 1) dropped */
    n = bf_decode_heads_multi(&h, 1, 3, 1, 0.5f, c, 3);
    kept = bf_nms(c, n, 0.7f, 300);
    CHECK(kept == 3 && c[2].class_id == 0 && c[2].cell == 3);
}

int main(void)
{
    test_150_over_2_classes();
    test_coco_json();
    test_multi_label_decode();
    return check_finish("test_evalproto");
}
