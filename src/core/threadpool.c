/* threadpool.c - fork-join pool.
 *
 * A job is published by a new generation number in `published`. Its pieces
 * are claimed from per-worker share words: generation (20 bits) | front
 * (22 bits) | back (22 bits), in pieces, one word per worker on its own
 * cache line. The owner takes the front piece and others the back one, each
 * by a compare-and-swap of the whole word, so a share's pieces are claimed
 * once, and a worker that wakes late (the machine is busy and the scheduler
 * ran it after the others had finished) finds its generation gone from the
 * words and claims nothing: the caller waits only for the pieces to be done
 * (`done` == their number), never for a worker to show up. The job's
 * function and context sit in one of two slots by generation parity; a slot
 * is rewritten only two jobs later, which cannot start while a worker still
 * runs a piece it claimed from it. */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"

/* Spin iterations before sleeping: about 10-50 us of `pause`, longer than
 * the gap between two layers' jobs, far shorter than a scheduler tick. */
#define BF_POOL_SPIN 4000

#define GEN_BITS 20
#define GEN_MASK ((UINT64_C(1) << GEN_BITS) - 1)

typedef struct bf_pool_arg {
    struct bf_pool *pool;
    int worker;
} bf_pool_arg;

typedef struct bf_pool_job {
    bf_pool_task fn; /* over `pieces` pieces of `step` units of [0, units) */
    size_t units, step, pieces;
    void *ctx;
} bf_pool_job;

/* One worker's share of a job (see the file comment); a cache line each, so
 * that owners claiming their fronts do not contend. */
typedef struct bf_pool_share {
    _Alignas(64) _Atomic uint64_t word;
} bf_pool_share;

#define SHARE_BITS 22
#define SHARE_MASK ((UINT64_C(1) << SHARE_BITS) - 1)
#define MAX_PIECES ((size_t)SHARE_MASK)

static inline uint64_t share_make(uint64_t gen, uint64_t front, uint64_t back)
{
    return (gen & GEN_MASK) << (2 * SHARE_BITS) | (front & SHARE_MASK) << SHARE_BITS | (back & SHARE_MASK);
}
static inline uint64_t share_gen(uint64_t s) { return s >> (2 * SHARE_BITS); }
static inline uint64_t share_front(uint64_t s) { return (s >> SHARE_BITS) & SHARE_MASK; }
static inline uint64_t share_back(uint64_t s) { return s & SHARE_MASK; }

struct bf_pool {
    int n;                /* workers, the caller included */
    int spin;             /* spin iterations before sleeping; 0 when oversubscribed */
    int started;          /* pthreads running */
    pthread_t *threads;   /* n - 1 */
    bf_pool_arg *args;    /* n - 1; only the creating thread allocates or frees */
    pthread_mutex_t mu;
    pthread_cond_t start_cv, done_cv;
    _Atomic uint64_t published; /* the generation of the latest job (0: none yet) */
    atomic_size_t done;   /* pieces of the current job finished */
    atomic_int stop;
    uint64_t gen;         /* the caller's generation counter */
    bf_pool_job jobs[2];  /* by generation parity */
    bf_pool_share *shares; /* n */
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/* Counts one finished piece of a job of `total`; the one that completes it
 * wakes the caller. */
static void finish(bf_pool *p, size_t total)
{
    if (atomic_fetch_add_explicit(&p->done, 1, memory_order_acq_rel) + 1 == total) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_signal(&p->done_cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Claims one piece of share `v` of generation `gen`: the front when `own`,
 * else the back. Returns the piece's index, or -1 when the share is empty;
 * *stale is set when the share belongs to a newer job (this one is over). */
static long claim_piece(bf_pool *p, int v, uint64_t gen, int own, int *stale)
{
    _Atomic uint64_t *w = &p->shares[v].word;
    uint64_t s = atomic_load_explicit(w, memory_order_acquire);
    for (;;) {
        if (share_gen(s) != gen) {
            *stale = 1;
            return -1;
        }
        const uint64_t front = share_front(s), back = share_back(s);
        if (front >= back)
            return -1;
        const uint64_t next = own ? share_make(gen, front + 1, back) : share_make(gen, front, back - 1);
        if (atomic_compare_exchange_weak_explicit(w, &s, next, memory_order_acq_rel, memory_order_acquire))
            return (long)(own ? front : back - 1);
    }
}

/* A worker's part of the job of generation `gen`: its own share front to
 * back, then the others' from their backs. */
static void work(bf_pool *p, int worker, uint64_t gen)
{
    for (int i = 0; i < p->n; i++) {
        const int v = (worker + i) % p->n;
        int stale = 0;
        long piece;
        while ((piece = claim_piece(p, v, gen, v == worker, &stale)) >= 0) {
            /* the claim succeeded on this generation's word, so its job slot
             * is current until the job is done, which needs this piece */
            const bf_pool_job *j = &p->jobs[gen & 1];
            const size_t begin = (size_t)piece * j->step;
            const size_t end = begin + j->step < j->units ? begin + j->step : j->units;
            j->fn(j->ctx, begin, end, worker);
            finish(p, j->pieces);
        }
        if (stale)
            return;
    }
}

static void *worker_main(void *arg)
{
    bf_pool *p = ((bf_pool_arg *)arg)->pool;
    const int worker = ((bf_pool_arg *)arg)->worker;
    uint64_t seen = 0; /* generation 0: no job yet */
    for (;;) {
        uint64_t g = atomic_load_explicit(&p->published, memory_order_acquire);
        for (int i = 0; i < p->spin && g == seen; i++) {
            cpu_relax();
            g = atomic_load_explicit(&p->published, memory_order_acquire);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load_explicit(&p->published, memory_order_acquire)) == seen &&
                   !atomic_load_explicit(&p->stop, memory_order_relaxed))
                pthread_cond_wait(&p->start_cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load_explicit(&p->stop, memory_order_acquire))
            return NULL;
        seen = g;
        work(p, worker, seen);
    }
}

int bf_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}

void bf_pool_destroy(bf_pool *p)
{
    if (p == NULL)
        return;
    if (p->started > 0) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->stop, 1);
        pthread_cond_broadcast(&p->start_cv);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < p->started; i++)
            pthread_join(p->threads[i], NULL);
    }
    pthread_cond_destroy(&p->done_cv);
    pthread_cond_destroy(&p->start_cv);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p->args);
    free(p->shares);
    free(p);
}

