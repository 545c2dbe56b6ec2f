/*
 * common.h - small helpers shared by the core modules: export marking,
 * overflow-checked size arithmetic and alignment.
 */
#ifndef BF_COMMON_H
#define BF_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The library is built with hidden visibility; public API definitions carry
 * BF_API so that only bitfalcon.h's functions are exported from the .so. */
#if defined(__GNUC__)
#define BF_API __attribute__((visibility("default")))
#else
#define BF_API
#endif

/* "Unused" marker of the model file's index fields. */
#define BF_NONE 0xFFFFFFFFu

/* Every buffer the core hands out or plans is aligned to this (a cache line,
 * and the widest vector any kernel loads). */
#define BF_ALIGN 64

/* *out = a * b; false (and *out untouched) when it does not fit. */
static inline bool bf_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *out = a * b;
    return true;
}

static inline bool bf_add_size(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a)
        return false;
    *out = a + b;
    return true;
}

static inline bool bf_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return false;
    *out = a * b;
    return true;
}

/* Rounds up to a multiple of BF_ALIGN; false on overflow. */
static inline bool bf_align_size(size_t n, size_t *out)
{
    if (n > SIZE_MAX - (BF_ALIGN - 1))
        return false;
    *out = (n + (BF_ALIGN - 1)) & ~(size_t)(BF_ALIGN - 1);
    return true;
}

/* Aligned allocation on top of malloc (the only allocator the core uses, so
 * that tests can make any allocation fail). Free with bf_aligned_free. */
void *bf_aligned_alloc(size_t size);
void bf_aligned_free(void *p);

#endif /* BF_COMMON_H */
