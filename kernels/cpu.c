/* CPU feature detection: cpuid + xgetbv on x86-64, getauxval on aarch64. */
#include "cpu.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>

/* xgetbv without -mxsave: this file is built for the baseline ISA. */
static unsigned long long bf_xgetbv0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void bf_cpu_probe(bf_cpu_flags *f)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return;
    const bool osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
    f->fma = (ecx >> 12) & 1;
    f->f16c = (ecx >> 29) & 1;
    if (osxsave && avx) {
        const unsigned long long xcr0 = bf_xgetbv0();
        f->os_avx = (xcr0 & 0x6) == 0x6;
        f->os_avx512 = f->os_avx && (xcr0 & 0xE0) == 0xE0;
    }
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
        f->avx2 = (ebx >> 5) & 1;
        f->avx512f = (ebx >> 16) & 1;
        f->avx512dq = (ebx >> 17) & 1;
        f->avx512bw = (ebx >> 30) & 1;
        f->avx512vl = (ebx >> 31) & 1;
        f->avx512vbmi = (ecx >> 1) & 1;
        f->avx512vnni = (ecx >> 11) & 1;
        f->avx512vpopcntdq = (ecx >> 14) & 1;
        if (eax >= 1) { /* leaf 7's subleaf count */
            __cpuid_count(7, 1, eax, ebx, ecx, edx);
            f->avxvnni = (eax >> 4) & 1;
        }
    }
    /* Without OS support the instructions fault: report them absent. */
    if (!f->os_avx) {
        f->avx2 = f->fma = f->f16c = f->avxvnni = false;
    }
    if (!f->os_avx512) {
        f->avx512f = f->avx512dq = f->avx512bw = f->avx512vl = false;
        f->avx512vnni = f->avx512vpopcntdq = f->avx512vbmi = false;
    }
}

#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif

static void bf_cpu_probe(bf_cpu_flags *f)
{
    const unsigned long hw = getauxval(AT_HWCAP);
    f->neon = (hw & HWCAP_ASIMD) != 0;
    f->dotprod = f->neon && (hw & HWCAP_ASIMDDP) != 0;
}

#elif defined(__aarch64__)
static void bf_cpu_probe(bf_cpu_flags *f)
{
    f->neon = true; /* Advanced SIMD is mandatory on AArch64 */
}

#else
static void bf_cpu_probe(bf_cpu_flags *f)
{
    (void)f;
}
#endif

static const struct {
    size_t offset;
    const char *name;
} bf_cpu_names[] = {
    {offsetof(bf_cpu_flags, avx2), "avx2"},
    {offsetof(bf_cpu_flags, fma), "fma"},
    {offsetof(bf_cpu_flags, f16c), "f16c"},
    {offsetof(bf_cpu_flags, avxvnni), "avxvnni"},
    {offsetof(bf_cpu_flags, avx512f), "avx512f"},
    {offsetof(bf_cpu_flags, avx512bw), "avx512bw"},
    {offsetof(bf_cpu_flags, avx512vl), "avx512vl"},
    {offsetof(bf_cpu_flags, avx512dq), "avx512dq"},
    {offsetof(bf_cpu_flags, avx512vnni), "avx512vnni"},
    {offsetof(bf_cpu_flags, avx512vpopcntdq), "avx512vpopcntdq"},
    {offsetof(bf_cpu_flags, avx512vbmi), "avx512vbmi"},
    {offsetof(bf_cpu_flags, neon), "neon"},
    {offsetof(bf_cpu_flags, dotprod), "dotprod"},
};
#define BF_CPU_N_NAMES (sizeof bf_cpu_names / sizeof bf_cpu_names[0])

static bool *bf_cpu_flag(bf_cpu_flags *f, size_t i)
{
    return (bool *)((char *)f + bf_cpu_names[i].offset);
}

/* Test hook (like XNNPACK's xnn_set_hardware_config): BITFALCON_CPU_DISABLE,
 * a list of feature names separated by commas or spaces ("all" for every
 * one), forces those features off, so the ladder and the "CPU lacks" errors
 * can be exercised on any machine. Read once, with the detection. */
