/* postprocess.c - decode, NMS, un-letterbox (see postprocess.h). */
#include "postprocess.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

#include "model.h" /* BF_MAX_CLASSES */

/* Logits are computed in double: q (|q| < 2^31) times any finite float
 * dequant factor stays finite there, so no inf - inf can reach a box. */
static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* Expected bin of a softmax over n logits q[i] * dq[i] (max-shifted). */
static float dfl_side(const int32_t *q, const float *dq, int n)
{
    double mx = (double)q[0] * dq[0];
    for (int i = 1; i < n; i++) {
        double l = (double)q[i] * dq[i];
        if (l > mx)
            mx = l;
    }
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < n; i++) {
        double e = exp((double)q[i] * dq[i] - mx);
        sum += e;
        wsum += e * i;
    }
    return (float)(wsum / sum); /* sum >= 1: the max term is exp(0) */
}

/* Pre-filter on the logit: sigmoid is monotonic, so a logit below
 * logit(conf) cannot reach conf. The score kept is float(sigmoid), which
 * may round up to conf from half an ulp below, so the floor uses conf
 * two ulps down; the exact `score >= conf` test of the callers decides. */
static double logit_floor_of(float conf)
{
    if (conf > 0.0f && conf < 1.0f) {
        float c = nextafterf(nextafterf(conf, 0.0f), 0.0f);
        if (c > 0.0f)
            return log((double)c / (1.0 - (double)c));
    }
    return -INFINITY;
}

/* An exact integer pre-filter on a head's class logits, so that the cells
 * no class of which reaches the floor (nearly all of them) cost 2 integer
 * compares a class instead of a double product each: (double)q * dq[c] >=
 * floor holds exactly when q > above[c] or q < below[c]. The double product
 * is monotonic in q (rounding is), so the set is q >= t for dq > 0 and
 * q <= t for dq < 0; t comes from floor / dq and is then moved by the very
 * product the decoders compute until it is the exact edge. `open` is set when
 * the filter cannot skip anything (no finite floor, a dq that is not finite,
 * a class that passes for every q): then every cell goes the exact way. */
typedef struct class_gates {
    int open;
    int32_t above[BF_MAX_CLASSES], below[BF_MAX_CLASSES];
} class_gates;

static void gates_init(class_gates *g, const float *dq, int num_classes, double logit_floor)
{
    g->open = !isfinite(logit_floor) || num_classes < 0 || (unsigned)num_classes > BF_MAX_CLASSES;
    for (int c = 0; c < num_classes && !g->open; c++) {
        const double d = dq[c];
        g->above[c] = INT32_MAX, g->below[c] = INT32_MIN; /* never */
        if (!isfinite(d)) {
            g->open = 1;
        } else if (d == 0.0) {
            g->open = 0.0 >= logit_floor;
        } else {
            double t = d > 0.0 ? ceil(logit_floor / d) : floor(logit_floor / d);
            t = t < (double)INT32_MIN ? (double)INT32_MIN : t > (double)INT32_MAX ? (double)INT32_MAX : t;
            int64_t e = (int64_t)t;
            if (d > 0.0) { /* smallest q with q * d >= floor */
                while (e > INT32_MIN && (double)(e - 1) * d >= logit_floor)
                    e--;
                while (e <= INT32_MAX && (double)e * d < logit_floor)
                    e++;
                if (e == INT32_MIN)
                    g->open = 1;
                else if (e <= INT32_MAX)
                    g->above[c] = (int32_t)(e - 1);
            } else { /* largest q with q * d >= floor */
                while (e < INT32_MAX && (double)(e + 1) * d >= logit_floor)
                    e++;
                while (e >= INT32_MIN && (double)e * d < logit_floor)
                    e--;
                if (e == INT32_MAX)
                    g->open = 1;
                else if (e >= INT32_MIN)
                    g->below[c] = (int32_t)(e + 1);
            }
        }
    }
}

/* Whether some class of the cell may reach the floor (exactly: no class can
 * when this is 0). A plain loop: GCC -O2 leaves it scalar, and an 8-wide
 * mask form that it does vectorise measured slower (0.31 vs 0.17 ms for
 * decode/NMS at 640), the class logits being read once either way. */
static int gates_pass(const class_gates *g, const int32_t *q, int num_classes)
{
    if (g->open)
        return 1;
    int any = 0;
    for (int c = 0; c < num_classes; c++)
        any |= (q[c] > g->above[c]) | (q[c] < g->below[c]);
    return any;
}

