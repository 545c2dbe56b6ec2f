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
void bf_peak_smlal(long iters);       /* smlal v.8h, 8 bytes: 16 ops each */
#endif

/* The int8 loop that stands for this CPU's peak: the instruction its widest
 * int8 GEMM kernel is built on, as bf_cpu_detect() sees it. `name` names the
 * loop, `why` says why it was chosen (for `bitfalcon bench` to print). */
typedef struct bf_peak_loop {
    void (*run)(long iters); /* NULL when no loop applies */
    double ops_per_iter;     /* 12 instructions x ops each (a multiply-add is two) */
    const char *name;
    const char *why;
} bf_peak_loop;

/* Fills *out; returns 1 when a loop applies, 0 (run NULL, name "none") when not. */
int bf_peak_pick(bf_peak_loop *out);

/* GOPS of one core for `l`: the iteration count doubles until one run takes
 * min_seconds of thread CPU time, then the median of five runs. 0 when
 * l->run is NULL. */
double bf_peak_measure(const bf_peak_loop *l, double min_seconds);

#endif /* BF_PEAK_H */
