/*
 * model.c - opening and validating .bfm files.
 *
 * The file is untrusted input. Every field is checked before anything else in
 * the engine reads it, in this order, so that the first message names the
 * most basic fault:
 *   1. size, magic, version, byte order, header size, file_size == real size
 *   2. CRC-32 over everything before the last 4 bytes
 *   3. header counts and reserved fields
 *   4. tensor table: names, dtypes, shapes, placement (aligned, in the data
 *      region, disjoint), zero padding, ternary codes
 *   5. value table, then the layer table in execution order (acyclic, one
 *      producer per value, per-op parameters and tensor roles, channels and
 *      strides recomputed from the producers)
 *   6. output table and class names
 * All arithmetic on file fields is done in 64 bits on values already bounded
 * by the caps of model.h, or with checked multiplication.
 *
 * bf_model_open reads the file into a private, aligned copy instead of
 * mapping it: a mapping would keep reading the file, so a model truncated
 * during a run gave SIGBUS and one rewritten in place ran unvalidated bytes.
 * With the copy, what was validated is what runs, whatever happens to the
 * file afterwards.
 */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "error.h"

/* ---- little-endian field access (the host may be either) ------------------ */

static uint32_t rd_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd_u64(const uint8_t *p)
{
    return (uint64_t)rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32;
}

