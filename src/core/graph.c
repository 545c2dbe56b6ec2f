/* graph.c - shapes, liveness and the arena plan (see graph.h). */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ops.h"

size_t bf_conv_k(const bf_layer *l)
{
    return (size_t)l->params[BF_CONV_KH] * (size_t)l->params[BF_CONV_KW] * (size_t)l->params[BF_CONV_IN_C];
}

int bf_conv_is_direct(const bf_layer *l)
{
    return l->params[BF_CONV_KH] == 1 && l->params[BF_CONV_KW] == 1 && l->params[BF_CONV_STRIDE] == 1 &&
           l->params[BF_CONV_PAD] == 0;
}

void bf_plan_free(bf_plan *plan)
{
    if (plan == NULL)
        return;
    free(plan->shapes);
    free(plan->offsets);
    free(plan->bytes);
    memset(plan, 0, sizeof *plan);
}

/* A value's lifetime in layer steps: written at `first` (value 0 by the
 * letterbox, step 0; layer i at step i + 1), last read at `last`. */
typedef struct live {
    uint32_t value;
    uint32_t first, last;
} live;

typedef struct sort_item {
    size_t bytes;
    uint32_t value;
} sort_item;

static int cmp_size_desc(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return x->value < y->value ? -1 : x->value > y->value;
}

