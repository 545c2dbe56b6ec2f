/*
 * confusion.h - the detection confusion matrix of `yolo val` (ultralytics
 * ConfusionMatrix.process_batch), for `bitfalcon eval --plots`.
 *
 *     bfio_confusion *cm = bfio_confusion_create(nc, 0.25, 0.45);
 *     for each image: bfio_confusion_add_image(cm, gt, n_gt, dets, n_dets, &err);
 *     const uint64_t *m = bfio_confusion_matrix(cm);   // (nc+1) x (nc+1), m[pred * (nc+1) + true]
 *
 * Per image: detections scoring above `conf` are matched to ground-truth boxes
 * of any class with IoU above `iou`; each detection keeps its best-IoU box,
 * then each box its best-IoU detection (ultralytics' two np.unique passes).
 * A box with exactly one match counts at [detected class, true class], a box
 * with none at [background, true class]; a detection matched to no box counts
 * at [detected class, background]. Index nc is the background. Unlike the
 * ultralytics version this follows, an image with detections but no matches at
 * all still counts its detections as background false positives.
 */
#ifndef BFIO_CONFUSION_H
#define BFIO_CONFUSION_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "metrics.h"

typedef struct bfio_confusion bfio_confusion;

/* NULL on bad arguments (nc 1..100000, conf and iou in [0, 1]) or no memory. */
bfio_confusion *bfio_confusion_create(int num_classes, double conf, double iou);
void bfio_confusion_destroy(bfio_confusion *cm);

/* Class ids must be in 0..nc-1 (checked); on an error nothing is added. */
int bfio_confusion_add_image(bfio_confusion *cm, const bfio_box *gt, size_t n_gt, const bfio_box *dets,
                             size_t n_dets, bfio_err *err);

/* (nc+1) x (nc+1) counts, row = predicted class, column = true class, nc = background. */
const uint64_t *bfio_confusion_matrix(const bfio_confusion *cm);
int bfio_confusion_classes(const bfio_confusion *cm);

#endif /* BFIO_CONFUSION_H */
