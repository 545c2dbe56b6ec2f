/* Architecture filter for the kernel enumerators (kernels/<family>/<family>.inc).
 *
 * Every enumerator line names the architecture its path is built for (x86,
 * arm64), so one list holds every path of every architecture: the dispatch
 * tells "unknown" from "not built here" with it, the tests and benchmarks
 * take their paths from it, and CMake reads the same lines for the per-path
 * tests (tests/kernels.cmake). An includer's entry macro wraps its expansion
 * in BF_ON_##arch(...) to keep it on that architecture only, or in
 * BF_OFF_##arch(...) to keep it everywhere else. */
#ifndef BF_ENUMERATE_H
#define BF_ENUMERATE_H

#if defined(__x86_64__) || defined(_M_X64)
#define BF_ON_x86(...) __VA_ARGS__
#define BF_OFF_x86(...)
#else
#define BF_ON_x86(...)
#define BF_OFF_x86(...) __VA_ARGS__
#endif

#if defined(__aarch64__)
#define BF_ON_arm64(...) __VA_ARGS__
#define BF_OFF_arm64(...)
#else
#define BF_ON_arm64(...)
#define BF_OFF_arm64(...) __VA_ARGS__
#endif

#endif /* BF_ENUMERATE_H */
