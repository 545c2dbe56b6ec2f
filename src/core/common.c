/* common.c - aligned allocation over plain malloc. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

void *bf_aligned_alloc(size_t size)
{
    size_t total;
    if (!bf_add_size(size, BF_ALIGN + sizeof(void *), &total))
        return NULL;
    unsigned char *raw = malloc(total);
    if (raw == NULL)
        return NULL;
    uintptr_t start = (uintptr_t)(raw + sizeof(void *));
    uintptr_t aligned = (start + (BF_ALIGN - 1)) & ~(uintptr_t)(BF_ALIGN - 1);
    unsigned char *p = (unsigned char *)aligned;
    memcpy(p - sizeof(void *), &raw, sizeof raw); /* the pointer to free */
    return p;
}

void bf_aligned_free(void *p)
{
    if (p == NULL)
        return;
    void *raw;
    memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof raw);
    free(raw);
}
