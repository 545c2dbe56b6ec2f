/*
 * test_util.h - shared helpers of the engine tests: a replicable RNG, FNV-1a,
 * check macros that print where and why, temp files, PNG decoding (a private
 * static stb_image instance), and the ctest skip code.
 */
#ifndef BF_TEST_UTIL_H
#define BF_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TEST_SKIP 77 /* ctest SKIP_RETURN_CODE */

extern int test_failures;

#define CHECK(cond, ...)                                                                          \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            test_failures++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                                                         \
            fputc('\n', stderr);                                                                  \
        }                                                                                         \
    } while (0)

/* Fails hard (return 1 from main) when too many checks failed already. */
#define CHECK_LIMIT() \
    do { if (test_failures > 50) { fprintf(stderr, "too many failures\n"); return 1; } } while (0)

/* xorshift64* with a printed seed: set BF_TEST_SEED to replay a run. */
typedef struct rng {
    uint64_t s;
} rng;
uint64_t test_seed(uint64_t fallback);
void rng_init(rng *r, uint64_t seed);
uint64_t rng_u64(rng *r);
/* Uniform in [lo, hi] (inclusive). */
int rng_int(rng *r, int lo, int hi);
double rng_unit(rng *r);

uint64_t fnv1a64(const void *data, size_t n, uint64_t h);
#define FNV1A64_INIT 0xcbf29ce484222325ull

/* A unique temp file path under $TMPDIR (or /tmp) with the given suffix. */
void temp_path(char *buf, size_t size, const char *tag);
int write_file(const char *path, const void *data, size_t n);
/* Reads a whole file (malloc'd); NULL when it does not exist. */
uint8_t *read_file(const char *path, size_t *size);
int file_exists(const char *path);

/* Decodes an image file to 8-bit RGB (free with free()); NULL on failure. */
uint8_t *load_rgb(const char *path, int *w, int *h);

/* "dir/astronaut.png" -> "astronaut" into buf. */
void path_stem(const char *path, char *buf, size_t size);

/* Milliseconds of a monotonic clock. */
double now_ms(void);

#endif /* BF_TEST_UTIL_H */
