/*
 * rng.h - the one replicable random generator of the C tests: xorshift64*
 * from a seed that test_seed() prints, so that any failing run can be
 * replayed with BF_TEST_SEED=<seed>.
 */
#ifndef BF_TESTS_COMMON_RNG_H
#define BF_TESTS_COMMON_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct rng {
    uint64_t s;
} rng;

/* BF_TEST_SEED when set, else `fallback`; printed on stderr either way. */
uint64_t test_seed(uint64_t fallback);
void rng_init(rng *r, uint64_t seed);
uint64_t rng_u64(rng *r);
/* Uniform in [lo, hi] (inclusive). */
int rng_int(rng *r, int lo, int hi);
size_t rng_size(rng *r, size_t lo, size_t hi);
/* Uniform in [0, 1). */
double rng_unit(rng *r);

#endif /* BF_TESTS_COMMON_RNG_H */
