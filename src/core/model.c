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
 * Each op's own parameters and tensors (step 5) are checked in model_ops.c,
 * one validator per op in a table (model_check.h).
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
#include "model_zstd.h"
#include "model_check.h"

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

/* ---- error context (the file's name in every message) ---------------------- */

bf_status bf_bad_model(bf_check *c, const char *fmt, ...)
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

const char *bf_dtype_name(uint32_t dtype)
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

/* ---- 1-3: header and checksum -------------------------------------------- */

static bf_status check_header(bf_check *c)
{
    const uint8_t *h = c->data;
    if (c->size == 0)
        return bf_bad_model(c, "empty file (0 bytes)");
    if (c->size < 4 || memcmp(h, BF_MAGIC, 4) != 0)
        return bf_bad_model(c, "not a BitFalcon model (bad magic)");
    if (c->size < BF_HEADER_BYTES)
        return bf_bad_model(c, "truncated: file has %zu bytes, less than the %u-byte header", c->size,
                   BF_HEADER_BYTES);
    uint32_t version = rd_u32(h + 4);
    if (version != BF_FORMAT_VERSION)
        return bf_bad_model(c, "unsupported format version %u (this build reads version %u)", version,
                   BF_FORMAT_VERSION);
    uint32_t bom = rd_u32(h + 8);
    if (bom == 0x04030201u)
        return bf_bad_model(c, "big-endian model file (byte order mark 04030201), only little-endian is supported");
    if (bom != BF_BYTE_ORDER_MARK)
        return bf_bad_model(c, "bad byte order mark %08x (expected 01020304)", bom);
    uint32_t header_size = rd_u32(h + 12);
    if (header_size != BF_HEADER_BYTES)
        return bf_bad_model(c, "bad header size %u (expected %u)", header_size, BF_HEADER_BYTES);
    uint64_t file_size = rd_u64(h + 16);
    if (file_size > c->size)
        return bf_bad_model(c, "truncated: header says %llu bytes, file has %zu", (unsigned long long)file_size,
                   c->size);
    if (file_size < c->size)
        return bf_bad_model(c, "trailing data: header says %llu bytes, file has %zu", (unsigned long long)file_size,
                   c->size);
    if (c->size < BF_HEADER_BYTES + 4)
        return bf_bad_model(c, "truncated: no room for the checksum after the header");

    uint32_t stored = rd_u32(h + c->size - 4);
    uint32_t computed = bf_crc32(0, h, c->size - 4);
    if (stored != computed)
        return bf_bad_model(c, "checksum mismatch (stored %08x, computed %08x)", stored, computed);

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
        return bf_bad_model(c, "tensor count %u outside 1..%u", m->n_tensors, BF_MAX_TENSORS);
    if (m->n_values < 2 || m->n_values > BF_MAX_VALUES)
        return bf_bad_model(c, "value count %u outside 2..%u", m->n_values, BF_MAX_VALUES);
    if (m->n_layers < 1 || m->n_layers > BF_MAX_LAYERS)
        return bf_bad_model(c, "layer count %u outside 1..%u", m->n_layers, BF_MAX_LAYERS);
    if (m->n_outputs < 1 || m->n_outputs > BF_MAX_OUTPUTS)
        return bf_bad_model(c, "output count %u outside 1..%u", m->n_outputs, BF_MAX_OUTPUTS);
    if (m->num_classes < 1 || m->num_classes > BF_MAX_CLASSES)
        return bf_bad_model(c, "class count %u outside 1..%u", m->num_classes, BF_MAX_CLASSES);
    if (m->reg_max < 1 || m->reg_max > BF_MAX_REG_MAX)
        return bf_bad_model(c, "reg_max %u outside 1..%u", m->reg_max, BF_MAX_REG_MAX);
    if (m->default_input_size < BF_MIN_INPUT_SIZE || m->default_input_size > BF_MAX_INPUT_SIZE ||
        m->default_input_size % BF_INPUT_SIZE_STEP != 0)
        return bf_bad_model(c, "default input size %u is not a multiple of 32 in %d..%d", m->default_input_size,
                   BF_MIN_INPUT_SIZE, BF_MAX_INPUT_SIZE);
    if (flags != 0)
        return bf_bad_model(c, "unknown header flags %08x", flags);
    if (rd_u64(h + 56) != 0)
        return bf_bad_model(c, "reserved header field is not zero");
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

static bf_status check_tensors(bf_check *c)
{
    bf_model *m = c->m;
    const uint64_t data_begin = tables_end(m);
    const uint64_t data_end = c->size - 4; /* the CRC */
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const uint8_t *e = c->data + tensor_table_at(m) + (uint64_t)i * BF_TENSOR_ENTRY_BYTES;
        bf_tensor *t = &m->tensors[i];
        const uint8_t *nul = memchr(e, 0, BF_TENSOR_NAME_BYTES);
        if (nul == NULL)
            return bf_bad_model(c, "tensor %u: name is not NUL-terminated", i);
        size_t len = (size_t)(nul - e);
        if (len == 0)
            return bf_bad_model(c, "tensor %u: empty name", i);
        for (size_t k = 0; k < len; k++)
            if (e[k] < 0x20 || e[k] > 0x7e)
                return bf_bad_model(c, "tensor %u: name has a non-printable byte 0x%02x", i, e[k]);
        if (!bf_all_zero(nul, BF_TENSOR_NAME_BYTES - len))
            return bf_bad_model(c, "tensor %u: name is not NUL-padded", i);
        memcpy(t->name, e, BF_TENSOR_NAME_BYTES);

        t->dtype = rd_u32(e + 64);
        t->ndim = rd_u32(e + 68);
        for (int d = 0; d < 4; d++)
            t->dims[d] = rd_u32(e + 72 + 4 * d);
        t->offset = rd_u64(e + 88);
        t->nbytes = rd_u64(e + 96);
        if (dtype_size(t->dtype) == 0)
            return bf_bad_model(c, "tensor '%s': unknown dtype %u", t->name, t->dtype);
        if (t->ndim < 1 || t->ndim > 4)
            return bf_bad_model(c, "tensor '%s': ndim %u outside 1..4", t->name, t->ndim);
        uint64_t count = 1;
        for (uint32_t d = 0; d < 4; d++) {
            if (d < t->ndim && t->dims[d] < 1)
                return bf_bad_model(c, "tensor '%s': dimension %u is 0", t->name, d);
            if (d >= t->ndim && t->dims[d] != 1)
                return bf_bad_model(c, "tensor '%s': unused dimension %u is %u, not 1", t->name, d, t->dims[d]);
            if (!bf_mul_u64(count, t->dims[d], &count))
                return bf_bad_model(c, "tensor '%s': element count overflows", t->name);
        }
        uint64_t expect;
        if (!bf_mul_u64(count, dtype_size(t->dtype), &expect))
            return bf_bad_model(c, "tensor '%s': byte size overflows", t->name);
        if (t->nbytes != expect)
            return bf_bad_model(c, "tensor '%s': nbytes %llu, but %s dims give %llu", t->name,
                       (unsigned long long)t->nbytes, bf_dtype_name(t->dtype), (unsigned long long)expect);
        if (t->dtype == BF_DTYPE_T2 && t->ndim != 2)
            return bf_bad_model(c, "tensor '%s': T2 weights need dims [out_c, row_bytes], ndim is %u", t->name,
                       t->ndim);
        if (t->offset % BF_DATA_ALIGN != 0)
            return bf_bad_model(c, "tensor '%s': offset %llu is not a multiple of %u", t->name,
                       (unsigned long long)t->offset, BF_DATA_ALIGN);
        if (t->offset < data_begin || t->offset > data_end || t->nbytes > data_end - t->offset)
            return bf_bad_model(c, "tensor '%s': data [%llu, +%llu) lies outside the data region [%llu, %llu)",
                       t->name, (unsigned long long)t->offset, (unsigned long long)t->nbytes,
                       (unsigned long long)data_begin, (unsigned long long)data_end);
        if (!bf_all_zero(e + 104, 24))
            return bf_bad_model(c, "tensor '%s': reserved bytes are not zero", t->name);
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
            bf_status st = bf_bad_model(c, "duplicate tensor name '%s'", order[i]->name);
            free(order);
            return st;
        }
    }
    qsort(order, m->n_tensors, sizeof *order, cmp_offset);
    uint64_t cursor = data_begin; /* end of the previous tensor */
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const bf_tensor *t = order[i];
        if (t->offset < cursor) {
            bf_status st = bf_bad_model(c, "tensor '%s' at %llu overlaps tensor '%s' ending at %llu", t->name,
                               (unsigned long long)t->offset, order[i - 1]->name,
                               (unsigned long long)cursor);
            free(order);
            return st;
        }
        if (!bf_all_zero(c->data + cursor, (size_t)(t->offset - cursor))) {
            bf_status st = bf_bad_model(c, "non-zero padding before tensor '%s'", t->name);
            free(order);
            return st;
        }
        cursor = t->offset + t->nbytes;
    }
    free(order);
    if (!bf_all_zero(c->data + cursor, (size_t)(data_end - cursor)))
        return bf_bad_model(c, "non-zero padding after the last tensor");

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
                return bf_bad_model(c, "tensor '%s': invalid ternary code 11 at row %llu, weight %llu", t->name,
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

static bf_status check_values(bf_check *c)
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
            return bf_bad_model(c, "value %u: channels %u outside 1..%u", i, v->channels, BF_MAX_CHANNELS);
        if (!valid_value_stride(v->stride))
            return bf_bad_model(c, "value %u: stride %u is not 1, 2, 4, 8, 16 or 32", i, v->stride);
        if (v->zero_point < -128 || v->zero_point > 127)
            return bf_bad_model(c, "value %u: zero point %d outside -128..127", i, v->zero_point);
        if (!(isfinite(v->scale) && v->scale > 0.0f))
            return bf_bad_model(c, "value %u: scale %g is not a positive finite number", i, (double)v->scale);
        if (v->dtype != BF_DTYPE_I8 && v->dtype != BF_DTYPE_I32)
            return bf_bad_model(c, "value %u: dtype %u is neither I8 (1) nor I32 (3)", i, v->dtype);
        if (!bf_all_zero(e + 24, 8))
            return bf_bad_model(c, "value %u: reserved bytes are not zero", i);
        if (i == 0) {
            if (v->channels != 3 || v->stride != 1 || v->zero_point != -128 || v->dtype != BF_DTYPE_I8)
                return bf_bad_model(c, "value 0 (the input) must be I8, 3 channels, stride 1, zero point -128 "
                              "(has %s, %u, %u, %d)",
                           bf_dtype_name(v->dtype), v->channels, v->stride, v->zero_point);
            if (v->producer != BF_NONE)
                return bf_bad_model(c, "value 0 (the input) has a producer (%u)", v->producer);
        } else {
            if (v->zero_point != 0)
                return bf_bad_model(c, "value %u: zero point %d, only the input may be non-zero", i, v->zero_point);
            if (v->producer >= m->n_layers)
                return bf_bad_model(c, "value %u: producer %u is not a layer (have %u)", i, v->producer,
                           m->n_layers);
        }
    }
    return BF_OK;
}

