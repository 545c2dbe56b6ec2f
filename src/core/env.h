/*
 * env.h - the environment variables that steer the library, checked in one place.
 *
 *   BITFALCON_ISA          the ternary GEMM path for detectors whose options say "auto"
 *                          (kernels/dispatch.c reads it; an unknown or unrunnable name
 *                          is an error there)
 *   BITFALCON_MAX_TERMS    1..5: the most weight planes one GEMM folds (benchmarks; 1 =
 *                          the per-plane path, same results)
 *   BITFALCON_CPU_DISABLE  CPU features to treat as absent ("avx512vnni,dotprod", "all"),
 *                          for tests that walk the dispatch ladder
 *   BITFALCON_REQUANT      the requant epilogue path ("ref", "avx2", "avx512",
 *                          "avx512vbmi"), for benchmarks
 *   BITFALCON_DIRECT_CONV  0: the 3-channel stem by im2col + GEMM (benchmarks)
 *   BITFALCON_IGEMM        0: every conv by im2col + GEMM instead of the indirect GEMM
 *                          (benchmarks; same results)
 *
 * Unset or empty means "not set". A value the library cannot honour is an error
 * (BF_ERR_ARGUMENT / BF_ERR_UNSUPPORTED) at bf_detector_create, never ignored: a
 * benchmark that silently ran another path would measure the wrong thing.
 */
#ifndef BF_ENV_H
#define BF_ENV_H

#include "bitfalcon.h"

/* Checks BITFALCON_MAX_TERMS, BITFALCON_CPU_DISABLE and BITFALCON_REQUANT (BITFALCON_ISA
 * is checked where it is used, with the options' isa). */
bf_status bf_env_check(bf_error *err);

#endif /* BF_ENV_H */
