/* The reference requant epilogue (plain C, the oracle) and the selector.
 * The selector lives here because this file is built on every architecture
 * (CMakeLists.txt builds every kernel family's -ref.c file). */
#include "i32-requant/i32-requant.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

static inline int8_t clamp8(int64_t v)
{
    v = v < -128 ? -128 : v;
    v = v > 127 ? 127 : v;
    return (int8_t)v;
}

static inline int8_t requant1(int32_t v, int32_t mult, int32_t shift)
{
    const int64_t prod = (int64_t)v * mult;
    return clamp8((prod + (((int64_t)1 << shift) >> 1)) >> shift);
}

static void requant_ref(size_t rows, size_t n, const int32_t *acc, size_t ld_acc, const int32_t *bias,
                        const int32_t *mult, const int32_t *shift, const int8_t *silu, int8_t *out, size_t ld_out)
{
    assert(ld_acc >= n && ld_out >= n);
    for (size_t r = 0; r < rows; r++) {
        const int32_t *restrict a = acc + r * ld_acc;
        int8_t *restrict o = out + r * ld_out;
        if (silu != NULL) {
            for (size_t j = 0; j < n; j++)
                o[j] = silu[requant1(a[j] + bias[j], mult[j], shift[j]) + 128];
        } else {
            for (size_t j = 0; j < n; j++)
                o[j] = requant1(a[j] + bias[j], mult[j], shift[j]);
        }
    }
}

static void bias_add_ref(size_t rows, size_t n, int32_t *acc, size_t ld_acc, const int32_t *bias)
{
    assert(ld_acc >= n);
    for (size_t r = 0; r < rows; r++) {
        int32_t *restrict a = acc + r * ld_acc;
        for (size_t j = 0; j < n; j++)
            a[j] += bias[j];
    }
}

void bf_i32_lut8_scalar(size_t rows, size_t n, const int8_t *in, size_t ld_in, const int8_t *table, int8_t *out,
                        size_t ld_out)
{
    for (size_t r = 0; r < rows; r++) {
        const int8_t *restrict s = in + r * ld_in;
        int8_t *restrict d = out + r * ld_out;
        for (size_t j = 0; j < n; j++)
            d[j] = table[s[j] + 128];
    }
}

void bf_i32_add8_scalar(size_t n, const int8_t *a, const int8_t *b, int32_t mult_a, int32_t mult_b, int32_t shift,
                        int8_t *out)
{
    const int64_t round = ((int64_t)1 << shift) >> 1;
    for (size_t i = 0; i < n; i++)
        out[i] = clamp8(((int64_t)a[i] * mult_a + (int64_t)b[i] * mult_b + round) >> shift);
}

const bf_i32_requant_config bf_i32_requant_ref = {
    .isa = "ref",
    .requant = requant_ref,
    .bias_add = bias_add_ref,
    .lut8 = bf_i32_lut8_scalar,
    .add8 = bf_i32_add8_scalar,
};

static bool can_any(const bf_cpu_flags *f)
{
    (void)f;
    return true;
}

typedef struct entry {
    const char *isa;
    const bf_i32_requant_config *config;
    bool (*can_run)(const bf_cpu_flags *);
} entry;

#define BF_I32_REQUANT(arch, name, config, check) BF_ON_##arch({#name, &config, check}, )
static const entry table[] = {
#include "i32-requant/i32-requant.inc"
    {"ref", &bf_i32_requant_ref, can_any},
};
#undef BF_I32_REQUANT
#define N_ENTRIES (sizeof table / sizeof table[0])

const bf_i32_requant_config *bf_i32_requant_by_name(const char *isa)
{
    if (isa == NULL)
        return NULL;
    const bf_cpu_flags *f = bf_cpu_detect();
    for (size_t i = 0; i < N_ENTRIES; i++)
        if (strcmp(isa, table[i].isa) == 0)
            return table[i].can_run(f) ? table[i].config : NULL;
    return NULL;
}

const bf_i32_requant_config *bf_i32_requant_select(const char *gemm_isa)
{
    const bf_cpu_flags *f = bf_cpu_detect();
    /* benchmark hook: BITFALCON_REQUANT=ref|avx2|avx512 forces a path (when runnable) */
    const char *env = getenv("BITFALCON_REQUANT");
    if (env != NULL && env[0] != '\0' && bf_i32_requant_by_name(env) != NULL)
        return bf_i32_requant_by_name(env);
    size_t first = 0; /* auto: the widest */
    if (gemm_isa != NULL && gemm_isa[0] != '\0' && strcmp(gemm_isa, "auto") != 0) {
        /* the widest entry of the GEMM's family, then down the ladder */
        const char *want = strstr(gemm_isa, "avx512") ? "avx512"
                           : strstr(gemm_isa, "avx")  ? "avx2"
                           : strstr(gemm_isa, "neon") ? "neon"
                                                      : "ref";
        first = N_ENTRIES - 1;
        for (size_t i = N_ENTRIES; i-- > 0;)
            if (strncmp(want, table[i].isa, strlen(want)) == 0)
                first = i;
    }
    for (size_t i = first; i < N_ENTRIES; i++)
        if (table[i].can_run(f))
            return table[i].config;
    return &bf_i32_requant_ref;
}
