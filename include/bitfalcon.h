/*
 * bitfalcon.h - the BitFalcon C API: a ternary (1.58-bit) YOLOv8n detector.
 *
 * Usage:
 *
 *     bf_error err;
 *     bf_model *model = NULL;
 *     if (bf_model_open("models/bitfalcon-v8n.bfm", &model, &err) != BF_OK) {
 *         fprintf(stderr, "%s\n", err.message);
 *         return 1;
 *     }
 *     bf_options opt;
 *     bf_options_default(&opt);           // 640 px, conf 0.25, IoU 0.7
 *     bf_detector *det = NULL;
 *     if (bf_detector_create(model, &opt, &det, &err) != BF_OK) { ... }
 *     if (bf_detector_run(det, rgb, width, height, width * 3, BF_PIXEL_RGB, &err) == BF_OK) {
 *         size_t n;
 *         const bf_detection *d = bf_detector_results(det, &n);
 *         for (size_t i = 0; i < n; i++)
 *             printf("%s %.2f\n", bf_model_class_name(model, d[i].class_id), d[i].score);
 *     }
 *     bf_detector_destroy(det);           // destroy before the model it uses
 *     bf_model_close(model);
 *
 * Conventions:
 *  - Every fallible call returns bf_status (BF_OK = 0). On failure nothing is
 *    allocated, out-parameters are left untouched, and when `err` is not NULL
 *    it receives a one-line message naming what is wrong.
 *  - No global mutable state: a bf_model is immutable after opening and may be
 *    shared by any number of detectors and threads; a bf_detector owns its
 *    working memory (allocated once, at creation) and is used by one thread at
 *    a time.
 *  - Destroy/close functions accept NULL.
 *  - Options: a NULL `bf_options *` means the defaults of bf_options_default().
 *    Always start from bf_options_default(), which also sets `struct_size`: a
 *    struct not made by it is refused, so that fields added later never read
 *    garbage from a caller built against an older header.
 *
 * Environment variables (read at bf_detector_create; unset or empty = not set;
 * a value the library cannot honour is an error there, never ignored):
 *  - BITFALCON_ISA: the kernel path when the options say NULL/"auto" ("ref",
 *    "avx2", "avxvnni", "avx512vnni", "neon", "neondot"); unknown or not
 *    runnable on this CPU: BF_ERR_UNSUPPORTED.
 *  - BITFALCON_MAX_TERMS: 1..5, the most weight planes one GEMM folds
 *    (benchmarks; the results are identical); else BF_ERR_ARGUMENT.
 *  - BITFALCON_CPU_DISABLE: CPU features to treat as absent, comma-separated
 *    ("avx512vnni,avxvnni", or "all"), for tests of the dispatch ladder; an
 *    unknown name: BF_ERR_ARGUMENT. Read once per process.
 *  - BITFALCON_REQUANT: the requant epilogue path ("ref", "avx2", "avx512",
 *    "avx512vbmi", "neon"), for benchmarks; unknown or not runnable: BF_ERR_UNSUPPORTED.
 *  - BITFALCON_DIRECT_CONV: "0" runs the 3-channel stem by im2col + GEMM
 *    instead of its direct conv (benchmarks; same results), "1" the default;
 *    else BF_ERR_ARGUMENT.
 *  - BITFALCON_IGEMM: "0" runs every conv by im2col + GEMM instead of the
 *    indirect GEMM, which reads the input's kernel rows in place
 *    (benchmarks; same results), "1" the default; else BF_ERR_ARGUMENT.
 */
#ifndef BITFALCON_H
#define BITFALCON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header. CMakeLists.txt reads these three lines for
 * project(VERSION), so the library's soname, bitfalcon.pc and
 * bitfalconConfigVersion.cmake all say the same; bf_version() is the version
 * of the library actually linked. */
#define BITFALCON_VERSION_MAJOR 0
#define BITFALCON_VERSION_MINOR 2
#define BITFALCON_VERSION_PATCH 0
/* One number for #if: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define BITFALCON_VERSION \
    (BITFALCON_VERSION_MAJOR * 10000 + BITFALCON_VERSION_MINOR * 100 + BITFALCON_VERSION_PATCH)

/* Limits, checked by the calls that take them (BF_ERR_ARGUMENT / BF_ERR_IMAGE
 * beyond them). */
#define BF_MAX_IMAGE_DIM (1 << 20) /* widest and tallest image bf_detector_run() takes */
#define BF_MIN_INPUT_SIZE 32       /* bf_options.input_size: a multiple of BF_INPUT_SIZE_STEP */
#define BF_MAX_INPUT_SIZE 4096     /*   in BF_MIN_INPUT_SIZE..BF_MAX_INPUT_SIZE */
#define BF_INPUT_SIZE_STEP 32      /*   (the network's largest stride) */

typedef enum bf_status {
    BF_OK = 0,
    BF_ERR_ARGUMENT = 1,    /* a NULL pointer, an out-of-range option */
    BF_ERR_IO = 2,          /* a file could not be opened, read or mapped */
    BF_ERR_FORMAT = 3,      /* a model file is malformed or corrupt */
    BF_ERR_NOMEM = 4,       /* an allocation failed */
    BF_ERR_UNSUPPORTED = 5, /* a valid request this build or CPU cannot serve */
    BF_ERR_IMAGE = 6        /* an image is malformed, truncated or too large */
} bf_status;

