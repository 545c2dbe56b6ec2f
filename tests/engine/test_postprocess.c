/*
 * test_postprocess.c - decode / NMS / un-letterbox: hand-made cases with known
 * answers, and the detector's results on synthetic models against a naive
 * double-precision transcription of the doc's post-processing, and both
 * decoders' integer pre-filter at the exact edge of the threshold.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bitfalcon.h"
#include "detector.h"
#include "model_builder.h"
#include "postprocess.h"
#include "test_util.h"

static int near(double a, double b, double tol)
{
    return fabs(a - b) <= tol;
}

static void unit_cases(void)
{
    bf_candidate a = {0, 0, 10, 10, 0.9f, 1, 0}, b = {5, 0, 15, 10, 0.8f, 1, 1}, c = {20, 20, 30, 30, 0.7f, 1, 2};
    CHECK(near(bf_iou(&a, &b), 50.0 / 150.0, 1e-6), "iou %g", (double)bf_iou(&a, &b));
    CHECK(bf_iou(&a, &c) == 0.0f, "disjoint iou");
    bf_candidate z = {3, 3, 3, 3, 0.5f, 0, 3};
    CHECK(bf_iou(&z, &z) == 0.0f, "empty boxes have iou 0");

    /* NMS: same class above the threshold -> suppressed; other class kept */
    bf_candidate list[4] = {b, a, c, a};
    list[3].class_id = 2;
    list[3].cell = 9;
    size_t kept = bf_nms(list, 4, 0.3f, 100);
    CHECK(kept == 3, "kept %zu", kept);
    CHECK(list[0].score == 0.9f && list[0].class_id == 1, "first is the best");
    kept = bf_nms((bf_candidate[]){a, b}, 2, 0.34f, 100);
    CHECK(kept == 2, "iou 1/3 <= 0.34 keeps both (%zu)", kept);
    bf_candidate many[5] = {a, a, a, a, a};
    for (int i = 0; i < 5; i++) {
        many[i].class_id = i;
        many[i].cell = (uint32_t)(4 - i);
    }
    kept = bf_nms(many, 5, 0.5f, 3);
    CHECK(kept == 3, "max_keep");
    CHECK(many[0].cell == 0 && many[1].cell == 1, "equal scores: lower cell first");

    /* decode: one 2x2 head, reg_max 4, 3 classes */
    int32_t box[2 * 2 * 16], cls[2 * 2 * 3];
    float box_dq[16], cls_dq[3] = {0.1f, 0.1f, 0.1f};
    for (int i = 0; i < 16; i++)
        box_dq[i] = 1.0f;
    for (int cell = 0; cell < 4; cell++) {
        for (int side = 0; side < 4; side++)
            for (int bin = 0; bin < 4; bin++)
                box[cell * 16 + side * 4 + bin] = bin == side ? 100 : 0; /* d_side ~= side */
        cls[cell * 3 + 0] = -50;
        cls[cell * 3 + 1] = cell == 3 ? 30 : -40; /* only cell (1,1) scores */
        cls[cell * 3 + 2] = cell == 3 ? 30 : -60; /* tie with class 1: lower index wins */
    }
    bf_head h = {box, cls, box_dq, cls_dq, 2, 2, 16};
    bf_candidate out[4];
    size_t n = bf_decode_heads(&h, 1, 3, 4, 0.5f, out, 4);
    CHECK(n == 1, "decoded %zu", n);
    if (n == 1) {
        CHECK(out[0].class_id == 1, "tie -> class 1, got %d", out[0].class_id);
        CHECK(near(out[0].score, 1.0 / (1.0 + exp(-3.0)), 1e-6), "score %g", (double)out[0].score);
        /* anchor (1.5, 1.5), distances (0, 1, 2, 3) x stride 16 */
        CHECK(near(out[0].x0, 1.5 * 16, 1e-3) && near(out[0].y0, 0.5 * 16, 1e-3) && near(out[0].x1, 3.5 * 16, 1e-3) &&
                  near(out[0].y1, 4.5 * 16, 1e-3),
              "box %g %g %g %g", (double)out[0].x0, (double)out[0].y0, (double)out[0].x1, (double)out[0].y1);
        bf_letterbox lb;
        bf_letterbox_geometry(100, 50, 64, &lb); /* r = 0.64, nw 64, nh 32, top 16 */
        bf_detection d;
        bf_unletterbox(out, 1, &lb, &d);
        CHECK(near(d.x0, 24 / 0.64, 1e-3) && near(d.y0, 0.0, 1e-6) && near(d.x1, 56 / 0.64, 1e-3) &&
                  near(d.y1, 50.0, 1e-6),
              "unletterboxed %g %g %g %g", (double)d.x0, (double)d.y0, (double)d.x1, (double)d.y1);
    }
    /* conf 0 keeps every cell; conf 1 keeps only saturated scores */
    CHECK(bf_decode_heads(&h, 1, 3, 4, 0.0f, out, 4) == 4, "conf 0");
    CHECK(bf_decode_heads(&h, 1, 3, 4, 1.0f, out, 4) == 0, "conf 1");
    /* a score exactly at the threshold is kept, one ulp above it is not */
    CHECK(bf_decode_heads(&h, 1, 3, 4, 0.9f, out, 4) == 1, "conf 0.9");
    float s3 = out[0].score;
    CHECK(bf_decode_heads(&h, 1, 3, 4, s3, out, 4) == 1, "score == conf is kept");
    CHECK(bf_decode_heads(&h, 1, 3, 4, nextafterf(s3, 1.0f), out, 4) == 0, "score < conf is dropped");
}

