/* inputs.c - see inputs.h. */
#include "inputs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"
#include "report.h"

static int push(bf_inputs *in, char *path, size_t rel)
{
    if (in->count == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 64;
        bf_input *p = realloc(in->items, cap * sizeof *p);
        if (!p)
            return -1;
        in->items = p;
        in->cap = cap;
    }
    in->items[in->count].path = path;
    in->items[in->count].rel = path + rel;
    in->items[in->count].skip = 0;
    in->count++;
    return 0;
}

static void on_walk_error(void *ctx, const char *path, const char *cause)
{
    bf_inputs *in = ctx;
    in->failures++;
    bf_report_failure(path, "%s", cause);
}

int bf_inputs_add(bf_inputs *in, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) != 0) {
        bf_report_failure(arg, "%s", strerror(errno));
        in->failures++;
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        char *p = strdup(arg);
        if (!p || push(in, p, (size_t)(bfio_path_basename(p) - p)) != 0) {
            free(p);
            return -1;
        }
        return 0;
    }
    bfio_walk_list list = {0};
    bfio_err err;
    int found_before = (int)in->count;
    /* on_walk_error counts the reported entries itself. */
    if (bfio_walk_images(arg, &list, on_walk_error, in, &err) < 0) {
        bfio_walk_list_free(&list);
        if (strcmp(err.msg, "out of memory") == 0)
            return -1;
        bf_report_failure(arg, "%s", err.msg);
        in->failures++;
        return 0;
    }
    for (size_t i = 0; i < list.count; i++) {
        if (push(in, list.items[i].path, list.items[i].rel) != 0) {
            for (size_t j = i; j < list.count; j++)
                free(list.items[j].path);
            free(list.items);
            return -1;
        }
    }
    free(list.items); /* the paths now belong to in */
    if ((int)in->count == found_before) {
        bf_report_failure(arg, "no .jpg, .jpeg, .png or .bmp files in this folder");
        in->failures++;
    }
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
