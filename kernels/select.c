/* select.c - see select.h. */
#include "select.h"

#include <stdio.h>
#include <string.h>

bool bf_cpu_can_any(const bf_cpu_flags *f)
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
const bf_t2i8_gemm_config *bf_kernel_select(const char *family, const bf_kernel_entry *t, size_t n,
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