/* ---- the naive reference ---------------------------------------------------- */

typedef struct ncand {
    double b[4], score;
    int cls;
    size_t order; /* decode order: equal scores keep it */
} ncand;

static int cmp_ncand(const void *x, const void *y)
{
    const ncand *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static double niou(const double *a, const double *b)
{
    double iw = fmin(a[2], b[2]) - fmax(a[0], b[0]), ih = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    if (iw <= 0 || ih <= 0)
        return 0;
    double inter = iw * ih, u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return u > 0 ? inter / u : 0;
}

static size_t naive_post(const mb_model *mb, const bf_detector *det, float conf, float iou, int max_det, ncand *out)
{
    size_t cap = 0;
    for (int o = 0; o < bf_detector_num_outputs(det); o += 2) {
        int h, w;
        bf_detector_output(det, o, NULL, NULL, &h, &w, NULL);
        cap += (size_t)h * w;
    }
    ncand *c = calloc(cap + 1, sizeof *c);
    size_t n = 0;
    const int rm = (int)mb->reg_max, nc = (int)mb->num_classes;
    for (int o = 0; o < bf_detector_num_outputs(det); o += 2) {
        int stride, h, w;
        const int32_t *box = bf_detector_output(det, o, NULL, &stride, &h, &w, NULL);
        const int32_t *cls = bf_detector_output(det, o + 1, NULL, NULL, NULL, NULL, NULL);
        const float *bdq = (const float *)(const void *)mb->tensors[mb->outputs[o].dequant].data;
        const float *cdq = (const float *)(const void *)mb->tensors[mb->outputs[o + 1].dequant].data;
        for (int cell = 0; cell < h * w; cell++) {
            int best = 0;
            for (int k = 1; k < nc; k++)
                if ((double)cls[cell * nc + k] * cdq[k] > (double)cls[cell * nc + best] * cdq[best])
                    best = k;
            double score = 1.0 / (1.0 + exp(-(double)cls[cell * nc + best] * cdq[best]));
            if (!(score >= conf))
                continue;
            double d[4];
            for (int s = 0; s < 4; s++) {
                /* The largest logit found by its index, not by an fmax() reduction:
                 * Debian 12's GCC 12.2 for aarch64 (Raspberry Pi OS bookworm's
                 * compiler) crashes vectorising that reduction at -O3 (internal
                 * compiler error in vect_transform_reduction). The aarch64 build in
                 * scripts/test.sh compiles every file with the Release flags, with
                 * no per-file exception, and so catches the next such crash. */
                int km = 0;
                for (int k = 1; k < rm; k++)
                    if ((double)box[cell * 4 * rm + s * rm + k] * bdq[s * rm + k] >
                        (double)box[cell * 4 * rm + s * rm + km] * bdq[s * rm + km])
                        km = k;
                const double mx = (double)box[cell * 4 * rm + s * rm + km] * bdq[s * rm + km];
                double sum = 0, ws = 0;
                for (int k = 0; k < rm; k++) {
                    double e = exp((double)box[cell * 4 * rm + s * rm + k] * bdq[s * rm + k] - mx);
                    sum += e;
                    ws += e * k;
                }
                d[s] = ws / sum;
            }
            double ax = cell % w + 0.5, ay = cell / w + 0.5;
            ncand *q = &c[n++];
            q->b[0] = (ax - d[0]) * stride;
            q->b[1] = (ay - d[1]) * stride;
            q->b[2] = (ax + d[2]) * stride;
            q->b[3] = (ay + d[3]) * stride;
            q->score = score;
            q->cls = best;
            q->order = n;
        }
    }
    qsort(c, n, sizeof *c, cmp_ncand);
    size_t kept = 0;
    for (size_t i = 0; i < n && kept < (size_t)max_det; i++) {
        int sup = 0;
        for (size_t j = 0; j < kept && !sup; j++)
            sup = out[j].cls == c[i].cls && niou(out[j].b, c[i].b) > iou;
        if (!sup)
            out[kept++] = c[i];
    }
    const bf_letterbox *lb = bf_detector_letterbox(det);
    for (size_t i = 0; i < kept; i++)
        for (int k = 0; k < 4; k++) {
            double off = k % 2 == 0 ? lb->left : lb->top, lim = k % 2 == 0 ? lb->src_w : lb->src_h;
            out[i].b[k] = fmin(fmax((out[i].b[k] - off) / lb->r, 0.0), lim);
        }
    free(c);
    return kept;
}

static void model_cases(int variant, int S, uint64_t seed, rng *r)
{
    mb_model *mb = mb_build_test_graph(variant, seed);
    size_t size;
    uint8_t *file = mb_serialize(mb, &size);
    bf_model *model = NULL;
    bf_error err;
    if (bf_model_from_memory(file, size, "post.bfm", &model, &err) != BF_OK) {
        CHECK(0, "load: %s", err.message);
        free(file);
        mb_free(mb);
        return;
    }
    bf_options opt;
    bf_options_default(&opt);
    opt.input_size = S;
    bf_detector *det = NULL;
    CHECK(bf_detector_create(model, &opt, &det, &err) == BF_OK, "create: %s", err.message);
    ncand *ref = calloc(4096, sizeof *ref);
    static const float thresholds[][2] = {{0.25f, 0.7f}, {0.5f, 0.45f}, {0.05f, 0.9f}, {0.9f, 0.3f}, {0.25f, 0.0f}};
    for (size_t t = 0; det != NULL && t < sizeof thresholds / sizeof thresholds[0]; t++) {
        int w = rng_int(r, 8, 3 * S), h = rng_int(r, 8, 3 * S);
        uint8_t *img = malloc((size_t)w * h * 3);
        for (size_t i = 0; i < (size_t)w * h * 3; i++)
            img[i] = (uint8_t)rng_int(r, 0, 255);
        CHECK(bf_detector_set_thresholds(det, thresholds[t][0], thresholds[t][1], NULL) == BF_OK, "set thresholds");
        CHECK(bf_detector_run(det, img, w, h, (size_t)w * 3, BF_PIXEL_RGB, &err) == BF_OK, "run: %s", err.message);
        size_t n;
        const bf_detection *d = bf_detector_results(det, &n);
        size_t nref = naive_post(mb, det, thresholds[t][0], thresholds[t][1], 300, ref);
        CHECK(n == nref, "variant %d S %d thresholds %zu: %zu detections, naive %zu", variant, S, t, n, nref);
        for (size_t i = 0; i < n && i < nref; i++) {
            int ok = d[i].class_id == ref[i].cls && near(d[i].score, ref[i].score, 1e-6);
            const float got[4] = {d[i].x0, d[i].y0, d[i].x1, d[i].y1};
            for (int k = 0; k < 4; k++)
                ok &= near(got[k], ref[i].b[k], 2e-3);
            ok &= d[i].x0 <= d[i].x1 && d[i].y0 <= d[i].y1 && d[i].x0 >= 0 && d[i].x1 <= w && d[i].y1 <= h;
            if (!ok) {
                CHECK(0, "variant %d S %d thresholds %zu detection %zu: class %d score %.7f box %.3f %.3f %.3f %.3f; "
                      "naive class %d score %.7f box %.3f %.3f %.3f %.3f",
                      variant, S, t, i, d[i].class_id, (double)d[i].score, (double)d[i].x0, (double)d[i].y0,
                      (double)d[i].x1, (double)d[i].y1, ref[i].cls, ref[i].score, ref[i].b[0], ref[i].b[1],
                      ref[i].b[2], ref[i].b[3]);
                break;
            }
        }
        if (t == 0)
            fprintf(stderr, "variant %d S %d: %zu detections at conf 0.25\n", variant, S, n);
        free(img);
    }
    /* max_detections caps the list */
    bf_detector *capped = NULL;
    opt.max_detections = 3;
    opt.conf_threshold = 0.05f;
    CHECK(bf_detector_create(model, &opt, &capped, &err) == BF_OK, "create: %s", err.message);
    if (capped != NULL) {
        uint8_t img[64 * 48 * 3];
        for (size_t i = 0; i < sizeof img; i++)
            img[i] = (uint8_t)rng_int(r, 0, 255);
        CHECK(bf_detector_run(capped, img, 64, 48, 64 * 3, BF_PIXEL_RGB, &err) == BF_OK, "run");
        size_t n;
        bf_detector_results(capped, &n);
        CHECK(n == 3, "max_detections 3 gave %zu", n);
    }
    bf_detector_destroy(capped);
    free(ref);
    bf_detector_destroy(det);
    bf_model_close(model);
    free(file);
    mb_free(mb);
}

static int cmp_cell(const void *x, const void *y)
{
    const bf_candidate *a = x, *b = y;
    return a->cell < b->cell ? -1 : a->cell > b->cell;
}

/* The decoders skip, by integer bounds per class, the cells no class of
 * which can reach conf (postprocess.c, class_gates). Against a plain
 * transcription without any pre-filter: random dequant factors of both signs,
 * zero and tiny and large ones, class logits set at the exact edge of the
 * threshold (round(logit(conf) / dq) + -2..2) or anywhere in int32, several
 * confidences; both decoders, every candidate's class, score and cell. */
static void gate_cases(rng *r)
{
    enum { H = 3, W = 5, REG = 2, MAXC = 90 };
    static int32_t cls[H * W * MAXC], box[H * W * 4 * REG];
    static float cls_dq[MAXC], box_dq[4 * REG];
    static bf_candidate got[H * W * MAXC], want[H * W * MAXC], want_multi[H * W * MAXC];
    const float confs[] = {0.001f, 0.05f, 0.25f, 0.5f, 0.9f, 0.999f};
    for (int i = 0; i < 4 * REG; i++)
        box_dq[i] = 1.0f;
    for (int trial = 0; trial < 300; trial++) {
        const int nc = rng_int(r, 1, MAXC);
        const float conf = confs[rng_int(r, 0, (int)(sizeof confs / sizeof confs[0]) - 1)];
        const double edge = log((double)conf / (1.0 - (double)conf));
        for (int c = 0; c < nc; c++) {
            const int kind = rng_int(r, 0, 9);
            const double mag = exp(rng_unit(r) * 30.0 - 25.0); /* ~1e-11 .. 1e2 */
            cls_dq[c] = kind == 0 ? 0.0f : (float)(kind <= 3 ? -mag : mag);
        }
        for (int i = 0; i < H * W; i++)
            for (int c = 0; c < nc; c++) {
                int64_t q;
                if (rng_int(r, 0, 2) > 0 && cls_dq[c] != 0.0f) {
                    const double t = nearbyint(edge / (double)cls_dq[c]);
                    q = (t < -3e9 ? -(int64_t)3e9 : t > 3e9 ? (int64_t)3e9 : (int64_t)t) + rng_int(r, -2, 2);
                } else {
                    q = (int64_t)(int32_t)rng_u64(r);
                }
                cls[i * nc + c] = (int32_t)(q < INT32_MIN ? INT32_MIN : q > INT32_MAX ? INT32_MAX : q);
            }
        size_t nw = 0, nwm = 0;

        for (int i = 0; i < H * W; i++) {
            int best = 0;
            double bl = (double)cls[i * nc] * cls_dq[0];
            for (int c = 0; c < nc; c++) {
                const double l = (double)cls[i * nc + c] * cls_dq[c];
                const float s = (float)(1.0 / (1.0 + exp(-l)));
                if (l > bl)
                    bl = l, best = c;
                if (s >= conf)
                    want_multi[nwm++] = (bf_candidate){0, 0, 0, 0, s, c, (uint32_t)(i * nc + c)};
            }
            const float s = (float)(1.0 / (1.0 + exp(-bl)));
            if (s >= conf)
                want[nw++] = (bf_candidate){0, 0, 0, 0, s, best, (uint32_t)i};
        }
        const bf_head h = {box, cls, box_dq, cls_dq, H, W, 8};
        const size_t n = bf_decode_heads(&h, 1, nc, REG, conf, got, H * W * MAXC);
        CHECK(n == nw, "trial %d (%d classes, conf %g): %zu cells kept, want %zu", trial, nc, (double)conf, n, nw);
        for (size_t i = 0; i < n && i < nw; i++)
            CHECK(got[i].cell == want[i].cell && got[i].class_id == want[i].class_id && got[i].score == want[i].score,
                  "trial %d candidate %zu: cell %u class %d score %.9g, want cell %u class %d score %.9g", trial, i,
                  got[i].cell, got[i].class_id, (double)got[i].score, want[i].cell, want[i].class_id,
                  (double)want[i].score);
        /* the same cells decoded in random disjoint ranges, as threads do,
         * each range's candidates written at its first cell */
        size_t n_split = 0;
        for (size_t c0 = 0; c0 < (size_t)(H * W);) {
            const size_t len = (size_t)rng_int(r, 1, 6);
            const size_t c1 = c0 + len < (size_t)(H * W) ? c0 + len : (size_t)(H * W);
            const size_t k = bf_decode_cells(&h, 0, nc, REG, conf, c0, c1, got + c0);
            CHECK(k <= c1 - c0);
            for (size_t i = 0; i < k && n_split + i < nw; i++)
                CHECK(got[c0 + i].cell == want[n_split + i].cell && got[c0 + i].class_id == want[n_split + i].class_id &&
                          got[c0 + i].score == want[n_split + i].score,
                      "trial %d, cells [%zu, %zu) decoded apart: candidate %zu differs", trial, c0, c1, i);
            n_split += k;
            c0 = c1;
        }
        CHECK(n_split == nw, "trial %d: %zu cells kept by ranges, want %zu", trial, n_split, nw);
        const size_t nm = bf_decode_heads_multi(&h, 1, nc, REG, conf, got, H * W * MAXC);
        CHECK(nm == nwm, "trial %d multi: %zu candidates, want %zu", trial, nm, nwm);
        qsort(got, nm, sizeof got[0], cmp_cell);
        for (size_t i = 0; i < nm && i < nwm; i++)
            CHECK(got[i].cell == want_multi[i].cell && got[i].score == want_multi[i].score,
                  "trial %d multi candidate %zu: cell %u score %.9g, want cell %u score %.9g", trial, i, got[i].cell,
                  (double)got[i].score, want_multi[i].cell, (double)want_multi[i].score);
        if (check_failures)
            return;
    }
}

int main(void)
{
    rng r;
    rng_init(&r, test_seed(31337));
    unit_cases();
    gate_cases(&r);
    model_cases(0, 64, 1, &r);
    model_cases(0, 96, 2, &r);
    model_cases(1, 64, 3, &r);
    model_cases(1, 128, 4, &r);
    if (check_failures) {
        fprintf(stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    fprintf(stderr, "ok\n");
    return 0;
}
