/* Run-time choice of kernel paths: CPU detection once, then a ladder from the
 * widest ISA down to the reference. */
#ifndef BF_DISPATCH_H
#define BF_DISPATCH_H

#include <stddef.h>

#include "t2i8-gemm/t2i8-gemm.h"

/* Picks the ternary GEMM for `isa`: NULL, "" or "auto" = the best this CPU runs
 * (the environment variable BITFALCON_ISA, when set, takes the place of "auto");
 * otherwise exactly the named path. Returns NULL and writes a one-line reason to
 * `err` when the name is unknown or this CPU/build cannot run it. */
const bf_t2i8_gemm_config *bf_t2i8_gemm_select(const char *isa, char *err, size_t err_size);

#endif /* BF_DISPATCH_H */
