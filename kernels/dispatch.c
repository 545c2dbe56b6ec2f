#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const bf_t2i8_gemm_config *bf_t2i8_gemm_select(const char *isa, char *err, size_t err_size)
{
    if (isa == NULL || isa[0] == '\0' || strcmp(isa, "auto") == 0) {
        const char *env = getenv("BITFALCON_ISA");
        isa = (env != NULL && env[0] != '\0') ? env : "ref";
        if (strcmp(isa, "auto") == 0)
            isa = "ref";
    }
    if (strcmp(isa, "ref") == 0)
        return &bf_t2i8_gemm_ref;
    if (err != NULL && err_size > 0)
        snprintf(err, err_size, "kernel path '%s' is not available in this build (have: ref)", isa);
    return NULL;
}
