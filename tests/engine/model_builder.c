/* model_builder.c - synthetic .bfm writer (see model_builder.h). */
#include "model_builder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
    fprintf(stderr, "model_builder: %s\n", what);
    abort();
}

void mb_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void mb_put_u64(uint8_t *p, uint64_t v)
{
    mb_put_u32(p, (uint32_t)v);
    mb_put_u32(p + 4, (uint32_t)(v >> 32));
}

uint32_t mb_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_i32(uint8_t *p, int32_t v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    mb_put_u32(p, u);
}

static void put_f32(uint8_t *p, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    mb_put_u32(p, u);
}

/* Bitwise CRC-32 (zlib polynomial): deliberately not the core's table code. */
uint32_t mb_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

void mb_fix_crc(uint8_t *buf, size_t size)
{
    if (size >= 4)
        mb_put_u32(buf + size - 4, mb_crc32(buf, size - 4));
}

static size_t elem_size(uint32_t dtype)
{
    return dtype == MB_I32 || dtype == MB_F32 ? 4 : 1;
}

uint32_t mb_add_tensor(mb_model *mb, const char *name, uint32_t dtype, uint32_t ndim, const uint32_t *dims,
                       const void *data)
{
    if (mb->n_tensors >= MB_MAX)
        die("too many tensors");
    mb_tensor *t = &mb->tensors[mb->n_tensors];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dtype;
    t->ndim = ndim;
    size_t n = 1;
    for (uint32_t d = 0; d < 4; d++) {
        t->dims[d] = d < ndim ? dims[d] : 1;
        n *= t->dims[d];
    }
    t->nbytes = n * elem_size(dtype);
    t->data = malloc(t->nbytes);
    if (t->data == NULL)
        die("out of memory");
    memcpy(t->data, data, t->nbytes);
    return mb->n_tensors++;
}

static uint32_t add_value(mb_model *mb, uint32_t channels, uint32_t stride, uint32_t dtype, uint32_t producer)
{
    if (mb->n_values >= MB_MAX)
        die("too many values");
    mb_value *v = &mb->values[mb->n_values];
    v->channels = channels;
    v->stride = stride;
    v->dtype = dtype;
    v->producer = producer;
    v->zero_point = 0;
    v->scale = 0.05f;
    return mb->n_values++;
}

static mb_layer *new_layer(mb_model *mb, uint32_t op, uint32_t n_inputs, const uint32_t *ins)
{
    if (mb->n_layers >= MB_MAX)
        die("too many layers");
    mb_layer *l = &mb->layers[mb->n_layers];
    memset(l, 0, sizeof *l);
    l->op = op;
    l->n_inputs = n_inputs;
    for (int j = 0; j < 8; j++) {
        l->inputs[j] = (uint32_t)j < n_inputs ? ins[j] : MB_NONE;
        l->tensors[j] = MB_NONE;
    }
    return l;
}

static uint32_t finish_layer(mb_model *mb, mb_layer *l, uint32_t channels, uint32_t stride, uint32_t dtype)
{
    uint32_t index = (uint32_t)(l - mb->layers);
    l->output = add_value(mb, channels, stride, dtype, index);
    mb->n_layers++;
    return l->output;
}

mb_model *mb_create(uint32_t num_classes, uint32_t reg_max, uint32_t default_size, uint64_t seed)
{
    mb_model *mb = calloc(1, sizeof *mb);
    if (mb == NULL)
        die("out of memory");
    mb->num_classes = num_classes;
    mb->reg_max = reg_max;
    mb->default_input_size = default_size;
    mb->weight_zero_pct = 34;
    rng_init(&mb->r, seed);
    uint32_t v0 = add_value(mb, 3, 1, MB_I8, MB_NONE);
    mb->values[v0].zero_point = -128;
    mb->values[v0].scale = 1.0f / 255.0f;
    /* class names "c0\nc1\n..." */
    char *names = malloc((size_t)num_classes * 8 + 1);
    if (names == NULL)
        die("out of memory");
    size_t len = 0;
    for (uint32_t c = 0; c < num_classes; c++)
        len += (size_t)sprintf(names + len, "c%u\n", c);
    uint32_t dims[1] = {(uint32_t)len};
    mb_add_tensor(mb, "meta.class_names", MB_U8, 1, dims, names);
    free(names);
    return mb;
}

