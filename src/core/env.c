/* env.c - see env.h. */
#include "env.h"

#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "error.h"
#include "i32-requant/i32-requant.h"

static const char *env_value(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

bf_status bf_env_check(bf_error *err)
{
    const char *terms = env_value("BITFALCON_MAX_TERMS");
    if (terms != NULL && !(terms[0] >= '1' && terms[0] <= '5' && terms[1] == '\0'))
        return bf_fail(err, BF_ERR_ARGUMENT, "BITFALCON_MAX_TERMS='%.40s': expected 1..5 (or unset)", terms);

    const char *disable = env_value("BITFALCON_CPU_DISABLE");
    unsigned len = 0;
    const char *bad = bf_cpu_disable_unknown(disable, &len);
    if (bad != NULL) {
        char names[200];
        return bf_fail(err, BF_ERR_ARGUMENT, "BITFALCON_CPU_DISABLE: unknown feature '%.*s' (known: %s)",
                       (int)(len > 40 ? 40 : len), bad, bf_cpu_feature_names(names, sizeof names));
    }

    const char *requant = env_value("BITFALCON_REQUANT");
    if (requant != NULL && bf_i32_requant_by_name(requant) == NULL)
        return bf_fail(err, BF_ERR_UNSUPPORTED,
                       "BITFALCON_REQUANT='%.40s': not a requant path this build and CPU run "
                       "(ref, avx2, avx512, avx512vbmi, neon where the CPU has them)",
                       requant);

    /* the direct stem conv (kernels/i8c3-conv/): 0 = off, for before/after benchmarks */
    const char *direct = env_value("BITFALCON_DIRECT_CONV");
    if (direct != NULL && strcmp(direct, "0") != 0 && strcmp(direct, "1") != 0)
        return bf_fail(err, BF_ERR_ARGUMENT, "BITFALCON_DIRECT_CONV='%.40s': expected 0 or 1 (or unset)", direct);
    /* the indirect GEMM for the convs (bf_conv_params.indirect): 0 = im2col + GEMM, for benchmarks */
    const char *igemm = env_value("BITFALCON_IGEMM");
    if (igemm != NULL && strcmp(igemm, "0") != 0 && strcmp(igemm, "1") != 0)
        return bf_fail(err, BF_ERR_ARGUMENT, "BITFALCON_IGEMM='%.40s': expected 0 or 1 (or unset)", igemm);
    return BF_OK;
}
