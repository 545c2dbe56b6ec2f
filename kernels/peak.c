/* int8 peak loops: 12 independent multiply-accumulate instructions per
 * iteration, no loads, so they run at the core's issue limit. Both
 * `bitfalcon bench` and bf_kernel_bench time them to report each kernel's
 * share of the peak. Inline asm: this file needs no ISA compile flags; call a
 * loop only when kernels/cpu.h says the CPU has the instructions. */
#include "peak.h"

#include <time.h>

#include "cpu.h"

#if defined(__x86_64__)
#define R12(op, w)                                                                                                    \
    op " %%" w "14, %%" w "15, %%" w "0\n\t" op " %%" w "14, %%" w "15, %%" w "1\n\t" op " %%" w "14, %%" w          \
       "15, %%" w "2\n\t" op " %%" w "14, %%" w "15, %%" w "3\n\t" op " %%" w "14, %%" w "15, %%" w "4\n\t" op        \
       " %%" w "14, %%" w "15, %%" w "5\n\t" op " %%" w "14, %%" w "15, %%" w "6\n\t" op " %%" w "14, %%" w "15, %%" \
       w "7\n\t" op " %%" w "14, %%" w "15, %%" w "8\n\t" op " %%" w "14, %%" w "15, %%" w "9\n\t" op " %%" w        \
       "14, %%" w "15, %%" w "10\n\t" op " %%" w "14, %%" w "15, %%" w "11\n\t"
#define CLOBBER12 "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11"

void bf_peak_vnni_zmm(long iters)
{
    __asm__ volatile("1:\n\t" R12("vpdpbusd", "zmm") "dec %0\n\tjnz 1b"
                     : "+r"(iters)
                     :
                     : "cc", CLOBBER12);
}
void bf_peak_vnni_ymm(long iters)
{
    __asm__ volatile("1:\n\t" R12("vpdpbusd", "ymm") "dec %0\n\tjnz 1b"
                     : "+r"(iters)
                     :
                     : "cc", CLOBBER12);
}
void bf_peak_maddubs_ymm(long iters)
{
    /* vpmaddubsw + vpaddw per 32 byte-products: what the AVX2 kernel issues */
    __asm__ volatile("1:\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm12\n\tvpaddw %%ymm12, %%ymm0, %%ymm0\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm13\n\tvpaddw %%ymm13, %%ymm1, %%ymm1\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm12\n\tvpaddw %%ymm12, %%ymm2, %%ymm2\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm13\n\tvpaddw %%ymm13, %%ymm3, %%ymm3\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm12\n\tvpaddw %%ymm12, %%ymm4, %%ymm4\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm13\n\tvpaddw %%ymm13, %%ymm5, %%ymm5\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm12\n\tvpaddw %%ymm12, %%ymm6, %%ymm6\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm13\n\tvpaddw %%ymm13, %%ymm7, %%ymm7\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm12\n\tvpaddw %%ymm12, %%ymm8, %%ymm8\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm13\n\tvpaddw %%ymm13, %%ymm9, %%ymm9\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm12\n\tvpaddw %%ymm12, %%ymm10, %%ymm10\n\t"
                     "vpmaddubsw %%ymm14, %%ymm15, %%ymm13\n\tvpaddw %%ymm13, %%ymm11, %%ymm11\n\t"
                     "dec %0\n\tjnz 1b"
                     : "+r"(iters)
                     :
                     : "cc", CLOBBER12, "xmm12", "xmm13");
}
#elif defined(__aarch64__)
/* sdot v<d>.4s, v14.16b, v15.16b for d = 0..11, as raw encodings (0x4E809400
 * | Rm << 16 | Rn << 5 | Rd), so the assembler needs no +dotprod */
