/*
 * metrics.h - COCO box mAP, computed the way pycocotools' COCOeval does.
 *
 *     bfio_eval *ev = bfio_eval_create(80, 100);
 *     for each image:
 *         bfio_eval_add_image(ev, gt, n_gt, dets, n_dets, &err);   // pixels, any order
 *     bfio_eval_result r;
 *     bfio_eval_compute(ev, &r, &err);    // r.map = mAP@[.50:.05:.95], r.map50
 *     bfio_eval_destroy(ev);
 *
 * The protocol (COCOeval.evaluateImg / accumulate, bbox, area "all"):
 *  - An image's detections are sorted by score, highest first (a stable sort:
 *    equal scores keep their input order), and only the first max_dets (100)
 *    are kept: per image and class, as COCOeval.evaluateImg does, after
 *    bfio_eval_set_limit(ev, BFIO_LIMIT_PER_IMAGE_CLASS); per image over all
 *    classes by default (BFIO_LIMIT_PER_IMAGE, the COCO challenge's rule for
 *    result files and this tool's protocol before; it scores lower when an
 *    image has more than max_dets detections over several classes).
 *  - Per image, class and IoU threshold t in .50:.05:.95, each detection in
 *    score order takes the not yet matched ground-truth box of its class with
 *    the highest IoU >= t (IoU = t matches; on equal IoU the later box wins,
 *    as in COCOeval); it is then a true positive, else a false positive.
 *    IoU uses continuous coordinates: area = w * h, no +1.
 *  - Per class and threshold, all detections are sorted by score (stable,
 *    in image order), precision = TP / (TP + FP) and recall = TP / n_gt are
 *    accumulated, precision is made monotone (each value replaced by the
 *    maximum to its right), and AP is the mean over the 101 recall points
 *    0:.01:1 of the precision at the first recall >= r (0 if recall never
 *    reaches r).
 *  - Classes with no ground truth box are left out of the mean; a class with
 *    ground truth but no detection counts with AP 0. mAP50-95 is the mean over
 *    the 10 thresholds and the classes, mAP50 the mean over classes at t=.50.
 * The thresholds are computed as numpy.linspace computes them, so that a
 * borderline IoU (exactly 0.6, say) falls on the same side as in pycocotools.
 * No crowd boxes and no area ranges.
 */
#ifndef BFIO_METRICS_H
#define BFIO_METRICS_H

#include <stddef.h>

#include "err.h"

/* A box in pixels with corners x0 <= x1, y0 <= y1. */
typedef struct bfio_box {
    float x0, y0, x1, y1;
    float score;  /* detections only */
    int class_id;
} bfio_box;

#define BFIO_EVAL_IOU_STEPS 10
#define BFIO_EVAL_RECALL_STEPS 101
#define BFIO_EVAL_CURVE_POINTS 1000 /* confidences 0..1 of the P/R/F1 curves (np.linspace) */

typedef struct bfio_eval bfio_eval;

typedef struct bfio_eval_result {
    double map;        /* mAP@[.50:.05:.95]; -1 when no class has ground truth */
    double map50;      /* mAP@.50; -1 likewise */
    double map75;      /* mAP@.75; -1 likewise */
    int classes;       /* classes with ground truth, the ones averaged */
    size_t images;
    size_t gt_boxes;
    size_t det_boxes;  /* detections kept (after the per-image limit) */
} bfio_eval_result;

/* The i-th IoU threshold (0.5 .. 0.95) and recall point (0 .. 1), as numpy makes them. */
double bfio_eval_iou_threshold(int i);
double bfio_eval_recall_threshold(int i);

/* IoU of two boxes, COCO style. */
double bfio_box_iou(const bfio_box *a, const bfio_box *b);

/* max_dets: detections kept per image (COCO: 100). NULL on bad arguments or no memory. */
bfio_eval *bfio_eval_create(int num_classes, int max_dets);

typedef enum bfio_eval_limit {
    BFIO_LIMIT_PER_IMAGE = 0,       /* max_dets per image, over all classes (default) */
    BFIO_LIMIT_PER_IMAGE_CLASS = 1  /* max_dets per image and class: pycocotools COCOeval */
} bfio_eval_limit;

/* Before the first image; -1 on a bad mode or when images were added. */
int bfio_eval_set_limit(bfio_eval *ev, bfio_eval_limit limit);
void bfio_eval_destroy(bfio_eval *ev);

/* Adds one image. Boxes must have class ids in 0..num_classes-1 and finite
 * coordinates and scores; on an error nothing is added. */
int bfio_eval_add_image(bfio_eval *ev, const bfio_box *gt, size_t n_gt, const bfio_box *dets,
                        size_t n_dets, bfio_err *err);

int bfio_eval_compute(bfio_eval *ev, bfio_eval_result *out, bfio_err *err);

/* After compute: a class's AP@[.50:.95] and AP@.50; -1 if it has no ground truth. */
int bfio_eval_class_ap(const bfio_eval *ev, int class_id, double *ap, double *ap50);

/* A class's ground truth: images that have at least one box of it, and its boxes. */
int bfio_eval_class_counts(const bfio_eval *ev, int class_id, size_t *images, size_t *instances);

/* After compute: precision and recall as `yolo val` reports them (ultralytics
 * ap_per_class): at IoU .50, each class's P and R interpolated on 1000
 * confidences 0..1 (np.interp: recall 0 and precision 1 above a class's top
 * score), F1 averaged over the classes with ground truth, smoothed by a
 * 101-point box filter, and P, R taken at the confidence of its maximum; the
 * matches are COCOeval's (above). -1 when the class has no ground truth.
 * class_id -1: the means over the classes with ground truth. */
int bfio_eval_class_pr(const bfio_eval *ev, int class_id, double *p, double *r);

/* After compute, the curves behind the plots of `eval --plots`, for a class
 * with ground truth (-1 otherwise; the pointers are then NULL):
 *   p_at_conf[k], r_at_conf[k]: P and R at confidence k / (BFIO_EVAL_CURVE_POINTS - 1)
 *     at IoU .50, as bfio_eval_class_pr interpolates them (F1 = 2PR / (P + R));
 *   p_at_recall[k]: COCO's precision envelope at IoU .50 at recall k / 100
 *     (BFIO_EVAL_RECALL_STEPS points; 0 where the recall is never reached),
 *     whose mean is the class's AP50.
 * They point into the evaluator: valid until it is changed or destroyed. */
int bfio_eval_class_curves(const bfio_eval *ev, int class_id, const double **p_at_conf,
                           const double **r_at_conf, const double **p_at_recall);

#endif /* BFIO_METRICS_H */
