/* classes.c - see classes.h. */
#include "classes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bf_classes_parse(const char *spec, const bf_model *model, int **ids, size_t *n, char *why, size_t why_len)
{
    *ids = NULL;
    *n = 0;
    const int nc = bf_model_num_classes(model);
    size_t cap = 1;
    for (const char *p = spec; *p; p++)
        cap += *p == ',';
    int *out = malloc(cap * sizeof *out);
    if (!out) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    size_t k = 0;
    const char *p = spec;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (*p == ' ')) {
            p++;
            len--;
        }
        while (len && p[len - 1] == ' ')
            len--;
        if (len == 0) {
            snprintf(why, why_len, "empty entry in '%s'", spec);
            free(out);
            return -1;
        }
        int digits = len <= 9;
        for (size_t i = 0; i < len && digits; i++)
            digits = p[i] >= '0' && p[i] <= '9';
        int id = -1;
        if (digits) {
            id = 0;
            for (size_t i = 0; i < len; i++)
                id = id * 10 + (p[i] - '0');
            if (id >= nc) {
                snprintf(why, why_len, "class %d is not in 0..%d", id, nc - 1);
                free(out);
                return -1;
            }
        } else {
            for (int c = 0; c < nc && id < 0; c++) {
                const char *name = bf_model_class_name(model, c);
                if (name && strlen(name) == len && !memcmp(name, p, len))
                    id = c;
            }
            if (id < 0) {
                const char *n0 = bf_model_class_name(model, 0), *n1 = nc > 1 ? bf_model_class_name(model, 1) : NULL;
                snprintf(why, why_len, "'%.*s' is not a class of the model (%d classes: %s%s%s%s)", (int)len, p, nc,
                         n0 ? n0 : "0", n1 ? ", " : "", n1 ? n1 : "", nc > 2 ? ", ..." : "");
                free(out);
                return -1;
            }
        }
        out[k++] = id;
        if (!e)
            break;
        p = e + 1;
    }
    *ids = out;
    *n = k;
    return 0;
}

int bf_classes_apply(const char *spec, const bf_model *model, bf_detector *det)
{
    int *ids;
    size_t n;
    char why[256];
    bf_error err;
    if (bf_classes_parse(spec, model, &ids, &n, why, sizeof why) != 0) {
        fprintf(stderr, "bitfalcon: --classes: %s\n", why);
        return -1;
    }
    int rc = bf_detector_set_classes(det, ids, n, &err) == BF_OK ? 0 : -1;
    if (rc)
        fprintf(stderr, "bitfalcon: --classes: %s\n", err.message);
    free(ids);
    return rc;
}
