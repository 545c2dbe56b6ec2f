/* threadpool.c - fork-join pool: a generation counter starts a job, an atomic
 * task counter shares it out, an atomic count of busy threads ends it. */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"

/* Spin iterations before sleeping: about 10-50 us of `pause`, longer than
 * the gap between two layers' jobs, far shorter than a scheduler tick. */
#define BF_POOL_SPIN 4000

typedef struct bf_pool_arg {
    struct bf_pool *pool;
    int worker;
} bf_pool_arg;

struct bf_pool {
    int n;                /* workers, the caller included */
    int spin;             /* spin iterations before sleeping; 0 when oversubscribed */
    int started;          /* pthreads running */
    pthread_t *threads;   /* n - 1 */
    bf_pool_arg *args;    /* n - 1; only the creating thread allocates or frees */
    pthread_mutex_t mu;
    pthread_cond_t start_cv, done_cv;
    atomic_uint gen;      /* incremented (under mu) to start a job */
    atomic_int stop;
    atomic_int busy;      /* pthreads still inside the current job */
    atomic_size_t next;   /* the next task index to hand out */
    /* the current job: written before gen is incremented */
    size_t n_tasks;
    bf_pool_task fn;
    void *ctx;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static void work(bf_pool *p, int worker)
{
    const size_t n = p->n_tasks;
    for (;;) {
        size_t t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (t >= n)
            break;
        p->fn(p->ctx, t, worker);
    }
}

static void *worker_main(void *arg)
{
    bf_pool *p = ((bf_pool_arg *)arg)->pool;
    const int worker = ((bf_pool_arg *)arg)->worker;
    /* 0, not a fresh load: a job may start before this thread first runs */
    unsigned seen = 0;
    for (;;) {
        unsigned g = seen;
        for (int i = 0; i < p->spin && g == seen; i++) {
            cpu_relax();
            g = atomic_load_explicit(&p->gen, memory_order_acquire);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
                   !atomic_load_explicit(&p->stop, memory_order_relaxed))
                pthread_cond_wait(&p->start_cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load_explicit(&p->stop, memory_order_acquire))
            return NULL;
        seen = g;
        work(p, worker);
        if (atomic_fetch_sub_explicit(&p->busy, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
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
        atomic_fetch_add(&p->gen, 1);
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
    atomic_init(&p->gen, 0);
    atomic_init(&p->stop, 0);
    atomic_init(&p->busy, 0);
    atomic_init(&p->next, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    if (n_workers > 1) {
        p->threads = calloc((size_t)n_workers - 1, sizeof *p->threads);
        p->args = calloc((size_t)n_workers - 1, sizeof *p->args);
        if (p->threads == NULL || p->args == NULL) {
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

void bf_pool_run(bf_pool *p, size_t n_tasks, bf_pool_task fn, void *ctx)
{
    if (n_tasks == 0)
        return;
    if (p == NULL || p->n == 1 || n_tasks == 1) {
        for (size_t t = 0; t < n_tasks; t++)
            fn(ctx, t, 0);
        return;
    }
    p->n_tasks = n_tasks;
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->busy, p->n - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->start_cv);
    pthread_mutex_unlock(&p->mu);

    work(p, 0);

    for (int i = 0; i < p->spin && atomic_load_explicit(&p->busy, memory_order_acquire) > 0; i++)
        cpu_relax();
    if (atomic_load_explicit(&p->busy, memory_order_acquire) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load_explicit(&p->busy, memory_order_acquire) > 0)
            pthread_cond_wait(&p->done_cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}