static int32_t rd_i32(const uint8_t *p)
{
    uint32_t u = rd_u32(p);
    int32_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static float rd_f32(const uint8_t *p)
{
    uint32_t u = rd_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static int host_is_little_endian(void)
{
    const uint32_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ---- error context ------------------------------------------------------ */

typedef struct ctx {
    const char *name; /* file path, for every message */
    bf_error *err;
    const uint8_t *data;
    size_t size;
    bf_model *m;
} ctx;

/* Formats "name: cause" as a format error. */
static bf_status bad(ctx *c, const char *fmt, ...) BF_PRINTF(2, 3);
static bf_status bad(ctx *c, const char *fmt, ...)
{
    char cause[224];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cause, sizeof cause, fmt, ap);
    va_end(ap);
    return bf_fail(c->err, BF_ERR_FORMAT, "%s: %s", c->name, cause);
}

const char *bf_op_name(uint32_t op)
{
    switch (op) {
    case BF_OP_CONV: return "conv";
    case BF_OP_ADD: return "add";
    case BF_OP_CONCAT: return "concat";
    case BF_OP_SLICE: return "slice";
    case BF_OP_MAXPOOL: return "maxpool";
    case BF_OP_UPSAMPLE: return "upsample";
    }
    return "op?";
}

static const char *dtype_name(uint32_t dtype)
{
    switch (dtype) {
    case BF_DTYPE_I8: return "I8";
    case BF_DTYPE_U8: return "U8";
    case BF_DTYPE_I32: return "I32";
    case BF_DTYPE_F32: return "F32";
    case BF_DTYPE_T2: return "T2";
    }
    return "?";
}

static uint64_t dtype_size(uint32_t dtype)
{
    switch (dtype) {
    case BF_DTYPE_I8:
    case BF_DTYPE_U8:
    case BF_DTYPE_T2: return 1;
    case BF_DTYPE_I32:
    case BF_DTYPE_F32: return 4;
    }
    return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

/* ---- 1-3: header and checksum -------------------------------------------- */

static bf_status check_header(ctx *c)
{
    const uint8_t *h = c->data;
    if (c->size == 0)
        return bad(c, "empty file (0 bytes)");
    if (c->size < 4 || memcmp(h, BF_MAGIC, 4) != 0)
        return bad(c, "not a BitFalcon model (bad magic)");
    if (c->size < BF_HEADER_BYTES)
        return bad(c, "truncated: file has %zu bytes, less than the %u-byte header", c->size,
                   BF_HEADER_BYTES);
    uint32_t version = rd_u32(h + 4);
    if (version != BF_FORMAT_VERSION)
        return bad(c, "unsupported format version %u (this build reads version %u)", version,
                   BF_FORMAT_VERSION);
    uint32_t bom = rd_u32(h + 8);
    if (bom == 0x04030201u)
        return bad(c, "big-endian model file (byte order mark 04030201), only little-endian is supported");
    if (bom != BF_BYTE_ORDER_MARK)
        return bad(c, "bad byte order mark %08x (expected 01020304)", bom);
    uint32_t header_size = rd_u32(h + 12);
    if (header_size != BF_HEADER_BYTES)
        return bad(c, "bad header size %u (expected %u)", header_size, BF_HEADER_BYTES);
    uint64_t file_size = rd_u64(h + 16);
    if (file_size > c->size)
        return bad(c, "truncated: header says %llu bytes, file has %zu", (unsigned long long)file_size,
                   c->size);
    if (file_size < c->size)
        return bad(c, "trailing data: header says %llu bytes, file has %zu", (unsigned long long)file_size,
                   c->size);
    if (c->size < BF_HEADER_BYTES + 4)
        return bad(c, "truncated: no room for the checksum after the header");

    uint32_t stored = rd_u32(h + c->size - 4);
    uint32_t computed = bf_crc32(0, h, c->size - 4);
    if (stored != computed)
        return bad(c, "checksum mismatch (stored %08x, computed %08x)", stored, computed);

    bf_model *m = c->m;
    m->n_tensors = rd_u32(h + 24);
    m->n_values = rd_u32(h + 28);
    m->n_layers = rd_u32(h + 32);
    m->n_outputs = rd_u32(h + 36);
    m->num_classes = rd_u32(h + 40);
    m->reg_max = rd_u32(h + 44);
    m->default_input_size = rd_u32(h + 48);
    uint32_t flags = rd_u32(h + 52);
    if (m->n_tensors < 1 || m->n_tensors > BF_MAX_TENSORS)
        return bad(c, "tensor count %u outside 1..%u", m->n_tensors, BF_MAX_TENSORS);
    if (m->n_values < 2 || m->n_values > BF_MAX_VALUES)
        return bad(c, "value count %u outside 2..%u", m->n_values, BF_MAX_VALUES);
    if (m->n_layers < 1 || m->n_layers > BF_MAX_LAYERS)
        return bad(c, "layer count %u outside 1..%u", m->n_layers, BF_MAX_LAYERS);
    if (m->n_outputs < 1 || m->n_outputs > BF_MAX_OUTPUTS)
        return bad(c, "output count %u outside 1..%u", m->n_outputs, BF_MAX_OUTPUTS);
    if (m->num_classes < 1 || m->num_classes > BF_MAX_CLASSES)
        return bad(c, "class count %u outside 1..%u", m->num_classes, BF_MAX_CLASSES);
    if (m->reg_max < 1 || m->reg_max > BF_MAX_REG_MAX)
        return bad(c, "reg_max %u outside 1..%u", m->reg_max, BF_MAX_REG_MAX);
    if (m->default_input_size < BF_MIN_INPUT_SIZE || m->default_input_size > BF_MAX_INPUT_SIZE ||
        m->default_input_size % BF_INPUT_SIZE_STEP != 0)
        return bad(c, "default input size %u is not a multiple of 32 in %d..%d", m->default_input_size,
                   BF_MIN_INPUT_SIZE, BF_MAX_INPUT_SIZE);
    if (flags != 0)
        return bad(c, "unknown header flags %08x", flags);
    if (rd_u64(h + 56) != 0)
        return bad(c, "reserved header field is not zero");
    return BF_OK;
}

/* Byte offsets of the tables (bounded by the caps: no overflow possible). */
static uint64_t tensor_table_at(const bf_model *m) { (void)m; return BF_HEADER_BYTES; }
static uint64_t value_table_at(const bf_model *m)
{
    return tensor_table_at(m) + (uint64_t)m->n_tensors * BF_TENSOR_ENTRY_BYTES;
}
static uint64_t layer_table_at(const bf_model *m)
{
    return value_table_at(m) + (uint64_t)m->n_values * BF_VALUE_ENTRY_BYTES;
}
static uint64_t output_table_at(const bf_model *m)
{
    return layer_table_at(m) + (uint64_t)m->n_layers * BF_LAYER_ENTRY_BYTES;
}
static uint64_t tables_end(const bf_model *m)
{
    return output_table_at(m) + (uint64_t)m->n_outputs * BF_OUTPUT_ENTRY_BYTES;
}

/* ---- 4: tensors ----------------------------------------------------------- */

static int cmp_name(const void *a, const void *b)
{
    const bf_tensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static int cmp_offset(const void *a, const void *b)
{
    const bf_tensor *const *x = a, *const *y = b;
    if ((*x)->offset != (*y)->offset)
        return (*x)->offset < (*y)->offset ? -1 : 1;
    return 0;
}

static bf_status check_tensors(ctx *c)
{
    bf_model *m = c->m;
    const uint64_t data_begin = tables_end(m);
    const uint64_t data_end = c->size - 4; /* the CRC */
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const uint8_t *e = c->data + tensor_table_at(m) + (uint64_t)i * BF_TENSOR_ENTRY_BYTES;
        bf_tensor *t = &m->tensors[i];
        const uint8_t *nul = memchr(e, 0, BF_TENSOR_NAME_BYTES);
        if (nul == NULL)
            return bad(c, "tensor %u: name is not NUL-terminated", i);
        size_t len = (size_t)(nul - e);
        if (len == 0)
            return bad(c, "tensor %u: empty name", i);
        for (size_t k = 0; k < len; k++)
            if (e[k] < 0x20 || e[k] > 0x7e)
                return bad(c, "tensor %u: name has a non-printable byte 0x%02x", i, e[k]);
        if (!all_zero(nul, BF_TENSOR_NAME_BYTES - len))
            return bad(c, "tensor %u: name is not NUL-padded", i);
        memcpy(t->name, e, BF_TENSOR_NAME_BYTES);

        t->dtype = rd_u32(e + 64);
        t->ndim = rd_u32(e + 68);
        for (int d = 0; d < 4; d++)
            t->dims[d] = rd_u32(e + 72 + 4 * d);
        t->offset = rd_u64(e + 88);
        t->nbytes = rd_u64(e + 96);
        if (dtype_size(t->dtype) == 0)
            return bad(c, "tensor '%s': unknown dtype %u", t->name, t->dtype);
        if (t->ndim < 1 || t->ndim > 4)
            return bad(c, "tensor '%s': ndim %u outside 1..4", t->name, t->ndim);
        uint64_t count = 1;
        for (uint32_t d = 0; d < 4; d++) {
            if (d < t->ndim && t->dims[d] < 1)
                return bad(c, "tensor '%s': dimension %u is 0", t->name, d);
            if (d >= t->ndim && t->dims[d] != 1)
                return bad(c, "tensor '%s': unused dimension %u is %u, not 1", t->name, d, t->dims[d]);
            if (!bf_mul_u64(count, t->dims[d], &count))
                return bad(c, "tensor '%s': element count overflows", t->name);
        }
        uint64_t expect;
        if (!bf_mul_u64(count, dtype_size(t->dtype), &expect))
            return bad(c, "tensor '%s': byte size overflows", t->name);
        if (t->nbytes != expect)
            return bad(c, "tensor '%s': nbytes %llu, but %s dims give %llu", t->name,
                       (unsigned long long)t->nbytes, dtype_name(t->dtype), (unsigned long long)expect);
        if (t->dtype == BF_DTYPE_T2 && t->ndim != 2)
            return bad(c, "tensor '%s': T2 weights need dims [out_c, row_bytes], ndim is %u", t->name,
                       t->ndim);
        if (t->offset % BF_DATA_ALIGN != 0)
            return bad(c, "tensor '%s': offset %llu is not a multiple of %u", t->name,
                       (unsigned long long)t->offset, BF_DATA_ALIGN);
        if (t->offset < data_begin || t->offset > data_end || t->nbytes > data_end - t->offset)
            return bad(c, "tensor '%s': data [%llu, +%llu) lies outside the data region [%llu, %llu)",
                       t->name, (unsigned long long)t->offset, (unsigned long long)t->nbytes,
                       (unsigned long long)data_begin, (unsigned long long)data_end);
        if (!all_zero(e + 104, 24))
            return bad(c, "tensor '%s': reserved bytes are not zero", t->name);
        t->data = c->data + t->offset;
    }

    /* Unique names and disjoint data: sort pointers both ways. */
    const bf_tensor **order = malloc(sizeof *order * m->n_tensors);
    if (order == NULL)
        return bf_fail(c->err, BF_ERR_NOMEM, "%s: out of memory while validating", c->name);
    for (uint32_t i = 0; i < m->n_tensors; i++)
        order[i] = &m->tensors[i];
    qsort(order, m->n_tensors, sizeof *order, cmp_name);
    for (uint32_t i = 1; i < m->n_tensors; i++) {
        if (strcmp(order[i - 1]->name, order[i]->name) == 0) {
            bf_status st = bad(c, "duplicate tensor name '%s'", order[i]->name);
            free(order);
            return st;
        }
    }
    qsort(order, m->n_tensors, sizeof *order, cmp_offset);
    uint64_t cursor = data_begin; /* end of the previous tensor */
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const bf_tensor *t = order[i];
        if (t->offset < cursor) {
            bf_status st = bad(c, "tensor '%s' at %llu overlaps tensor '%s' ending at %llu", t->name,
                               (unsigned long long)t->offset, order[i - 1]->name,
                               (unsigned long long)cursor);
            free(order);
            return st;
        }
        if (!all_zero(c->data + cursor, (size_t)(t->offset - cursor))) {
            bf_status st = bad(c, "non-zero padding before tensor '%s'", t->name);
            free(order);
            return st;
        }
        cursor = t->offset + t->nbytes;
    }
    free(order);
    if (!all_zero(c->data + cursor, (size_t)(data_end - cursor)))
        return bad(c, "non-zero padding after the last tensor");

    /* Code 11 is not a weight; refuse it wherever it appears in a T2 tensor.
     * (b & b >> 1) has bit 2j set exactly when field j of b is 11. */
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const bf_tensor *t = &m->tensors[i];
        if (t->dtype != BF_DTYPE_T2)
            continue;
        for (uint64_t b = 0; b < t->nbytes; b++) {
            unsigned v = t->data[b];
            unsigned bad_fields = v & (v >> 1) & 0x55u;
            if (bad_fields != 0) {
                unsigned field = 0;
                while (!(bad_fields & (1u << (2 * field))))
                    field++;
                return bad(c, "tensor '%s': invalid ternary code 11 at row %llu, weight %llu", t->name,
                           (unsigned long long)(b / t->dims[1]),
                           (unsigned long long)(b % t->dims[1] * 4 + field));
            }
        }
    }
    return BF_OK;
}

/* ---- 5: values and layers ----------------------------------------------- */

static int valid_value_stride(uint32_t s)
{
    return s == 1 || s == 2 || s == 4 || s == 8 || s == 16 || s == 32;
}

static bf_status check_values(ctx *c)
{
    bf_model *m = c->m;
    for (uint32_t i = 0; i < m->n_values; i++) {
        const uint8_t *e = c->data + value_table_at(m) + (uint64_t)i * BF_VALUE_ENTRY_BYTES;
        bf_value *v = &m->values[i];
        v->channels = rd_u32(e);
        v->stride = rd_u32(e + 4);
        v->zero_point = rd_i32(e + 8);
        v->scale = rd_f32(e + 12);
        v->dtype = rd_u32(e + 16);
        v->producer = rd_u32(e + 20);
        if (v->channels < 1 || v->channels > BF_MAX_CHANNELS)
            return bad(c, "value %u: channels %u outside 1..%u", i, v->channels, BF_MAX_CHANNELS);
        if (!valid_value_stride(v->stride))
            return bad(c, "value %u: stride %u is not 1, 2, 4, 8, 16 or 32", i, v->stride);
        if (v->zero_point < -128 || v->zero_point > 127)
            return bad(c, "value %u: zero point %d outside -128..127", i, v->zero_point);
        if (!(isfinite(v->scale) && v->scale > 0.0f))
            return bad(c, "value %u: scale %g is not a positive finite number", i, (double)v->scale);
        if (v->dtype != BF_DTYPE_I8 && v->dtype != BF_DTYPE_I32)
            return bad(c, "value %u: dtype %u is neither I8 (1) nor I32 (3)", i, v->dtype);
        if (!all_zero(e + 24, 8))
            return bad(c, "value %u: reserved bytes are not zero", i);
        if (i == 0) {
            if (v->channels != 3 || v->stride != 1 || v->zero_point != -128 || v->dtype != BF_DTYPE_I8)
                return bad(c, "value 0 (the input) must be I8, 3 channels, stride 1, zero point -128 "
                              "(has %s, %u, %u, %d)",
                           dtype_name(v->dtype), v->channels, v->stride, v->zero_point);
            if (v->producer != BF_NONE)
                return bad(c, "value 0 (the input) has a producer (%u)", v->producer);
        } else {
            if (v->zero_point != 0)
                return bad(c, "value %u: zero point %d, only the input may be non-zero", i, v->zero_point);
            if (v->producer >= m->n_layers)
                return bad(c, "value %u: producer %u is not a layer (have %u)", i, v->producer,
                           m->n_layers);
        }
    }
    return BF_OK;
}

/* Checks that tensor slot `slot` of layer `li` names a tensor of `dtype` with
 * shape [d0] (d1 == 0) or [d0, d1]. */
static bf_status check_role(ctx *c, uint32_t li, const char *role, uint32_t index, uint32_t dtype,
                            uint32_t d0, uint32_t d1)
{
    const bf_model *m = c->m;
    const bf_layer *l = &m->layers[li];
    if (index == BF_NONE)
        return bad(c, "layer %u (%s): missing %s tensor", li, bf_op_name(l->op), role);
    if (index >= m->n_tensors)
        return bad(c, "layer %u (%s): %s tensor index %u out of range (have %u)", li, bf_op_name(l->op),
                   role, index, m->n_tensors);
    const bf_tensor *t = &m->tensors[index];
    if (t->dtype != dtype)
        return bad(c, "layer %u (%s): %s tensor '%s' is %s, expected %s", li, bf_op_name(l->op), role,
                   t->name, dtype_name(t->dtype), dtype_name(dtype));
    uint32_t ndim = d1 == 0 ? 1 : 2;
    if (t->ndim != ndim || t->dims[0] != d0 || (ndim == 2 && t->dims[1] != d1)) {
        if (ndim == 1)
            return bad(c, "layer %u (%s): %s tensor '%s' has shape [%u, %u, %u, %u]/%u, expected [%u]", li,
                       bf_op_name(l->op), role, t->name, t->dims[0], t->dims[1], t->dims[2], t->dims[3],
                       t->ndim, d0);
        return bad(c, "layer %u (%s): %s tensor '%s' has shape [%u, %u, %u, %u]/%u, expected [%u, %u]", li,
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

static bf_status check_conv(ctx *c, uint32_t li, uint32_t *out_c, uint32_t *out_stride, uint32_t *out_dtype)
{
    const bf_model *m = c->m;
    const bf_layer *l = &m->layers[li];
    const int32_t *p = l->params;
    const bf_value *in = &m->values[l->inputs[0]];
    int32_t kh = p[BF_CONV_KH], kw = p[BF_CONV_KW], st = p[BF_CONV_STRIDE], pad = p[BF_CONV_PAD];
    int32_t in_c = p[BF_CONV_IN_C], oc = p[BF_CONV_OUT_C], act = p[BF_CONV_ACT];
    if (kh < 1 || kh > BF_MAX_KERNEL || kw < 1 || kw > BF_MAX_KERNEL)
        return bad(c, "layer %u (conv): kernel %dx%d outside 1..%d", li, kh, kw, BF_MAX_KERNEL);
    if (st < 1 || st > BF_MAX_OP_STRIDE)
        return bad(c, "layer %u (conv): stride %d outside 1..%d", li, st, BF_MAX_OP_STRIDE);
    if (pad < 0 || pad >= kh || pad >= kw)
        return bad(c, "layer %u (conv): pad %d not below the kernel %dx%d", li, pad, kh, kw);
    if (!same_geometry(kh, st, pad) || !same_geometry(kw, st, pad))
        return bad(c, "layer %u (conv): kernel %dx%d, stride %d, pad %d do not give input/stride outputs",
                   li, kh, kw, st, pad);
    if (in_c < 1 || (uint32_t)in_c != in->channels)
        return bad(c, "layer %u (conv): in_c %d, but input value %u has %u channels", li, in_c,
                   l->inputs[0], in->channels);
    if (oc < 1 || oc > (int32_t)BF_MAX_CHANNELS)
        return bad(c, "layer %u (conv): out_c %d outside 1..%u", li, oc, BF_MAX_CHANNELS);
    if (act < BF_ACT_LINEAR || act > BF_ACT_RAW)
        return bad(c, "layer %u (conv): unknown activation %d", li, act);
    const int32_t terms = p[BF_CONV_N_TERMS];
    if (terms < 1 || terms > BF_MAX_TERMS)
        return bad(c, "layer %u (conv): n_terms %d outside 1..%d", li, terms, BF_MAX_TERMS);
    for (int i = 8; i < 16; i++)
        if (p[i] != 0)
            return bad(c, "layer %u (conv): unused param %d is %d, not 0", li, i, p[i]);

    const uint64_t k = (uint64_t)kh * (uint64_t)kw * (uint64_t)in_c;
    const uint64_t row_bytes = bf_t2_row_bytes(k);
    const uint32_t *t = l->tensors;
    bf_status st2;
    if (row_bytes > UINT32_MAX)
        return bad(c, "layer %u (conv): weight rows too long", li);
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
        return bad(c, "layer %u (conv): SiLU table given for activation %d", li, act);
    }
    if (act == BF_ACT_RAW) {
        if (t[BF_CONV_T_DEQUANT] != BF_NONE &&
            (st2 = check_role(c, li, "dequant", t[BF_CONV_T_DEQUANT], BF_DTYPE_F32, (uint32_t)oc, 0)) != BF_OK)
            return st2;
    } else if (t[BF_CONV_T_DEQUANT] != BF_NONE) {
        return bad(c, "layer %u (conv): dequant tensor given for activation %d", li, act);
    }
    for (int i = 6; i < 8; i++)
        if (t[i] != BF_NONE)
            return bad(c, "layer %u (conv): unused tensor slot %d is %u", li, i, t[i]);

    /* Weight rows (every plane's): codes 11 were refused per tensor; here the
     * padding past K. */
    const bf_tensor *w = &m->tensors[t[BF_CONV_T_WEIGHTS]];
    for (uint32_t o = 0; o < w_rows; o++) {
        const uint8_t *row = w->data + (uint64_t)o * row_bytes;
        uint64_t full = k / 4;
        int dirty = 0;
        if (k % 4 != 0) {
            unsigned used_bits = (unsigned)(k % 4) * 2;
            dirty = (row[full] >> used_bits) != 0;
            full++;
        }
        if (dirty || !all_zero(row + full, (size_t)(row_bytes - full))) {
            if (terms == 1)
                return bad(c, "layer %u (conv): weights '%s' row %u has non-zero padding weights", li, w->name,
                           o);
            return bad(c, "layer %u (conv): weights '%s' plane %u row %u has non-zero padding weights", li,
                       w->name, o / (uint32_t)oc, o % (uint32_t)oc);
        }
    }
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
                return bad(c, "layer %u (conv): bias[%d] = %lld lets the accumulator overflow int32", li, o,
                           (long long)b);
            return bad(c, "layer %u (conv): bias[%d] = %lld lets the accumulator overflow int32 "
                          "(n_terms %d: |acc| <= |bias| + 128 * K %llu * L %lld)",
                       li, o, (long long)b, terms, (unsigned long long)k, (long long)levels);
        }
    }
    if (t[BF_CONV_T_MULT] != BF_NONE) {
        const int32_t *mult = bf_tensor_i32(m, t[BF_CONV_T_MULT]);
        for (int32_t o = 0; o < oc; o++)
            if (mult[o] < 0)
                return bad(c, "layer %u (conv): mult[%d] = %d outside [0, 2^31)", li, o, mult[o]);
    }
    if (t[BF_CONV_T_SHIFT] != BF_NONE) {
        const int32_t *shift = bf_tensor_i32(m, t[BF_CONV_T_SHIFT]);
        for (int32_t o = 0; o < oc; o++)
            if (shift[o] < 0 || shift[o] > 62)
                return bad(c, "layer %u (conv): shift[%d] = %d outside 0..62", li, o, shift[o]);
    }
    if (t[BF_CONV_T_DEQUANT] != BF_NONE) {
        const float *dq = bf_tensor_f32(m, t[BF_CONV_T_DEQUANT]);
        for (int32_t o = 0; o < oc; o++)
            if (!isfinite(dq[o]))
                return bad(c, "layer %u (conv): dequant[%d] is not finite", li, o);
    }

    *out_c = (uint32_t)oc;
    *out_stride = in->stride * (uint32_t)st;
    *out_dtype = act == BF_ACT_RAW ? BF_DTYPE_I32 : BF_DTYPE_I8;
    return BF_OK;
}

static bf_status check_mult_shift(ctx *c, uint32_t li, const char *what, int32_t mult, int32_t shift)
{
    if (mult < 0)
        return bad(c, "layer %u (%s): %s mult %d outside [0, 2^31)", li, bf_op_name(c->m->layers[li].op),
                   what, mult);
    if (shift < 0 || shift > 62)
        return bad(c, "layer %u (%s): %s shift %d outside 0..62", li, bf_op_name(c->m->layers[li].op), what,
                   shift);
    return BF_OK;
}

static bf_status check_unused_params(ctx *c, uint32_t li, int from)
{
    const bf_layer *l = &c->m->layers[li];
    for (int i = from; i < 16; i++)
        if (l->params[i] != 0)
            return bad(c, "layer %u (%s): unused param %d is %d, not 0", li, bf_op_name(l->op), i,
                       l->params[i]);
    return BF_OK;
}

static bf_status check_layers(ctx *c)
{
    bf_model *m = c->m;
    /* Parse everything first: value producers refer forward to layers. */
    for (uint32_t i = 0; i < m->n_layers; i++) {
        const uint8_t *e = c->data + layer_table_at(m) + (uint64_t)i * BF_LAYER_ENTRY_BYTES;
        bf_layer *l = &m->layers[i];
        l->op = rd_u32(e);
        l->n_inputs = rd_u32(e + 4);
        for (int j = 0; j < 8; j++)
            l->inputs[j] = rd_u32(e + 8 + 4 * j);
        l->output = rd_u32(e + 40);
        if (rd_u32(e + 44) != 0)
            return bad(c, "layer %u: reserved field is not zero", i);
        for (int j = 0; j < 16; j++)
            l->params[j] = rd_i32(e + 48 + 4 * j);
        for (int j = 0; j < 8; j++)
            l->tensors[j] = rd_u32(e + 112 + 4 * j);
    }
    /* Each value other than 0 has exactly one producer: its `producer`
     * field names a layer whose output it is, and each layer's output names
     * a value whose producer is that layer. */
    for (uint32_t v = 1; v < m->n_values; v++) {
        uint32_t p = m->values[v].producer;
        if (m->layers[p].output != v)
            return bad(c, "value %u: producer layer %u writes value %u instead", v, p, m->layers[p].output);
    }

    for (uint32_t i = 0; i < m->n_layers; i++) {
        bf_layer *l = &m->layers[i];
        const char *op = bf_op_name(l->op);
        uint32_t min_in, max_in;
        switch (l->op) {
        case BF_OP_CONV:
        case BF_OP_SLICE:
        case BF_OP_MAXPOOL:
        case BF_OP_UPSAMPLE: min_in = max_in = 1; break;
        case BF_OP_ADD: min_in = max_in = 2; break;
        case BF_OP_CONCAT: min_in = 2, max_in = 8; break;
        default: return bad(c, "layer %u: unknown op %u", i, l->op);
        }
        if (l->n_inputs < min_in || l->n_inputs > max_in)
            return bad(c, "layer %u (%s): %u inputs, expected %u..%u", i, op, l->n_inputs, min_in, max_in);
        if (l->output == 0 || l->output >= m->n_values)
            return bad(c, "layer %u (%s): output value %u out of range 1..%u", i, op, l->output,
                       m->n_values - 1);
        if (m->values[l->output].producer != i)
            return bad(c, "layer %u (%s): output value %u names layer %u as its producer", i, op, l->output,
                       m->values[l->output].producer);
        for (uint32_t j = 0; j < 8; j++) {
            uint32_t v = l->inputs[j];
            if (j >= l->n_inputs) {
                if (v != BF_NONE)
                    return bad(c, "layer %u (%s): unused input slot %u is %u", i, op, j, v);
                continue;
            }
            if (v >= m->n_values)
                return bad(c, "layer %u (%s): input %u is value %u, out of range (have %u)", i, op, j, v,
                           m->n_values);
            if (v != 0 && m->values[v].producer >= i)
                return bad(c, "layer %u (%s): input %u is value %u, produced by layer %u, not earlier "
                              "(forward or cyclic reference)",
                           i, op, j, v, m->values[v].producer);
            if (m->values[v].dtype != BF_DTYPE_I8)
                return bad(c, "layer %u (%s): input %u is value %u of dtype %s, expected I8", i, op, j, v,
                           dtype_name(m->values[v].dtype));
        }
        if (l->op != BF_OP_CONV)
            for (int j = 0; j < 8; j++)
                if (l->tensors[j] != BF_NONE)
                    return bad(c, "layer %u (%s): tensor slot %d is %u, this op takes none", i, op, j,
                               l->tensors[j]);

        const bf_value *in0 = &m->values[l->inputs[0]];
        uint32_t oc = in0->channels, ostride = in0->stride, odtype = BF_DTYPE_I8;
        const int32_t *p = l->params;
        bf_status st;
        switch (l->op) {
        case BF_OP_CONV:
            if ((st = check_conv(c, i, &oc, &ostride, &odtype)) != BF_OK)
                return st;
            break;
        case BF_OP_ADD: {
            const bf_value *in1 = &m->values[l->inputs[1]];
            if (in1->channels != in0->channels || in1->stride != in0->stride)
                return bad(c, "layer %u (add): inputs differ in shape (%u ch /%u vs %u ch /%u)", i,
                           in0->channels, in0->stride, in1->channels, in1->stride);
            if ((st = check_mult_shift(c, i, "a", p[0], p[2])) != BF_OK ||
                (st = check_mult_shift(c, i, "b", p[1], p[2])) != BF_OK ||
                (st = check_unused_params(c, i, 3)) != BF_OK)
                return st;
            break;
        }
        case BF_OP_CONCAT: {
            uint32_t total = 0;
            for (uint32_t j = 0; j < l->n_inputs; j++) {
                const bf_value *in = &m->values[l->inputs[j]];
                if (in->stride != in0->stride)
                    return bad(c, "layer %u (concat): input %u has stride %u, input 0 has %u", i, j,
                               in->stride, in0->stride);
                total += in->channels; /* <= 8 * BF_MAX_CHANNELS: no overflow */
                if ((st = check_mult_shift(c, i, "input", p[2 * j], p[2 * j + 1])) != BF_OK)
                    return st;
            }
            if ((st = check_unused_params(c, i, (int)(2 * l->n_inputs))) != BF_OK)
                return st;
            oc = total;
            break;
        }
        case BF_OP_SLICE:
            if (p[0] < 0 || p[1] < 1 || (int64_t)p[0] + p[1] > (int64_t)in0->channels)
                return bad(c, "layer %u (slice): channels [%d, %d + %d) outside the input's %u", i, p[0],
                           p[0], p[1], in0->channels);
            if ((st = check_unused_params(c, i, 2)) != BF_OK)
                return st;
            oc = (uint32_t)p[1];
            break;
        case BF_OP_MAXPOOL:
            if (p[0] < 1 || p[0] > BF_MAX_KERNEL || p[1] < 1 || p[1] > BF_MAX_OP_STRIDE || p[2] < 0 ||
                p[2] >= p[0])
                return bad(c, "layer %u (maxpool): kernel %d, stride %d, pad %d out of range", i, p[0],
                           p[1], p[2]);
            if (!same_geometry(p[0], p[1], p[2]))
                return bad(c, "layer %u (maxpool): kernel %d, stride %d, pad %d do not give input/stride "
                              "outputs",
                           i, p[0], p[1], p[2]);
            if ((st = check_unused_params(c, i, 3)) != BF_OK)
                return st;
            ostride = in0->stride * (uint32_t)p[1];
            break;
        case BF_OP_UPSAMPLE:
            if (p[0] < 1 || p[0] > 32 || in0->stride % (uint32_t)p[0] != 0)
                return bad(c, "layer %u (upsample): factor %d does not divide the input stride %u", i, p[0],
                           in0->stride);
            if ((st = check_unused_params(c, i, 1)) != BF_OK)
                return st;
            ostride = in0->stride / (uint32_t)p[0];
            break;
        }
        const bf_value *out = &m->values[l->output];
        if (oc != out->channels)
            return bad(c, "layer %u (%s): computes %u channels, value %u says %u", i, op, oc, l->output,
                       out->channels);
        if (ostride != out->stride)
            return bad(c, "layer %u (%s): computes stride %u, value %u says %u", i, op, ostride, l->output,
                       out->stride);
        if (odtype != out->dtype)
            return bad(c, "layer %u (%s): writes %s, value %u says %s", i, op, dtype_name(odtype), l->output,
                       dtype_name(out->dtype));
    }
    return BF_OK;
}

/* ---- 6: outputs and class names ------------------------------------------ */

static bf_status check_outputs(ctx *c)
{
    bf_model *m = c->m;
    if (m->n_outputs % 2 != 0)
        return bad(c, "%u outputs: the head needs (box, class) pairs", m->n_outputs);
    for (uint32_t i = 0; i < m->n_outputs; i++) {
        const uint8_t *e = c->data + output_table_at(m) + (uint64_t)i * BF_OUTPUT_ENTRY_BYTES;
        bf_output *o = &m->outputs[i];
        o->value = rd_u32(e);
        o->kind = rd_u32(e + 4);
        o->stride = rd_u32(e + 8);
        o->dequant = rd_u32(e + 12);
        if (o->value == 0 || o->value >= m->n_values)
            return bad(c, "output %u: value %u out of range 1..%u", i, o->value, m->n_values - 1);
        const bf_value *v = &m->values[o->value];
        if (v->dtype != BF_DTYPE_I32)
            return bad(c, "output %u: value %u is %s, expected I32", i, o->value, dtype_name(v->dtype));
        for (uint32_t j = 0; j < i; j++)
            if (m->outputs[j].value == o->value)
                return bad(c, "output %u: value %u is already output %u", i, o->value, j);
        uint32_t want_kind = i % 2 == 0 ? BF_KIND_BOX : BF_KIND_CLASS;
        if (o->kind != want_kind)
            return bad(c, "output %u: kind %u, expected %u (box, class pairs)", i, o->kind, want_kind);
        if (o->stride != 8 && o->stride != 16 && o->stride != 32)
            return bad(c, "output %u: stride %u is not 8, 16 or 32", i, o->stride);
        if (o->stride != v->stride)
            return bad(c, "output %u: stride %u, value %u has stride %u", i, o->stride, o->value, v->stride);
        if (i % 2 == 1 && o->stride != m->outputs[i - 1].stride)
            return bad(c, "output %u: class stride %u differs from its box stride %u", i, o->stride,
                       m->outputs[i - 1].stride);
        if (i % 2 == 0 && i > 0 && o->stride <= m->outputs[i - 2].stride)
            return bad(c, "output %u: strides must increase (%u after %u)", i, o->stride,
                       m->outputs[i - 2].stride);
        uint32_t want_c = o->kind == BF_KIND_BOX ? 4 * m->reg_max : m->num_classes;
        if (v->channels != want_c)
            return bad(c, "output %u: value %u has %u channels, expected %u", i, o->value, v->channels, want_c);
        if (o->dequant >= m->n_tensors)
            return bad(c, "output %u: dequant tensor index %u out of range (have %u)", i, o->dequant,
                       m->n_tensors);
        const bf_tensor *t = &m->tensors[o->dequant];
        if (t->dtype != BF_DTYPE_F32 || t->ndim != 1 || t->dims[0] != v->channels)
            return bad(c, "output %u: dequant tensor '%s' must be F32 [%u]", i, t->name, v->channels);
        const float *dq = bf_tensor_f32(m, o->dequant);
        for (uint32_t k = 0; k < v->channels; k++)
            if (!isfinite(dq[k]))
                return bad(c, "output %u: dequant tensor '%s' has a non-finite entry %u", i, t->name, k);
    }
    return BF_OK;
}

static bf_status check_class_names(ctx *c)
{
    bf_model *m = c->m;
    const bf_tensor *t = NULL;
    for (uint32_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, "meta.class_names") == 0)
            t = &m->tensors[i];
    if (t == NULL)
        return bad(c, "no 'meta.class_names' tensor");
    if (t->dtype != BF_DTYPE_U8 || t->ndim != 1)
        return bad(c, "'meta.class_names' must be U8 with one dimension");
    uint32_t lines = 0;
    for (uint64_t i = 0; i < t->nbytes; i++) {
        uint8_t b = t->data[i];
        if (b == '\n') {
            if (i == 0 || t->data[i - 1] == '\n')
                return bad(c, "'meta.class_names': class %u has an empty name", lines);
            lines++;
        } else if (b < 0x20 || b > 0x7e) {
            return bad(c, "'meta.class_names': non-printable byte 0x%02x in class %u", b, lines);
        }
    }
    if (t->data[t->nbytes - 1] != '\n')
        return bad(c, "'meta.class_names': the last name is not terminated by a newline");
    if (lines != m->num_classes)
        return bad(c, "'meta.class_names' holds %u names, the header says %u classes", lines, m->num_classes);

    m->class_name_storage = malloc((size_t)t->nbytes);
    m->class_names = malloc(sizeof *m->class_names * m->num_classes);
    if (m->class_name_storage == NULL || m->class_names == NULL)
        return bf_fail(c->err, BF_ERR_NOMEM, "%s: out of memory for class names", c->name);
    memcpy(m->class_name_storage, t->data, (size_t)t->nbytes);
    char *s = m->class_name_storage;
    for (uint32_t k = 0; k < m->num_classes; k++) {
        m->class_names[k] = s;
        char *nl = memchr(s, '\n', (size_t)(m->class_name_storage + t->nbytes - s));
        *nl = '\0'; /* exists: counted above */
        s = nl + 1;
    }
    return BF_OK;
}

