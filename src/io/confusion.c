/* confusion.c - see confusion.h. */
#include "confusion.h"

#include <stdlib.h>

struct bfio_confusion {
    int nc;
    double conf, iou;
    uint64_t *m; /* (nc+1)^2 */
};

bfio_confusion *bfio_confusion_create(int num_classes, double conf, double iou)
{
    if (num_classes < 1 || num_classes > 100000 || !(conf >= 0 && conf <= 1) || !(iou >= 0 && iou <= 1))
        return NULL;
    bfio_confusion *cm = calloc(1, sizeof *cm);
    size_t n = (size_t)(num_classes + 1) * (size_t)(num_classes + 1);
    if (!cm || !(cm->m = calloc(n, sizeof *cm->m))) {
        free(cm);
        return NULL;
    }
    cm->nc = num_classes;
    cm->conf = conf;
    cm->iou = iou;
    return cm;
}

void bfio_confusion_destroy(bfio_confusion *cm)
{
    if (cm) {
        free(cm->m);
        free(cm);
    }
}

const uint64_t *bfio_confusion_matrix(const bfio_confusion *cm) { return cm ? cm->m : NULL; }
int bfio_confusion_classes(const bfio_confusion *cm) { return cm ? cm->nc : 0; }

/* A candidate pair above the IoU threshold. */
typedef struct pair {
    size_t g, d;
    double iou;
} pair;

static int by_iou_desc(const void *pa, const void *pb)
{
    const pair *a = pa, *b = pb;
    if (a->iou != b->iou)
        return a->iou > b->iou ? -1 : 1;
    /* ties: a fixed order (the input order), so that results do not depend on qsort */
    if (a->g != b->g)
        return a->g < b->g ? -1 : 1;
    return a->d < b->d ? -1 : a->d > b->d;
}

int bfio_confusion_add_image(bfio_confusion *cm, const bfio_box *gt, size_t n_gt, const bfio_box *dets,
                             size_t n_dets, bfio_err *err)
{
    if (!cm)
        return bfio_fail(err, "no confusion matrix");
    for (size_t i = 0; i < n_gt; i++)
        if (gt[i].class_id < 0 || gt[i].class_id >= cm->nc)
            return bfio_fail(err, "ground truth box %zu: class %d is not in 0..%d", i, gt[i].class_id, cm->nc - 1);
    size_t nd = 0;
    for (size_t j = 0; j < n_dets; j++) {
        if (dets[j].class_id < 0 || dets[j].class_id >= cm->nc)
            return bfio_fail(err, "detection %zu: class %d is not in 0..%d", j, dets[j].class_id, cm->nc - 1);
        nd += dets[j].score > cm->conf;
    }
    if (n_gt && nd > SIZE_MAX / sizeof(pair) / n_gt)
        return bfio_fail(err, "too many boxes");
    pair *pairs = malloc((n_gt * nd + 1) * sizeof *pairs);
    unsigned char *det_used = calloc(n_dets + 1, 1), *gt_used = calloc(n_gt + 1, 1);
    size_t *gt_match = malloc((n_gt + 1) * sizeof *gt_match), *gt_count = calloc(n_gt + 1, sizeof *gt_count);
    int rc = -1;
    if (!pairs || !det_used || !gt_used || !gt_match || !gt_count) {
        bfio_fail(err, "out of memory");
        goto done;
    }
    size_t np = 0;
    for (size_t g = 0; g < n_gt; g++)
        for (size_t d = 0; d < n_dets; d++) {
            if (!(dets[d].score > cm->conf))
                continue;
            double iou = bfio_box_iou(&gt[g], &dets[d]);
            if (iou > cm->iou)
                pairs[np++] = (pair){g, d, iou};
        }
    if (np > 1)
        qsort(pairs, np, sizeof *pairs, by_iou_desc);
    /* Pass 1: each detection keeps its highest-IoU pair. Pass 2, over those in
     * IoU order: each box keeps its highest. What is left is a one-to-one matching. */
    size_t kept = 0;
    for (size_t i = 0; i < np; i++)
        if (!det_used[pairs[i].d]) {
            det_used[pairs[i].d] = 1;
            pairs[kept++] = pairs[i];
        }
    for (size_t j = 0; j < n_dets; j++)
        det_used[j] = 0;
    for (size_t i = 0; i < kept; i++)
        if (!gt_used[pairs[i].g]) {
            gt_used[pairs[i].g] = 1;
            gt_match[pairs[i].g] = pairs[i].d;
            gt_count[pairs[i].g] = 1;
            det_used[pairs[i].d] = 1;
        }
    const size_t w = (size_t)cm->nc + 1;
    for (size_t g = 0; g < n_gt; g++) {
        size_t t = (size_t)gt[g].class_id;
        size_t p = gt_count[g] == 1 ? (size_t)dets[gt_match[g]].class_id : (size_t)cm->nc;
        cm->m[p * w + t]++;
    }
    for (size_t d = 0; d < n_dets; d++)
        if (dets[d].score > cm->conf && !det_used[d])
            cm->m[(size_t)dets[d].class_id * w + (size_t)cm->nc]++;
    rc = 0;
done:
    free(pairs);
    free(det_used);
    free(gt_used);
    free(gt_match);
    free(gt_count);
    return rc;
}
