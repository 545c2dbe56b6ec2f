/* bytetrack.c - see bytetrack.h. The step numbers follow Ultralytics'
 * BYTETracker.update, so the two can be read side by side. */
#include "bytetrack.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assign.h"
#include "kalman.h"

/* Cost limits of stages 2 and 3 and the duplicate IoU, fixed in Ultralytics. */
#define SECOND_MATCH 0.5
#define UNCONFIRMED_MATCH 0.7
#define DUPLICATE_COST 0.15 /* 1 - IoU below this: the same object twice */
#define IOU_EPS 1e-7

typedef struct track {
    bt_kalman kf;
    long long id;
    int state;       /* BT_TRACKED, BT_LOST, or 0: removed (dropped at the end) */
    int activated;   /* confirmed: matched on a second frame (or born on frame 1) */
    int det;         /* the box of this frame's update, or -1 */
    float score;
    int class_id;
    long long start_frame, frame_id; /* born, last updated */
} track;

struct bt_tracker {
    bt_config cfg;
    int max_lost;
    long long frame, last_id;
    track *t;
    size_t n, cap;
    /* scratch, grown before any state changes (so a failed update leaves the
     * tracks as they were) */
    float *cost;
    size_t cost_cap;
    int *ibuf;
    size_t icap;
    bt_assign_work aw;
};

void bt_config_default(bt_config *cfg)
{
    /* Ultralytics' cfg/trackers/bytetrack.yaml */
    cfg->track_high = 0.5f;
    cfg->track_low = 0.1f;
    cfg->new_track = 0.6f;
    cfg->match = 0.8f;
    cfg->buffer = 30;
    cfg->fuse_score = 1;
}

static int in01(float x) { return x >= 0.0f && x <= 1.0f; }

int bt_create(const bt_config *cfg, bt_tracker **out)
{
    *out = NULL;
    if (!in01(cfg->track_high) || !in01(cfg->track_low) || !in01(cfg->new_track) ||
        !(cfg->match >= 0.0f && cfg->match <= 2.0f) || cfg->track_low > cfg->track_high ||
        cfg->buffer < 0)
        return BT_ERR_ARG;
    bt_tracker *t = calloc(1, sizeof *t);
    if (!t)
        return BT_ERR_NOMEM;
    t->cfg = *cfg;
    /* Ultralytics: int(frame_rate / 30 * track_buffer) with frame_rate 30 in
     * its track mode, i.e. buffer frames of the detector's own sequence. */
    t->max_lost = cfg->buffer;
    *out = t;
    return BT_OK;
}

void bt_destroy(bt_tracker *t)
{
    if (!t)
        return;
    free(t->t);
    free(t->cost);
    free(t->ibuf);
    bt_assign_work_free(&t->aw);
    free(t);
}

long long bt_frame(const bt_tracker *t) { return t->frame; }

static void track_box(const track *k, float *x0, float *y0, float *x1, float *y1)
{
    double h = k->kf.mean[3], w = k->kf.mean[2] * h;
    *x0 = (float)(k->kf.mean[0] - w / 2);
    *y0 = (float)(k->kf.mean[1] - h / 2);
    *x1 = (float)(k->kf.mean[0] + w / 2);
    *y1 = (float)(k->kf.mean[1] + h / 2);
}

static void xyah(const bt_box *b, double m[4])
{
    double w = (double)b->x1 - b->x0, h = (double)b->y1 - b->y0;
    m[0] = b->x0 + w / 2;
    m[1] = b->y0 + h / 2;
    m[2] = w / h;
    m[3] = h;
}

static double iou(float ax0, float ay0, float ax1, float ay1, float bx0, float by0, float bx1, float by1)
{
    double iw = fmin(ax1, bx1) - fmax(ax0, bx0), ih = fmin(ay1, by1) - fmax(ay0, by0);
    if (iw <= 0 || ih <= 0)
        return 0;
    double inter = iw * ih;
    double aa = ((double)ax1 - ax0) * ((double)ay1 - ay0), ab = ((double)bx1 - bx0) * ((double)by1 - by0);
    return inter / (aa + ab - inter + IOU_EPS);
}

static double track_det_iou(const track *k, const bt_box *b)
{
    float x0, y0, x1, y1;
    track_box(k, &x0, &y0, &x1, &y1);
    return iou(x0, y0, x1, y1, b->x0, b->y0, b->x1, b->y1);
}

/* The box updates the track: Kalman correction, and it is tracked and
 * confirmed from now on (STrack.update / re_activate). */
static void track_take(track *k, const bt_box *b, int det, long long frame)
{
    double m[4];
    xyah(b, m);
    if (bt_kalman_update(&k->kf, m) != 0)
        bt_kalman_initiate(&k->kf, m); /* a degenerate state: start the filter again */
    k->state = BT_TRACKED;
    k->activated = 1;
    k->det = det;
    k->score = b->score;
    k->class_id = b->class_id;
    k->frame_id = frame;
}