/* ---- open / close --------------------------------------------------------- */

static void model_free(bf_model *m)
{
    if (m == NULL)
        return;
    free(m->owned_map);
    free(m->class_names);
    free(m->class_name_storage);
    free(m->tensors);
    free(m->values);
    free(m->layers);
    free(m->outputs);
    free(m->path);
    free(m);
}

static bf_status model_parse(const uint8_t *data, size_t size, const char *name, void *owned_map,
                             bf_model **out_model, bf_error *err)
{
    if (!host_is_little_endian())
        return bf_fail(err, BF_ERR_UNSUPPORTED, "%s: this build reads models on little-endian hosts only",
                       name);
    bf_model *m = calloc(1, sizeof *m);
    if (m == NULL)
        return bf_fail(err, BF_ERR_NOMEM, "%s: out of memory", name);
    ctx c = {.name = name, .err = err, .data = data, .size = size, .m = m};
    bf_status st = check_header(&c);
    if (st != BF_OK) {
        model_free(m);
        return st;
    }
    if (tables_end(m) > size - 4) {
        st = bad(&c, "truncated: the tables need %llu bytes, the file has %zu before its checksum",
                 (unsigned long long)tables_end(m), size - 4);
        model_free(m);
        return st;
    }
    size_t name_len = strlen(name);
    m->path = malloc(name_len + 1);
    m->tensors = calloc(m->n_tensors, sizeof *m->tensors);
    m->values = calloc(m->n_values, sizeof *m->values);
    m->layers = calloc(m->n_layers, sizeof *m->layers);
    m->outputs = calloc(m->n_outputs, sizeof *m->outputs);
    if (m->path == NULL || m->tensors == NULL || m->values == NULL || m->layers == NULL || m->outputs == NULL) {
        model_free(m);
        return bf_fail(err, BF_ERR_NOMEM, "%s: out of memory", name);
    }
    memcpy(m->path, name, name_len + 1);
    if ((st = check_tensors(&c)) != BF_OK || (st = check_values(&c)) != BF_OK ||
        (st = check_layers(&c)) != BF_OK || (st = check_outputs(&c)) != BF_OK ||
        (st = check_class_names(&c)) != BF_OK) {
        model_free(m);
        return st;
    }
    m->map = data;
    m->map_size = size;
    m->owned_map = owned_map;
    *out_model = m;
    return BF_OK;
}

