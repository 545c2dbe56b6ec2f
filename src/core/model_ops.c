/*
 * model_ops.c - the per-op half of the .bfm loader (model_check.h): each
 * layer's parameters and tensors, checked by its op's row of the table at
 * the end. model.c has already checked the layer's links (input and output
 * values in range, acyclic, I8 inputs); every message names the layer and op.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model_check.h"

/* Checks that tensor slot `slot` of layer `li` names a tensor of `dtype` with
 * shape [d0] (d1 == 0) or [d0, d1]. */
static bf_status check_role(bf_check *c, uint32_t li, const char *role, uint32_t index, uint32_t dtype,
                            uint32_t d0, uint32_t d1)
{
    const bf_model *m = c->m;
    const bf_layer *l = &m->layers[li];
    if (index == BF_NONE)
        return bf_bad_model(c, "layer %u (%s): missing %s tensor", li, bf_op_name(l->op), role);
    if (index >= m->n_tensors)
        return bf_bad_model(c, "layer %u (%s): %s tensor index %u out of range (have %u)", li, bf_op_name(l->op),
                   role, index, m->n_tensors);
    const bf_tensor *t = &m->tensors[index];
    if (t->dtype != dtype)
        return bf_bad_model(c, "layer %u (%s): %s tensor '%s' is %s, expected %s", li, bf_op_name(l->op), role,
                   t->name, bf_dtype_name(t->dtype), bf_dtype_name(dtype));
    uint32_t ndim = d1 == 0 ? 1 : 2;
    if (t->ndim != ndim || t->dims[0] != d0 || (ndim == 2 && t->dims[1] != d1)) {
        if (ndim == 1)
            return bf_bad_model(c, "layer %u (%s): %s tensor '%s' has shape [%u, %u, %u, %u]/%u, expected [%u]", li,
                       bf_op_name(l->op), role, t->name, t->dims[0], t->dims[1], t->dims[2], t->dims[3],
                       t->ndim, d0);
        return bf_bad_model(c, "layer %u (%s): %s tensor '%s' has shape [%u, %u, %u, %u]/%u, expected [%u, %u]", li,
                   bf_op_name(l->op), role, t->name, t->dims[0], t->dims[1], t->dims[2], t->dims[3],
                   t->ndim, d0, d1);
    }
    return BF_OK;
}

/* Kernel geometry must give exactly H / stride outputs for every H the value
 * table allows (H a multiple of the stride): with H = n * s,
 * floor((H + 2p - k) / s) + 1 == H / s  <=>  k - s <= 2p <= k - 1. */
static int same_geometry(int k, int s, int p)
{
    return 2 * p <= k - 1 && 2 * p >= k - s;
}

/* ---- conv ------------------------------------------------------------------ */

/* The geometry, channels, activation and plane count; unused params 0. */
static bf_status conv_params(bf_check *c, uint32_t li)
{
    const bf_model *m = c->m;
    const bf_layer *l = &m->layers[li];
    const int32_t *p = l->params;
    const bf_value *in = &m->values[l->inputs[0]];
    int32_t kh = p[BF_CONV_KH], kw = p[BF_CONV_KW], st = p[BF_CONV_STRIDE], pad = p[BF_CONV_PAD];
    int32_t in_c = p[BF_CONV_IN_C], oc = p[BF_CONV_OUT_C], act = p[BF_CONV_ACT];
    if (kh < 1 || kh > BF_MAX_KERNEL || kw < 1 || kw > BF_MAX_KERNEL)
        return bf_bad_model(c, "layer %u (conv): kernel %dx%d outside 1..%d", li, kh, kw, BF_MAX_KERNEL);
    if (st < 1 || st > BF_MAX_OP_STRIDE)
        return bf_bad_model(c, "layer %u (conv): stride %d outside 1..%d", li, st, BF_MAX_OP_STRIDE);
    if (pad < 0 || pad >= kh || pad >= kw)
        return bf_bad_model(c, "layer %u (conv): pad %d not below the kernel %dx%d", li, pad, kh, kw);
    if (!same_geometry(kh, st, pad) || !same_geometry(kw, st, pad))
        return bf_bad_model(c, "layer %u (conv): kernel %dx%d, stride %d, pad %d do not give input/stride outputs",
                            li, kh, kw, st, pad);
    if (in_c < 1 || (uint32_t)in_c != in->channels)
        return bf_bad_model(c, "layer %u (conv): in_c %d, but input value %u has %u channels", li, in_c,
                            l->inputs[0], in->channels);
    if (oc < 1 || oc > (int32_t)BF_MAX_CHANNELS)
        return bf_bad_model(c, "layer %u (conv): out_c %d outside 1..%u", li, oc, BF_MAX_CHANNELS);
    if (act < BF_ACT_LINEAR || act > BF_ACT_RAW)
        return bf_bad_model(c, "layer %u (conv): unknown activation %d", li, act);
    const int32_t terms = p[BF_CONV_N_TERMS];
    if (terms < 1 || terms > BF_MAX_TERMS)
        return bf_bad_model(c, "layer %u (conv): n_terms %d outside 1..%d", li, terms, BF_MAX_TERMS);
    for (int i = 8; i < 16; i++)
        if (p[i] != 0)
            return bf_bad_model(c, "layer %u (conv): unused param %d is %d, not 0", li, i, p[i]);
    return BF_OK;
}