/* The layer table into m->layers, before anything is checked: value
 * producers refer forward to layers. */
static bf_status read_layers(bf_check *c)
{
    bf_model *m = c->m;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        const uint8_t *e = c->data + layer_table_at(m) + (uint64_t)i * BF_LAYER_ENTRY_BYTES;
        bf_layer *l = &m->layers[i];
        l->op = rd_u32(e);
        l->n_inputs = rd_u32(e + 4);
        for (int j = 0; j < 8; j++)
            l->inputs[j] = rd_u32(e + 8 + 4 * j);
        l->output = rd_u32(e + 40);
        if (rd_u32(e + 44) != 0)
            return bf_bad_model(c, "layer %u: reserved field is not zero", i);
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
            return bf_bad_model(c, "value %u: producer layer %u writes value %u instead", v, p, m->layers[p].output);
    }
    return BF_OK;
}

/* Layer i's links: its input count (by its op's rule), output value,
 * inputs (earlier, I8) and, for an op without tensors, empty tensor slots. */
static bf_status check_links(bf_check *c, uint32_t i, const bf_op_rule *rule)
{
    const bf_model *m = c->m;
    const bf_layer *l = &m->layers[i];
    const char *op = bf_op_name(l->op);
    if (l->n_inputs < rule->min_inputs || l->n_inputs > rule->max_inputs)
        return bf_bad_model(c, "layer %u (%s): %u inputs, expected %u..%u", i, op, l->n_inputs, rule->min_inputs,
                   rule->max_inputs);
    if (l->output == 0 || l->output >= m->n_values)
        return bf_bad_model(c, "layer %u (%s): output value %u out of range 1..%u", i, op, l->output, m->n_values - 1);
    if (m->values[l->output].producer != i)
        return bf_bad_model(c, "layer %u (%s): output value %u names layer %u as its producer", i, op, l->output,
                   m->values[l->output].producer);
    for (uint32_t j = 0; j < 8; j++) {
        uint32_t v = l->inputs[j];
        if (j >= l->n_inputs) {
            if (v != BF_NONE)
                return bf_bad_model(c, "layer %u (%s): unused input slot %u is %u", i, op, j, v);
            continue;
        }
        if (v >= m->n_values)
            return bf_bad_model(c, "layer %u (%s): input %u is value %u, out of range (have %u)", i, op, j, v,
                       m->n_values);
        if (v != 0 && m->values[v].producer >= i)
            return bf_bad_model(c, "layer %u (%s): input %u is value %u, produced by layer %u, not earlier "
                          "(forward or cyclic reference)",
                       i, op, j, v, m->values[v].producer);
        if (m->values[v].dtype != BF_DTYPE_I8)
            return bf_bad_model(c, "layer %u (%s): input %u is value %u of dtype %s, expected I8", i, op, j, v,
                       bf_dtype_name(m->values[v].dtype));
    }
    if (!rule->takes_tensors)
        for (int j = 0; j < 8; j++)
            if (l->tensors[j] != BF_NONE)
                return bf_bad_model(c, "layer %u (%s): tensor slot %d is %u, this op takes none", i, op, j, l->tensors[j]);
    return BF_OK;
}

