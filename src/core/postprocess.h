/*
 * postprocess.h - from raw int32 head outputs to boxes in image pixels
 * (docs/model-format.md, "Post-processing"):
 *
 *   1. decode: per cell, logits = q * dequant[c]; the best class (lowest index
 *      on ties) and its sigmoid score; cells scoring below the confidence
 *      threshold are dropped before the (costly) DFL box decode, by comparing
 *      the best logit with logit(conf) first;
 *      DFL: each side's distance is the softmax-weighted mean bin;
 *      corners = ((ax - l) s, (ay - t) s, (ax + r) s, (ay + b) s), anchors at
 *      cell centres, in network-input pixels.
 *   2. class-aware greedy NMS, highest score first: a box is dropped when its
 *      IoU with a kept box of the same class exceeds the threshold; at most
 *      max_detections are kept.
 *   3. un-letterbox: x = (x_in - left) / r, clipped to [0, w] (y likewise).
 *
 * All buffers are the caller's, sized once at detector creation.
 */
#ifndef BF_POSTPROCESS_H
#define BF_POSTPROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "bitfalcon.h"
#include "letterbox.h"

/* One stride's pair of head outputs, NHWC int32. */
typedef struct bf_head {
    const int32_t *box;   /* [h][w][4 * reg_max] DFL logits, order l, t, r, b */
    const int32_t *cls;   /* [h][w][num_classes] */
    const float *box_dq;  /* [4 * reg_max] */
    const float *cls_dq;  /* [num_classes] */
    int h, w, stride;
} bf_head;

/* The head's cells, h * w (0 for an empty head). */
static inline size_t bf_head_cells(const bf_head *hd)
{
    return hd->w > 0 && hd->h > 0 ? (size_t)hd->w * (size_t)hd->h : 0;
}

typedef struct bf_candidate {
    float x0, y0, x1, y1; /* network-input pixels */
    float score;
    int class_id;
    uint32_t cell; /* decode order: the tie-break of equal scores */
} bf_candidate;

/* Appends the cells of `heads` scoring >= conf to `out` (capacity `cap`,
 * which must cover every cell), in cell order; returns how many. */
size_t bf_decode_heads(const bf_head *heads, int n_heads, int num_classes, int reg_max, float conf,
                       bf_candidate *out, size_t cap);

/* The same for cells [c0, c1) of one head (cell = y * w + x) whose cell
 * ids (the tie-break) start at first_id: writes at most c1 - c0 candidates
 * to `out`, in cell order; returns how many. bf_decode_heads is this over
 * every head, so disjoint ranges decoded apart (threads) give the same
 * candidates. */
size_t bf_decode_cells(const bf_head *head, uint32_t first_id, int num_classes, int reg_max, float conf, size_t c0,
                       size_t c1, bf_candidate *out);

/* Multi-label decode (yolo val): every (cell, class) scoring >= conf is a
 * candidate; when there are more than `cap`, the `cap` best (by score, ties:
 * earlier cell, then lower class) are kept, in no particular order. `cell` is
 * then cell * num_classes + class, the tie-break of bf_nms. Returns how many. */
size_t bf_decode_heads_multi(const bf_head *heads, int n_heads, int num_classes, int reg_max, float conf,
                             bf_candidate *out, size_t cap);

/* Sorts `cand` by score (descending, ties by cell) and compacts the boxes NMS
 * keeps to its front; returns their number (at most max_keep). */
size_t bf_nms(bf_candidate *cand, size_t n, float iou_threshold, size_t max_keep);

/* IoU of two boxes (0 when the union is empty). */
float bf_iou(const bf_candidate *a, const bf_candidate *b);

/* Maps kept candidates back to the original image and clips them. */
void bf_unletterbox(const bf_candidate *cand, size_t n, const bf_letterbox *lb, bf_detection *out);

#endif /* BF_POSTPROCESS_H */
