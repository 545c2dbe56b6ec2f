/*
 * executor.h - runs a validated model's layers over one planned arena.
 *
 * Created once per detector: plans the memory (graph.h), allocates the arena
 * and the conv scratch tiles, and packs every conv's ternary weights with the
 * selected GEMM config. Running then walks the layers in file order (the
 * loader proved that order is a valid schedule) and allocates nothing.
 */
#ifndef BF_EXECUTOR_H
#define BF_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "model.h"
#include "ops.h"

typedef struct bf_executor {
    const bf_model *model;
    const bf_t2i8_gemm_config *gemm;
    bf_plan plan;
    uint8_t *arena;       /* plan.arena_bytes, BF_ALIGN-aligned */
    int8_t *im2col;       /* plan.im2col_bytes */
    int32_t *acc;         /* plan.acc_bytes */
    uint8_t *packed;      /* every conv's packed weights */
    size_t packed_bytes;
    bf_conv_params *convs; /* per layer (filled for conv layers) */
} bf_executor;

/* reuse = 0 gives every value its own memory (for debugging dumps of
 * intermediate values); detectors use 1. */
bf_status bf_executor_init(bf_executor *ex, const bf_model *model, int input_size, int reuse,
                           const bf_t2i8_gemm_config *gemm, bf_error *err);
void bf_executor_free(bf_executor *ex);

/* Where value v lives (valid until a later layer reuses its memory). */
static inline void *bf_executor_value(const bf_executor *ex, uint32_t v)
{
    return ex->arena + ex->plan.offsets[v];
}

/* Runs layers [first, last) on whatever value 0 holds. */
void bf_executor_run_layers(bf_executor *ex, uint32_t first, uint32_t last);

#endif /* BF_EXECUTOR_H */
