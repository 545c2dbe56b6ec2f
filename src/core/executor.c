/* executor.c - memory set-up, weight packing and the layer loop. */
#include "executor.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

void bf_executor_free(bf_executor *ex)
{
    if (ex == NULL)
        return;
    bf_aligned_free(ex->arena);
    bf_aligned_free(ex->im2col);
    bf_aligned_free(ex->acc);
    bf_aligned_free(ex->packed);
    free(ex->convs);
    bf_plan_free(&ex->plan);
    memset(ex, 0, sizeof *ex);
}

bf_status bf_executor_init(bf_executor *ex, const bf_model *m, int input_size, int reuse,
                           const bf_t2i8_gemm_config *gemm, bf_error *err)
{
    memset(ex, 0, sizeof *ex);
    ex->model = m;
    ex->gemm = gemm;
    const size_t tile_m = bf_conv_tile_m(gemm->mr);
    bf_status st = bf_plan_build(m, input_size, reuse, tile_m, &ex->plan, err);
    if (st != BF_OK)
        return st;

    /* Packed weight block: one allocation, each conv's part aligned. */
    size_t *at = calloc(m->n_layers, sizeof *at);
    ex->convs = calloc(m->n_layers, sizeof *ex->convs);
    if (at == NULL || ex->convs == NULL) {
        free(at);
        bf_executor_free(ex);
        return bf_fail(err, BF_ERR_NOMEM, "out of memory creating the detector");
    }
    size_t total = 0;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        const bf_layer *l = &m->layers[i];
        if (l->op != BF_OP_CONV)
            continue;
        size_t need = gemm->packed_size((size_t)l->params[BF_CONV_OUT_C], bf_conv_k(l));
        at[i] = total;
        if (!bf_align_size(need, &need) || !bf_add_size(total, need, &total)) {
            free(at);
            bf_executor_free(ex);
            return bf_fail(err, BF_ERR_UNSUPPORTED, "packed weights too large");
        }
    }
    ex->packed_bytes = total;
    /* +1 keeps every allocation non-empty (a model may have tiny parts). */
    ex->arena = bf_aligned_alloc(ex->plan.arena_bytes + 1);
    ex->im2col = bf_aligned_alloc(ex->plan.im2col_bytes + 1);
    ex->acc = bf_aligned_alloc(ex->plan.acc_bytes + 1);
    ex->packed = bf_aligned_alloc(total + 1);
    if (ex->arena == NULL || ex->im2col == NULL || ex->acc == NULL || ex->packed == NULL) {
        free(at);
        bf_executor_free(ex);
        return bf_fail(err, BF_ERR_NOMEM, "out of memory creating the detector (arena %zu bytes)",
                       ex->plan.arena_bytes);
    }
    /* Outputs read before any run show zeros, not stale heap bytes. */
    memset(ex->arena, 0, ex->plan.arena_bytes);

    for (uint32_t i = 0; i < m->n_layers; i++) {
        const bf_layer *l = &m->layers[i];
        if (l->op != BF_OP_CONV)
            continue;
        const int32_t *p = l->params;
        const uint32_t *t = l->tensors;
        const bf_shape in = ex->plan.shapes[l->inputs[0]], out = ex->plan.shapes[l->output];
        const bf_tensor *w = &m->tensors[t[BF_CONV_T_WEIGHTS]];
        bf_conv_params *cp = &ex->convs[i];
        cp->in_h = in.h;
        cp->in_w = in.w;
        cp->in_c = in.c;
        cp->out_h = out.h;
        cp->out_w = out.w;
        cp->out_c = out.c;
        cp->kh = p[BF_CONV_KH];
        cp->kw = p[BF_CONV_KW];
        cp->stride = p[BF_CONV_STRIDE];
        cp->pad = p[BF_CONV_PAD];
        cp->in_zero_point = (int8_t)m->values[l->inputs[0]].zero_point;
        cp->act = p[BF_CONV_ACT];
        cp->bias = bf_tensor_i32(m, t[BF_CONV_T_BIAS]);
        cp->mult = t[BF_CONV_T_MULT] != BF_NONE ? bf_tensor_i32(m, t[BF_CONV_T_MULT]) : NULL;
        cp->shift = t[BF_CONV_T_SHIFT] != BF_NONE ? bf_tensor_i32(m, t[BF_CONV_T_SHIFT]) : NULL;
        cp->silu = t[BF_CONV_T_SILU] != BF_NONE ? bf_tensor_i8(m, t[BF_CONV_T_SILU]) : NULL;
        cp->gemm = gemm;
        cp->packed = ex->packed + at[i];
        cp->tile_m = tile_m;
        gemm->pack((size_t)out.c, bf_conv_k(l), w->data, (size_t)w->dims[1], ex->packed + at[i]);
    }
    free(at);
    return BF_OK;
}

void bf_executor_run_layers(bf_executor *ex, uint32_t first, uint32_t last)
{
    const bf_model *m = ex->model;
    for (uint32_t i = first; i < last && i < m->n_layers; i++) {
        const bf_layer *l = &m->layers[i];
        const bf_shape out = ex->plan.shapes[l->output];
        const bf_shape in = ex->plan.shapes[l->inputs[0]];
        const int8_t *x = bf_executor_value(ex, l->inputs[0]);
        void *y = bf_executor_value(ex, l->output);
        const size_t pixels = (size_t)out.h * (size_t)out.w;
        const int32_t *p = l->params;
        switch (l->op) {
        case BF_OP_CONV:
            /* The M range is where a thread pool would split the work. */
            bf_conv_rows(&ex->convs[i], x, y, 0, pixels, ex->im2col, ex->acc);
            break;
        case BF_OP_ADD:
            bf_add(x, bf_executor_value(ex, l->inputs[1]), y, pixels * (size_t)out.c, p[0], p[1], p[2]);
            break;
        case BF_OP_CONCAT: {
            const int8_t *ins[BF_MAX_LAYER_INPUTS];
            int chans[BF_MAX_LAYER_INPUTS];
            int32_t mult[BF_MAX_LAYER_INPUTS], shift[BF_MAX_LAYER_INPUTS];
            for (uint32_t j = 0; j < l->n_inputs; j++) {
                ins[j] = bf_executor_value(ex, l->inputs[j]);
                chans[j] = ex->plan.shapes[l->inputs[j]].c;
                mult[j] = p[2 * j];
                shift[j] = p[2 * j + 1];
            }
            bf_concat(ins, chans, mult, shift, (int)l->n_inputs, pixels, y);
            break;
        }
        case BF_OP_SLICE:
            bf_slice(x, in.c, p[0], p[1], pixels, y);
            break;
        case BF_OP_MAXPOOL:
            bf_maxpool(x, in.h, in.w, in.c, p[0], p[1], p[2], out.h, out.w, y);
            break;
        case BF_OP_UPSAMPLE:
            bf_upsample(x, in.h, in.w, in.c, p[0], y);
            break;
        }
    }
}
