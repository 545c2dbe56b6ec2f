/* rng.c - see rng.h. */
#include "rng.h"

#include <stdio.h>
#include <stdlib.h>

uint64_t test_seed(uint64_t fallback)
{
    const char *env = getenv("BF_TEST_SEED");
    uint64_t seed = env != NULL ? strtoull(env, NULL, 0) : fallback;
    fprintf(stderr, "seed %llu (set BF_TEST_SEED to replay)\n", (unsigned long long)seed);
    return seed;
}

void rng_init(rng *r, uint64_t seed)
{
    r->s = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    if (r->s == 0)
        r->s = 1;
}

uint64_t rng_u64(rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

int rng_int(rng *r, int lo, int hi)
{
    uint64_t span = (uint64_t)((int64_t)hi - lo + 1);
    return (int)(lo + (int64_t)(rng_u64(r) % span));
}

size_t rng_size(rng *r, size_t lo, size_t hi)
{
    const uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (size_t)(span == 0 ? rng_u64(r) : rng_u64(r) % span);
}

double rng_unit(rng *r)
{
    return (double)(rng_u64(r) >> 11) / 9007199254740992.0;
}