static void bf_cpu_apply_disable(bf_cpu_flags *f, const char *list)
{
    while (list != NULL && *list != '\0') {
        size_t len = strcspn(list, ", ");
        for (size_t i = 0; i < BF_CPU_N_NAMES; i++)
            if ((len == 3 && strncmp(list, "all", 3) == 0) ||
                (strlen(bf_cpu_names[i].name) == len && strncmp(list, bf_cpu_names[i].name, len) == 0))
                *bf_cpu_flag(f, i) = false;
        list += len;
        list += strspn(list, ", ");
    }
    if (!f->neon)
        f->dotprod = false;
}

const char *bf_cpu_disable_unknown(const char *list, unsigned *len)
{
    while (list != NULL && *list != '\0') {
        list += strspn(list, ", ");
        size_t n = strcspn(list, ", ");
        if (n == 0)
            break;
        bool known = n == 3 && strncmp(list, "all", 3) == 0;
        for (size_t i = 0; i < BF_CPU_N_NAMES && !known; i++)
            known = strlen(bf_cpu_names[i].name) == n && strncmp(list, bf_cpu_names[i].name, n) == 0;
        if (!known) {
            if (len != NULL)
                *len = (unsigned)n;
            return list;
        }
        list += n;
    }
    return NULL;
}

char *bf_cpu_feature_names(char *buf, unsigned size)
{
    if (buf == NULL || size == 0)
        return buf;
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < BF_CPU_N_NAMES && at < size; i++) {
        int w = snprintf(buf + at, size - at, "%s ", bf_cpu_names[i].name);
        if (w < 0)
            break;
        at += (size_t)w;
    }
    if (at < size)
        snprintf(buf + at, size - at, "all");
    return buf;
}

static bf_cpu_flags bf_cpu_flags_once;
static pthread_once_t bf_cpu_once = PTHREAD_ONCE_INIT;

static void bf_cpu_init(void)
{
    memset(&bf_cpu_flags_once, 0, sizeof bf_cpu_flags_once);
    bf_cpu_probe(&bf_cpu_flags_once);
    bf_cpu_apply_disable(&bf_cpu_flags_once, getenv("BITFALCON_CPU_DISABLE"));
}

const bf_cpu_flags *bf_cpu_detect(void)
{
    pthread_once(&bf_cpu_once, bf_cpu_init);
    return &bf_cpu_flags_once;
}

bool bf_cpu_can_avx2(const bf_cpu_flags *f)
{
    return f->avx2 && f->fma && f->f16c;
}

bool bf_cpu_can_avxvnni(const bf_cpu_flags *f)
{
    return bf_cpu_can_avx2(f) && f->avxvnni;
}

/* -mavx512f implies -mavx2 only; the files also get -mfma -mf16c, which every
 * AVX-512 CPU has, so the AVX2 rung's check is part of each AVX-512 one. */
bool bf_cpu_can_avx512(const bf_cpu_flags *f)
{
    return bf_cpu_can_avx2(f) && f->avx512f && f->avx512bw && f->avx512vl;
}

bool bf_cpu_can_avx512vnni(const bf_cpu_flags *f)
{
    return bf_cpu_can_avx512(f) && f->avx512vnni;
}

bool bf_cpu_can_avx512vpopcnt(const bf_cpu_flags *f)
{
    return bf_cpu_can_avx512(f) && f->avx512vpopcntdq;
}

bool bf_cpu_can_avx512vbmi(const bf_cpu_flags *f)
{
    return bf_cpu_can_avx512(f) && f->avx512vbmi;
}

bool bf_cpu_can_neon(const bf_cpu_flags *f)
{
    return f->neon;
}

bool bf_cpu_can_neondot(const bf_cpu_flags *f)
{
    return f->neon && f->dotprod;
}

char *bf_cpu_describe(const bf_cpu_flags *f, char *buf, unsigned size)
{
    size_t used = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < BF_CPU_N_NAMES; i++) {
        if (!*(const bool *)((const char *)f + bf_cpu_names[i].offset))
            continue;
        int w = snprintf(buf + used, size - used, "%s%s", used ? " " : "", bf_cpu_names[i].name);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
    if (used == 0)
        snprintf(buf, size, "(no SIMD extensions detected)");
    return buf;
}
