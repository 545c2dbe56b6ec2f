/*
 * labels.h - YOLO-format text files: ground truth for `eval`, output of `detect --txt`.
 *
 * One object per line, normalised to the image size (Ultralytics convention):
 *
 *     class cx cy w h          ground truth
 *     class cx cy w h conf     detections (Ultralytics save_txt + save_conf)
 *
 * An empty file, or a missing one, means no objects. When reading, a sixth
 * column (a confidence) is ignored, so a `detect --txt` output folder can
 * serve as labels; a line of class plus 3 or more x y pairs is a polygon
 * (Ultralytics segment labels) and counts as its bounding box. As in
 * Ultralytics' verify_image_label, every coordinate must lie in 0..1 (a box
 * in pixels, or one reaching outside the image, is refused, not clipped), and
 * a box of zero width or height is refused too. A UTF-8 byte order mark at
 * the start is skipped. Anything else is an error naming the line; the
 * caller names the file (eval leaves that image out, as Ultralytics does).
 */
#ifndef BFIO_LABELS_H
#define BFIO_LABELS_H

#include <stddef.h>

#include "err.h"
#include "metrics.h"
#include "strbuf.h"

/* Parses label text for an image of width x height pixels into boxes in
 * pixels (score 1). Class ids must be in 0..num_classes-1. *out is malloc'ed
 * (NULL when there are no boxes). */
int bfio_labels_parse(const char *text, size_t len, int width, int height, int num_classes,
                      bfio_box **out, size_t *count, bfio_err *err);

/* Reads a label file; a missing file gives zero boxes and *missing = 1. */
int bfio_labels_read(const char *path, int width, int height, int num_classes, bfio_box **out,
                     size_t *count, int *missing, bfio_err *err);

/* Appends "class cx cy w h conf\n" for a box given by pixel corners, with the
 * numbers printed by %g as Ultralytics does. */
void bfio_labels_put(bfio_sb *sb, int class_id, float x0, float y0, float x1, float y1,
                     float score, int width, int height);

#endif /* BFIO_LABELS_H */
