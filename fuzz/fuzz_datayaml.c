/*
 * fuzz_datayaml.c - libFuzzer target: the data.yaml reader `bitfalcon eval --data`
 * and tools/distill.py's files go through (src/io/datayaml.c). Checks beyond "no
 * crash": an accepted file keeps the header's promises (a root, 1..1000 names,
 * each present, printable, without a line break), the val folders derive from it
 * without error when val: is there, and a refused file always says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "datayaml.h"

/* libFuzzer's entry point, called by name. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int printable_one_line(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bfio_err err;
    err.msg[0] = 0;
    bfio_data_yaml d;
    if (bfio_data_yaml_parse((const char *)data, size, "/fuzz/data.yaml", &d, &err) != 0) {
        if (err.msg[0] == 0) /* an error always names its cause */
            abort();
        return 0;
    }
    if (d.root == NULL || d.n_names < 1 || d.n_names > BFIO_DATA_MAX_NAMES || d.names == NULL)
        abort();
    for (int i = 0; i < d.n_names; i++)
        if (d.names[i] == NULL || d.names[i][0] == 0 || !printable_one_line(d.names[i]))
            abort();
    char *images = NULL, *labels = NULL;
    if (d.val != NULL) {
        if (bfio_data_yaml_val_dirs(&d, &images, &labels, &err) == 0) {
            if (images == NULL || labels == NULL)
                abort();
        } else if (err.msg[0] == 0) {
            abort();
        }
    }
    free(images);
    free(labels);
    bfio_data_yaml_free(&d);
    return 0;
}