/* Matches tracks tr[0..nt) to boxes bi[0..nb) (indices into boxes), the cost
 * 1 - IoU (fused with the score when asked); tmatch[i] gets the matched
 * position in bi or -1. */
static void associate(bt_tracker *t, const int *tr, int nt, const bt_box *boxes, const int *bi, int nb,
                      int fuse, double limit, int *tmatch)
{
    for (int i = 0; i < nt; i++)
        for (int j = 0; j < nb; j++) {
            const bt_box *b = &boxes[bi[j]];
            double sim = track_det_iou(&t->t[tr[i]], b);
            if (fuse)
                sim *= b->score;
            t->cost[(size_t)i * (size_t)nb + (size_t)j] = (float)(1.0 - sim);
        }
    /* The work was reserved for the largest problem: this cannot fail. */
    (void)bt_assign(t->cost, nt, nb, limit, tmatch, NULL, &t->aw);
}

static int valid_box(const bt_box *b)
{
    return isfinite(b->x0) && isfinite(b->y0) && isfinite(b->x1) && isfinite(b->y1) &&
           isfinite(b->score) && b->x1 > b->x0 && b->y1 > b->y0;
}

static int reserve(bt_tracker *t, size_t n)
{
    size_t nt = t->n;
    if (n > (size_t)INT32_MAX / 8 || nt > (size_t)INT32_MAX / 8)
        return -1;
    if (t->n + n > t->cap) {
        size_t cap = t->n + n + 16;
        track *p = realloc(t->t, cap * sizeof *p);
        if (!p)
            return -1;
        t->t = p;
        t->cap = cap;
    }
    size_t cells = (nt ? nt : 1) * (n ? n : 1);
    if (cells / (n ? n : 1) != (nt ? nt : 1))
        return -1;
    if (cells > t->cost_cap) {
        float *p = realloc(t->cost, cells * sizeof *p);
        if (!p)
            return -1;
        t->cost = p;
        t->cost_cap = cells;
    }
    /* high, second, pool, unconfirmed, r-tracked, match, det-used, extra */
    size_t ints = 4 * n + 4 * nt + 16;
    if (ints > t->icap) {
        int *p = realloc(t->ibuf, ints * sizeof *p);
        if (!p)
            return -1;
        t->ibuf = p;
        t->icap = ints;
    }
    return bt_assign_reserve(&t->aw, (int)nt, (int)n);
}

/* Step 4: new tracks from confident boxes still unmatched (reserve() made
 * room for n more). hleft[0..nl) are the boxes, dmatch[j] 1 where taken. */
static void start_new_tracks(bt_tracker *t, const bt_box *boxes, const int *hleft, const int *dmatch,
                             int nl, long long frame)
{
    for (int j = 0; j < nl; j++) {
        const bt_box *b = &boxes[hleft[j]];
        if (dmatch[j] || b->score < t->cfg.new_track)
            continue;
        track *k = &t->t[t->n++];
        memset(k, 0, sizeof *k);
        double m[4];
        xyah(b, m);
        bt_kalman_initiate(&k->kf, m);
        k->id = ++t->last_id;
        k->state = BT_TRACKED;
        k->activated = frame == 1;
        k->det = hleft[j];
        k->score = b->score;
        k->class_id = b->class_id;
        k->start_frame = k->frame_id = frame;
    }
}

/* Step 5: lost too long; then duplicates (a tracked and a lost track on the
 * same object: the one followed for less time goes); the removed ones out. */
static void remove_stale_tracks(bt_tracker *t, long long frame)
{
    for (size_t k = 0; k < t->n; k++)
        if (t->t[k].state == BT_LOST && frame - t->t[k].frame_id > t->max_lost)
            t->t[k].state = 0;
    for (size_t p = 0; p < t->n; p++) {
        track *a = &t->t[p];
        if (a->state != BT_TRACKED)
            continue;
        float ax0, ay0, ax1, ay1;
        track_box(a, &ax0, &ay0, &ax1, &ay1);
        for (size_t q = 0; q < t->n && a->state == BT_TRACKED; q++) {
            track *b = &t->t[q];
            if (b->state != BT_LOST)
                continue;
            float bx0, by0, bx1, by1;
            track_box(b, &bx0, &by0, &bx1, &by1);
            if (1.0 - iou(ax0, ay0, ax1, ay1, bx0, by0, bx1, by1) >= DUPLICATE_COST)
                continue;
            if (a->frame_id - a->start_frame > b->frame_id - b->start_frame)
                b->state = 0;
            else
                a->state = 0;
        }
    }
    size_t kept = 0;
    for (size_t k = 0; k < t->n; k++)
        if (t->t[k].state != 0)
            t->t[kept++] = t->t[k];
    t->n = kept;
}

