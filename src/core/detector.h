/*
 * detector.h - internal extras of bf_detector for tests and tools (the public
 * API is include/bitfalcon.h, profiling include/bitfalcon_profile.h): memory
 * figures, the letterboxed input, and a debug mode that keeps every
 * intermediate value for dumping.
 */
#ifndef BF_DETECTOR_H
#define BF_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "bitfalcon.h"
#include "bitfalcon_profile.h"
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

/* The stages of a run, threads, the requant path, the layers and their
 * timing: the public profiling API, include/bitfalcon_profile.h. */

#endif /* BF_DETECTOR_H */
