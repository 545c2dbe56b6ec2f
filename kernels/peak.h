/* int8 peak loops for benchmarks (see peak.c). Each runs `iters` iterations
 * of 12 instructions on one core; the caller times it. */
#ifndef BF_PEAK_H
#define BF_PEAK_H

#if defined(__x86_64__)
void bf_peak_vnni_zmm(long iters);    /* vpdpbusd zmm: 128 ops each (64 byte products x 2) */
void bf_peak_vnni_ymm(long iters);    /* vpdpbusd ymm: 64 ops each */
void bf_peak_maddubs_ymm(long iters); /* vpmaddubsw + vpaddw ymm: 64 ops per pair */
#elif defined(__aarch64__)
void bf_peak_sdot(long iters);        /* sdot v.4s, 16 bytes: 32 ops each */
#endif

#endif /* BF_PEAK_H */
