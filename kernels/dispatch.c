/* Kernel dispatch: tables expanded from the enumerators (<family>.inc). */
#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

typedef struct bf_kernel_entry {
    const char *isa;
    const bf_t2i8_gemm_config *config;
    bool (*can_run)(const bf_cpu_flags *);
} bf_kernel_entry;

static bool bf_cpu_can_any(const bf_cpu_flags *f)
{
    (void)f;
    return true;
}

/* What each kernels/cpu.h predicate checks, for the "lacks" message. */
static const struct {
    bool (*can_run)(const bf_cpu_flags *);
    const char *needs;
} bf_needs_text[] = {
    {bf_cpu_can_avx512vnni, "AVX-512 F/BW/VL/VNNI (with OS-enabled ZMM state) and AVX2/FMA/F16C"},
    {bf_cpu_can_avx512vpopcnt, "AVX-512 F/BW/VL/VPOPCNTDQ (with OS-enabled ZMM state) and AVX2/FMA/F16C"},
    {bf_cpu_can_avxvnni, "AVX-VNNI, AVX2, FMA and F16C (with OS-enabled YMM state)"},
    {bf_cpu_can_avx2, "AVX2, FMA and F16C (with OS-enabled YMM state)"},
    {bf_cpu_can_neondot, "the Armv8.2 dot-product extension (HWCAP_ASIMDDP)"},
    {bf_cpu_can_neon, "Advanced SIMD (HWCAP_ASIMD)"},
};

static const char *bf_needs(bool (*can_run)(const bf_cpu_flags *))
{
    for (size_t i = 0; i < sizeof bf_needs_text / sizeof bf_needs_text[0]; i++)
        if (can_run == bf_needs_text[i].can_run)
            return bf_needs_text[i].needs;
    return "an instruction set this CPU lacks";
}

#define BF_T2I8_GEMM(arch, name, config, check, feature, max_terms) BF_ON_##arch({#name, &config, check}, )
static const bf_kernel_entry bf_t2i8_table[] = {
#include "t2i8-gemm/t2i8-gemm.inc"
    {"ref", &bf_t2i8_gemm_ref, bf_cpu_can_any},
};
#undef BF_T2I8_GEMM

#define BF_B1_GEMM(arch, name, config, check, feature) BF_ON_##arch({#name, &config, check}, )
static const bf_kernel_entry bf_b1_table[] = {
#include "b1-gemm/b1-gemm.inc"
    {"ref", &bf_b1_gemm_ref, bf_cpu_can_any},
};
#undef BF_B1_GEMM

/* Every name either family knows on any architecture (the enumerators list
 * all of them), to tell "unknown" from "not in this build". */
#define BF_T2I8_GEMM(arch, name, ...) #name,
static const char *const bf_t2i8_all_names[] = {
#include "t2i8-gemm/t2i8-gemm.inc"
    "ref"};
#undef BF_T2I8_GEMM
#define BF_B1_GEMM(arch, name, ...) #name,
static const char *const bf_b1_all_names[] = {
#include "b1-gemm/b1-gemm.inc"
    "ref"};
#undef BF_B1_GEMM

/* Space-separated names of the entries; with `f`, only those it can run. */
static void bf_table_names(const bf_kernel_entry *t, size_t n, const bf_cpu_flags *f, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (f != NULL && !t[i].can_run(f))
            continue;
        int w = snprintf(buf + used, size - used, "%s%s", used ? " " : "", t[i].isa);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
}

/* isa NULL = auto. `source` is "" or " (from BITFALCON_ISA)". */
static const bf_t2i8_gemm_config *bf_select(const char *family, const bf_kernel_entry *t, size_t n,
                                            const char *const *all, size_t n_all, const char *isa,
                                            const char *source, char *err, size_t err_size)
{
    const bf_cpu_flags *f = bf_cpu_detect();
    if (isa == NULL) { /* auto: the first entry this CPU runs; the table ends with ref */
        for (size_t i = 0; i < n; i++)
            if (t[i].can_run(f))
                return t[i].config;
        return t[n - 1].config;
    }
    char have[128];
    for (size_t i = 0; i < n; i++) {
        if (strcmp(isa, t[i].isa) != 0)
            continue;
        if (t[i].can_run(f))
            return t[i].config;
        bf_table_names(t, n, f, have, sizeof have);
        if (err != NULL && err_size > 0)
            snprintf(err, err_size, "%s kernel path '%s'%s needs %s, which this CPU lacks (it can run: %s)", family,
                     isa, source, bf_needs(t[i].can_run), have);
        return NULL;
    }
    bf_table_names(t, n, NULL, have, sizeof have);
    for (size_t i = 0; i < n_all; i++)
        if (strcmp(isa, all[i]) == 0) {
            if (err != NULL && err_size > 0)
                snprintf(err, err_size, "%s kernel path '%s'%s is not built for this architecture (this build has: %s)",
                         family, isa, source, have);
            return NULL;
        }
    if (err != NULL && err_size > 0)
        snprintf(err, err_size, "unknown %s kernel path '%s'%s (this build has: %s)", family, isa, source, have);
    return NULL;
}

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
    return bf_select("ternary GEMM", bf_t2i8_table, sizeof bf_t2i8_table / sizeof bf_t2i8_table[0],
                     bf_t2i8_all_names, sizeof bf_t2i8_all_names / sizeof bf_t2i8_all_names[0], isa, source,
                     err, err_size);
}

const bf_t2i8_gemm_config *bf_b1_gemm_select(const char *isa, char *err, size_t err_size)
{
    if (isa != NULL && (isa[0] == '\0' || strcmp(isa, "auto") == 0))
        isa = NULL;
    return bf_select("bit-serial GEMM", bf_b1_table, sizeof bf_b1_table / sizeof bf_b1_table[0], bf_b1_all_names,
                     sizeof bf_b1_all_names / sizeof bf_b1_all_names[0], isa, "", err, err_size);
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