/* The walk both decoders share: every cell of every head in decode order
 * (head, row, column); `id` numbers the cells across heads, the tie-break of
 * equal scores. Start from {0}. */
typedef struct cell_walk {
    int head, gx, gy, started;
    size_t cell; /* gy * w + gx within the head */
    uint32_t id; /* across heads */
} cell_walk;

static int cell_next(cell_walk *it, const bf_head *heads, int n_heads)
{
    if (it->started) {
        it->id++;
        if (++it->gx == heads[it->head].w) {
            it->gx = 0;
            if (++it->gy == heads[it->head].h)
                it->gy = 0, it->head++;
        }
    }
    it->started = 1;
    while (it->head < n_heads && (heads[it->head].w <= 0 || heads[it->head].h <= 0))
        it->head++;
    if (it->head >= n_heads)
        return 0;
    it->cell = (size_t)it->gy * (size_t)heads[it->head].w + (size_t)it->gx;
    return 1;
}

/* The box of the walk's cell of head hd, in input pixels, into o: the four
 * DFL distances from the cell centre, times the head's stride. */
static void cell_box(const bf_head *hd, const cell_walk *it, int reg_max, bf_candidate *o)
{
    const int32_t *bq = hd->box + it->cell * 4 * (size_t)reg_max;
    float d[4];
    for (int side = 0; side < 4; side++)
        d[side] = dfl_side(bq + (size_t)side * (size_t)reg_max, hd->box_dq + side * reg_max, reg_max);
    const float ax = (float)it->gx + 0.5f, ay = (float)it->gy + 0.5f, s = (float)hd->stride;
    o->x0 = (ax - d[0]) * s;
    o->y0 = (ay - d[1]) * s;
    o->x1 = (ax + d[2]) * s;
    o->y1 = (ay + d[3]) * s;
}

size_t bf_decode_cells(const bf_head *hd, uint32_t first_id, int num_classes, int reg_max, float conf, size_t c0,
                       size_t c1, bf_candidate *out)
{
    if (bf_head_cells(hd) == 0)
        return 0;
    const double logit_floor = logit_floor_of(conf);
    class_gates gates;
    gates_init(&gates, hd->cls_dq, num_classes, logit_floor);
    size_t n = 0;
    for (size_t cell = c0; cell < c1; cell++) {
        const int32_t *cq = hd->cls + cell * (size_t)num_classes;
        if (!gates_pass(&gates, cq, num_classes))
            continue;
        int best = 0;
        double best_logit = (double)cq[0] * hd->cls_dq[0];
        for (int c = 1; c < num_classes; c++) {
            double l = (double)cq[c] * hd->cls_dq[c];
            if (l > best_logit) {
                best_logit = l;
                best = c;
            }
        }
        if (best_logit < logit_floor)
            continue;
        float score = (float)sigmoid(best_logit);
        if (!(score >= conf))
            continue;
        /* the cell's position only for the few that pass */
        const cell_walk at = {.gx = (int)(cell % (size_t)hd->w), .gy = (int)(cell / (size_t)hd->w), .cell = cell};
        bf_candidate *o = &out[n++];
        cell_box(hd, &at, reg_max, o);
        o->score = score;
        o->class_id = best;
        o->cell = first_id + (uint32_t)cell;
    }
    return n;
}

size_t bf_decode_heads(const bf_head *heads, int n_heads, int num_classes, int reg_max, float conf,
                       bf_candidate *out, size_t cap)
{
    size_t n = 0;
    uint32_t id = 0;
    for (int h = 0; h < n_heads; h++) {
        const size_t cells = bf_head_cells(&heads[h]);
        assert(cap - n >= cells); /* the contract: cap covers every cell */
        if (cap - n < cells)
            break; /* never write past `out`, even for a caller that breaks it */
        n += bf_decode_cells(&heads[h], id, num_classes, reg_max, conf, 0, cells, out + n);
        id += (uint32_t)cells;
    }
    return n;
}

/* a ranks below b: lower score, or equal score and later decode order */
static int worse(const bf_candidate *a, const bf_candidate *b)
{
    return a->score < b->score || (a->score == b->score && a->cell > b->cell);
}

