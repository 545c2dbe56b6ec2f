/*
 * model_check.h - what the .bfm loader's two halves share (internal).
 *
 * model.c reads the file and checks its structure: header, tensor and value
 * tables, the graph's links, outputs and names. model_ops.c checks each
 * layer's own fields through a table with one validator per op, so that an
 * op is added in one place: its row, with its input count and its check.
 */
#ifndef BF_MODEL_CHECK_H
#define BF_MODEL_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "model.h"

/* The file being validated: every message names it. */
typedef struct bf_check {
    const char *name; /* file path, for every message */
    bf_error *err;
    const uint8_t *data;
    size_t size;
    bf_model *m;
} bf_check;

/* Formats "name: cause" as a format error and returns BF_ERR_FORMAT. */
bf_status bf_bad_model(bf_check *c, const char *fmt, ...) BF_PRINTF(2, 3);

const char *bf_dtype_name(uint32_t dtype);

static inline int bf_all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

/* What a layer writes, as its op computes it from its inputs: filled with
 * input 0's channels and stride and I8 before the op's check runs. */
typedef struct bf_op_out {
    uint32_t channels, stride, dtype;
} bf_op_out;

typedef struct bf_op_rule {
    uint32_t op;
    uint32_t min_inputs, max_inputs;
    int takes_tensors; /* 0: every tensor slot must be BF_NONE */
    /* The op's parameters and tensors, its links already checked; fills out. */
    bf_status (*check)(bf_check *c, uint32_t layer, bf_op_out *out);
} bf_op_rule;

/* The rule of op, or NULL for an op the format does not have. */
const bf_op_rule *bf_op_rule_of(uint32_t op);

#endif /* BF_MODEL_CHECK_H */
