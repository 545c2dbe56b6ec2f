/*
 * bitfalcon_profile.h - the profiling API: what `bitfalcon bench` uses to time
 * the engine stage by stage and layer by layer, and to rate it against the
 * CPU's int8 peak. Detection needs none of it (bitfalcon.h is the whole
 * detection API); benchmarks and tools that want the same figures as
 * `bitfalcon bench` include this header too. It follows bitfalcon.h's
 * conventions (bf_status results with a bf_error *, NULL allowed for it) and
 * is part of the same library, versioned with it.
 *
 * Stages: a bf_detector_run is exactly
 *
 *     bf_detector_preprocess(det, pixels, ...);   letterbox + int8 input
 *     bf_detector_run_network(det);               every layer
 *     bf_detector_postprocess(det);               decode + NMS + un-letterbox
 *
 * so timing the three calls apart gives the stages of one run, and the
 * results afterwards (bf_detector_results) are the same.
 *
 * Thread safety: as bitfalcon.h, one detector per thread; bf_cpu_features,
 * bf_isa_available and bf_measure_peak may be called from any thread.
 */
#ifndef BITFALCON_PROFILE_H
#define BITFALCON_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "bitfalcon.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- a run in three stages -------------------------------------------------- */

/* Letterboxes the image into the network input (the first stage of bf_detector_run,
 * with the same arguments and errors). */
bf_status bf_detector_preprocess(bf_detector *detector, const uint8_t *pixels, int width, int height,
                                 size_t stride, bf_pixel_format format, bf_error *err);
/* The layers, on the input of the last bf_detector_preprocess. */
void bf_detector_run_network(bf_detector *detector);
/* Decode, NMS and un-letterbox of the last network run: fills bf_detector_results. */
void bf_detector_postprocess(bf_detector *detector);

/* --- what the detector runs ------------------------------------------------- */

/* Worker threads in the detector's pool (bf_options.threads resolved: 0 = all cores). */
int bf_detector_threads(const bf_detector *detector);
/* The requantisation epilogue's path ("ref", "avx2", "avx512", "neon", ...). */
const char *bf_detector_requant_isa(const bf_detector *detector);
/* The kernel paths bf_options.isa (and BITFALCON_ISA) accept in this build,
 * space-separated, widest first, e.g. "avx512vnni avxvnni avx2 ref". */
const char *bf_isa_available(void);
/* The CPU features the dispatch sees, space-separated ("avx2 fma f16c ..."), after
 * BITFALCON_CPU_DISABLE; into buf (always terminated). Returns buf. */
char *bf_cpu_features(char *buf, size_t size);

/* --- layers ----------------------------------------------------------------- */

typedef enum bf_layer_op {
    BF_LAYER_CONV = 1,
    BF_LAYER_ADD = 2,
    BF_LAYER_CONCAT = 3,
    BF_LAYER_SLICE = 4,
    BF_LAYER_MAXPOOL = 5,
    BF_LAYER_UPSAMPLE = 6
} bf_layer_op;

/* "conv", "add", "concat", "slice", "maxpool", "upsample"; "op?" otherwise. */
const char *bf_layer_op_name(int op);

/* Layer i of the model at this detector's input size. */
typedef struct bf_layer_info {
    int op; /* a bf_layer_op */
    int in_h, in_w, in_c, out_h, out_w, out_c, n_inputs;
    int kh, kw, stride, act; /* conv only: kernel size, spatial stride, 1 = SiLU */
    size_t m, n, k;          /* conv: the GEMM's M = out pixels, N = out_c, K = kh*kw*in_c */
    int n_terms;             /* conv: ternary weight planes, 1..5 */
    int n_gemms;             /* conv: GEMMs run per tile (the planes folded as the path allows) */
    double ops;              /* conv: 2*M*N*K*n_gemms (a multiply-add counts two; the
                                kernel's work); else 0 */
} bf_layer_info;

/* Layers in execution order; bf_detector_layer_info returns 0 and fills *info for
 * 0 <= i < bf_detector_num_layers, -1 (info untouched) otherwise. */
int bf_detector_num_layers(const bf_detector *detector);
int bf_detector_layer_info(const bf_detector *detector, int i, bf_layer_info *info);

/* Per-layer timing of later runs: each run adds layer i's wall time in ns to
 * layer_ns[i] (bf_detector_num_layers entries, zeroed by the caller, kept alive
 * by the caller until profiling is turned off); NULL turns it off (the default,
 * which costs nothing). */
void bf_detector_profile(bf_detector *detector, uint64_t *layer_ns);

/* --- the CPU's int8 peak ---------------------------------------------------- */

/* One core's int8 multiply-add peak, measured by a loop of the instruction the
 * widest GEMM path this CPU runs is built on (vpdpbusd zmm/ymm, vpmaddubsw,
 * sdot, smlal). */
typedef struct bf_peak {
    double gops;      /* giga int8 ops per second (a multiply-add counts two); 0: no loop */
    const char *loop; /* the loop's name, "none" when no loop applies */
    const char *why;  /* why this loop stands for the peak (for reports) */
} bf_peak;

/* Runs the loop on the calling thread for at least min_seconds of its CPU time
 * per run (the median of five runs). Returns 1 and fills *out, or 0 with
 * out->gops = 0 when no loop applies to this CPU or build. */
int bf_measure_peak(double min_seconds, bf_peak *out);

#ifdef __cplusplus
}
#endif

#endif /* BITFALCON_PROFILE_H */