bf_status bf_model_from_memory(const void *data, size_t size, const char *name, bf_model **out_model,
                               bf_error *err)
{
    if (out_model == NULL || (data == NULL && size != 0))
        return bf_fail(err, BF_ERR_ARGUMENT, "bf_model_from_memory: NULL argument");
    if (name == NULL)
        name = "(memory)";
    return model_parse(data, size, name, NULL, out_model, err);
}

/* Validates `copy` (size bytes of a model, in an aligned block of alloc bytes) and
 * hands it to the model, which frees it at close; frees it on failure. */
static bf_status parse_owned_copy(uint8_t *copy, size_t size, size_t alloc, const char *name, bf_model **out_model,
                                  bf_error *err)
{
    memset(copy + size, 0, alloc - size);
    bf_status st = model_parse(copy, size, name, copy, out_model, err);
    if (st != BF_OK)
        free(copy);
    return st;
}

BF_API bf_status bf_model_open(const char *path, bf_model **out_model, bf_error *err)
{
    if (path == NULL || out_model == NULL)
        return bf_fail(err, BF_ERR_ARGUMENT, "bf_model_open: NULL %s", path == NULL ? "path" : "out_model");
    /* O_NONBLOCK: a FIFO given as the model must be refused, not waited on
     * (open() of a FIFO blocks until a writer appears). */
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return bf_fail(err, BF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return bf_fail(err, BF_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return bf_fail(err, BF_ERR_IO, "%s: is a folder, not a model file", path);
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return bf_fail(err, BF_ERR_IO, "%s: not a regular file", path);
    }
    if (sb.st_size == 0) {
        close(fd);
        return bf_fail(err, BF_ERR_FORMAT, "%s: empty file (0 bytes)", path);
    }
    if (sb.st_size < 0 || (uint64_t)sb.st_size > BF_MAX_MODEL_BYTES) {
        close(fd);
        return bf_fail(err, BF_ERR_FORMAT, "%s: file is %lld bytes, more than the %llu MB model size limit",
                       path, (long long)sb.st_size, (unsigned long long)(BF_MAX_MODEL_BYTES >> 20));
    }
    size_t size = (size_t)sb.st_size;
    /* Tensor data is 64-byte aligned within the file; the copy keeps it so. */
    size_t alloc = (size + BF_DATA_ALIGN - 1) / BF_DATA_ALIGN * BF_DATA_ALIGN;
    uint8_t *copy = aligned_alloc(BF_DATA_ALIGN, alloc);
    if (copy == NULL) {
        close(fd);
        return bf_fail(err, BF_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, copy + got, size - got);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            free(copy);
            return bf_fail(err, BF_ERR_IO, "%s: read failed: %s", path, strerror(e));
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != size) {
        free(copy);
        return bf_fail(err, BF_ERR_IO, "%s: the file shrank while it was read (%zu of %zu bytes): "
                       "is it being rewritten?", path, got, size);
    }
    return parse_owned_copy(copy, size, alloc, path, out_model, err);
}

BF_API bf_status bf_model_open_memory(const void *data, size_t size, bf_model **out_model, bf_error *err)
{
    if (out_model == NULL || data == NULL)
        return bf_fail(err, BF_ERR_ARGUMENT, "bf_model_open_memory: NULL %s", data == NULL ? "data" : "out_model");
    if (size == 0)
        return bf_fail(err, BF_ERR_FORMAT, "(memory): empty buffer (0 bytes)");
    if ((uint64_t)size > BF_MAX_MODEL_BYTES)
        return bf_fail(err, BF_ERR_FORMAT, "(memory): %zu bytes, more than the %llu MB model size limit", size,
                       (unsigned long long)(BF_MAX_MODEL_BYTES >> 20));
    /* A private aligned copy, as bf_model_open makes of a file: the caller may free or
     * reuse its buffer at once, and what is validated is what runs. */
    size_t alloc = (size + BF_DATA_ALIGN - 1) / BF_DATA_ALIGN * BF_DATA_ALIGN;
    uint8_t *copy = aligned_alloc(BF_DATA_ALIGN, alloc);
    if (copy == NULL)
        return bf_fail(err, BF_ERR_NOMEM, "(memory): out of memory copying %zu bytes", size);
    memcpy(copy, data, size);
    return parse_owned_copy(copy, size, alloc, "(memory)", out_model, err);
}

BF_API void bf_model_close(bf_model *model)
{
    model_free(model);
}

BF_API int bf_model_num_classes(const bf_model *model)
{
    return model == NULL ? 0 : (int)model->num_classes;
}

BF_API const char *bf_model_class_name(const bf_model *model, int class_id)
{
    if (model == NULL || class_id < 0 || (uint32_t)class_id >= model->num_classes)
        return NULL;
    return model->class_names[class_id];
}

BF_API int bf_model_default_input_size(const bf_model *model)
{
    return model == NULL ? 0 : (int)model->default_input_size;
}