/* Every layer, in execution order: its links, its op's own check
 * (model_ops.c), and the channels, stride and dtype that computes against
 * what its output value says. */
static bf_status check_layers(bf_check *c)
{
    bf_model *m = c->m;
    bf_status st = read_layers(c);
    if (st != BF_OK)
        return st;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        const bf_layer *l = &m->layers[i];
        const char *op = bf_op_name(l->op);
        const bf_op_rule *rule = bf_op_rule_of(l->op);
        if (!rule)
            return bf_bad_model(c, "layer %u: unknown op %u", i, l->op);
        if ((st = check_links(c, i, rule)) != BF_OK)
            return st;
        const bf_value *in0 = &m->values[l->inputs[0]];
        bf_op_out o = {in0->channels, in0->stride, BF_DTYPE_I8};
        if ((st = rule->check(c, i, &o)) != BF_OK)
            return st;
        const bf_value *out = &m->values[l->output];
        if (o.channels != out->channels)
            return bf_bad_model(c, "layer %u (%s): computes %u channels, value %u says %u", i, op, o.channels, l->output,
                       out->channels);
        if (o.stride != out->stride)
            return bf_bad_model(c, "layer %u (%s): computes stride %u, value %u says %u", i, op, o.stride, l->output,
                       out->stride);
        if (o.dtype != out->dtype)
            return bf_bad_model(c, "layer %u (%s): writes %s, value %u says %s", i, op, bf_dtype_name(o.dtype), l->output,
                       bf_dtype_name(out->dtype));
    }
    return BF_OK;
}

