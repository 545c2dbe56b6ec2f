/*
 * test_util.h - shared helpers of the engine tests: FNV-1a, temp files, PNG
 * decoding (a private static stb_image instance) and the ctest skip code; the
 * checks and the seeded generator come from tests/common.
 */
#ifndef BF_TEST_UTIL_H
#define BF_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TEST_SKIP 77 /* ctest SKIP_RETURN_CODE */

/* The checks (CHECK, CHECK_NEAR, CHECK_LIMIT, check_finish) and the seeded
 * generator (rng, test_seed) are every test's: tests/common. */
#include "check.h"
#include "rng.h"

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