int bt_update(bt_tracker *t, const bt_box *boxes, size_t n, long long *ids)
{
    for (size_t i = 0; i < n; i++)
        ids[i] = -1;
    if (reserve(t, n) != 0)
        return BT_ERR_NOMEM;
    long long frame = ++t->frame;
    const bt_config *c = &t->cfg;

    int *high = t->ibuf, *second = high + n, *dmatch = second + n, *hleft = dmatch + n;
    int *pool = hleft + n, *unconf = pool + t->n, *rtr = unconf + t->n, *tmatch = rtr + t->n;
    int nh = 0, ns = 0;
    /* Step 1: the boxes by score. */
    for (size_t i = 0; i < n; i++) {
        if (!valid_box(&boxes[i]))
            continue;
        float s = boxes[i].score;
        if (s >= c->track_high)
            high[nh++] = (int)i;
        else if (s > c->track_low)
            second[ns++] = (int)i;
    }
    int np = 0, nu = 0;
    for (size_t k = 0; k < t->n; k++) {
        t->t[k].det = -1;
        if (t->t[k].state == BT_TRACKED && !t->t[k].activated)
            unconf[nu++] = (int)k;
        else if (t->t[k].state == BT_TRACKED)
            pool[np++] = (int)k;
    }
    for (size_t k = 0; k < t->n; k++)
        if (t->t[k].state == BT_LOST)
            pool[np++] = (int)k;

    /* Step 2: high boxes to confirmed and lost tracks, predicted a frame on.
     * A lost track's height velocity is zeroed first (it would otherwise
     * keep growing or shrinking the box while nothing is seen). */
    for (int i = 0; i < np; i++) {
        track *k = &t->t[pool[i]];
        if (k->state != BT_TRACKED)
            k->kf.mean[7] = 0;
        bt_kalman_predict(&k->kf);
    }
    for (int j = 0; j < nh; j++)
        dmatch[j] = 0;
    associate(t, pool, np, boxes, high, nh, c->fuse_score, c->match, tmatch);
    int nr = 0;
    for (int i = 0; i < np; i++) {
        track *k = &t->t[pool[i]];
        if (tmatch[i] >= 0) {
            dmatch[tmatch[i]] = 1;
            track_take(k, &boxes[high[tmatch[i]]], high[tmatch[i]], frame);
        } else if (k->state == BT_TRACKED) {
            rtr[nr++] = pool[i];
        }
    }

    /* Step 3: low boxes to the tracked tracks left: plain IoU, limit 0.5. */
    associate(t, rtr, nr, boxes, second, ns, 0, SECOND_MATCH, tmatch);
    for (int i = 0; i < nr; i++) {
        track *k = &t->t[rtr[i]];
        if (tmatch[i] >= 0)
            track_take(k, &boxes[second[tmatch[i]]], second[tmatch[i]], frame);
        else
            k->state = BT_LOST;
    }

    /* Tracks born last frame, with the high boxes nobody took. */
    int nl = 0;
    for (int j = 0; j < nh; j++)
        if (!dmatch[j])
            hleft[nl++] = high[j];
    for (int j = 0; j < nl; j++)
        dmatch[j] = 0;
    associate(t, unconf, nu, boxes, hleft, nl, c->fuse_score, UNCONFIRMED_MATCH, tmatch);
    for (int i = 0; i < nu; i++) {
        track *k = &t->t[unconf[i]];
        if (tmatch[i] >= 0) {
            dmatch[tmatch[i]] = 1;
            track_take(k, &boxes[hleft[tmatch[i]]], hleft[tmatch[i]], frame);
        } else {
            k->state = 0; /* removed */
        }
    }

    start_new_tracks(t, boxes, hleft, dmatch, nl, frame);
    remove_stale_tracks(t, frame);
    for (size_t k = 0; k < t->n; k++) {
        const track *tk = &t->t[k];
        if (tk->state == BT_TRACKED && tk->activated && tk->det >= 0)
            ids[tk->det] = tk->id;
    }
    return BT_OK;
}

size_t bt_tracks(const bt_tracker *t, bt_track_info *out, size_t cap)
{
    for (size_t k = 0; k < t->n && k < cap; k++) {
        const track *tk = &t->t[k];
        bt_track_info *o = &out[k];
        o->id = tk->id;
        o->state = tk->state;
        o->confirmed = tk->activated;
        o->det = tk->det;
        track_box(tk, &o->x0, &o->y0, &o->x1, &o->y1);
        o->score = tk->score;
        o->class_id = tk->class_id;
        o->start_frame = tk->start_frame;
        o->frame_id = tk->frame_id;
    }
    return t->n;
}
