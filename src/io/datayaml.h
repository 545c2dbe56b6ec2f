/*
 * datayaml.h - the Ultralytics data.yaml subset `bitfalcon eval --data` reads:
 *
 *     path: ../datasets/mine      # dataset root (optional; relative to the yaml's folder)
 *     train: images/train         # a string (lists are accepted and ignored)
 *     val: images/val             # the split eval scores
 *     names:                      # a block list ...
 *       - cat
 *       - dog
 *     names: {0: cat, 1: dog}     # ... or a dict (block or flow), or a flow list [cat, dog]
 *     nc: 2                       # optional; must match names
 *
 * Top-level `key: value` pairs, `#` comments, single/double-quoted or plain
 * scalars; other keys (download:, test:, ...) are skipped with their nested
 * lines. Labels are Ultralytics': IMAGES with its last "images" path component
 * replaced by "labels" (ROOT/images/val -> ROOT/labels/val). Errors name the
 * line. Names: 1..1000, ids 0..n-1 each once, printable, no newline.
 */
#ifndef BFIO_DATAYAML_H
#define BFIO_DATAYAML_H

#include <stddef.h>

#include "err.h"

#define BFIO_DATA_MAX_NAMES 1000

typedef struct bfio_data_yaml {
    char *root;      /* the dataset root (path:, resolved against the yaml's folder), never NULL */
    char *train;     /* as written (NULL when absent) */
    char *val;       /* as written (NULL when absent) */
    char **names;    /* names[id], n_names of them */
    int n_names;
} bfio_data_yaml;

/* Parses the text of a data.yaml (`yaml_path` resolves `path:` and names errors). */
int bfio_data_yaml_parse(const char *text, size_t len, const char *yaml_path, bfio_data_yaml *out, bfio_err *err);

/* Reads and parses a file. */
int bfio_data_yaml_read(const char *yaml_path, bfio_data_yaml *out, bfio_err *err);

/* The val split's images and labels folders (malloc'd); -1 without val:. */
int bfio_data_yaml_val_dirs(const bfio_data_yaml *d, char **images, char **labels, bfio_err *err);

void bfio_data_yaml_free(bfio_data_yaml *d);

#endif /* BFIO_DATAYAML_H */
