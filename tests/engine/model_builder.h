/*
 * model_builder.h - writes synthetic .bfm files for the engine tests, straight
 * from docs/model-format.md (independently of src/core): tiny graphs with
 * random ternary weights and random but in-range quantisation parameters.
 *
 * The builder keeps its graph in plain structs that tests may edit before
 * serialising (to make CRC-correct but invalid files), and the unpacked
 * weights of every conv (for the naive reference interpreter).
 */
#ifndef BF_MODEL_BUILDER_H
#define BF_MODEL_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "test_util.h"

#define MB_MAX 256
#define MB_NONE 0xFFFFFFFFu

enum { MB_I8 = 1, MB_U8 = 2, MB_I32 = 3, MB_F32 = 4, MB_T2 = 5 };
enum { MB_CONV = 1, MB_ADD = 2, MB_CONCAT = 3, MB_SLICE = 4, MB_MAXPOOL = 5, MB_UPSAMPLE = 6 };

typedef struct mb_tensor {
    char name[64];
    uint32_t dtype, ndim, dims[4];
    uint8_t *data;
    size_t nbytes;
    uint64_t offset; /* set by mb_serialize */
} mb_tensor;

typedef struct mb_value {
    uint32_t channels, stride, dtype, producer;
    int32_t zero_point;
    float scale;
} mb_value;

typedef struct mb_layer {
    uint32_t op, n_inputs, inputs[8], output;
    int32_t params[16];
    uint32_t tensors[8];
    int8_t *w; /* conv: integer weights q [out_c][kh * kw * in_c], in [-L, L]
                  (L = (3^n_terms - 1) / 2: -1/0/+1 for n_terms 1) */
} mb_layer;

typedef struct mb_output {
    uint32_t value, kind, stride, dequant;
} mb_output;

typedef struct mb_model {
    uint32_t num_classes, reg_max, default_input_size;
    mb_tensor tensors[MB_MAX];
    uint32_t n_tensors;
    mb_value values[MB_MAX];
    uint32_t n_values;
    mb_layer layers[MB_MAX];
    uint32_t n_layers;
    mb_output outputs[16];
    uint32_t n_outputs;
    rng r;
    int weight_zero_pct; /* chance of a 0 weight, percent (default 34) */
} mb_model;

/* A model with value 0 (the input) and the class names tensor. */
mb_model *mb_create(uint32_t num_classes, uint32_t reg_max, uint32_t default_size, uint64_t seed);
void mb_free(mb_model *mb);

/* Each returns the new output value's index. act: 0 linear, 1 SiLU, 2 raw. */
uint32_t mb_conv(mb_model *mb, uint32_t in, int kh, int kw, int stride, int pad, int out_c, int act);
/* A multi-ternary conv (CONV n_terms = terms, 1..5): random integer weights in
 * [-L, L] (the extremes included), stored as `terms` balanced-ternary planes. */
uint32_t mb_conv_terms(mb_model *mb, uint32_t in, int kh, int kw, int stride, int pad, int out_c, int act,
                       int terms);

/* Packs integer weights q[n][k] in [-L, L] (L = (3^terms - 1) / 2) as the
 * file's `terms` balanced-ternary T2 planes, written straight from
 * docs/model-format.md: plane i (q = sum_i 3^i T_i, digits in -1..1) is rows
 * [i * n, (i + 1) * n) of `out`, which holds terms * n * row_bytes zeroed
 * bytes (row_bytes = ceil(k / 64) * 16). Returns 0, or -1 when a q is out of
 * range. */
int mb_pack_planes(const int8_t *q, size_t n, size_t k, int terms, uint8_t *out);
uint32_t mb_add(mb_model *mb, uint32_t a, uint32_t b);
uint32_t mb_concat(mb_model *mb, int n, const uint32_t *ins);
uint32_t mb_slice(mb_model *mb, uint32_t in, int first, int count);
uint32_t mb_maxpool(mb_model *mb, uint32_t in, int k, int stride, int pad);
uint32_t mb_upsample(mb_model *mb, uint32_t in, int factor);
/* A (box, class) output pair; both values I32 with 4*reg_max and num_classes
 * channels at the same stride. Adds the dequant tensors. */
void mb_output_pair(mb_model *mb, uint32_t box, uint32_t cls);
/* A head at `from`: two raw 1x1 convs (box, class) and their output pair. */
void mb_head(mb_model *mb, uint32_t from);

uint32_t mb_add_tensor(mb_model *mb, const char *name, uint32_t dtype, uint32_t ndim, const uint32_t *dims,
                       const void *data);

/* The file image (malloc'd), CRC included. Sets each tensor's offset. */
uint8_t *mb_serialize(mb_model *mb, size_t *size);
int mb_write(mb_model *mb, const char *path);

/* Recomputes the trailing CRC after editing a file image. */
void mb_fix_crc(uint8_t *buf, size_t size);
uint32_t mb_crc32(const uint8_t *p, size_t n);

/* Byte offsets of table entries in a serialised image. */
size_t mb_tensor_entry(const mb_model *mb, uint32_t i);
size_t mb_value_entry(const mb_model *mb, uint32_t i);
size_t mb_layer_entry(const mb_model *mb, uint32_t i);
size_t mb_output_entry(const mb_model *mb, uint32_t i);

void mb_put_u32(uint8_t *p, uint32_t v);
void mb_put_u64(uint8_t *p, uint64_t v);
uint32_t mb_get_u32(const uint8_t *p);

/* The standard graphs of the tests. variant 0: YOLO-like, every op (conv
 * 1x1/3x3, stride 1/2, pad, act 0/1/2, add, concat with rescale, slice,
 * maxpool, upsample), heads at strides 8, 16, 32. variant 1: odd shapes
 * (asymmetric and large kernels, stride 3/4 convs, odd channel counts, a
 * 1x1 stride-2 conv, 3 concat inputs), heads at 8 and 32. variant 2: the
 * YOLO-like graph with multi-ternary convs mixed in (n_terms 1, 2, 3, 4 and
 * 5; the first conv with k = 3, stride-2, 1x1 direct and raw head convs with
 * k > 1). */
mb_model *mb_build_test_graph(int variant, uint64_t seed);

#endif /* BF_MODEL_BUILDER_H */
