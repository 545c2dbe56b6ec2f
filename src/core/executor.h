/*
 * executor.h - runs a validated model's layers over one planned arena.
 *
 * Created once per detector: plans the memory (graph.h), allocates the arena
 * and the conv scratch tiles (one im2col + accumulator pair per worker),
 * starts the thread pool (threadpool.h) and packs every conv's ternary
 * weights with the selected GEMM config, a multi-ternary conv's planes folded
 * into as few GEMMs as the path keeps exact (bf_t2i8_gemm_fold; ops.h
 * bf_conv_pack). Benchmark and test hook: BITFALCON_MAX_TERMS=1..5 in the
 * environment caps the planes one GEMM folds (1 = one GEMM per plane, the
 * unfolded path); results are identical either way. Running then walks the
 * layers in file order (the loader proved that order is a valid schedule)
 * and allocates nothing.
 *
 * Threads: each convolution's output pixels (GEMM rows) are cut into chunks
 * (whole tiles, or smaller multiples of the kernel's register tile when M is
 * small) that the pool's workers take in turn; ADD, CONCAT, SLICE, MAXPOOL
 * and UPSAMPLE are split by pixels or rows when large. Every output element
 * is computed by the same arithmetic whichever worker and chunk produce it,
 * so results are identical for every thread count.
 *
 * Profiling: with `layer_ns` set (bf_executor_profile), each layer's wall
 * time in nanoseconds is added to layer_ns[i]; NULL (the default) costs one
 * predictable branch per layer.
 */
#ifndef BF_EXECUTOR_H
#define BF_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "model.h"
#include "ops.h"
#include "threadpool.h"

typedef struct bf_executor {
    const bf_model *model;
    const bf_t2i8_gemm_config *gemm;
    const bf_i32_requant_config *requant; /* the epilogue and concat's table lookup */
    bf_plan plan;
    uint8_t *arena;       /* plan.arena_bytes, BF_ALIGN-aligned */
    int8_t *im2col;       /* n_workers x im2col_stride bytes */
    int32_t *acc;         /* n_workers x acc_stride bytes */
    size_t im2col_stride; /* plan.im2col_bytes, BF_ALIGN-rounded */
    size_t acc_stride;    /* plan.acc_bytes, BF_ALIGN-rounded */
    int n_workers;
    bf_pool *pool;
    uint64_t *layer_ns;   /* NULL, or per-layer accumulated wall time */
    int fold;             /* planes one GEMM folds: bf_t2i8_gemm_fold, capped by BITFALCON_MAX_TERMS */
    int indirect;         /* convs may take the GEMM path's igemm (BITFALCON_IGEMM unset or 1) */
    uint8_t *packed;      /* every conv's packed weights */
    size_t packed_bytes;
    bf_conv_params *convs; /* per layer (filled for conv layers) */
} bf_executor;

/* reuse = 0 gives every value its own memory (for debugging dumps of
 * intermediate values); detectors use 1. threads >= 1 workers (the caller
 * is one of them). */
bf_status bf_executor_init(bf_executor *ex, const bf_model *model, int input_size, int reuse,
                           const bf_t2i8_gemm_config *gemm, int threads, bf_error *err);
void bf_executor_free(bf_executor *ex);

/* Where value v lives (valid until a later layer reuses its memory). */
static inline void *bf_executor_value(const bf_executor *ex, uint32_t v)
{
    return ex->arena + ex->plan.offsets[v];
}

/* Runs layers [first, last) on whatever value 0 holds. */
void bf_executor_run_layers(bf_executor *ex, uint32_t first, uint32_t last);

/* Per-layer timing: NULL turns it off; otherwise `ns` has model->n_layers
 * entries, which runs add to (the caller zeroes them). */
static inline void bf_executor_profile(bf_executor *ex, uint64_t *ns)
{
    ex->layer_ns = ns;
}

#endif /* BF_EXECUTOR_H */
