/*
 * test_nomem.c - every allocation of the engine made to fail in turn.
 *
 * Linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free, so
 * every call from this program and libbitfalcon goes through the wrappers
 * below. For k = 0, 1, 2, ... the k-th allocation after arming fails; the
 * open/create/run sequence must then return BF_ERR_NOMEM (never crash or
 * succeed half-way), and once everything is released no allocation made
 * while armed may remain (a leak check that works without a sanitizer).
 */
#include <stdlib.h>
#include <string.h>

#include "bitfalcon.h"
#include "model_builder.h"
#include "test_util.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static int armed = 0;      /* counting and failing only while armed */
static long countdown = -1; /* fail when it reaches 0 */
static long calls = 0;
#define MAX_LIVE 65536
static void *live[MAX_LIVE];
static size_t n_live = 0;

static int should_fail(void)
{
    if (!armed)
        return 0;
    calls++;
    return countdown-- == 0;
}

static void track(void *p)
{
    if (armed && p != NULL && n_live < MAX_LIVE)
        live[n_live++] = p;
}

static void untrack(void *p)
{
    for (size_t i = 0; i < n_live; i++)
        if (live[i] == p) {
            live[i] = live[--n_live];
            return;
        }
}

/* The linker's --wrap targets (tests/engine.cmake), declared for -Wmissing-prototypes. */
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

void *__wrap_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    void *p = __real_malloc(n);
    track(p);
    return p;
}

void *__wrap_calloc(size_t a, size_t b)
{
    if (should_fail())
        return NULL;
    void *p = __real_calloc(a, b);
    track(p);
    return p;
}

void *__wrap_realloc(void *old, size_t n)
{
    if (should_fail())
        return NULL;
    void *p = __real_realloc(old, n);
    if (p != NULL && old != NULL)
        untrack(old);
    track(p);
    return p;
}

void __wrap_free(void *p)
{
    if (p != NULL)
        untrack(p);
    __real_free(p);
}

/* open, create, run, close; returns the first failing status. */
static bf_status sequence(const char *path, const uint8_t *img, int w, int h, bf_error *err)
{
    bf_model *m = NULL;
    bf_status st = bf_model_open(path, &m, err);
    if (st != BF_OK)
        return st;
    bf_options o;
    bf_options_default(&o);
    o.input_size = 96;
    bf_detector *d = NULL;
    st = bf_detector_create(m, &o, &d, err);
    if (st == BF_OK) {
        st = bf_detector_run(d, img, w, h, (size_t)w * 3, BF_PIXEL_RGB, err);
        bf_detector_destroy(d);
    }
    bf_model_close(m);
    return st;
}

int main(void)
{
    mb_model *mb = mb_build_test_graph(0, 5);
    char path[512];
    temp_path(path, sizeof path, "nomem.bfm");
    if (mb_write(mb, path) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    mb_free(mb);
    const int w = 70, h = 50;
    uint8_t *img = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++)
        img[i] = (uint8_t)(i * 7);

    /* how many allocations a successful sequence makes */
    bf_error err;
    armed = 1;
    calls = 0;
    countdown = -1;
    bf_status st = sequence(path, img, w, h, &err);
    armed = 0;
    long total = calls;
    CHECK(st == BF_OK, "baseline: %s", err.message);
    CHECK(n_live == 0, "baseline leaves %zu allocations", n_live);
    CHECK(total > 5, "only %ld allocations seen: is the wrapping active?", total);
    fprintf(stderr, "a full sequence makes %ld allocations\n", total);

    for (long k = 0; k < total; k++) {
        n_live = 0;
        calls = 0;
        countdown = k;
        memset(&err, 0, sizeof err);
        armed = 1;
        st = sequence(path, img, w, h, &err);
        armed = 0;
        CHECK(st == BF_ERR_NOMEM, "failing allocation %ld: status %d (%s)", k, st, err.message);
        CHECK(err.status == st && err.message[0] != '\0', "failing allocation %ld: no message", k);
        CHECK(n_live == 0, "failing allocation %ld: %zu allocations leaked", k, n_live);
        CHECK_LIMIT();
    }
    /* no allocation at all during a run: create, then arm only for runs */
    {
        bf_model *m = NULL;
        bf_detector *d = NULL;
        if (bf_model_open(path, &m, &err) == BF_OK && bf_detector_create(m, NULL, &d, &err) == BF_OK) {
            calls = 0;
            countdown = -1;
            armed = 1;
            for (int i = 0; i < 3; i++)
                bf_detector_run(d, img, w, h, (size_t)w * 3, BF_PIXEL_RGB, &err);
            armed = 0;
            CHECK(calls == 0, "a run allocated %ld times", calls);
        } else {
            CHECK(0, "open/create: %s", err.message);
        }
        bf_detector_destroy(d);
        bf_model_close(m);
    }
    remove(path);
    free(img);
    if (check_failures) {
        fprintf(stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    fprintf(stderr, "ok: each of %ld allocations failed in turn\n", total);
    return 0;
}
