/*
 * evalreport.h - what `bitfalcon eval` prints and saves besides mAP:
 *
 *  - the per-class table of `yolo val` (Class, Images, Instances, P, R,
 *    mAP50, mAP50-95), the `all` row first, classes with ground truth only;
 *  - COCO results JSON, the list pycocotools' COCO.loadRes reads:
 *    {"image_id", "category_id", "bbox": [x, y, w, h], "score"} per
 *    detection. image_id is the image's file stem as a number when it is all
 *    digits (COCO: 000000397133.jpg -> 397133), else the stem as a string.
 *    category_id: COCO's 91-id numbering (1..90 with gaps) for a model with
 *    COCO's 80 classes, else class + 1.
 */
#ifndef BFIO_EVALREPORT_H
#define BFIO_EVALREPORT_H

#include <stdio.h>

#include "metrics.h"
#include "strbuf.h"

/* COCO's category id (1..90) of an Ultralytics/COCO80 class id, -1 outside 0..79. */
int bfio_coco91_id(int class80);

/* COCO80 name of a class (0..79), NULL outside. */
const char *bfio_coco80_name(int class80);

/* Class name lookup: a name or NULL (the table then prints the id). */
typedef const char *(*bfio_class_name_fn)(void *ctx, int class_id);

/* 1 when the num_classes names are COCO's 80 in Ultralytics order. */
int bfio_names_are_coco80(bfio_class_name_fn name, void *ctx, int num_classes);

/* Prints the per-class table after bfio_eval_compute (res = its result). */
void bfio_eval_print_table(FILE *f, const bfio_eval *ev, int num_classes, bfio_class_name_fn name, void *ctx,
                           const bfio_eval_result *res);

/* Appends one image's detections as COCO result objects to a JSON array being
 * built in sb ("[" and "]" are the caller's; *first tracks the commas). */
void bfio_coco_results_add(bfio_sb *sb, int *first, const char *image_path, const bfio_box *dets, size_t n,
                           int coco_ids);

#endif /* BFIO_EVALREPORT_H */
