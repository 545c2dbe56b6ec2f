/* Run-time choice of kernel paths: CPU detection once (kernels/cpu.h), then a
 * ladder from the widest ISA down to the reference.
 *
 *   x86-64:  avx512vnni -> avxvnni -> avx2 -> ref
 *   aarch64: neondot -> neon -> ref
 *
 * Naming a path explicitly (argument or BITFALCON_ISA) never falls back: a
 * path this build lacks or this CPU cannot run is an error. Thread-safe. */
#ifndef BF_DISPATCH_H
#define BF_DISPATCH_H

#include <stddef.h>

#include "t2i8-gemm/t2i8-gemm.h"

/* Picks the ternary GEMM for `isa`: NULL, "" or "auto" = the best this CPU runs
 * (the environment variable BITFALCON_ISA, when set, takes the place of "auto");
 * otherwise exactly the named path ("ref", "avx2", "avxvnni", "avx512vnni",
 * "neon", "neondot": t2i8-gemm/t2i8-gemm.inc). Returns NULL and writes a one-line reason to `err` when the name
 * is unknown or this CPU/build cannot run it. */
const bf_t2i8_gemm_config *bf_t2i8_gemm_select(const char *isa, char *err, size_t err_size);

/* The bit-serial popcount family has its own selector, bf_b1_gemm_select
 * (b1-gemm/b1-gemm.h), in bitfalcon_b1: the engine does not use it. */

/* The names bf_t2i8_gemm_select() accepts in this build, space-separated,
 * widest first, e.g. "avx512vnni avxvnni avx2 ref". */
const char *bf_t2i8_gemm_available(void);

#endif /* BF_DISPATCH_H */
