/* CPU feature detection for the kernel dispatch (kernels/dispatch.c).
 *
 * bf_cpu_detect() probes the processor once per process (pthread_once; safe
 * from any thread) and returns a pointer to the immutable result. A feature
 * counts only when the operating system also saves its register state: on
 * x86 AVX needs XCR0 bits 1-2 and AVX-512 also bits 5-7 (xgetbv), on aarch64
 * the kernel's HWCAP word (getauxval) is the authority.
 *
 * The bf_cpu_can_* predicates say whether a kernel file of that suffix may
 * run: one predicate per suffix, checking exactly the instruction sets that
 * CMakeLists.txt compiles the file with (the compiler may use any enabled
 * extension, and none more, so that a CPU lacking an unused one, e.g. a
 * Cascade Lake without VPOPCNTDQ, still gets the path).
 *
 * Test hook: BITFALCON_CPU_DISABLE="avx512vnni,dotprod" (names as printed by
 * bf_cpu_describe, or "all"), read once at detection, forces features off. */
#ifndef BF_CPU_H
#define BF_CPU_H

#include <stdbool.h>

typedef struct bf_cpu_flags {
    /* x86-64 (all false elsewhere) */
    bool os_avx;    /* XCR0 has SSE and AVX state (and CPUID.1:ECX.OSXSAVE) */
    bool os_avx512; /* XCR0 also has opmask, ZMM_Hi256 and Hi16_ZMM state */
    bool avx2, fma, f16c;
    bool avxvnni; /* VEX vpdpbusd on xmm/ymm (CPUID.(7,1):EAX[4]), Alder Lake, Zen 5 */
    bool avx512f, avx512bw, avx512vl, avx512dq, avx512vnni, avx512vpopcntdq, avx512vbmi;
    /* aarch64 (all false elsewhere) */
    bool neon;    /* HWCAP_ASIMD */
    bool dotprod; /* HWCAP_ASIMDDP: sdot/udot */
} bf_cpu_flags;

/* The flags of the running CPU, detected on the first call. Never NULL. */
const bf_cpu_flags *bf_cpu_detect(void);

/* `*-avx2.c`: -mavx2 -mfma -mf16c */
bool bf_cpu_can_avx2(const bf_cpu_flags *f);
/* `*-avxvnni.c`: the avx2 flags and -mavxvnni */
bool bf_cpu_can_avxvnni(const bf_cpu_flags *f);
/* `*-avx512.c`: the avx2 flags and -mavx512f -mavx512bw -mavx512vl */
bool bf_cpu_can_avx512(const bf_cpu_flags *f);
/* `*-avx512vnni.c`: the avx512 flags and -mavx512vnni */
bool bf_cpu_can_avx512vnni(const bf_cpu_flags *f);
/* `*-avx512vpopcnt.c`: the avx512 flags and -mavx512vpopcntdq */
bool bf_cpu_can_avx512vpopcnt(const bf_cpu_flags *f);
/* `*-avx512vbmi.c`: the avx512 flags and -mavx512vbmi */
bool bf_cpu_can_avx512vbmi(const bf_cpu_flags *f);
/* `*-neon.c`: baseline aarch64 */
bool bf_cpu_can_neon(const bf_cpu_flags *f);
/* `*-neondot.c`: -march=armv8.2-a+dotprod */
bool bf_cpu_can_neondot(const bf_cpu_flags *f);

/* One line naming the detected features, e.g. "avx2 fma f16c avx512f ...";
 * for -v logs and benchmark headers. Returns `buf`. */
char *bf_cpu_describe(const bf_cpu_flags *f, char *buf, unsigned size);

/* The first name in a BITFALCON_CPU_DISABLE list (separated by commas or spaces) that
 * is neither a feature name of this build nor "all", its length in *len; NULL when
 * every name is known. Callers turn it into an error: an unknown name would
 * otherwise be ignored silently, and the path the user meant to force off would run. */
const char *bf_cpu_disable_unknown(const char *list, unsigned *len);

/* Every name BITFALCON_CPU_DISABLE takes, space-separated, into buf. */
char *bf_cpu_feature_names(char *buf, unsigned size);

#endif /* BF_CPU_H */
