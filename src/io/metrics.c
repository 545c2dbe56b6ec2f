/* metrics.c - see metrics.h. Names follow pycocotools' cocoeval.py where they can. */
#include "metrics.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define T BFIO_EVAL_IOU_STEPS
#define R BFIO_EVAL_RECALL_STEPS

/* One kept detection of a class: its score, its place in the input (the
 * stable-sort tie-break) and whether it matched at each IoU threshold. */
typedef struct det_rec {
    double score;
    uint64_t seq;
    uint16_t tp; /* bit t set = true positive at threshold t */
} det_rec;

typedef struct class_acc {
    det_rec *dets;
    size_t n, cap;
    size_t n_gt;
    size_t n_img; /* images with ground truth of the class */
    size_t last_img; /* 1 + the image that last counted in n_img */
    double ap[T]; /* filled by compute */
    double p, r;  /* yolo val's P and R, filled by compute */
    double pr50[R]; /* compute: precision envelope at IoU .50 at each recall point (the PR curve) */
} class_acc;

struct bfio_eval {
    int num_classes;
    int max_dets;
    int per_class; /* BFIO_LIMIT_PER_IMAGE_CLASS */
    class_acc *classes;
    uint64_t seq;
    size_t images, gt_boxes, det_boxes;
    int computed;
    double *curve_p, *curve_r; /* compute: [class][PR_POINTS] P and R over confidence (yolo_pr) */
};

#define PR_POINTS BFIO_EVAL_CURVE_POINTS

double bfio_eval_iou_threshold(int i)
{
    /* numpy.linspace(.5, .95, 10): y = i * step + start, last = stop exactly. */
    if (i >= T - 1)
        return 0.95;
    double step = (0.95 - 0.5) / (T - 1);
    double y = (double)i * step;
    return y + 0.5;
}

double bfio_eval_recall_threshold(int i)
{
    if (i >= R - 1)
        return 1.0;
    double step = (1.0 - 0.0) / (R - 1);
    double y = (double)i * step;
    return y + 0.0;
}

double bfio_box_iou(const bfio_box *a, const bfio_box *b)
{
    /* pycocotools bbIou: intersection from min/max of the edges, no +1;
     * union = area_a + area_b - intersection, each area w * h. */
    double iw = fmin((double)a->x1, (double)b->x1) - fmax((double)a->x0, (double)b->x0);
    if (iw <= 0)
        return 0;
    double ih = fmin((double)a->y1, (double)b->y1) - fmax((double)a->y0, (double)b->y0);
    if (ih <= 0)
        return 0;
    double inter = iw * ih;
    double area_a = ((double)a->x1 - a->x0) * ((double)a->y1 - a->y0);
    double area_b = ((double)b->x1 - b->x0) * ((double)b->y1 - b->y0);
    return inter / (area_a + area_b - inter);
}

bfio_eval *bfio_eval_create(int num_classes, int max_dets)
{
    if (num_classes < 1 || num_classes > 100000 || max_dets < 1)
        return NULL;
    bfio_eval *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->classes = calloc((size_t)num_classes, sizeof *ev->classes);
    if (!ev->classes) {
        free(ev);
        return NULL;
    }
    ev->num_classes = num_classes;
    ev->max_dets = max_dets;
    return ev;
}

int bfio_eval_set_limit(bfio_eval *ev, bfio_eval_limit limit)
{
    if (!ev || ev->images || (limit != BFIO_LIMIT_PER_IMAGE && limit != BFIO_LIMIT_PER_IMAGE_CLASS))
        return -1;
    ev->per_class = limit == BFIO_LIMIT_PER_IMAGE_CLASS;
    return 0;
}

void bfio_eval_destroy(bfio_eval *ev)
{
    if (!ev)
        return;
    for (int c = 0; c < ev->num_classes; c++)
        free(ev->classes[c].dets);
    free(ev->classes);
    free(ev->curve_p);
    free(ev->curve_r);
    free(ev);
}

