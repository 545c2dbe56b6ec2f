/* Kernel dispatch of the ternary GEMM: its table expanded from the
 * enumerator (t2i8-gemm/t2i8-gemm.inc), the choice by select.c. */
#include "dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "select.h"

#define BF_T2I8_GEMM(arch, name, config, check, feature, max_terms) BF_ON_##arch({#name, &config, check}, )
static const bf_kernel_entry bf_t2i8_table[] = {
#include "t2i8-gemm/t2i8-gemm.inc"
    {"ref", &bf_t2i8_gemm_ref, bf_cpu_can_any},
};
#undef BF_T2I8_GEMM

/* Every name the family knows on any architecture (the enumerator lists
 * all of them), to tell "unknown" from "not in this build". */
#define BF_T2I8_GEMM(arch, name, ...) #name,
static const char *const bf_t2i8_all_names[] = {
#include "t2i8-gemm/t2i8-gemm.inc"
    "ref"};
#undef BF_T2I8_GEMM

const bf_t2i8_gemm_config *bf_t2i8_gemm_select(const char *isa, char *err, size_t err_size)
{
    const char *source = "";
    if (isa == NULL || isa[0] == '\0' || strcmp(isa, "auto") == 0) {
        const char *env = getenv("BITFALCON_ISA");
        if (env != NULL && env[0] != '\0' && strcmp(env, "auto") != 0) {
            isa = env;
            source = " (from BITFALCON_ISA)";
        } else {
            isa = NULL;
        }
    }
    return bf_kernel_select("ternary GEMM", bf_t2i8_table, sizeof bf_t2i8_table / sizeof bf_t2i8_table[0],
                            bf_t2i8_all_names, sizeof bf_t2i8_all_names / sizeof bf_t2i8_all_names[0], isa, source,
                            err, err_size);
}

const char *bf_t2i8_gemm_available(void)
{
    static const char names[] =
#define BF_T2I8_GEMM(arch, name, ...) BF_ON_##arch(#name " ")
#include "t2i8-gemm/t2i8-gemm.inc"
#undef BF_T2I8_GEMM
        "ref";
    return names;
}