void mb_free(mb_model *mb)
{
    if (mb == NULL)
        return;
    for (uint32_t i = 0; i < mb->n_tensors; i++)
        free(mb->tensors[i].data);
    for (uint32_t i = 0; i < mb->n_layers; i++)
        free(mb->layers[i].w);
    free(mb);
}

/* A random (mult, shift) whose ratio is about `target`, mult < 2^31. */
static void random_scale(rng *r, double target, int32_t *mult, int32_t *shift)
{
    if (rng_int(r, 0, 99) < 4) { /* edges: shift 0 */
        *shift = 0;
        *mult = rng_int(r, 0, 1);
        return;
    }
    int max_shift = (int)floor(log2(2147483647.0 / target));
    if (max_shift > 62)
        max_shift = 62;
    int lo = max_shift < 8 ? max_shift : 8;
    int s = rng_int(r, lo, max_shift);
    double m = floor(target * ldexp(1.0, s) + 0.5);
    if (m > 2147483647.0)
        m = 2147483647.0;
    *shift = s;
    *mult = (int32_t)m;
}

int mb_pack_planes(const int8_t *q, size_t n, size_t k, int terms, uint8_t *out)
{
    const size_t row_bytes = (k + 63) / 64 * 16;
    for (size_t o = 0; o < n; o++)
        for (size_t i = 0; i < k; i++) {
            int v = q[o * k + i];
            for (int t = 0; t < terms; t++) {
                /* the balanced-ternary digit: d = v mod 3 in {-1, 0, 1} */
                int d = ((v % 3) + 3) % 3;
                if (d == 2)
                    d = -1;
                v = (v - d) / 3;
                unsigned code = d == 0 ? 0u : d > 0 ? 1u : 2u;
                out[((size_t)t * n + o) * row_bytes + i / 4] |= (uint8_t)(code << (2 * (i % 4)));
            }
            if (v != 0)
                return -1;
        }
    return 0;
}

uint32_t mb_conv(mb_model *mb, uint32_t in, int kh, int kw, int stride, int pad, int out_c, int act)
{
    return mb_conv_terms(mb, in, kh, kw, stride, pad, out_c, act, 1);
}

