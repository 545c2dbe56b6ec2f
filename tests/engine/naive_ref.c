/* naive_ref.c - see naive_ref.h. Deliberately slow and direct. */
#include "naive_ref.h"

#include <stdlib.h>
#include <string.h>

int64_t naive_rshift_round(int64_t v, int s)
{
    if (s == 0)
        return v;
    int64_t d = (int64_t)1 << s;
    int64_t q = v + d / 2;
    /* floor(q / d) for either sign */
    return q >= 0 ? q / d : -((-q + d - 1) / d);
}

int naive_clamp8(int64_t v)
{
    if (v < -128)
        return -128;
    if (v > 127)
        return 127;
    return (int)v;
}

static int32_t t_i32(const mb_model *mb, uint32_t t, int i)
{
    int32_t v;
    memcpy(&v, mb->tensors[t].data + 4 * (size_t)i, 4);
    return v;
}

void **naive_run(const mb_model *mb, int S, const int8_t *input)
{
    void **vals = calloc(mb->n_values, sizeof *vals);
    int hw0 = S;
    vals[0] = malloc((size_t)hw0 * hw0 * 3);
    memcpy(vals[0], input, (size_t)hw0 * hw0 * 3);
    for (uint32_t li = 0; li < mb->n_layers; li++) {
        const mb_layer *l = &mb->layers[li];
        const mb_value *iv = &mb->values[l->inputs[0]], *ov = &mb->values[l->output];
        const int H = S / (int)iv->stride, W = H, C = (int)iv->channels;
        const int OH = S / (int)ov->stride, OW = OH, OC = (int)ov->channels;
        const size_t esz = ov->dtype == MB_I32 ? 4 : 1;
        void *outv = malloc((size_t)OH * OW * OC * esz);
        const int8_t *x = vals[l->inputs[0]];
        int8_t *y8 = outv;
        int32_t *y32 = outv;
        const int32_t *p = l->params;
        switch (l->op) {
        case MB_CONV: {
            const int kh = p[0], kw = p[1], st = p[2], pad = p[3], act = p[6];
            const int zp = iv->zero_point;
            const size_t K = (size_t)kh * kw * C;
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++)
                    for (int o = 0; o < OC; o++) {
                        int64_t acc = t_i32(mb, l->tensors[1], o);
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++)
                                for (int ic = 0; ic < C; ic++) {
                                    int iy = oy * st + ky - pad, ix = ox * st + kx - pad;
                                    int xv = (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                                 ? zp
                                                 : x[((size_t)iy * W + ix) * C + ic];
                                    int w = l->w[(size_t)o * K + ((size_t)ky * kw + kx) * C + ic];
                                    acc += (int64_t)w * xv;
                                }
                        size_t at = ((size_t)oy * OW + ox) * OC + o;
                        if (act == 2) {
                            y32[at] = (int32_t)acc;
                        } else {
                            int q = naive_clamp8(naive_rshift_round(acc * t_i32(mb, l->tensors[2], o),
                                                                    t_i32(mb, l->tensors[3], o)));
                            if (act == 1)
                                q = ((const int8_t *)mb->tensors[l->tensors[4]].data)[q + 128];
                            y8[at] = (int8_t)q;
                        }
                    }
            break;
        }
        case MB_ADD: {
            const int8_t *b = vals[l->inputs[1]];
            for (size_t i = 0; i < (size_t)OH * OW * OC; i++)
                y8[i] = (int8_t)naive_clamp8(
                    naive_rshift_round((int64_t)x[i] * p[0] + (int64_t)b[i] * p[1], p[2]));
            break;
        }
        case MB_CONCAT:
            for (int yy = 0; yy < OH; yy++)
                for (int xx = 0; xx < OW; xx++) {
                    int oc = 0;
                    for (uint32_t j = 0; j < l->n_inputs; j++) {
                        const int8_t *src = vals[l->inputs[j]];
                        int cj = (int)mb->values[l->inputs[j]].channels;
                        for (int c = 0; c < cj; c++, oc++)
                            y8[((size_t)yy * OW + xx) * OC + oc] = (int8_t)naive_clamp8(naive_rshift_round(
                                (int64_t)src[((size_t)yy * OW + xx) * cj + c] * p[2 * j], p[2 * j + 1]));
                    }
                }
            break;
        case MB_SLICE:
            for (size_t px = 0; px < (size_t)OH * OW; px++)
                for (int c = 0; c < OC; c++)
                    y8[px * OC + c] = x[px * C + p[0] + c];
            break;
        case MB_MAXPOOL:
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++)
                    for (int c = 0; c < OC; c++) {
                        int best = -1000;
                        for (int ky = 0; ky < p[0]; ky++)
                            for (int kx = 0; kx < p[0]; kx++) {
                                int iy = oy * p[1] + ky - p[2], ix = ox * p[1] + kx - p[2];
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                    continue;
                                int v = x[((size_t)iy * W + ix) * C + c];
                                if (v > best)
                                    best = v;
                            }
                        y8[((size_t)oy * OW + ox) * OC + c] = (int8_t)best;
                    }
            break;
        case MB_UPSAMPLE:
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++)
                    for (int c = 0; c < OC; c++)
                        y8[((size_t)oy * OW + ox) * OC + c] = x[((size_t)(oy / p[0]) * W + ox / p[0]) * C + c];
            break;
        }
        vals[l->output] = outv;
    }
    return vals;
}

void naive_free(const mb_model *mb, void **values)
{
    if (values == NULL)
        return;
    for (uint32_t v = 0; v < mb->n_values; v++)
        free(values[v]);
    free(values);
}
