/*
 * threadpool.h - a small fork-join pool of pthreads, owned by one detector.
 *
 *     bf_pool *pool;
 *     if (bf_pool_create(4, &pool, &err) != BF_OK) ...   // the caller + 3 threads
 *     bf_pool_run(pool, n_units, step, fn, ctx);          // fn(ctx, begin, end, worker) over [0, n_units)
 *     bf_pool_destroy(pool);
 *
 * A pool of n workers is the calling thread (worker 0) plus n - 1 pthreads
 * started at creation. bf_pool_run cuts [0, n_units) into pieces of `step`
 * units and those into one contiguous share per worker: worker w runs share
 * w from its front, and a worker that has finished its own takes pieces from
 * the back of the others'. Called layer after layer over the same feature
 * maps, each worker so keeps working on the same part of the image, in its
 * own cache; a worker that the scheduler delays (a shared, loaded machine)
 * simply leaves its rest to the others. It returns when every piece has
 * finished. Which worker runs a piece varies from run to run, so pieces must
 * compute results that do not depend on it: the worker index only selects
 * per-worker scratch memory.
 *
 * Waiting: workers spin briefly (a few microseconds of `pause`) for the next
 * job, then sleep on a condition variable; the caller likewise for the end of
 * a job. No global state; one bf_pool_run at a time per pool (a detector is
 * used by one thread at a time). A pool of 1 runs everything on the caller
 * and starts no thread.
 */
#ifndef BF_THREADPOOL_H
#define BF_THREADPOOL_H

#include <stddef.h>

#include "bitfalcon.h"

typedef struct bf_pool bf_pool;

/* Runs units [begin, end) of a job; worker in 0..bf_pool_size-1. */
typedef void (*bf_pool_task)(void *ctx, size_t begin, size_t end, int worker);

/* n_workers >= 1. BF_ERR_NOMEM when memory or a thread cannot be had (then
 * nothing is left allocated or running). */
bf_status bf_pool_create(int n_workers, bf_pool **out_pool, bf_error *err);
void bf_pool_destroy(bf_pool *pool);
int bf_pool_size(const bf_pool *pool);

/* Runs fn over [0, n_units) in pieces of at most `step` units (step >= 1;
 * whole multiples of it when there would be more than 2^22 pieces), shared
 * out as above; returns when all are done. */
void bf_pool_run(bf_pool *pool, size_t n_units, size_t step, bf_pool_task fn, void *ctx);

/* The number of online processors (at least 1): what threads = 0 means. */
int bf_online_cpus(void);

#endif /* BF_THREADPOOL_H */
