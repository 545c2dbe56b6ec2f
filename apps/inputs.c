/* inputs.c - see inputs.h. */
#include "inputs.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"
#include "fnv.h"
#include "report.h"

static int push(bf_inputs *in, char *path, size_t rel, unsigned long long dev,
                unsigned long long ino)
{
    if (in->count == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 64;
        bf_input *p = cap <= SIZE_MAX / sizeof *p ? realloc(in->items, cap * sizeof *p) : NULL;
        if (!p)
            return -1;
        in->items = p;
        in->cap = cap;
    }
    in->items[in->count].path = path;
    in->items[in->count].rel = path + rel;
    in->items[in->count].skip = 0;
    in->items[in->count].dev = dev;
    in->items[in->count].ino = ino;
    in->items[in->count].in_shard = bf_input_in_shard(path + rel, in->shard_k, in->shard_n);
    in->count++;
    return 0;
}

unsigned long long bf_input_hash(const char *rel) { return bfio_fnv1a64(rel); }

int bf_input_in_shard(const char *rel, unsigned k, unsigned n)
{
    return n == 0 || bf_input_hash(rel) % n == k - 1;
}

typedef struct walk_ctx {
    bf_inputs *in;
    const char *root;
} walk_ctx;

/* The path of a reported entry relative to the folder argument, for the
 * shard test (entries are root joined with their relative path). */
static const char *rel_of(const char *root, const char *path)
{
    size_t n = strlen(root);
    if (n && strncmp(path, root, n) == 0) {
        path += n;
        while (*path == '/')
            path++;
    }
    return path;
}

static void on_walk_error(void *ctx, const char *path, const char *cause)
{
    walk_ctx *w = ctx;
    if (!bf_input_in_shard(rel_of(w->root, path), w->in->shard_k, w->in->shard_n))
        return;
    w->in->failures++;
    bf_report_failure(path, "%s", cause);
}

/* An argument that cannot be used at all: reported by the shard its name falls in. */
static void arg_failure(bf_inputs *in, const char *arg, const char *cause)
{
    if (!bf_input_in_shard(bfio_path_basename(arg), in->shard_k, in->shard_n))
        return;
    bf_report_failure(arg, "%s", cause);
    in->failures++;
}

int bf_inputs_add(bf_inputs *in, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) != 0) {
        arg_failure(in, arg, strerror(errno));
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        char *p = strdup(arg);
        if (!p || push(in, p, (size_t)(bfio_path_basename(p) - p), (unsigned long long)st.st_dev,
                           (unsigned long long)st.st_ino) != 0) {
            free(p);
            return -1;
        }
        return 0;
    }
    bfio_walk_list list = {0};
    bfio_err err;
    int found_before = (int)in->count;
    /* on_walk_error counts the reported entries itself. */
    walk_ctx w = {in, arg};
    int rc = in->has_skip_dir ? bfio_walk_images_skip(arg, in->skip_dev, in->skip_ino, &list,
                                                      on_walk_error, &w, &err)
                              : bfio_walk_images(arg, &list, on_walk_error, &w, &err);
    if (rc < 0) {
        bfio_walk_list_free(&list);
        if (strcmp(err.msg, "out of memory") == 0)
            return -1;
        arg_failure(in, arg, err.msg);
        return 0;
    }
    for (size_t i = 0; i < list.count; i++) {
        if (push(in, list.items[i].path, list.items[i].rel, list.items[i].dev, list.items[i].ino) != 0) {
            for (size_t j = i; j < list.count; j++)
                free(list.items[j].path);
            free(list.items);
            return -1;
        }
    }
    free(list.items); /* the paths now belong to in */
    if ((int)in->count == found_before)
        arg_failure(in, arg, "no .jpg, .jpeg, .png or .bmp files in this folder");
    return 0;
}

void bf_inputs_free(bf_inputs *in)
{
    for (size_t i = 0; i < in->count; i++)
        free(in->items[i].path);
    free(in->items);
    in->items = NULL;
    in->count = in->cap = 0;
}