void bf_peak_sdot(long iters)
{
    __asm__ volatile("1:\n\t"
                     ".inst 0x4E8F95C0\n\t.inst 0x4E8F95C1\n\t.inst 0x4E8F95C2\n\t.inst 0x4E8F95C3\n\t"
                     ".inst 0x4E8F95C4\n\t.inst 0x4E8F95C5\n\t.inst 0x4E8F95C6\n\t.inst 0x4E8F95C7\n\t"
                     ".inst 0x4E8F95C8\n\t.inst 0x4E8F95C9\n\t.inst 0x4E8F95CA\n\t.inst 0x4E8F95CB\n\t"
                     "subs %0, %0, #1\n\tb.ne 1b"
                     : "+r"(iters)
                     :
                     : "cc", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11");
}

/* smlal v<d>.8h, v14.8b, v15.8b for d = 0..11: baseline Armv8 NEON, the
 * widening multiply-accumulate the neon kernel is built on (smull/smlal2 of
 * int8 into int16, then sadalp into int32). */
void bf_peak_smlal(long iters)
{
    __asm__ volatile("1:\n\t"
                     "smlal v0.8h, v14.8b, v15.8b\n\tsmlal v1.8h, v14.8b, v15.8b\n\t"
                     "smlal v2.8h, v14.8b, v15.8b\n\tsmlal v3.8h, v14.8b, v15.8b\n\t"
                     "smlal v4.8h, v14.8b, v15.8b\n\tsmlal v5.8h, v14.8b, v15.8b\n\t"
                     "smlal v6.8h, v14.8b, v15.8b\n\tsmlal v7.8h, v14.8b, v15.8b\n\t"
                     "smlal v8.8h, v14.8b, v15.8b\n\tsmlal v9.8h, v14.8b, v15.8b\n\t"
                     "smlal v10.8h, v14.8b, v15.8b\n\tsmlal v11.8h, v14.8b, v15.8b\n\t"
                     "subs %0, %0, #1\n\tb.ne 1b"
                     : "+r"(iters)
                     :
                     : "cc", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11");
}
#endif

int bf_peak_pick(bf_peak_loop *out)
{
    const bf_cpu_flags *f = bf_cpu_detect();
    *out = (bf_peak_loop){NULL, 0, "none", "no int8 peak loop for this CPU"};
#if defined(__x86_64__)
    if (f->avx512vnni && f->avx512f && f->os_avx512)
        *out = (bf_peak_loop){bf_peak_vnni_zmm, 12 * 64 * 2, "vpdpbusd zmm x12",
                              "AVX-512 VNNI present (what the avx512vnni kernel issues)"};
    else if (f->avx2 && f->os_avx)
        *out = (bf_peak_loop){bf_peak_maddubs_ymm, 12 * 32 * 2, "vpmaddubsw+vpaddw ymm x12",
                              "AVX2 without AVX-512 VNNI (what the avx2 kernel issues)"};
    else
        out->why = "x86-64 without AVX2: no peak loop";
#elif defined(__aarch64__)
    if (f->dotprod)
        *out = (bf_peak_loop){bf_peak_sdot, 12 * 16 * 2, "sdot v.4s x12",
                              "dot product present (HWCAP_ASIMDDP, e.g. Cortex-A76, Pi 5): "
                              "what the neondot kernel issues"};
    else if (f->neon)
        *out = (bf_peak_loop){bf_peak_smlal, 12 * 8 * 2, "smlal v.8h x12",
                              "no dot product (HWCAP_ASIMDDP absent, e.g. Cortex-A72, Pi 4): "
                              "what the neon kernel issues"};
    else
        out->why = "aarch64 without NEON (HWCAP_ASIMD absent): no peak loop";
#else
    (void)f;
#endif
    return out->run != NULL;
}

/* CPU time of this thread, so a preempted core does not lower the peak. */
static double thread_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double time_loop(const bf_peak_loop *l, long iters)
{
    const double t0 = thread_seconds();
    l->run(iters);
    return thread_seconds() - t0;
}

double bf_peak_measure(const bf_peak_loop *l, double min_seconds)
{
    if (l->run == NULL)
        return 0;
    long iters = 1000;
    while (time_loop(l, iters) < min_seconds && iters < (1L << 40))
        iters *= 2;
    double v[5];
    for (int r = 0; r < 5; r++) {
        const double t = time_loop(l, iters);
        v[r] = t > 0 ? l->ops_per_iter * (double)iters / t * 1e-9 : 0;
    }
    /* median of five (insertion sort: five values) */
    for (int i = 1; i < 5; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            const double x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    return v[2];
}