uint32_t mb_conv_terms(mb_model *mb, uint32_t in, int kh, int kw, int stride, int pad, int out_c, int act,
                       int terms)
{
    rng *r = &mb->r;
    int levels = 1;
    for (int t = 1; t < terms; t++)
        levels = 3 * levels + 1; /* (3^terms - 1) / 2 */
    const mb_value *iv = &mb->values[in];
    const int in_c = (int)iv->channels;
    const size_t k = (size_t)kh * (size_t)kw * (size_t)in_c;
    const size_t row_bytes = (k + 63) / 64 * 16;
    uint32_t ins[1] = {in};
    mb_layer *l = new_layer(mb, MB_CONV, 1, ins);
    const uint32_t li = (uint32_t)(l - mb->layers);
    int32_t p[8] = {kh, kw, stride, pad, in_c, out_c, act, terms};
    memcpy(l->params, p, sizeof p);

    l->w = malloc((size_t)out_c * k);
    uint8_t *packed = calloc((size_t)terms * (size_t)out_c, row_bytes);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)out_c);
    int32_t *mult = malloc(sizeof(int32_t) * (size_t)out_c);
    int32_t *shift = malloc(sizeof(int32_t) * (size_t)out_c);
    float *dq = malloc(sizeof(float) * (size_t)out_c);
    if (l->w == NULL || packed == NULL || bias == NULL || mult == NULL || shift == NULL || dq == NULL)
        die("out of memory");
    const double sk = sqrt((double)k);
    for (int o = 0; o < out_c; o++) {
        for (size_t i = 0; i < k; i++) {
            int w = rng_int(r, 0, 99) < mb->weight_zero_pct ? 0 : (rng_int(r, 0, 1) ? 1 : -1);
            if (terms > 1 && w != 0) /* any magnitude, the extreme L often */
                w *= rng_int(r, 0, 9) == 0 ? levels : rng_int(r, 1, levels);
            l->w[(size_t)o * k + i] = (int8_t)w;
        }
        int span = (int)(40.0 * sk * levels);
        bias[o] = rng_int(r, -span, span);
        /* outputs of a useful spread: |q| averages about L / 2 */
        random_scale(r, (0.5 + 0.8 * rng_unit(r)) / sk / (terms > 1 ? 0.5 * levels : 1.0), &mult[o], &shift[o]);
        dq[o] = (float)(0.002 + 0.02 * rng_unit(r));
    }
    if (mb_pack_planes(l->w, (size_t)out_c, k, terms, packed) != 0)
        die("weight out of range");
    char name[64];
    uint32_t dims[2] = {(uint32_t)out_c, (uint32_t)row_bytes};
    uint32_t wdims[2] = {(uint32_t)(terms * out_c), (uint32_t)row_bytes};
    snprintf(name, sizeof name, "layer%u.weight", li);
    l->tensors[0] = mb_add_tensor(mb, name, MB_T2, 2, wdims, packed);
    snprintf(name, sizeof name, "layer%u.bias", li);
    l->tensors[1] = mb_add_tensor(mb, name, MB_I32, 1, dims, bias);
    if (act != 2) {
        snprintf(name, sizeof name, "layer%u.mult", li);
        l->tensors[2] = mb_add_tensor(mb, name, MB_I32, 1, dims, mult);
        snprintf(name, sizeof name, "layer%u.shift", li);
        l->tensors[3] = mb_add_tensor(mb, name, MB_I32, 1, dims, shift);
    }
    if (act == 1) {
        int8_t table[256];
        double s_pre = 0.02 + 0.08 * rng_unit(r), s_out = s_pre * (0.5 + 0.5 * rng_unit(r));
        for (int i = 0; i < 256; i++) {
            double x = (i - 128) * s_pre;
            double v = floor(x / (1.0 + exp(-x)) / s_out + 0.5);
            table[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
        }
        uint32_t tdims[1] = {256};
        snprintf(name, sizeof name, "layer%u.silu", li);
        l->tensors[4] = mb_add_tensor(mb, name, MB_I8, 1, tdims, table);
    }
    if (act == 2) {
        snprintf(name, sizeof name, "layer%u.dequant", li);
        l->tensors[5] = mb_add_tensor(mb, name, MB_F32, 1, dims, dq);
    }
    free(packed);
    free(bias);
    free(mult);
    free(shift);
    free(dq);
    return finish_layer(mb, l, (uint32_t)out_c, iv->stride * (uint32_t)stride, act == 2 ? MB_I32 : MB_I8);
}

uint32_t mb_add(mb_model *mb, uint32_t a, uint32_t b)
{
    uint32_t ins[2] = {a, b};
    mb_layer *l = new_layer(mb, MB_ADD, 2, ins);
    int s = rng_int(&mb->r, 0, 24);
    l->params[2] = s;
    for (int i = 0; i < 2; i++)
        l->params[i] = s == 0 ? rng_int(&mb->r, 0, 1) : (int32_t)floor(ldexp(0.4 + 0.7 * rng_unit(&mb->r), s));
    return finish_layer(mb, l, mb->values[a].channels, mb->values[a].stride, MB_I8);
}