/* The tensor roles: weights (n_terms planes of out_c rows), bias, and mult,
 * shift, SiLU table and dequant as the activation needs them. */
static bf_status conv_tensors(bf_check *c, uint32_t li, uint64_t row_bytes)
{
    const bf_layer *l = &c->m->layers[li];
    const int32_t *p = l->params;
    const int32_t oc = p[BF_CONV_OUT_C], act = p[BF_CONV_ACT], terms = p[BF_CONV_N_TERMS];
    const uint32_t *t = l->tensors;
    bf_status st2;
    if (row_bytes > UINT32_MAX)
        return bf_bad_model(c, "layer %u (conv): weight rows too long", li);
    /* k planes of out_c rows each: k * out_c <= 5 * BF_MAX_CHANNELS, no overflow */
    const uint32_t w_rows = (uint32_t)terms * (uint32_t)oc;
    char w_role[48];
    if (terms == 1)
        snprintf(w_role, sizeof w_role, "weights");
    else
        snprintf(w_role, sizeof w_role, "weights (n_terms %d x out_c %d rows)", terms, oc);
    if ((st2 = check_role(c, li, w_role, t[BF_CONV_T_WEIGHTS], BF_DTYPE_T2, w_rows, (uint32_t)row_bytes)) !=
        BF_OK)
        return st2;
    if ((st2 = check_role(c, li, "bias", t[BF_CONV_T_BIAS], BF_DTYPE_I32, (uint32_t)oc, 0)) != BF_OK)
        return st2;
    /* mult and shift drive requant; a raw (act 2) conv does not requantise,
     * so there they may be absent, but are checked when present. */
    int need_requant = act != BF_ACT_RAW;
    if (need_requant || t[BF_CONV_T_MULT] != BF_NONE)
        if ((st2 = check_role(c, li, "mult", t[BF_CONV_T_MULT], BF_DTYPE_I32, (uint32_t)oc, 0)) != BF_OK)
            return st2;
    if (need_requant || t[BF_CONV_T_SHIFT] != BF_NONE)
        if ((st2 = check_role(c, li, "shift", t[BF_CONV_T_SHIFT], BF_DTYPE_I32, (uint32_t)oc, 0)) != BF_OK)
            return st2;
    if (act == BF_ACT_SILU) {
        if ((st2 = check_role(c, li, "SiLU table", t[BF_CONV_T_SILU], BF_DTYPE_I8, 256, 0)) != BF_OK)
            return st2;
    } else if (t[BF_CONV_T_SILU] != BF_NONE) {
        return bf_bad_model(c, "layer %u (conv): SiLU table given for activation %d", li, act);
    }
    if (act == BF_ACT_RAW) {
        if (t[BF_CONV_T_DEQUANT] != BF_NONE &&
            (st2 = check_role(c, li, "dequant", t[BF_CONV_T_DEQUANT], BF_DTYPE_F32, (uint32_t)oc, 0)) != BF_OK)
            return st2;
    } else if (t[BF_CONV_T_DEQUANT] != BF_NONE) {
        return bf_bad_model(c, "layer %u (conv): dequant tensor given for activation %d", li, act);
    }
    for (int i = 6; i < 8; i++)
        if (t[i] != BF_NONE)
            return bf_bad_model(c, "layer %u (conv): unused tensor slot %d is %u", li, i, t[i]);
    return BF_OK;
}

