/*
 * plots.h - the PNG plots of `bitfalcon eval --plots DIR`, as `yolo val` makes
 * them (ultralytics' PR_curve.png, F1_curve.png, P_curve.png, R_curve.png,
 * confusion_matrix.png, confusion_matrix_normalized.png):
 *
 *   PR_curve.png   precision over recall at IoU .50 (COCO's envelope at the
 *                  101 recall points), one thin line per class with ground
 *                  truth, the mean over classes in bold, its mean = mAP50
 *   F1_curve.png   F1 = 2PR / (P + R) over confidence 0..1, P and R over
 *   P_curve.png    confidence (bfio_eval_class_curves'); the legend gives the
 *   R_curve.png    bold mean's maximum and its confidence
 *   confusion_matrix*.png  bfio_confusion's matrix, true class across,
 *                  predicted class down, background last; counts, and
 *                  normalised per true class (each column sums to 1)
 *
 * Drawn with the built-in font of draw.h onto RGB canvases and written as PNG
 * by stb_image_write, each file atomically (files.h). A legend lists classes
 * only when there are at most 20 (as ultralytics); tick labels of the matrix
 * only below 100 classes.
 */
#ifndef BFIO_PLOTS_H
#define BFIO_PLOTS_H

#include "confusion.h"
#include "err.h"
#include "metrics.h"

/* The file names written, in order. */
#define BFIO_PLOT_FILES 6
extern const char *const bfio_plot_file_names[BFIO_PLOT_FILES];

/* ev: computed (bfio_eval_compute); cm may be NULL (no matrix files). names:
 * nc class names. dir must exist. Returns 0, or -1 with the file that failed. */
int bfio_write_eval_plots(const bfio_eval *ev, const bfio_confusion *cm, const char *const *names, int nc,
                          const char *dir, bfio_err *err);

#endif /* BFIO_PLOTS_H */