/* ---- 6: outputs and class names ------------------------------------------ */

static bf_status check_outputs(bf_check *c)
{
    bf_model *m = c->m;
    if (m->n_outputs % 2 != 0)
        return bf_bad_model(c, "%u outputs: the head needs (box, class) pairs", m->n_outputs);
    for (uint32_t i = 0; i < m->n_outputs; i++) {
        const uint8_t *e = c->data + output_table_at(m) + (uint64_t)i * BF_OUTPUT_ENTRY_BYTES;
        bf_output *o = &m->outputs[i];
        o->value = rd_u32(e);
        o->kind = rd_u32(e + 4);
        o->stride = rd_u32(e + 8);
        o->dequant = rd_u32(e + 12);
        if (o->value == 0 || o->value >= m->n_values)
            return bf_bad_model(c, "output %u: value %u out of range 1..%u", i, o->value, m->n_values - 1);
        const bf_value *v = &m->values[o->value];
        if (v->dtype != BF_DTYPE_I32)
            return bf_bad_model(c, "output %u: value %u is %s, expected I32", i, o->value, bf_dtype_name(v->dtype));
        for (uint32_t j = 0; j < i; j++)
            if (m->outputs[j].value == o->value)
                return bf_bad_model(c, "output %u: value %u is already output %u", i, o->value, j);
        uint32_t want_kind = i % 2 == 0 ? BF_KIND_BOX : BF_KIND_CLASS;
        if (o->kind != want_kind)
            return bf_bad_model(c, "output %u: kind %u, expected %u (box, class pairs)", i, o->kind, want_kind);
        if (o->stride != 8 && o->stride != 16 && o->stride != 32)
            return bf_bad_model(c, "output %u: stride %u is not 8, 16 or 32", i, o->stride);
        if (o->stride != v->stride)
            return bf_bad_model(c, "output %u: stride %u, value %u has stride %u", i, o->stride, o->value, v->stride);
        if (i % 2 == 1 && o->stride != m->outputs[i - 1].stride)
            return bf_bad_model(c, "output %u: class stride %u differs from its box stride %u", i, o->stride,
                       m->outputs[i - 1].stride);
        if (i % 2 == 0 && i > 0 && o->stride <= m->outputs[i - 2].stride)
            return bf_bad_model(c, "output %u: strides must increase (%u after %u)", i, o->stride,
                       m->outputs[i - 2].stride);
        uint32_t want_c = o->kind == BF_KIND_BOX ? 4 * m->reg_max : m->num_classes;
        if (v->channels != want_c)
            return bf_bad_model(c, "output %u: value %u has %u channels, expected %u", i, o->value, v->channels, want_c);
        if (o->dequant >= m->n_tensors)
            return bf_bad_model(c, "output %u: dequant tensor index %u out of range (have %u)", i, o->dequant,
                       m->n_tensors);
        const bf_tensor *t = &m->tensors[o->dequant];
        if (t->dtype != BF_DTYPE_F32 || t->ndim != 1 || t->dims[0] != v->channels)
            return bf_bad_model(c, "output %u: dequant tensor '%s' must be F32 [%u]", i, t->name, v->channels);
        const float *dq = bf_tensor_f32(m, o->dequant);
        for (uint32_t k = 0; k < v->channels; k++)
            if (!isfinite(dq[k]))
                return bf_bad_model(c, "output %u: dequant tensor '%s' has a non-finite entry %u", i, t->name, k);
    }
    return BF_OK;
}

