/*
 * naive_ref.h - an independent, per-element interpreter of a builder graph,
 * written from docs/model-format.md only (no code shared with src/core). The
 * tests compare the engine against it value by value.
 */
#ifndef BF_NAIVE_REF_H
#define BF_NAIVE_REF_H

#include <stdint.h>

#include "model_builder.h"

/* The doc's rshift_round, computed with floor division (not a shift). */
int64_t naive_rshift_round(int64_t v, int s);
int naive_clamp8(int64_t v);

/* Runs the graph at input size S on `input` (S*S*3 int8). Returns one
 * malloc'd buffer per value (int8 or int32 NHWC; value 0 is a copy of the
 * input); free with naive_free. */
void **naive_run(const mb_model *mb, int S, const int8_t *input);
void naive_free(const mb_model *mb, void **values);

#endif /* BF_NAIVE_REF_H */
