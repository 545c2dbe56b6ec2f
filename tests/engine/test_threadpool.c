/*
 * test_threadpool.c - the pool's jobs (threadpool.h).
 *
 * bf_pool_run: every unit of [0, n_units) is covered exactly once, by pieces
 * of at most `step` units (whole multiples of it only when there would be
 * more than 2^22 pieces); a worker takes the pieces of its own share in
 * order from the front and those of another share in order from the back;
 * and when one worker is held up, the others finish its share. Many small
 * jobs run back to back on one pool (the job slots go by generation
 * parity), for 1, 2, 3 and 5 workers.
 *
 *   test_threadpool [--quick]   --quick: units up to 25,600 only and 300
 *                               back-to-back small jobs per pool instead of
 *                               2,000 (the ThreadSanitizer build)
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_util.h"
#include "threadpool.h"

#define MAX_WORKERS 8
#define MAX_PIECES_LOGGED 4096

typedef struct piece {
    size_t begin, end;
    int worker;
} piece;

typedef struct range_log {
    atomic_uchar *hits;      /* per unit */
    atomic_size_t n_pieces;
    piece pieces[MAX_PIECES_LOGGED];
    size_t longest;          /* the step the pieces may not exceed */
    atomic_int oversized;    /* pieces longer than `longest` */
    int slow_worker;         /* this worker sleeps in its first piece (-1: none) */
    atomic_int slow_done;
} range_log;

static void sleep_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void on_range(void *ctx, size_t begin, size_t end, int worker)
{
    range_log *log = ctx;
    if (worker == log->slow_worker && atomic_exchange(&log->slow_done, 1) == 0)
        sleep_ms(100);
    if (end - begin > log->longest || end <= begin)
        atomic_fetch_add(&log->oversized, 1);
    for (size_t u = begin; u < end; u++)
        atomic_fetch_add(&log->hits[u], 1);
    const size_t i = atomic_fetch_add(&log->n_pieces, 1);
    if (i < MAX_PIECES_LOGGED)
        log->pieces[i] = (piece){begin, end, worker};
}

/* The share (0..n-1) piece index `pc` of `pieces` belongs to, as the pool cuts them. */
static int share_of(size_t pc, size_t pieces, int n)
{
    for (int w = 0; w < n; w++)
        if (pc < pieces * (size_t)(w + 1) / (size_t)n)
            return w;
    return n - 1;
}

/* One ranged job and its checks. */
static void check_ranges(bf_pool *pool, int n, size_t units, size_t step, int slow_worker)
{
    range_log *log = calloc(1, sizeof *log);
    log->hits = calloc(units, sizeof *log->hits);
    CHECK(log != NULL && log->hits != NULL);
    const size_t pieces_max = ((size_t)1 << 22) - 1;
    size_t eff = step, pieces = (units + step - 1) / step;
    if (pieces > pieces_max) {
        eff = step * ((pieces + pieces_max - 1) / pieces_max);
        pieces = (units + eff - 1) / eff;
    }
    log->longest = eff;
    log->slow_worker = slow_worker;
    bf_pool_run(pool, units, step, on_range, log);

    size_t bad = 0;
    for (size_t u = 0; u < units; u++)
        bad += atomic_load(&log->hits[u]) != 1;
    CHECK(bad == 0, "workers %d, %zu units, step %zu: %zu units not covered exactly once", n, units, step, bad);
    CHECK(atomic_load(&log->oversized) == 0, "workers %d, %zu units, step %zu: a piece longer than %zu units", n,
          units, step, eff);
    const size_t logged = atomic_load(&log->n_pieces);
    CHECK(logged == pieces, "workers %d, %zu units, step %zu: %zu pieces, want %zu", n, units, step, logged, pieces);
    if (logged <= MAX_PIECES_LOGGED && n > 1) {
        /* per worker, per share: the order it took that share's pieces */
        for (int w = 0; w < n; w++) {
            long last[MAX_WORKERS];
            for (int s = 0; s < n; s++)
                last[s] = -1;
            for (size_t i = 0; i < logged; i++) {
                const piece *p = &log->pieces[i];
                if (p->worker != w)
                    continue;
                CHECK(p->begin % eff == 0, "piece at %zu is not on a piece boundary of %zu", p->begin, eff);
                const size_t pc = p->begin / eff;
                const int s = share_of(pc, pieces, n);
                if (last[s] >= 0) {
                    /* the log is in completion order, which for one worker is claim order */
                    if (s == w)
                        CHECK((long)pc > last[s], "worker %d took its own piece %zu after %ld", w, pc, last[s]);
                    else
                        CHECK((long)pc < last[s], "worker %d took share %d's piece %zu after %ld (not from the back)",
                              w, s, pc, last[s]);
                }
                last[s] = (long)pc;
            }
        }
        if (slow_worker >= 0 && slow_worker < n) {
            /* the held-up worker's share, less its first piece, went mostly to others */
            size_t lo = pieces * (size_t)slow_worker / (size_t)n, hi = pieces * (size_t)(slow_worker + 1) / (size_t)n;
            size_t by_others = 0;
            for (size_t i = 0; i < logged; i++) {
                const size_t pc = log->pieces[i].begin / eff;
                by_others += pc >= lo && pc < hi && log->pieces[i].worker != slow_worker;
            }
            CHECK(hi - lo < 4 || by_others >= (hi - lo) / 2,
                  "workers %d: only %zu of the held-up worker's %zu pieces went to others", n, by_others, hi - lo);
        }
    }
    free(log->hits);
    free(log);
}

int main(int argc, char **argv)
{
    const int quick = argc == 2 && strcmp(argv[1], "--quick") == 0;
    if (argc != 1 && !quick) {
        fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
        return 2;
    }
    const int reps = quick ? 300 : 2000;
    const size_t max_units = quick ? 25600 : (size_t)-1;
    const int workers[] = {1, 2, 3, 5};
    const size_t units[] = {1, 2, 7, 100, 1000, 25600, 102400};
    const size_t steps[] = {1, 3, 48, 144, 5000};
    for (size_t wi = 0; wi < sizeof workers / sizeof *workers; wi++) {
        const int n = workers[wi];
        bf_pool *pool = NULL;
        bf_error err;
        CHECK(bf_pool_create(n, &pool, &err) == BF_OK);
        if (pool == NULL)
            return check_finish("engine.threadpool");
        CHECK(bf_pool_size(pool) == n);
        for (size_t ui = 0; ui < sizeof units / sizeof *units && units[ui] <= max_units; ui++)
            for (size_t si = 0; si < sizeof steps / sizeof *steps; si++) {
                check_ranges(pool, n, units[ui], steps[si], -1);
                CHECK_LIMIT();
            }
        /* more than 2^22 pieces: the pool takes whole multiples of the step */
        if (!quick)
            check_ranges(pool, n, ((size_t)1 << 22) + 12345, 1, -1);
        /* a held-up worker (the caller, then the last thread) */
        check_ranges(pool, n, 6400, 48, 0);
        check_ranges(pool, n, 6400, 48, n - 1);
        /* many small jobs back to back: stale workers of an older
         * generation must claim nothing of a newer job */
        for (int rep = 0; rep < reps; rep++) {
            check_ranges(pool, n, (size_t)(rep % 37) + 1, (size_t)(rep % 5) + 1, -1);
            CHECK_LIMIT();
        }
        bf_pool_destroy(pool);
    }
    return check_finish("engine.threadpool");
}