static int check_boxes(const bfio_eval *ev, const bfio_box *b, size_t n, const char *what,
                       int scores, bfio_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i].class_id < 0 || b[i].class_id >= ev->num_classes)
            return bfio_fail(err, "%s %zu: class %d is not in 0..%d", what, i, b[i].class_id,
                             ev->num_classes - 1);
        if (!isfinite(b[i].x0) || !isfinite(b[i].y0) || !isfinite(b[i].x1) ||
            !isfinite(b[i].y1) || (scores && !isfinite(b[i].score)))
            return bfio_fail(err, "%s %zu: coordinates or score not finite", what, i);
        if (b[i].x1 < b[i].x0 || b[i].y1 < b[i].y0)
            return bfio_fail(err, "%s %zu: corners out of order", what, i);
    }
    return 0;
}

/* Sorting helpers: qsort is not stable, so ties fall back to the index. */
typedef struct keyed {
    int class_id;
    double score; /* detections: descending; ground truth: 0 */
    size_t index;
} keyed;

static int by_score_desc(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Class, then the position given by index (for dets: their rank by score). */
static int by_class(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    if (a->class_id != b->class_id)
        return a->class_id < b->class_id ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Makes room for `extra` more detections in a class without changing it. */
static int reserve_dets(class_acc *ca, size_t extra)
{
    if (ca->n + extra <= ca->cap)
        return 0;
    if (extra > SIZE_MAX / 2 / sizeof(det_rec) - ca->n)
        return -1; /* the doubling and the byte count below stay in range */
    size_t cap = ca->cap ? ca->cap : 64;
    while (cap < ca->n + extra)
        cap *= 2;
    det_rec *p = realloc(ca->dets, cap * sizeof *p);
    if (!p)
        return -1;
    ca->dets = p;
    ca->cap = cap;
    return 0;
}

/* COCOeval.evaluateImg for one image and class: greedy matching of the
 * detections (in score order) at each threshold; sets tp bits. */
static void match_class(const bfio_box *gt, const keyed *gk, size_t G, const bfio_box *dets,
                        const size_t *order, const keyed *dk, size_t D, double *ious,
                        unsigned char *gtm, uint16_t *tp)
{
    for (size_t d = 0; d < D; d++)
        for (size_t g = 0; g < G; g++)
            ious[d * G + g] = bfio_box_iou(&dets[order[dk[d].index]], &gt[gk[g].index]);
    for (int t = 0; t < T; t++) {
        memset(gtm, 0, G);
        for (size_t d = 0; d < D; d++) {
            double best = fmin(bfio_eval_iou_threshold(t), 1 - 1e-10);
            size_t m = SIZE_MAX;
            for (size_t g = 0; g < G; g++) {
                if (gtm[g])
                    continue;
                if (ious[d * G + g] < best)
                    continue;
                best = ious[d * G + g]; /* >= : on a tie the later box wins, as in COCOeval */
                m = g;
            }
            if (m != SIZE_MAX) {
                gtm[m] = 1;
                tp[dk[d].index] |= (uint16_t)(1u << t);
            }
        }
    }
}

/* The per-image working arrays of bfio_eval_add_image. */
typedef struct image_scratch {
    keyed *sk;        /* score sort */
    size_t *order;    /* rank -> input index */
    keyed *dk;        /* kept dets grouped by class */
    keyed *gk;        /* gt grouped by class */
    uint16_t *tp;     /* by rank */
    double *ious;     /* one class's D x G IoUs, grown as needed */
    size_t max_cells;
    unsigned char *gtm;  /* gt matched, per threshold pass */
    unsigned char *keep; /* by rank: committed */
} image_scratch;

/* 3. Matches each class present in the image; marks the detections kept
 * (keep) and reserves their room, so that committing cannot fail half-way. */
static int match_classes(bfio_eval *ev, const bfio_box *gt, size_t n_gt, const bfio_box *dets,
                         size_t kept, image_scratch *s, bfio_err *err)
{
    size_t di = 0, gi = 0;
    while (di < kept || gi < n_gt) {
        int c = di < kept && (gi >= n_gt || s->dk[di].class_id <= s->gk[gi].class_id) ? s->dk[di].class_id
                                                                                    : s->gk[gi].class_id;
        size_t d1 = di, g1 = gi;
        while (d1 < kept && s->dk[d1].class_id == c)
            d1++;
        while (g1 < n_gt && s->gk[g1].class_id == c)
            g1++;
        size_t D = d1 - di, G = g1 - gi;
        if (D > (size_t)ev->max_dets) /* only in per-class mode: dk is in rank order within a class */
            D = (size_t)ev->max_dets;
        for (size_t k = 0; k < D; k++)
            s->keep[s->dk[di + k].index] = 1;
        if (D && G) {
            if (D > SIZE_MAX / sizeof(double) / G)
                return bfio_fail(err, "out of memory");
            if (D * G > s->max_cells) {
                double *p = realloc(s->ious, D * G * sizeof *p);
                if (!p)
                    return bfio_fail(err, "out of memory");
                s->ious = p;
                s->max_cells = D * G;
            }
            match_class(gt, s->gk + gi, G, dets, s->order, s->dk + di, D, s->ious, s->gtm, s->tp);
        }
        if (reserve_dets(&ev->classes[c], D) != 0)
            return bfio_fail(err, "out of memory");
        di = d1;
        gi = g1;
    }
    return 0;
}

/* 4. Commit: detections in rank order (the accumulate tie-break), gt counts. */
static void commit_image(bfio_eval *ev, const bfio_box *gt, size_t n_gt, const bfio_box *dets,
                         size_t kept, const image_scratch *s)
{
    size_t committed = 0;
    for (size_t r = 0; r < kept; r++) {
        if (!s->keep[r])
            continue;
        class_acc *ca = &ev->classes[dets[s->order[r]].class_id];
        det_rec *rec = &ca->dets[ca->n++];
        rec->score = dets[s->order[r]].score;
        rec->seq = ev->seq + r;
        rec->tp = s->tp[r];
        committed++;
    }
    for (size_t i = 0; i < n_gt; i++) {
        class_acc *ca = &ev->classes[gt[i].class_id];
        if (ca->n_gt == 0 || ca->last_img != ev->images + 1) {
            ca->n_img++;
            ca->last_img = ev->images + 1;
        }
        ca->n_gt++;
    }
    ev->seq += kept;
    ev->images++;
    ev->gt_boxes += n_gt;
    ev->det_boxes += committed;
    ev->computed = 0;
}

int bfio_eval_add_image(bfio_eval *ev, const bfio_box *gt, size_t n_gt, const bfio_box *dets,
                        size_t n_dets, bfio_err *err)
{
    if (!ev)
        return bfio_fail(err, "no evaluator");
    if (check_boxes(ev, gt, n_gt, "ground truth box", 0, err) != 0 ||
        check_boxes(ev, dets, n_dets, "detection", 1, err) != 0)
        return -1;

    /* per image: the first max_dets ranks; per image and class: all ranks, cut per class below */
    size_t kept = ev->per_class ? n_dets : n_dets < (size_t)ev->max_dets ? n_dets : (size_t)ev->max_dets;
    if (n_dets >= SIZE_MAX / sizeof(keyed) || n_gt >= SIZE_MAX / sizeof(keyed))
        return bfio_fail(err, "too many boxes");
    image_scratch s = {0};
    s.sk = malloc((n_dets + 1) * sizeof *s.sk);
    s.order = malloc((n_dets + 1) * sizeof *s.order);
    s.dk = malloc((kept + 1) * sizeof *s.dk);
    s.gk = malloc((n_gt + 1) * sizeof *s.gk);
    s.tp = calloc(kept + 1, sizeof *s.tp);
    s.gtm = malloc(n_gt + 1);
    s.keep = calloc(kept + 1, 1);
    int rc = -1;
    if (!s.sk || !s.order || !s.dk || !s.gk || !s.tp || !s.gtm || !s.keep) {
        bfio_fail(err, "out of memory");
        goto done;
    }

    /* 1. Highest score first (stable), keep the first max_dets. */
    for (size_t i = 0; i < n_dets; i++)
        s.sk[i] = (keyed){dets[i].class_id, dets[i].score, i};
    if (n_dets > 1)
        qsort(s.sk, n_dets, sizeof *s.sk, by_score_desc);
    for (size_t r = 0; r < n_dets; r++)
        s.order[r] = s.sk[r].index;

    /* 2. Group kept detections (by rank) and ground truth (by input order) by class. */
    for (size_t r = 0; r < kept; r++)
        s.dk[r] = (keyed){dets[s.order[r]].class_id, 0, r};
    if (kept > 1)
        qsort(s.dk, kept, sizeof *s.dk, by_class);
    for (size_t i = 0; i < n_gt; i++)
        s.gk[i] = (keyed){gt[i].class_id, 0, i};
    if (n_gt > 1)
        qsort(s.gk, n_gt, sizeof *s.gk, by_class);

    if (match_classes(ev, gt, n_gt, dets, kept, &s, err) != 0)
        goto done;
    commit_image(ev, gt, n_gt, dets, kept, &s);
    rc = 0;
done:
    free(s.sk);
    free(s.order);
    free(s.dk);
    free(s.gk);
    free(s.tp);
    free(s.ious);
    free(s.gtm);
    free(s.keep);
    return rc;
}

static int by_score_then_seq(const void *pa, const void *pb)
{
    const det_rec *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* COCOeval.accumulate for one class and threshold. The detections are sorted.
 * q (may be NULL) receives the interpolated precision at each recall point. */
static double class_ap(const det_rec *d, size_t nd, size_t n_gt, int t, double *rc, double *pr, double *q)
{
    if (q)
        for (int k = 0; k < R; k++)
            q[k] = 0;
    double tp = 0, fp = 0;
    for (size_t i = 0; i < nd; i++) {
        if (d[i].tp >> t & 1)
            tp += 1;
        else
            fp += 1;
        rc[i] = tp / (double)n_gt;
        pr[i] = tp / (fp + tp + DBL_EPSILON); /* np.spacing(1) */
    }
    /* The precision envelope: monotone non-increasing in recall. */
    for (size_t i = nd; i-- > 1;)
        if (pr[i] > pr[i - 1])
            pr[i - 1] = pr[i];
    /* np.searchsorted(rc, recThrs, side='left'): first index with rc >= r. */
    double sum = 0;
    size_t lo = 0;
    for (int k = 0; k < R; k++) {
        double r = bfio_eval_recall_threshold(k);
        size_t a = lo, b = nd; /* rc is non-decreasing and so are the thresholds */
        while (a < b) {
            size_t mid = a + (b - a) / 2;
            if (rc[mid] < r)
                a = mid + 1;
            else
                b = mid;
        }
        lo = a;
        if (a >= nd)
            break; /* recall never reaches r: this and all later points are 0 */
        sum += pr[a];
        if (q)
            q[k] = pr[a];
    }
    return sum / R;
}

/* np.interp(x, xp, fp, left) for increasing xp (right = fp[n-1]). */
static double interp(double x, const double *xp, const double *fp, size_t n, double left)
{
    if (n == 0)
        return 0;
    if (x < xp[0])
        return left;
    if (x >= xp[n - 1])
        return fp[n - 1];
    size_t a = 0, b = n - 1; /* xp[a] <= x < xp[b] */
    while (b - a > 1) {
        size_t m = a + (b - a) / 2;
        if (xp[m] <= x)
            a = m;
        else
            b = m;
    }
    double dx = xp[b] - xp[a];
    return dx > 0 ? fp[a] + (x - xp[a]) * (fp[b] - fp[a]) / dx : fp[a];
}

/* ultralytics ap_per_class's P and R at the max of the smoothed mean F1 (see metrics.h). */
static int yolo_pr(bfio_eval *ev)
{
    size_t most = 1;
    int ncls = 0;
    for (int c = 0; c < ev->num_classes; c++) {
        if (ev->classes[c].n > most)
            most = ev->classes[c].n;
        ncls += ev->classes[c].n_gt > 0;
    }
    double *xp = malloc(most * sizeof *xp), *fr = malloc(most * sizeof *fr), *fpr = malloc(most * sizeof *fpr);
    free(ev->curve_p);
    free(ev->curve_r);
    double *pc = ev->curve_p = calloc((size_t)ev->num_classes * PR_POINTS, sizeof *pc);
    double *rcv = ev->curve_r = calloc((size_t)ev->num_classes * PR_POINTS, sizeof *rcv);
    double f1[PR_POINTS], sm[PR_POINTS];
    int rc = -1;
    if (!xp || !fr || !fpr || !pc || !rcv)
        goto done;
    for (int k = 0; k < PR_POINTS; k++)
        f1[k] = 0;
    for (int c = 0; c < ev->num_classes; c++) {
        class_acc *ca = &ev->classes[c];
        if (ca->n_gt == 0 || ca->n == 0)
            continue; /* P = R = 0 everywhere (counted in the F1 mean when it has ground truth) */
        double tp = 0, fp = 0;
        for (size_t i = 0; i < ca->n; i++) { /* sorted by score, descending */
            if (ca->dets[i].tp & 1)
                tp += 1;
            else
                fp += 1;
            xp[i] = -ca->dets[i].score;
            fr[i] = tp / ((double)ca->n_gt + 1e-16);
            fpr[i] = tp / (tp + fp);
        }
        for (int k = 0; k < PR_POINTS; k++) {
            double px = (double)k / (PR_POINTS - 1); /* np.linspace(0, 1, 1000) */
            rcv[(size_t)c * PR_POINTS + k] = interp(-px, xp, fr, ca->n, 0.0);
            pc[(size_t)c * PR_POINTS + k] = interp(-px, xp, fpr, ca->n, 1.0);
        }
    }
    for (int k = 0; k < PR_POINTS; k++) {
        double s = 0;
        for (int c = 0; c < ev->num_classes; c++) {
            if (ev->classes[c].n_gt == 0)
                continue;
            double p = pc[(size_t)c * PR_POINTS + k], r = rcv[(size_t)c * PR_POINTS + k];
            s += 2 * p * r / (p + r + 1e-16);
        }
        f1[k] = ncls ? s / ncls : 0;
    }
    /* smooth(y, f=0.1): nf = round(len * f * 2) // 2 + 1 = 101, edges padded with the end values */
    const int nf = 101, half = nf / 2;
    int best = 0;
    for (int k = 0; k < PR_POINTS; k++) {
        double s = 0;
        for (int j = k - half; j <= k + half; j++)
            s += f1[j < 0 ? 0 : j >= PR_POINTS ? PR_POINTS - 1 : j];
        sm[k] = s / nf;
        if (sm[k] > sm[best])
            best = k; /* argmax: the first maximum */
    }
    for (int c = 0; c < ev->num_classes; c++) {
        class_acc *ca = &ev->classes[c];
        ca->p = ca->n_gt ? pc[(size_t)c * PR_POINTS + best] : -1;
        ca->r = ca->n_gt ? rcv[(size_t)c * PR_POINTS + best] : -1;
    }
    rc = 0;
done:
    free(xp);
    free(fr);
    free(fpr);
    if (rc != 0) {
        free(ev->curve_p);
        free(ev->curve_r);
        ev->curve_p = ev->curve_r = NULL;
    }
    return rc;
}

int bfio_eval_compute(bfio_eval *ev, bfio_eval_result *out, bfio_err *err)
{
    if (!ev)
        return bfio_fail(err, "no evaluator");
    size_t most = 1;
    for (int c = 0; c < ev->num_classes; c++)
        if (ev->classes[c].n > most)
            most = ev->classes[c].n;
    double *rc = malloc(most * sizeof *rc), *pr = malloc(most * sizeof *pr);
    if (!rc || !pr) {
        free(rc);
        free(pr);
        return bfio_fail(err, "out of memory");
    }
    double sum = 0, sum50 = 0, sum75 = 0;
    int classes = 0;
    for (int c = 0; c < ev->num_classes; c++) {
        class_acc *ca = &ev->classes[c];
        if (ca->n_gt == 0) {
            for (int t = 0; t < T; t++)
                ca->ap[t] = -1;
            continue;
        }
        if (ca->n > 1) /* (qsort of a NULL array is undefined even when empty) */
            qsort(ca->dets, ca->n, sizeof *ca->dets, by_score_then_seq);
        for (int t = 0; t < T; t++) {
            ca->ap[t] = class_ap(ca->dets, ca->n, ca->n_gt, t, rc, pr, t == 0 ? ca->pr50 : NULL);
            sum += ca->ap[t];
        }
        sum50 += ca->ap[0];
        sum75 += ca->ap[5];
        classes++;
    }
    free(rc);
    free(pr);
    if (yolo_pr(ev) != 0)
        return bfio_fail(err, "out of memory");
    ev->computed = 1;
    out->classes = classes;
    out->map = classes ? sum / (T * (double)classes) : -1;
    out->map50 = classes ? sum50 / classes : -1;
    out->map75 = classes ? sum75 / classes : -1;
    out->images = ev->images;
    out->gt_boxes = ev->gt_boxes;
    out->det_boxes = ev->det_boxes;
    return 0;
}

int bfio_eval_class_ap(const bfio_eval *ev, int class_id, double *ap, double *ap50)
{
    if (!ev || !ev->computed || class_id < 0 || class_id >= ev->num_classes ||
        ev->classes[class_id].n_gt == 0) {
        *ap = *ap50 = -1;
        return -1;
    }
    double s = 0;
    for (int t = 0; t < T; t++)
        s += ev->classes[class_id].ap[t];
    *ap = s / T;
    *ap50 = ev->classes[class_id].ap[0];
    return 0;
}

int bfio_eval_class_counts(const bfio_eval *ev, int class_id, size_t *images, size_t *instances)
{
    if (!ev || class_id < 0 || class_id >= ev->num_classes) {
        *images = *instances = 0;
        return -1;
    }
    *images = ev->classes[class_id].n_img;
    *instances = ev->classes[class_id].n_gt;
    return 0;
}

int bfio_eval_class_pr(const bfio_eval *ev, int class_id, double *p, double *r)
{
    *p = *r = -1;
    if (!ev || !ev->computed || class_id < -1 || class_id >= ev->num_classes)
        return -1;
    if (class_id >= 0) {
        if (ev->classes[class_id].n_gt == 0)
            return -1;
        *p = ev->classes[class_id].p;
        *r = ev->classes[class_id].r;
        return 0;
    }
    double sp = 0, sr = 0;
    int n = 0;
    for (int c = 0; c < ev->num_classes; c++)
        if (ev->classes[c].n_gt) {
            sp += ev->classes[c].p;
            sr += ev->classes[c].r;
            n++;
        }
    if (!n)
        return -1;
    *p = sp / n;
    *r = sr / n;
    return 0;
}

int bfio_eval_class_curves(const bfio_eval *ev, int class_id, const double **p_at_conf,
                           const double **r_at_conf, const double **p_at_recall)
{
    *p_at_conf = *r_at_conf = *p_at_recall = NULL;
    if (!ev || !ev->computed || !ev->curve_p || class_id < 0 || class_id >= ev->num_classes ||
        ev->classes[class_id].n_gt == 0)
        return -1;
    *p_at_conf = ev->curve_p + (size_t)class_id * PR_POINTS;
    *r_at_conf = ev->curve_r + (size_t)class_id * PR_POINTS;
    *p_at_recall = ev->classes[class_id].pr50;
    return 0;
}