/* Min-heap on `worse`: out[0] is the worst kept candidate. */
static void heap_down(bf_candidate *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(&h[l], &h[m]))
            m = l;
        if (r < n && worse(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        bf_candidate t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_up(bf_candidate *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!worse(&h[i], &h[p]))
            return;
        bf_candidate t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

size_t bf_decode_heads_multi(const bf_head *heads, int n_heads, int num_classes, int reg_max, float conf,
                             bf_candidate *out, size_t cap)
{
    const double logit_floor = logit_floor_of(conf);
    if (cap == 0)
        return 0;
    size_t n = 0;
    class_gates gates;
    int gates_head = -1;
    for (cell_walk it = {0}; cell_next(&it, heads, n_heads);) {
        const bf_head *hd = &heads[it.head];
        const int32_t *cq = hd->cls + it.cell * (size_t)num_classes;
        if (it.head != gates_head)
            gates_init(&gates, hd->cls_dq, num_classes, logit_floor), gates_head = it.head;
        if (!gates_pass(&gates, cq, num_classes))
            continue;
        bf_candidate box; /* decoded once, for the first class that needs it */
        int decoded = 0;
        for (int c = 0; c < num_classes; c++) {
            double l = (double)cq[c] * hd->cls_dq[c];
            if (l < logit_floor)
                continue;
            float score = (float)sigmoid(l);
            if (!(score >= conf))
                continue;
            bf_candidate cand = {0};
            cand.score = score;
            cand.class_id = c;
            cand.cell = it.id * (uint32_t)num_classes + (uint32_t)c;
            if (n == cap && !worse(&out[0], &cand))
                continue; /* not better than the worst kept */
            if (!decoded) {
                cell_box(hd, &it, reg_max, &box);
                decoded = 1;
            }
            cand.x0 = box.x0;
            cand.y0 = box.y0;
            cand.x1 = box.x1;
            cand.y1 = box.y1;
            if (n < cap) {
                out[n] = cand;
                heap_up(out, n++);
            } else {
                out[0] = cand;
                heap_down(out, n, 0);
            }
        }
    }
    return n;
}

static int cmp_candidate(const void *pa, const void *pb)
{
    const bf_candidate *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->cell < b->cell ? -1 : a->cell > b->cell;
}

float bf_iou(const bf_candidate *a, const bf_candidate *b)
{
    float iw = fminf(a->x1, b->x1) - fmaxf(a->x0, b->x0);
    float ih = fminf(a->y1, b->y1) - fmaxf(a->y0, b->y0);
    if (iw <= 0.0f || ih <= 0.0f)
        return 0.0f;
    float inter = iw * ih;
    float area_a = (a->x1 - a->x0) * (a->y1 - a->y0);
    float area_b = (b->x1 - b->x0) * (b->y1 - b->y0);
    float uni = area_a + area_b - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

size_t bf_nms(bf_candidate *cand, size_t n, float iou_threshold, size_t max_keep)
{
    qsort(cand, n, sizeof *cand, cmp_candidate);
    size_t kept = 0;
    for (size_t i = 0; i < n && kept < max_keep; i++) {
        int suppressed = 0;
        for (size_t j = 0; j < kept; j++) {
            if (cand[j].class_id == cand[i].class_id && bf_iou(&cand[j], &cand[i]) > iou_threshold) {
                suppressed = 1;
                break;
            }
        }
        if (!suppressed)
            cand[kept++] = cand[i]; /* kept <= i: never overwrites an unvisited box */
    }
    return kept;
}

static float clipf(float v, float hi)
{
    return v < 0.0f ? 0.0f : v > hi ? hi : v;
}

void bf_unletterbox(const bf_candidate *cand, size_t n, const bf_letterbox *lb, bf_detection *out)
{
    const double r = lb->r;
    const float w = (float)lb->src_w, h = (float)lb->src_h;
    for (size_t i = 0; i < n; i++) {
        const bf_candidate *c = &cand[i];
        bf_detection *d = &out[i];
        d->x0 = clipf((float)(((double)c->x0 - lb->left) / r), w);
        d->y0 = clipf((float)(((double)c->y0 - lb->top) / r), h);
        d->x1 = clipf((float)(((double)c->x1 - lb->left) / r), w);
        d->y1 = clipf((float)(((double)c->y1 - lb->top) / r), h);
        /* DFL distances are >= 0, so x1 >= x0 before clipping and after. */
        d->score = c->score;
        d->class_id = c->class_id;
    }
}