typedef struct span {
    size_t begin, end;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Output size of a k/stride/pad window over n (the loader proved it equals
 * n / stride; recomputed here as a second check). */
static int window_out(int n, int k, int stride, int pad)
{
    return (n + 2 * pad - k) / stride + 1;
}

/* Shapes: every value is (S / stride)^2 x channels; its bytes and the start
 * of its lifetime. */
static bf_status plan_values(const bf_model *m, int S, bf_plan *p, live *lv, bf_error *err)
{
    for (uint32_t v = 0; v < m->n_values; v++) {
        const bf_value *val = &m->values[v];
        int hw = S / (int)val->stride;
        p->shapes[v] = (bf_shape){hw, hw, (int)val->channels};
        size_t n;
        size_t elem = val->dtype == BF_DTYPE_I32 ? 4 : 1;
        if (!bf_mul_size((size_t)hw * (size_t)hw, val->channels, &n) || !bf_mul_size(n, elem, &n))
            return bf_fail(err, BF_ERR_UNSUPPORTED, "%s: value %u is too large at input size %d", m->path, v, S);
        p->bytes[v] = n;
        lv[v].value = v;
        lv[v].first = v == 0 ? 0 : val->producer + 1;
        lv[v].last = lv[v].first; /* written even when nobody reads it */
    }
    return BF_OK;
}

/* A conv's im2col tile and accumulator rows, the largest over all convs. */
static bf_status plan_conv_scratch(const bf_model *m, const bf_layer *l, bf_shape out, size_t tile_m,
                                   int fold, bf_plan *p, bf_error *err)
{
    size_t rows = (size_t)out.h * (size_t)out.w;
    if (rows > tile_m)
        rows = tile_m;
    size_t need;
    if (!bf_conv_is_direct(l)) {
        /* an im2col tile of rows x K bytes, or (bf_conv_rows with the
         * indirect GEMM) rows x kh row pointers, one zero-point kernel row
         * and at most rows x K bytes of edge rows copied */
        const size_t kh = (size_t)l->params[BF_CONV_KH], row_k = bf_conv_k(l) / kh;
        size_t ptrs;
        if (!bf_mul_size(rows, bf_conv_k(l), &need) || !bf_mul_size(rows * kh, sizeof(const int8_t *), &ptrs) ||
            !bf_add_size(need, ptrs, &need) || !bf_add_size(need, row_k, &need))
            return bf_fail(err, BF_ERR_UNSUPPORTED, "%s: im2col tile too large", m->path);
        if (need > p->im2col_bytes)
            p->im2col_bytes = need;
    }
    /* <= 2 * 4096 * 16384 * 4: no overflow */
    need = bf_conv_acc_elems(l->params[BF_CONV_ACT], bf_conv_parts(l->params[BF_CONV_N_TERMS], fold), rows,
                             (size_t)out.c) *
           sizeof(int32_t);
    if (need > p->acc_bytes)
        p->acc_bytes = need;
    return BF_OK;
}

/* Each layer's window arithmetic must land on its output's shape too; the
 * lifetimes end at the last reader; the conv scratch sizes. */
static bf_status plan_layers(const bf_model *m, int S, size_t tile_m, int fold, bf_plan *p, live *lv,
                             bf_error *err)
{
    for (uint32_t i = 0; i < m->n_layers; i++) {
        const bf_layer *l = &m->layers[i];
        const bf_shape in = p->shapes[l->inputs[0]];
        const bf_shape out = p->shapes[l->output];
        int oh = in.h, ow = in.w;
        if (l->op == BF_OP_CONV) {
            oh = window_out(in.h, l->params[BF_CONV_KH], l->params[BF_CONV_STRIDE], l->params[BF_CONV_PAD]);
            ow = window_out(in.w, l->params[BF_CONV_KW], l->params[BF_CONV_STRIDE], l->params[BF_CONV_PAD]);
        } else if (l->op == BF_OP_MAXPOOL) {
            oh = window_out(in.h, l->params[0], l->params[1], l->params[2]);
            ow = window_out(in.w, l->params[0], l->params[1], l->params[2]);
        } else if (l->op == BF_OP_UPSAMPLE) {
            oh = in.h * l->params[0];
            ow = in.w * l->params[0];
        }
        if (oh != out.h || ow != out.w)
            return bf_fail(err, BF_ERR_FORMAT, "%s: layer %u (%s) gives %dx%d at input size %d, value %u is %dx%d",
                           m->path, i, bf_op_name(l->op), oh, ow, S, l->output, out.h, out.w);
        for (uint32_t j = 0; j < l->n_inputs; j++)
            if (lv[l->inputs[j]].last < i + 1)
                lv[l->inputs[j]].last = i + 1;
        bf_status st = l->op == BF_OP_CONV ? plan_conv_scratch(m, l, out, tile_m, fold, p, err) : BF_OK;
        if (st != BF_OK)
            return st;
    }
    for (uint32_t o = 0; o < m->n_outputs; o++)
        lv[m->outputs[o].value].last = m->n_layers + 1; /* read after the run */
    return BF_OK;
}

/* First-fit, largest first: each value takes the lowest aligned offset not
 * overlapping any already placed value whose lifetime overlaps (any value at
 * all without reuse). order and busy: n_values entries of scratch. */
static bf_status place_values(const bf_model *m, int reuse, bf_plan *p, const live *lv, sort_item *order,
                              span *busy, bf_error *err)
{
    for (uint32_t v = 0; v < m->n_values; v++)
        order[v] = (sort_item){p->bytes[v], v};
    qsort(order, m->n_values, sizeof *order, cmp_size_desc);
    for (uint32_t i = 0; i < m->n_values; i++) {
        const uint32_t v = order[i].value;
        size_t size;
        if (!bf_align_size(p->bytes[v], &size) || !bf_add_size(p->naive_bytes, size, &p->naive_bytes))
            return bf_fail(err, BF_ERR_UNSUPPORTED, "%s: arena size overflows", m->path);
        size_t n_busy = 0;
        for (uint32_t j = 0; j < i; j++) {
            const uint32_t u = order[j].value;
            if (!reuse || (lv[u].first <= lv[v].last && lv[v].first <= lv[u].last))
                busy[n_busy++] = (span){p->offsets[u], p->offsets[u] + p->bytes[u]};
        }
        qsort(busy, n_busy, sizeof *busy, cmp_span);
        size_t at = 0;
        for (size_t b = 0; b < n_busy; b++) {
            if (busy[b].begin >= at && busy[b].begin - at >= size)
                break; /* fits in the gap before this span */
            if (busy[b].end > at && !bf_align_size(busy[b].end, &at))
                return bf_fail(err, BF_ERR_UNSUPPORTED, "%s: arena size overflows", m->path);
        }
        p->offsets[v] = at;
        size_t end;
        if (!bf_add_size(at, size, &end))
            return bf_fail(err, BF_ERR_UNSUPPORTED, "%s: arena size overflows", m->path);
        if (end > p->arena_bytes)
            p->arena_bytes = end;
    }
    return BF_OK;
}

bf_status bf_plan_build(const bf_model *m, int S, int reuse, size_t tile_m, int fold, bf_plan *plan, bf_error *err)
{
    if (S < BF_MIN_INPUT_SIZE || S > BF_MAX_INPUT_SIZE || S % BF_INPUT_SIZE_STEP != 0)
        return bf_fail(err, BF_ERR_ARGUMENT, "input size %d is not a multiple of 32 in %d..%d", S,
                       BF_MIN_INPUT_SIZE, BF_MAX_INPUT_SIZE);
    bf_plan p;
    memset(&p, 0, sizeof p);
    if (tile_m < 1 || tile_m > 4096)
        return bf_fail(err, BF_ERR_ARGUMENT, "conv tile of %zu rows", tile_m);
    p.input_size = S;
    p.n_values = m->n_values;
    p.tile_m = tile_m;
    p.shapes = calloc(m->n_values, sizeof *p.shapes);
    p.offsets = calloc(m->n_values, sizeof *p.offsets);
    p.bytes = calloc(m->n_values, sizeof *p.bytes);
    live *lv = calloc(m->n_values, sizeof *lv);
    sort_item *order = calloc(m->n_values, sizeof *order);
    span *busy = calloc(m->n_values, sizeof *busy);
    bf_status st;
    if (p.shapes == NULL || p.offsets == NULL || p.bytes == NULL || lv == NULL || order == NULL ||
        busy == NULL)
        st = bf_fail(err, BF_ERR_NOMEM, "out of memory planning the arena");
    else if ((st = plan_values(m, S, &p, lv, err)) == BF_OK &&
             (st = plan_layers(m, S, tile_m, fold, &p, lv, err)) == BF_OK)
        st = place_values(m, reuse, &p, lv, order, busy, err);
    free(lv);
    free(order);
    free(busy);
    if (st != BF_OK) {
        bf_plan_free(&p);
        return st;
    }
    *plan = p;
    return BF_OK;
}