uint32_t mb_concat(mb_model *mb, int n, const uint32_t *ins)
{
    mb_layer *l = new_layer(mb, MB_CONCAT, (uint32_t)n, ins);
    uint32_t total = 0;
    for (int i = 0; i < n; i++) {
        total += mb->values[ins[i]].channels;
        int s = rng_int(&mb->r, 0, 20);
        l->params[2 * i + 1] = s;
        if (rng_int(&mb->r, 0, 1))
            l->params[2 * i] = 1 << s; /* exact copy */
        else
            l->params[2 * i] = s == 0 ? rng_int(&mb->r, 0, 1) : (int32_t)floor(ldexp(0.3 + 1.2 * rng_unit(&mb->r), s));
    }
    return finish_layer(mb, l, total, mb->values[ins[0]].stride, MB_I8);
}

uint32_t mb_slice(mb_model *mb, uint32_t in, int first, int count)
{
    mb_layer *l = new_layer(mb, MB_SLICE, 1, &in);
    l->params[0] = first;
    l->params[1] = count;
    return finish_layer(mb, l, (uint32_t)count, mb->values[in].stride, MB_I8);
}

uint32_t mb_maxpool(mb_model *mb, uint32_t in, int k, int stride, int pad)
{
    mb_layer *l = new_layer(mb, MB_MAXPOOL, 1, &in);
    l->params[0] = k;
    l->params[1] = stride;
    l->params[2] = pad;
    return finish_layer(mb, l, mb->values[in].channels, mb->values[in].stride * (uint32_t)stride, MB_I8);
}

uint32_t mb_upsample(mb_model *mb, uint32_t in, int factor)
{
    mb_layer *l = new_layer(mb, MB_UPSAMPLE, 1, &in);
    l->params[0] = factor;
    return finish_layer(mb, l, mb->values[in].channels, mb->values[in].stride / (uint32_t)factor, MB_I8);
}

void mb_output_pair(mb_model *mb, uint32_t box, uint32_t cls)
{
    uint32_t vals[2] = {box, cls};
    for (int i = 0; i < 2; i++) {
        const mb_value *v = &mb->values[vals[i]];
        float *dq = malloc(sizeof(float) * v->channels);
        if (dq == NULL)
            die("out of memory");
        for (uint32_t c = 0; c < v->channels; c++)
            dq[c] = (float)(i == 0 ? 0.004 + 0.03 * rng_unit(&mb->r) : 0.001 + 0.012 * rng_unit(&mb->r));
        char name[64];
        snprintf(name, sizeof name, "output%u.dequant", mb->n_outputs);
        uint32_t dims[1] = {v->channels};
        mb_output *o = &mb->outputs[mb->n_outputs];
        o->value = vals[i];
        o->kind = (uint32_t)i;
        o->stride = v->stride;
        o->dequant = mb_add_tensor(mb, name, MB_F32, 1, dims, dq);
        mb->n_outputs++;
        free(dq);
    }
}

void mb_head(mb_model *mb, uint32_t from)
{
    uint32_t box = mb_conv(mb, from, 1, 1, 1, 0, (int)(4 * mb->reg_max), 2);
    uint32_t cls = mb_conv(mb, from, 1, 1, 1, 0, (int)mb->num_classes, 2);
    mb_output_pair(mb, box, cls);
}

size_t mb_tensor_entry(const mb_model *mb, uint32_t i)
{
    (void)mb;
    return 64 + (size_t)i * 128;
}
size_t mb_value_entry(const mb_model *mb, uint32_t i)
{
    return 64 + (size_t)mb->n_tensors * 128 + (size_t)i * 32;
}
size_t mb_layer_entry(const mb_model *mb, uint32_t i)
{
    return mb_value_entry(mb, mb->n_values) + (size_t)i * 144;
}
size_t mb_output_entry(const mb_model *mb, uint32_t i)
{
    return mb_layer_entry(mb, mb->n_layers) + (size_t)i * 16;
}

