/*
 * fnv.h - the 64-bit FNV-1a hash of a string's bytes.
 *
 * Stable across machines and runs (no seed), which is what it is for: a
 * --shard K/N picks an input by the hash of its relative path, and a --resume
 * journal entry is named by the hash of its input path, so both must come out
 * the same in every run and on every machine. Not for hash tables facing
 * hostile keys.
 */
#ifndef BFIO_FNV_H
#define BFIO_FNV_H

static inline unsigned long long bfio_fnv1a64(const char *s)
{
    unsigned long long h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return h;
}

#endif /* BFIO_FNV_H */
