/*
 * threadpool.h - a small fork-join pool of pthreads, owned by one detector.
 *
 *     bf_pool *pool;
 *     if (bf_pool_create(4, &pool, &err) != BF_OK) ...   // the caller + 3 threads
 *     bf_pool_run(pool, n_tasks, fn, ctx);                // fn(ctx, task, worker) for every task
 *     bf_pool_destroy(pool);
 *
 * A pool of n workers is the calling thread (worker 0) plus n - 1 pthreads
 * started at creation. bf_pool_run hands out task indices 0..n_tasks-1
 * dynamically (an atomic counter), so a worker that the scheduler delays
 * (a shared, loaded machine) simply takes fewer tasks; it returns when every
 * task has finished. Which worker runs a task varies from run to run, so
 * tasks must compute results that do not depend on it: the worker index
 * only selects per-worker scratch memory.
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

/* task in 0..n_tasks-1, worker in 0..bf_pool_size-1 */
typedef void (*bf_pool_task)(void *ctx, size_t task, int worker);

/* n_workers >= 1. BF_ERR_NOMEM when memory or a thread cannot be had (then
 * nothing is left allocated or running). */
bf_status bf_pool_create(int n_workers, bf_pool **out_pool, bf_error *err);
void bf_pool_destroy(bf_pool *pool);
int bf_pool_size(const bf_pool *pool);

/* Runs fn(ctx, task, worker) for every task; returns when all are done. */
void bf_pool_run(bf_pool *pool, size_t n_tasks, bf_pool_task fn, void *ctx);

/* fn(ctx, begin, end, worker) runs [begin, end) of some units; it must
 * compute what it computes whichever worker runs it. */
typedef void (*bf_pool_range_task)(void *ctx, size_t begin, size_t end, int worker);

/* Runs fn over [0, n_units) in pieces of at most `step` units (step >= 1;
 * the pool may take whole multiples of it when there are very many) and
 * returns when all are done. Unlike bf_pool_run, the work is cut into one
 * contiguous share per worker: worker w runs share w from its front, and a
 * worker that has finished its own takes pieces from the back of the
 * others'. Called layer after layer over the same feature maps, each worker
 * then keeps working on the same part of the image, in its own cache, and a
 * worker that the scheduler delays still leaves its rest to the others. */
void bf_pool_run_ranges(bf_pool *pool, size_t n_units, size_t step, bf_pool_range_task fn, void *ctx);

/* The number of online processors (at least 1): what threads = 0 means. */
int bf_online_cpus(void);

#endif /* BF_THREADPOOL_H */
