/* int8 peak loops: 12 independent multiply-accumulate instructions per
 * iteration, no loads, so they run at the core's issue limit. Both
 * `bitfalcon bench` and bf_kernel_bench time them to report each kernel's
 * share of the peak. Inline asm: this file needs no ISA compile flags; call a
 * loop only when kernels/cpu.h says the CPU has the instructions. */
#include "peak.h"

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
#endif