/* Weight rows (every plane's): codes 11 were refused per tensor; here the
 * padding past K. */
static bf_status conv_weight_padding(bf_check *c, uint32_t li, uint64_t k, uint64_t row_bytes)
{
    const bf_model *m = c->m;
    const bf_layer *l = &m->layers[li];
    const int32_t oc = l->params[BF_CONV_OUT_C], terms = l->params[BF_CONV_N_TERMS];
    const uint32_t w_rows = (uint32_t)terms * (uint32_t)oc;
    const bf_tensor *w = &m->tensors[l->tensors[BF_CONV_T_WEIGHTS]];
    for (uint32_t o = 0; o < w_rows; o++) {
        const uint8_t *row = w->data + (uint64_t)o * row_bytes;
        uint64_t full = k / 4;
        int dirty = 0;
        if (k % 4 != 0) {
            unsigned used_bits = (unsigned)(k % 4) * 2;
            dirty = (row[full] >> used_bits) != 0;
            full++;
        }
        if (dirty || !bf_all_zero(row + full, (size_t)(row_bytes - full))) {
            if (terms == 1)
                return bf_bad_model(c, "layer %u (conv): weights '%s' row %u has non-zero padding weights", li,
                                    w->name, o);
            return bf_bad_model(c, "layer %u (conv): weights '%s' plane %u row %u has non-zero padding weights",
                                li, w->name, o / (uint32_t)oc, o % (uint32_t)oc);
        }
    }
    return BF_OK;
}

/* The values of bias, mult, shift and dequant. */
static bf_status conv_values(bf_check *c, uint32_t li, uint64_t k)
{
    const bf_model *m = c->m;
    const bf_layer *l = &m->layers[li];
    const int32_t oc = l->params[BF_CONV_OUT_C], terms = l->params[BF_CONV_N_TERMS];
    const uint32_t *t = l->tensors;
    /* acc = bias + sum of K terms q * x with |q| <= L = (3^k - 1) / 2 and x in
     * [-128, 127]: |acc - bias| <= 128 * K * L. Keep it inside int32 so that
     * every kernel's 32-bit accumulation is exact, and so is the engine's
     * per-plane combination sum_i 3^i * plane_i (each partial sum of it is
     * bounded by the same 128 * K * L). K <= 7 * 7 * 16384, L <= 121: the
     * product fits easily in 64 bits. */
    const int32_t *bias = bf_tensor_i32(m, t[BF_CONV_T_BIAS]);
    const int64_t levels = (bf_pow3(terms) - 1) / 2;
    const int64_t reach = (int64_t)k * 128 * levels;
    for (int32_t o = 0; o < oc; o++) {
        int64_t b = bias[o];
        if (b + reach > INT32_MAX || b - reach < INT32_MIN) {
            if (terms == 1)
                return bf_bad_model(c, "layer %u (conv): bias[%d] = %lld lets the accumulator overflow int32", li,
                                    o, (long long)b);
            return bf_bad_model(c, "layer %u (conv): bias[%d] = %lld lets the accumulator overflow int32 "
                                   "(n_terms %d: |acc| <= |bias| + 128 * K %llu * L %lld)",
                                li, o, (long long)b, terms, (unsigned long long)k, (long long)levels);
        }
    }
    if (t[BF_CONV_T_MULT] != BF_NONE) {
        const int32_t *mult = bf_tensor_i32(m, t[BF_CONV_T_MULT]);
        for (int32_t o = 0; o < oc; o++)
            if (mult[o] < 0)
                return bf_bad_model(c, "layer %u (conv): mult[%d] = %d outside [0, 2^31)", li, o, mult[o]);
    }
    if (t[BF_CONV_T_SHIFT] != BF_NONE) {
        const int32_t *shift = bf_tensor_i32(m, t[BF_CONV_T_SHIFT]);
        for (int32_t o = 0; o < oc; o++)
            if (shift[o] < 0 || shift[o] > 62)
                return bf_bad_model(c, "layer %u (conv): shift[%d] = %d outside 0..62", li, o, shift[o]);
    }
    if (t[BF_CONV_T_DEQUANT] != BF_NONE) {
        const float *dq = bf_tensor_f32(m, t[BF_CONV_T_DEQUANT]);
        for (int32_t o = 0; o < oc; o++)
            if (!isfinite(dq[o]))
                return bf_bad_model(c, "layer %u (conv): dequant[%d] is not finite", li, o);
    }
    return BF_OK;
}