uint8_t *mb_serialize(mb_model *mb, size_t *size)
{
    size_t end = mb_output_entry(mb, mb->n_outputs);
    size_t at = end;
    for (uint32_t i = 0; i < mb->n_tensors; i++) {
        at = (at + 63) / 64 * 64;
        mb->tensors[i].offset = at;
        at += mb->tensors[i].nbytes;
    }
    size_t total = at + 4;
    uint8_t *buf = calloc(1, total);
    if (buf == NULL)
        die("out of memory");
    memcpy(buf, "BFLC", 4);
    mb_put_u32(buf + 4, 1);
    mb_put_u32(buf + 8, 0x01020304u);
    mb_put_u32(buf + 12, 64);
    mb_put_u64(buf + 16, total);
    mb_put_u32(buf + 24, mb->n_tensors);
    mb_put_u32(buf + 28, mb->n_values);
    mb_put_u32(buf + 32, mb->n_layers);
    mb_put_u32(buf + 36, mb->n_outputs);
    mb_put_u32(buf + 40, mb->num_classes);
    mb_put_u32(buf + 44, mb->reg_max);
    mb_put_u32(buf + 48, mb->default_input_size);
    for (uint32_t i = 0; i < mb->n_tensors; i++) {
        const mb_tensor *t = &mb->tensors[i];
        uint8_t *e = buf + mb_tensor_entry(mb, i);
        memcpy(e, t->name, strnlen(t->name, 64));
        mb_put_u32(e + 64, t->dtype);
        mb_put_u32(e + 68, t->ndim);
        for (int d = 0; d < 4; d++)
            mb_put_u32(e + 72 + 4 * d, t->dims[d]);
        mb_put_u64(e + 88, t->offset);
        mb_put_u64(e + 96, t->nbytes);
        memcpy(buf + t->offset, t->data, t->nbytes);
    }
    for (uint32_t i = 0; i < mb->n_values; i++) {
        const mb_value *v = &mb->values[i];
        uint8_t *e = buf + mb_value_entry(mb, i);
        mb_put_u32(e, v->channels);
        mb_put_u32(e + 4, v->stride);
        put_i32(e + 8, v->zero_point);
        put_f32(e + 12, v->scale);
        mb_put_u32(e + 16, v->dtype);
        mb_put_u32(e + 20, v->producer);
    }
    for (uint32_t i = 0; i < mb->n_layers; i++) {
        const mb_layer *l = &mb->layers[i];
        uint8_t *e = buf + mb_layer_entry(mb, i);
        mb_put_u32(e, l->op);
        mb_put_u32(e + 4, l->n_inputs);
        for (int j = 0; j < 8; j++)
            mb_put_u32(e + 8 + 4 * j, l->inputs[j]);
        mb_put_u32(e + 40, l->output);
        for (int j = 0; j < 16; j++)
            put_i32(e + 48 + 4 * j, l->params[j]);
        for (int j = 0; j < 8; j++)
            mb_put_u32(e + 112 + 4 * j, l->tensors[j]);
    }
    for (uint32_t i = 0; i < mb->n_outputs; i++) {
        const mb_output *o = &mb->outputs[i];
        uint8_t *e = buf + mb_output_entry(mb, i);
        mb_put_u32(e, o->value);
        mb_put_u32(e + 4, o->kind);
        mb_put_u32(e + 8, o->stride);
        mb_put_u32(e + 12, o->dequant);
    }
    mb_fix_crc(buf, total);
    *size = total;
    return buf;
}

int mb_write(mb_model *mb, const char *path)
{
    size_t n;
    uint8_t *buf = mb_serialize(mb, &n);
    int rc = write_file(path, buf, n);
    free(buf);
    return rc;
}

