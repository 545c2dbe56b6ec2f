/*
 * detector.h - internal extras of bf_detector for tests and tools (the public
 * API is include/bitfalcon.h): memory figures, the letterboxed input, and a
 * debug mode that keeps every intermediate value for dumping.
 */
#ifndef BF_DETECTOR_H
#define BF_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "bitfalcon.h"
#include "graph.h"
#include "letterbox.h"

/* Flags of bf_detector_create_ex. */
#define BF_DETECTOR_KEEP_ALL_VALUES 1u /* no memory reuse: every value readable after a run */

bf_status bf_detector_create_ex(const bf_model *model, const bf_options *options, unsigned flags,
                                bf_detector **out_detector, bf_error *err);

typedef struct bf_detector_info {
    int input_size;
    size_t arena_bytes;   /* all values, with reuse */
    size_t naive_bytes;   /* all values, each in memory of its own */
    size_t scratch_bytes; /* im2col + accumulator tiles */
    size_t packed_bytes;  /* packed weights */
    size_t other_bytes;   /* letterbox tables, candidates, results */
} bf_detector_info;

void bf_detector_get_info(const bf_detector *detector, bf_detector_info *info);

/* The network input of the last run (S x S x 3 int8, q = pixel - 128) and
 * its letterbox geometry. */
const int8_t *bf_detector_input(const bf_detector *detector);
const bf_letterbox *bf_detector_letterbox(const bf_detector *detector);

/* Value v after the last run and its shape; only meaningful for values that
 * are still live (all of them with BF_DETECTOR_KEEP_ALL_VALUES). NULL for a
 * bad index. */
const void *bf_detector_value(const bf_detector *detector, uint32_t v, bf_shape *shape);

/* Runs only the pre-processing (letterbox into value 0). */
bf_status bf_detector_preprocess(bf_detector *detector, const uint8_t *pixels, int width, int height,
                                 size_t stride, bf_pixel_format format, bf_error *err);

/* The two halves of bf_detector_run after bf_detector_preprocess: the
 * layers, then decode + NMS + un-letterbox (for timing them apart). */
void bf_detector_run_network(bf_detector *detector);
void bf_detector_postprocess(bf_detector *detector);

/* Workers in the detector's pool (options.threads resolved), and the
 * requant epilogue path in use ("ref", "avx2", "avx512"). */
int bf_detector_threads(const bf_detector *detector);
const char *bf_detector_requant_isa(const bf_detector *detector);

/* Layer i of the model at this detector's input size (for benchmarks). */
typedef struct bf_layer_info {
    int op; /* BF_OP_* (model.h): 1 conv, 2 add, 3 concat, 4 slice, 5 maxpool, 6 upsample */
    int in_h, in_w, in_c, out_h, out_w, out_c, n_inputs;
    int kh, kw, stride, act; /* conv only */
    size_t m, n, k;          /* conv: the GEMM's M = out pixels, N = out_c, K = kh*kw*in_c */
    int n_terms;             /* conv: ternary weight planes, 1..5 */
    int n_gemms;             /* conv: GEMMs run per tile (the planes folded as the path allows) */
    double ops;              /* conv: 2*M*N*K*n_gemms (a multiply-add counts two; the
                                kernel's work); else 0 */
} bf_layer_info;
int bf_detector_num_layers(const bf_detector *detector);
int bf_detector_layer_info(const bf_detector *detector, int i, bf_layer_info *info);

/* Per-layer timing of later runs: each run adds layer i's wall time in ns to
 * layer_ns[i] (bf_detector_num_layers entries, zeroed by the caller); NULL
 * turns it off (the default, free). */
void bf_detector_profile(bf_detector *detector, uint64_t *layer_ns);

#endif /* BF_DETECTOR_H */