static bf_status check_class_names(bf_check *c)
{
    bf_model *m = c->m;
    const bf_tensor *t = NULL;
    for (uint32_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, "meta.class_names") == 0)
            t = &m->tensors[i];
    if (t == NULL)
        return bf_bad_model(c, "no 'meta.class_names' tensor");
    if (t->dtype != BF_DTYPE_U8 || t->ndim != 1)
        return bf_bad_model(c, "'meta.class_names' must be U8 with one dimension");
    uint32_t lines = 0;
    for (uint64_t i = 0; i < t->nbytes; i++) {
        uint8_t b = t->data[i];
        if (b == '\n') {
            if (i == 0 || t->data[i - 1] == '\n')
                return bf_bad_model(c, "'meta.class_names': class %u has an empty name", lines);
            lines++;
        } else if (b < 0x20 || b > 0x7e) {
            return bf_bad_model(c, "'meta.class_names': non-printable byte 0x%02x in class %u", b, lines);
        }
    }
    if (t->data[t->nbytes - 1] != '\n')
        return bf_bad_model(c, "'meta.class_names': the last name is not terminated by a newline");
    if (lines != m->num_classes)
        return bf_bad_model(c, "'meta.class_names' holds %u names, the header says %u classes", lines, m->num_classes);

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
    bf_check c = {.name = name, .err = err, .data = data, .size = size, .m = m};
    bf_status st = check_header(&c);
    if (st != BF_OK) {
        model_free(m);
        return st;
    }
    if (tables_end(m) > size - 4) {
        st = bf_bad_model(&c, "truncated: the tables need %llu bytes, the file has %zu before its checksum",
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

/* Inflates the zstd-framed model `data` into an aligned block the model owns. */
static bf_status parse_inflated(const void *data, size_t size, const char *name, bf_model **out_model, bf_error *err)
{
    uint8_t *plain;
    size_t plain_size, plain_alloc;
    bf_status st = bf_model_zstd_inflate(data, size, name, BF_MAX_MODEL_BYTES, BF_DATA_ALIGN, &plain, &plain_size,
                                         &plain_alloc, err);
    if (st != BF_OK)
        return st;
    return parse_owned_copy(plain, plain_size, plain_alloc, name, out_model, err);
}

/* The same for what was read from a file or buffer (`size` bytes in a block of
 * `alloc`), which it takes over: a zstd-framed model is inflated first. */
static bf_status parse_owned_input(uint8_t *copy, size_t size, size_t alloc, const char *name, bf_model **out_model,
                                   bf_error *err)
{
    if (!bf_model_is_zstd(copy, size))
        return parse_owned_copy(copy, size, alloc, name, out_model, err);
    bf_status st = parse_inflated(copy, size, name, out_model, err);
    free(copy);
    return st;
}

bf_status bf_model_from_memory(const void *data, size_t size, const char *name, bf_model **out_model,
                               bf_error *err)
{
    if (out_model == NULL || (data == NULL && size != 0))
        return bf_fail(err, BF_ERR_ARGUMENT, "bf_model_from_memory: NULL argument");
    if (name == NULL)
        name = "(memory)";
    if (bf_model_is_zstd(data, size))
        return parse_inflated(data, size, name, out_model, err);
    return model_parse(data, size, name, NULL, out_model, err);
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
    return parse_owned_input(copy, size, alloc, path, out_model, err);
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
    return parse_owned_input(copy, size, alloc, "(memory)", out_model, err);
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