static mb_model *graph_yolo(uint64_t seed)
{
    mb_model *mb = mb_create(5, 16, 64, seed);
    uint32_t x1 = mb_conv(mb, 0, 3, 3, 2, 1, 8, 1);
    uint32_t x2 = mb_conv(mb, x1, 3, 3, 2, 1, 16, 1);
    /* C2f: 1x1, split, bottleneck with residual, concat, 1x1 */
    uint32_t y = mb_conv(mb, x2, 1, 1, 1, 0, 16, 1);
    uint32_t a = mb_slice(mb, y, 0, 8), b = mb_slice(mb, y, 8, 8);
    uint32_t t = mb_conv(mb, b, 3, 3, 1, 1, 8, 1);
    uint32_t t2 = mb_conv(mb, t, 3, 3, 1, 1, 8, 0);
    uint32_t r = mb_add(mb, b, t2);
    uint32_t c3[3] = {a, b, r};
    uint32_t cat = mb_concat(mb, 3, c3);
    uint32_t p2 = mb_conv(mb, cat, 1, 1, 1, 0, 16, 1);
    uint32_t x3 = mb_conv(mb, p2, 3, 3, 2, 1, 24, 1);
    uint32_t x4 = mb_conv(mb, x3, 3, 3, 2, 1, 32, 1);
    uint32_t x5 = mb_conv(mb, x4, 3, 3, 2, 1, 32, 1);
    /* SPPF */
    uint32_t s = mb_conv(mb, x5, 1, 1, 1, 0, 16, 1);
    uint32_t m1 = mb_maxpool(mb, s, 5, 1, 2), m2 = mb_maxpool(mb, m1, 5, 1, 2), m3 = mb_maxpool(mb, m2, 5, 1, 2);
    uint32_t c4[4] = {s, m1, m2, m3};
    uint32_t p5 = mb_conv(mb, mb_concat(mb, 4, c4), 1, 1, 1, 0, 32, 1);
    /* neck */
    uint32_t c5[2] = {mb_upsample(mb, p5, 2), x4};
    uint32_t n4 = mb_conv(mb, mb_concat(mb, 2, c5), 3, 3, 1, 1, 24, 1);
    uint32_t c6[2] = {mb_upsample(mb, n4, 2), x3};
    uint32_t n3 = mb_conv(mb, mb_concat(mb, 2, c6), 3, 3, 1, 1, 16, 1);
    /* heads: a 3x3 SiLU conv, then raw 1x1 box and class convs */
    mb_head(mb, mb_conv(mb, n3, 3, 3, 1, 1, 16, 1));
    mb_head(mb, mb_conv(mb, n4, 3, 3, 1, 1, 16, 1));
    mb_head(mb, mb_conv(mb, p5, 3, 3, 1, 1, 16, 1));
    return mb;
}

static mb_model *graph_odd(uint64_t seed)
{
    mb_model *mb = mb_create(3, 4, 64, seed);
    uint32_t a = mb_conv(mb, 0, 7, 7, 4, 2, 13, 1);  /* s4 */
    uint32_t b = mb_conv(mb, a, 1, 2, 2, 0, 7, 0);   /* s8, asymmetric */
    uint32_t c = mb_conv(mb, b, 1, 1, 2, 0, 5, 1);   /* s16, 1x1 stride 2 */
    uint32_t d = mb_conv(mb, c, 5, 5, 1, 2, 11, 1);  /* s16 */
    uint32_t e = mb_conv(mb, d, 4, 4, 2, 1, 9, 0);   /* s32, even kernel */
    uint32_t f = mb_maxpool(mb, e, 3, 1, 1);
    uint32_t g = mb_maxpool(mb, d, 2, 2, 0);         /* s32 */
    uint32_t h = mb_upsample(mb, e, 4);              /* s8 */
    uint32_t c3[3] = {b, h, b};
    uint32_t cat = mb_concat(mb, 3, c3);             /* 23 channels */
    uint32_t add = mb_add(mb, cat, mb_conv(mb, cat, 3, 3, 1, 1, 23, 0));
    uint32_t sl = mb_slice(mb, add, 3, 17);
    uint32_t q = mb_conv(mb, sl, 5, 5, 4, 1, 6, 1);  /* s32, stride-4 */
    uint32_t c2[3] = {f, g, q};
    uint32_t top = mb_concat(mb, 3, c2);
    mb_head(mb, sl);
    mb_head(mb, top);
    return mb;
}

