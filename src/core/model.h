/*
 * model.h - the validated, memory-mapped .bfm model (docs/model-format.md).
 *
 * bf_model_open() maps the file read-only and checks every field before it
 * returns, so the rest of the engine may trust what it finds here: tensor data
 * pointers lie inside the mapping with the dtype and shape their role needs,
 * the graph is acyclic and in execution order, every value's channels and
 * stride agree with its producer, quantisation parameters are in range, and
 * ternary rows hold no invalid code. The parsed tables are native-endian
 * copies; tensor data is read in place from the mapping.
 */
#ifndef BF_MODEL_H
#define BF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "bitfalcon.h"
#include "common.h"

/* File layout (all little-endian). */
#define BF_MAGIC "BFLC"
#define BF_FORMAT_VERSION 1u
#define BF_BYTE_ORDER_MARK 0x01020304u
#define BF_HEADER_BYTES 64u
#define BF_TENSOR_ENTRY_BYTES 128u
#define BF_VALUE_ENTRY_BYTES 32u
#define BF_LAYER_ENTRY_BYTES 144u
#define BF_OUTPUT_ENTRY_BYTES 16u
#define BF_TENSOR_NAME_BYTES 64u
#define BF_DATA_ALIGN 64u

/* Caps: from the format where it gives them, otherwise generous bounds that
 * keep every later size computation far from overflow. */
/* The whole file is read into memory before it is checked (model.c), so a
 * size cap, checked from the file's size before reading, keeps a huge or
 * sparse file from costing seconds and gigabytes. The shipped YOLOv8n is
 * 1.9 MB; a multi-ternary YOLOv8x would be under 100 MB. */
#define BF_MAX_MODEL_BYTES ((uint64_t)256 << 20)
#define BF_MAX_TENSORS 4096u
#define BF_MAX_VALUES 4096u
#define BF_MAX_LAYERS 4096u
#define BF_MAX_OUTPUTS 16u
#define BF_MAX_CLASSES 1000u
#define BF_MAX_REG_MAX 64u
#define BF_MAX_CHANNELS 16384u
#define BF_MAX_LAYER_INPUTS 8u
#define BF_MAX_KERNEL 7
#define BF_MAX_OP_STRIDE 4
/* BF_MIN_INPUT_SIZE, BF_MAX_INPUT_SIZE: bitfalcon.h */
#define BF_MAX_VALUE_STRIDE 32u
/* CONV n_terms: k balanced-ternary weight planes, integer weights in
 * [-L, L] with L = (3^k - 1) / 2 (121 for k = 5). */
#define BF_MAX_TERMS 5

enum bf_dtype { BF_DTYPE_I8 = 1, BF_DTYPE_U8 = 2, BF_DTYPE_I32 = 3, BF_DTYPE_F32 = 4, BF_DTYPE_T2 = 5 };

enum bf_op {
    BF_OP_CONV = 1,
    BF_OP_ADD = 2,
    BF_OP_CONCAT = 3,
    BF_OP_SLICE = 4,
    BF_OP_MAXPOOL = 5,
    BF_OP_UPSAMPLE = 6
};

/* CONV params[] and tensors[] slots. */
enum { BF_CONV_KH, BF_CONV_KW, BF_CONV_STRIDE, BF_CONV_PAD, BF_CONV_IN_C, BF_CONV_OUT_C, BF_CONV_ACT,
       BF_CONV_N_TERMS };
enum { BF_CONV_T_WEIGHTS, BF_CONV_T_BIAS, BF_CONV_T_MULT, BF_CONV_T_SHIFT, BF_CONV_T_SILU,
       BF_CONV_T_DEQUANT };
enum { BF_ACT_LINEAR = 0, BF_ACT_SILU = 1, BF_ACT_RAW = 2 };
/* Output kinds. */
enum { BF_KIND_BOX = 0, BF_KIND_CLASS = 1 };

typedef struct bf_tensor {
    char name[BF_TENSOR_NAME_BYTES]; /* NUL-terminated, printable */
    uint32_t dtype;
    uint32_t ndim;
    uint32_t dims[4]; /* unused = 1 */
    uint64_t offset;
    uint64_t nbytes;
    const uint8_t *data; /* inside the mapping, 64-byte aligned */
} bf_tensor;

typedef struct bf_value {
    uint32_t channels;
    uint32_t stride; /* spatial size = input size / stride */
    int32_t zero_point;
    float scale;
    uint32_t dtype;    /* BF_DTYPE_I8 or BF_DTYPE_I32 */
    uint32_t producer; /* layer index, BF_NONE for value 0 */
} bf_value;

typedef struct bf_layer {
    uint32_t op;
    uint32_t n_inputs;
    uint32_t inputs[BF_MAX_LAYER_INPUTS];
    uint32_t output;
    int32_t params[16];
    uint32_t tensors[8];
} bf_layer;

typedef struct bf_output {
    uint32_t value;
    uint32_t kind; /* BF_KIND_BOX or BF_KIND_CLASS */
    uint32_t stride;
    uint32_t dequant; /* tensor index, F32 [channels] */
} bf_output;

struct bf_model {
    char *path; /* for messages */
    const uint8_t *map; /* the validated bytes (a private copy for bf_model_open) */
    size_t map_size;
    void *owned_map; /* the copy to free on close (NULL from memory) */

    uint32_t n_tensors, n_values, n_layers, n_outputs;
    uint32_t num_classes, reg_max, default_input_size;

    bf_tensor *tensors;
    bf_value *values;
    bf_layer *layers;
    bf_output *outputs;

    char *class_name_storage;  /* names, each NUL-terminated */
    const char **class_names;  /* num_classes pointers into the storage */
};

/* Typed views of validated tensor data (aligned, little-endian host). */
static inline const int32_t *bf_tensor_i32(const bf_model *m, uint32_t index)
{
    return (const int32_t *)(const void *)m->tensors[index].data;
}
static inline const float *bf_tensor_f32(const bf_model *m, uint32_t index)
{
    return (const float *)(const void *)m->tensors[index].data;
}
static inline const int8_t *bf_tensor_i8(const bf_model *m, uint32_t index)
{
    return (const int8_t *)(const void *)m->tensors[index].data;
}

/* 3^i for i in 0..BF_MAX_TERMS (the weight of balanced-ternary plane i). */
static inline int32_t bf_pow3(int i)
{
    int32_t v = 1;
    while (i-- > 0)
        v *= 3;
    return v;
}

/* Size in bytes of one T2 weight row for a reduction length K. */
static inline uint64_t bf_t2_row_bytes(uint64_t k)
{
    return (k + 63) / 64 * 16;
}

/* Name of an op for messages ("conv", ...; "op?" when unknown). */
const char *bf_op_name(uint32_t op);

/* Validates an in-memory image of a model file (what bf_model_open maps).
 * `name` is used in messages only. On success *out_model owns a copy of the
 * tables but points into `data`, which must outlive it; it is released with
 * bf_model_close (which then does not unmap anything). A zstd-framed model
 * (model_zstd.h) is inflated into a block the model owns instead. */
bf_status bf_model_from_memory(const void *data, size_t size, const char *name, bf_model **out_model,
                               bf_error *err);

#endif /* BF_MODEL_H */
