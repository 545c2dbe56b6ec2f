/*
 * inputs.h - the image files named on a command line.
 *
 * A file argument is taken as it is (its content decides whether it is an
 * image); a folder argument is walked recursively for .jpg/.jpeg/.png/.bmp
 * files (src/io/files.h). Each input keeps its path relative to the folder it
 * was found in (a file argument: its base name), which is where its outputs
 * go under the output folder, so "a/x.jpg" and "b/x.jpg" found in the folder
 * "photos" are written to OUT/a/x.jpg and OUT/b/x.jpg.
 */
#ifndef BF_APPS_INPUTS_H
#define BF_APPS_INPUTS_H

#include <stddef.h>

typedef struct bf_input {
    char *path;      /* as given or found ("photos/a/x.jpg") */
    const char *rel; /* points into path: relative to the folder argument ("a/x.jpg") */
    int skip;        /* set by the command when this input must not be processed */
    int in_shard;    /* 1 when this input belongs to the selected shard (always, unsharded) */
    unsigned long long dev, ino; /* the file's identity, to find outputs that would land on it */
} bf_input;

typedef struct bf_inputs {
    bf_input *items;
    size_t count;
    size_t cap;
    int failures; /* arguments or entries reported as unreadable */
    /* Sharding (--shard K/N): 0 = off. Set before the first bf_inputs_add. */
    unsigned shard_k, shard_n;
    /* A folder not to walk into (the output folder, when it exists and lies
     * inside an input folder): set has_skip_dir before the first add. */
    int has_skip_dir;
    unsigned long long skip_dev, skip_ino;
} bf_inputs;

/* Adds one command-line argument. Unreadable arguments and entries are
 * reported ("bitfalcon: PATH: CAUSE") and counted in failures. Returns -1
 * only when out of memory. With sharding on, every input is still added (so
 * that output collisions are found the same way in every shard) with its
 * in_shard flag set, and only the unreadable entries of this shard are
 * reported and counted, so that N shards together report each one once. */
int bf_inputs_add(bf_inputs *in, const char *arg);
void bf_inputs_free(bf_inputs *in);

/* Sharding: a stable hash of an input's relative path (64-bit FNV-1a of its
 * bytes) and the shard test (hash mod n == k - 1, k in 1..n). The hash of a
 * path does not depend on the other files, so adding or removing files never
 * moves the others to another shard. */
unsigned long long bf_input_hash(const char *rel);
int bf_input_in_shard(const char *rel, unsigned k, unsigned n);

#endif /* BF_APPS_INPUTS_H */