/* The linked library's version, "MAJOR.MINOR.PATCH" (static storage). */
const char *bf_version(void);

/* A short static description of a status ("format error", ...). */
const char *bf_status_str(bf_status status);

/* Error details: filled by a failing call when the caller passes one. */
typedef struct bf_error {
    bf_status status;
    char message[256];
} bf_error;

typedef struct bf_model bf_model;
typedef struct bf_detector bf_detector;

typedef enum bf_pixel_format { BF_PIXEL_RGB = 0, BF_PIXEL_BGR = 1 } bf_pixel_format;

/* One detection, in the pixel coordinates of the image given to run(). */
typedef struct bf_detection {
    float x0, y0, x1, y1; /* corners, x1 >= x0, y1 >= y0 */
    float score;          /* 0..1 */
    int class_id;         /* 0..num_classes-1 */
} bf_detection;

typedef struct bf_options {
    size_t struct_size;    /* sizeof(bf_options) as the caller was compiled: set by bf_options_default */
    int input_size;        /* network input, a multiple of BF_INPUT_SIZE_STEP in BF_MIN_INPUT_SIZE..
                            * BF_MAX_INPUT_SIZE (320, 640, ...); 0 = model default */
    float conf_threshold;  /* keep boxes scoring at least this (0.25) */
    float iou_threshold;   /* class-aware NMS overlap (0.7) */
    int max_detections;    /* most boxes returned per image (300) */
    int threads;           /* worker threads; 0 = all cores */
    const char *isa;       /* kernel path: NULL or "auto" = best for this CPU, or "ref", "avx2", ... */
    int multi_label;       /* 0 = the best class per anchor (predict; default); 1 = every class scoring
                            * >= conf at every anchor is a candidate, the BF_MULTI_LABEL_MAX_NMS best
                            * go to the class-aware NMS (how `yolo val` scores mAP) */
} bf_options;

#define BF_MULTI_LABEL_MAX_NMS 30000

/* Fills `options` with the defaults (and struct_size). Call it before setting fields. */
void bf_options_default(bf_options *options);

/* Reads a model file into private memory and validates it completely before returning
 * it: the file may change or go away afterwards. */
bf_status bf_model_open(const char *path, bf_model **out_model, bf_error *err);
/* The same from a buffer holding a whole .bfm file (embedded in a program, downloaded):
 * the bytes are copied, so the buffer may be freed as soon as this returns. */
bf_status bf_model_open_memory(const void *data, size_t size, bf_model **out_model, bf_error *err);
void bf_model_close(bf_model *model);
int bf_model_num_classes(const bf_model *model);
/* Class name, or NULL when class_id is out of range. Valid while the model is open. */
const char *bf_model_class_name(const bf_model *model, int class_id);
int bf_model_default_input_size(const bf_model *model);

/* Options are copied; `model` must outlive the detector. */
bf_status bf_detector_create(const bf_model *model, const bf_options *options,
                             bf_detector **out_detector, bf_error *err);
void bf_detector_destroy(bf_detector *detector);

/* Detects objects in an 8-bit image of `width` x `height` pixels, 3 bytes per
 * pixel in the given order, rows `stride` bytes apart. Results replace the
 * previous run's and stay valid until the next run or destroy. They come in
 * descending score order (ties: the order of the anchors, so runs are
 * reproducible), at most max_detections of them, after class-aware NMS. */
bf_status bf_detector_run(bf_detector *detector, const uint8_t *pixels, int width, int height,
                          size_t stride, bf_pixel_format format, bf_error *err);
const bf_detection *bf_detector_results(const bf_detector *detector, size_t *count);

/* Changes the thresholds of later runs (the live demo's +/- keys); both in [0, 1]. */
bf_status bf_detector_set_thresholds(bf_detector *detector, float conf_threshold, float iou_threshold,
                                     bf_error *err);

/* Keeps only detections of these classes in later runs (n = 0: all classes again).
 * Applied to the candidates before NMS. */
bf_status bf_detector_set_classes(bf_detector *detector, const int *class_ids, size_t n, bf_error *err);

/* What a raw head output holds. */
typedef enum bf_output_kind {
    BF_OUTPUT_BOX_DFL = 0,      /* 4 x reg_max DFL logits per cell (left, top, right, bottom) */
    BF_OUTPUT_CLASS_LOGITS = 1  /* num_classes logits per cell, before the sigmoid */
} bf_output_kind;

/* The raw integer head outputs of the last run, for tests and tools:
 * output `index` (0..bf_detector_num_outputs-1) as NHWC int32 `[h][w][channels]`,
 * its kind, and its feature stride (input pixels per cell: 8, 16, 32). Any of the
 * out-pointers may be NULL. Returns NULL for a bad index. */
int bf_detector_num_outputs(const bf_detector *detector);
const int32_t *bf_detector_output(const bf_detector *detector, int index, bf_output_kind *kind,
                                  int *feature_stride, int *height, int *width, int *channels);

/* The kernel path in use: one of bitfalcon_profile.h's bf_isa_available() ("ref", "avx2", ...). */
const char *bf_detector_isa(const bf_detector *detector);

#ifdef __cplusplus
}
#endif

#endif /* BITFALCON_H */
