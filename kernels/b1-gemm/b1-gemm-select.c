/* b1-gemm-select.c - bf_b1_gemm_select: the popcount family's table,
 * expanded from b1-gemm.inc, and the choice by select.c. Built with the
 * family into bitfalcon_b1 (the engine does not call it: the benchmark and
 * the kernel tests do), not into libbitfalcon. */
#include "b1-gemm.h"

#include <string.h>

#include "select.h"

#define BF_B1_GEMM(arch, name, config, check, feature) BF_ON_##arch({#name, &config, check}, )
static const bf_kernel_entry bf_b1_table[] = {
#include "b1-gemm/b1-gemm.inc"
    {"ref", &bf_b1_gemm_ref, bf_cpu_can_any},
};
#undef BF_B1_GEMM

/* Every name the family knows on any architecture (see dispatch.c). */
#define BF_B1_GEMM(arch, name, ...) #name,
static const char *const bf_b1_all_names[] = {
#include "b1-gemm/b1-gemm.inc"
    "ref"};
#undef BF_B1_GEMM

const bf_t2i8_gemm_config *bf_b1_gemm_select(const char *isa, char *err, size_t err_size)
{
    if (isa != NULL && (isa[0] == '\0' || strcmp(isa, "auto") == 0))
        isa = NULL;
    return bf_kernel_select("bit-serial GEMM", bf_b1_table, sizeof bf_b1_table / sizeof bf_b1_table[0],
                            bf_b1_all_names, sizeof bf_b1_all_names / sizeof bf_b1_all_names[0], isa, "", err,
                            err_size);
}
