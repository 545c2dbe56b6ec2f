/*
 * graph.h - planning one detector's memory for a given input size.
 *
 * Given a validated model and an input size S, computes every value's
 * [h][w][c] shape and places all values in ONE arena: a value occupies its
 * bytes from the layer that writes it to the last layer that reads it, and
 * values whose lifetimes do not overlap share memory (first-fit over values
 * sorted by size, largest first). The head outputs stay live to the end so
 * that bf_detector_output can show them after a run. The plan also sizes the
 * two per-conv scratch buffers (an im2col tile and an int32 accumulator tile)
 * so that running a frame allocates nothing.
 */
#ifndef BF_GRAPH_H
#define BF_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

typedef struct bf_shape {
    int h, w, c;
} bf_shape;

typedef struct bf_plan {
    int input_size;
    uint32_t n_values;
    bf_shape *shapes;  /* per value */
    size_t *offsets;   /* per value: byte offset in the arena (multiple of BF_ALIGN) */
    size_t *bytes;     /* per value: h * w * c * element size */
    size_t arena_bytes;
    size_t naive_bytes;   /* sum of all value sizes: what the arena saves against */
    size_t tile_m;        /* conv rows per tile */
    size_t im2col_bytes;  /* one conv tile: tile_m rows of K int8 */
    size_t acc_bytes;     /* one conv tile: bf_conv_acc_elems int32s (tile_m rows of out_c,
                             twice that for a multi-ternary layer that runs
                             more than one GEMM, none for a one-GEMM raw head) */
} bf_plan;

/* Plans for input size S (a multiple of 32 in 32..4096, checked here) and
 * conv tiles of tile_m rows (ops.h: bf_conv_tile_m) whose GEMMs fold up to
 * `fold` weight planes (bf_executor_fold; a multi-ternary layer with more
 * planes needs a second accumulator tile); reuse = 0 keeps every value in
 * memory of its own (debug dumps).
 * BF_ERR_ARGUMENT for a bad size, BF_ERR_NOMEM on allocation failure,
 * BF_ERR_UNSUPPORTED when the sizes do not fit in memory arithmetic. */
bf_status bf_plan_build(const bf_model *model, int input_size, int reuse, size_t tile_m, int fold, bf_plan *plan,
                        bf_error *err);
void bf_plan_free(bf_plan *plan);

/* The reduction length K of a conv layer and whether it reads its input
 * directly as the GEMM's A matrix (1x1, stride 1: no im2col needed). */
size_t bf_conv_k(const bf_layer *layer);
int bf_conv_is_direct(const bf_layer *layer);

#endif /* BF_GRAPH_H */