static bf_status check_conv(bf_check *c, uint32_t li, bf_op_out *out)
{
    const bf_model *m = c->m;
    const bf_layer *l = &m->layers[li];
    const int32_t *p = l->params;
    bf_status st = conv_params(c, li);
    if (st != BF_OK)
        return st;
    const uint64_t k = (uint64_t)p[BF_CONV_KH] * (uint64_t)p[BF_CONV_KW] * (uint64_t)p[BF_CONV_IN_C];
    const uint64_t row_bytes = bf_t2_row_bytes(k);
    if ((st = conv_tensors(c, li, row_bytes)) != BF_OK ||
        (st = conv_weight_padding(c, li, k, row_bytes)) != BF_OK || (st = conv_values(c, li, k)) != BF_OK)
        return st;
    out->channels = (uint32_t)p[BF_CONV_OUT_C];
    out->stride = m->values[l->inputs[0]].stride * (uint32_t)p[BF_CONV_STRIDE];
    out->dtype = p[BF_CONV_ACT] == BF_ACT_RAW ? BF_DTYPE_I32 : BF_DTYPE_I8;
    return BF_OK;
}

static bf_status check_mult_shift(bf_check *c, uint32_t li, const char *what, int32_t mult, int32_t shift)
{
    if (mult < 0)
        return bf_bad_model(c, "layer %u (%s): %s mult %d outside [0, 2^31)", li, bf_op_name(c->m->layers[li].op),
                   what, mult);
    if (shift < 0 || shift > 62)
        return bf_bad_model(c, "layer %u (%s): %s shift %d outside 0..62", li, bf_op_name(c->m->layers[li].op), what,
                   shift);
    return BF_OK;
}

static bf_status check_unused_params(bf_check *c, uint32_t li, int from)
{
    const bf_layer *l = &c->m->layers[li];
    for (int i = from; i < 16; i++)
        if (l->params[i] != 0)
            return bf_bad_model(c, "layer %u (%s): unused param %d is %d, not 0", li, bf_op_name(l->op), i,
                       l->params[i]);
    return BF_OK;
}


/* ---- the other ops ---------------------------------------------------------- */

static bf_status check_add(bf_check *c, uint32_t i, bf_op_out *out)
{
    const bf_model *m = c->m;
    const bf_layer *l = &m->layers[i];
    const int32_t *p = l->params;
    const bf_value *in0 = &m->values[l->inputs[0]], *in1 = &m->values[l->inputs[1]];
    bf_status st;
    (void)out;
    if (in1->channels != in0->channels || in1->stride != in0->stride)
        return bf_bad_model(c, "layer %u (add): inputs differ in shape (%u ch /%u vs %u ch /%u)", i,
                            in0->channels, in0->stride, in1->channels, in1->stride);
    if ((st = check_mult_shift(c, i, "a", p[0], p[2])) != BF_OK ||
        (st = check_mult_shift(c, i, "b", p[1], p[2])) != BF_OK || (st = check_unused_params(c, i, 3)) != BF_OK)
        return st;
    return BF_OK;
}