bf_status bf_pool_create(int n_workers, bf_pool **out_pool, bf_error *err)
{
    if (n_workers < 1 || out_pool == NULL)
        return bf_fail(err, BF_ERR_ARGUMENT, "thread pool of %d workers", n_workers);
    bf_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return bf_fail(err, BF_ERR_NOMEM, "out of memory creating the thread pool");
    p->n = n_workers;
    /* More workers than cores: a spinning worker would take the core from
     * one with work, so sleep at once. */
    p->spin = n_workers <= bf_online_cpus() ? BF_POOL_SPIN : 0;
    atomic_init(&p->published, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->stop, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    if (n_workers > 1) {
        p->threads = calloc((size_t)n_workers - 1, sizeof *p->threads);
        p->args = calloc((size_t)n_workers - 1, sizeof *p->args);
        p->shares = aligned_alloc(_Alignof(bf_pool_share), (size_t)n_workers * sizeof *p->shares);
        if (p->threads == NULL || p->args == NULL || p->shares == NULL) {
            bf_pool_destroy(p);
            return bf_fail(err, BF_ERR_NOMEM, "out of memory creating the thread pool");
        }
        for (int i = 1; i < n_workers; i++) {
            bf_pool_arg *a = &p->args[i - 1];
            a->pool = p;
            a->worker = i;
            if (pthread_create(&p->threads[i - 1], NULL, worker_main, a) != 0) {
                bf_pool_destroy(p);
                return bf_fail(err, BF_ERR_NOMEM, "cannot start thread %d of %d", i, n_workers - 1);
            }
            p->started++;
        }
    }
    *out_pool = p;
    return BF_OK;
}

int bf_pool_size(const bf_pool *p)
{
    return p == NULL ? 1 : p->n;
}

/* Publishes the job of generation p->gen (its slot and shares set). */
static void publish(bf_pool *p)
{
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_store_explicit(&p->published, p->gen, memory_order_release); /* covers the slot and the shares */
    pthread_cond_broadcast(&p->start_cv);
    pthread_mutex_unlock(&p->mu);
}

/* The caller's wait for `total` finished pieces. */
static void wait_done(bf_pool *p, size_t total)
{
    for (int i = 0; i < p->spin && atomic_load_explicit(&p->done, memory_order_acquire) < total; i++)
        cpu_relax();
    if (atomic_load_explicit(&p->done, memory_order_acquire) < total) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load_explicit(&p->done, memory_order_acquire) < total)
            pthread_cond_wait(&p->done_cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

static void next_gen(bf_pool *p)
{
    /* generation 0 marks "no job yet": skip it when the counter wraps */
    p->gen = (p->gen + 1) & GEN_MASK;
    if (p->gen == 0)
        p->gen = 1;
}

void bf_pool_run(bf_pool *p, size_t n_units, size_t step, bf_pool_task fn, void *ctx)
{
    if (n_units == 0)
        return;
    if (step < 1)
        step = 1;
    size_t pieces = (n_units + step - 1) / step;
    if (pieces > MAX_PIECES) {
        step *= (pieces + MAX_PIECES - 1) / MAX_PIECES;
        pieces = (n_units + step - 1) / step;
    }
    if (p == NULL || p->n == 1 || pieces == 1) {
        for (size_t b = 0; b < n_units; b += step)
            fn(ctx, b, b + step < n_units ? b + step : n_units, 0);
        return;
    }
    next_gen(p);
    p->jobs[p->gen & 1] = (bf_pool_job){.fn = fn, .units = n_units, .step = step, .pieces = pieces, .ctx = ctx};
    for (int w = 0; w < p->n; w++)
        atomic_store_explicit(&p->shares[w].word,
                              share_make(p->gen, pieces * (size_t)w / (size_t)p->n,
                                         pieces * (size_t)(w + 1) / (size_t)p->n),
                              memory_order_relaxed);
    publish(p);
    work(p, 0, p->gen);
    wait_done(p, pieces);
}