/* The YOLO-like graph with multi-ternary layers: k = 3 on the first conv
 * (input zero point -128 on its padding), 2 on a stride-2 conv, 5 on a 3x3
 * and on a 1x1 direct conv, 4 on a linear conv inside the residual, and k > 1
 * on raw head convs (the int32 output accumulates the planes itself). */
static mb_model *graph_terms(uint64_t seed)
{
    mb_model *mb = mb_create(5, 16, 64, seed);
    uint32_t x1 = mb_conv_terms(mb, 0, 3, 3, 2, 1, 8, 1, 3);
    uint32_t x2 = mb_conv_terms(mb, x1, 3, 3, 2, 1, 16, 1, 2);
    uint32_t y = mb_conv_terms(mb, x2, 1, 1, 1, 0, 16, 1, 5);
    uint32_t a = mb_slice(mb, y, 0, 8), b = mb_slice(mb, y, 8, 8);
    uint32_t t = mb_conv_terms(mb, b, 3, 3, 1, 1, 8, 1, 5);
    uint32_t t2 = mb_conv_terms(mb, t, 3, 3, 1, 1, 8, 0, 4);
    uint32_t r = mb_add(mb, b, t2);
    uint32_t c3[3] = {a, b, r};
    uint32_t p2 = mb_conv(mb, mb_concat(mb, 3, c3), 1, 1, 1, 0, 16, 1);
    uint32_t x3 = mb_conv_terms(mb, p2, 3, 3, 2, 1, 24, 1, 3);
    uint32_t x4 = mb_conv(mb, x3, 3, 3, 2, 1, 32, 1);
    uint32_t x5 = mb_conv_terms(mb, x4, 3, 3, 2, 1, 32, 1, 2);
    uint32_t s = mb_conv(mb, x5, 1, 1, 1, 0, 16, 1);
    uint32_t m1 = mb_maxpool(mb, s, 5, 1, 2), m2 = mb_maxpool(mb, m1, 5, 1, 2), m3 = mb_maxpool(mb, m2, 5, 1, 2);
    uint32_t c4[4] = {s, m1, m2, m3};
    uint32_t p5 = mb_conv_terms(mb, mb_concat(mb, 4, c4), 1, 1, 1, 0, 32, 1, 3);
    uint32_t c5[2] = {mb_upsample(mb, p5, 2), x4};
    uint32_t n4 = mb_conv_terms(mb, mb_concat(mb, 2, c5), 3, 3, 1, 1, 24, 1, 2);
    uint32_t c6[2] = {mb_upsample(mb, n4, 2), x3};
    uint32_t n3 = mb_conv(mb, mb_concat(mb, 2, c6), 3, 3, 1, 1, 16, 1);
    /* heads: box raw with k = 3, class raw with k = 2 at stride 8; k = 5 and
     * plain at 16; plain and k = 1 / 4 at 32 */
    const int box_terms[3] = {3, 5, 1}, cls_terms[3] = {2, 1, 4};
    const uint32_t from[3] = {n3, n4, p5};
    for (int h = 0; h < 3; h++) {
        uint32_t f = mb_conv_terms(mb, from[h], 3, 3, 1, 1, 16, 1, h == 1 ? 2 : 1);
        uint32_t box = mb_conv_terms(mb, f, 1, 1, 1, 0, (int)(4 * mb->reg_max), 2, box_terms[h]);
        uint32_t cls = mb_conv_terms(mb, f, 1, 1, 1, 0, (int)mb->num_classes, 2, cls_terms[h]);
        mb_output_pair(mb, box, cls);
    }
    return mb;
}

mb_model *mb_build_test_graph(int variant, uint64_t seed)
{
    return variant == 0 ? graph_yolo(seed) : variant == 1 ? graph_odd(seed) : graph_terms(seed);
}