static bf_status check_concat(bf_check *c, uint32_t i, bf_op_out *out)
{
    const bf_model *m = c->m;
    const bf_layer *l = &m->layers[i];
    const int32_t *p = l->params;
    const bf_value *in0 = &m->values[l->inputs[0]];
    bf_status st;
    uint32_t total = 0;
    for (uint32_t j = 0; j < l->n_inputs; j++) {
        const bf_value *in = &m->values[l->inputs[j]];
        if (in->stride != in0->stride)
            return bf_bad_model(c, "layer %u (concat): input %u has stride %u, input 0 has %u", i, j, in->stride,
                                in0->stride);
        total += in->channels; /* <= 8 * BF_MAX_CHANNELS: no overflow */
        if ((st = check_mult_shift(c, i, "input", p[2 * j], p[2 * j + 1])) != BF_OK)
            return st;
    }
    if ((st = check_unused_params(c, i, (int)(2 * l->n_inputs))) != BF_OK)
        return st;
    out->channels = total;
    return BF_OK;
}

static bf_status check_slice(bf_check *c, uint32_t i, bf_op_out *out)
{
    const bf_layer *l = &c->m->layers[i];
    const int32_t *p = l->params;
    const bf_value *in0 = &c->m->values[l->inputs[0]];
    if (p[0] < 0 || p[1] < 1 || (int64_t)p[0] + p[1] > (int64_t)in0->channels)
        return bf_bad_model(c, "layer %u (slice): channels [%d, %d + %d) outside the input's %u", i, p[0], p[0],
                            p[1], in0->channels);
    bf_status st = check_unused_params(c, i, 2);
    if (st != BF_OK)
        return st;
    out->channels = (uint32_t)p[1];
    return BF_OK;
}

static bf_status check_maxpool(bf_check *c, uint32_t i, bf_op_out *out)
{
    const bf_layer *l = &c->m->layers[i];
    const int32_t *p = l->params;
    if (p[0] < 1 || p[0] > BF_MAX_KERNEL || p[1] < 1 || p[1] > BF_MAX_OP_STRIDE || p[2] < 0 || p[2] >= p[0])
        return bf_bad_model(c, "layer %u (maxpool): kernel %d, stride %d, pad %d out of range", i, p[0], p[1],
                            p[2]);
    if (!same_geometry(p[0], p[1], p[2]))
        return bf_bad_model(c, "layer %u (maxpool): kernel %d, stride %d, pad %d do not give input/stride "
                               "outputs",
                            i, p[0], p[1], p[2]);
    bf_status st = check_unused_params(c, i, 3);
    if (st != BF_OK)
        return st;
    out->stride = c->m->values[l->inputs[0]].stride * (uint32_t)p[1];
    return BF_OK;
}

static bf_status check_upsample(bf_check *c, uint32_t i, bf_op_out *out)
{
    const bf_layer *l = &c->m->layers[i];
    const int32_t *p = l->params;
    const bf_value *in0 = &c->m->values[l->inputs[0]];
    if (p[0] < 1 || p[0] > 32 || in0->stride % (uint32_t)p[0] != 0)
        return bf_bad_model(c, "layer %u (upsample): factor %d does not divide the input stride %u", i, p[0],
                            in0->stride);
    bf_status st = check_unused_params(c, i, 1);
    if (st != BF_OK)
        return st;
    out->stride = in0->stride / (uint32_t)p[0];
    return BF_OK;
}

/* One row per op: how many inputs it takes, whether it has tensors, its check. */
static const bf_op_rule rules[] = {
    {BF_OP_CONV, 1, 1, 1, check_conv},       {BF_OP_ADD, 2, 2, 0, check_add},
    {BF_OP_CONCAT, 2, 8, 0, check_concat},   {BF_OP_SLICE, 1, 1, 0, check_slice},
    {BF_OP_MAXPOOL, 1, 1, 0, check_maxpool}, {BF_OP_UPSAMPLE, 1, 1, 0, check_upsample},
};

const bf_op_rule *bf_op_rule_of(uint32_t op)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].op == op)
            return &rules[i];
    return NULL;
}
