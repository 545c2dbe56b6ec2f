/*
 * test_datayaml.c - the data.yaml subset reader (src/io/datayaml.h): hand-written
 * cases, a replay of the corpus tests/data/yaml/ (ok_*.yaml parse, bad_*.yaml are
 * refused with a message), and a small deterministic fuzz: byte flips, cuts and
 * splices of the corpus must parse or fail cleanly (run under ASan in CI).
 *
 *     test_datayaml CORPUS_DIR
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "datayaml.h"
#include "files.h"

static int parse(const char *text, bfio_data_yaml *d, bfio_err *err)
{
    return bfio_data_yaml_parse(text, strlen(text), "/data/my/data.yaml", d, err);
}

static void test_cases(void)
{
    bfio_data_yaml d;
    bfio_err err;
    char *im, *lb;
    CHECK(parse("path: ../ds\ntrain: images/train\nval: images/val\nnames:\n  0: cat\n  1: 'dog''s'\n", &d, &err) == 0);
    CHECK(d.n_names == 2 && !strcmp(d.names[0], "cat") && !strcmp(d.names[1], "dog's"));
    CHECK(!strcmp(d.root, "/data/my/../ds") && !strcmp(d.val, "images/val"));
    CHECK(bfio_data_yaml_val_dirs(&d, &im, &lb, &err) == 0);
    CHECK(!strcmp(im, "/data/my/../ds/images/val") && !strcmp(lb, "/data/my/../ds/labels/val"));
    free(im);
    free(lb);
    bfio_data_yaml_free(&d);

    CHECK(parse("names: {0: 'a b', 1: \"c # d\"}  # x\nval: /x/images/images/v/\n", &d, &err) == 0);
    CHECK(d.n_names == 2 && !strcmp(d.names[0], "a b") && !strcmp(d.names[1], "c # d"));
    CHECK(bfio_data_yaml_val_dirs(&d, &im, &lb, &err) == 0);
    CHECK(!strcmp(im, "/x/images/images/v") && !strcmp(lb, "/x/images/labels/v")); /* the last one */
    free(im);
    free(lb);
    bfio_data_yaml_free(&d);

    CHECK(parse("names:\n- a\n- b\n", &d, &err) == -1); /* top-level '-': not names' entries */
    CHECK(parse("names: [a, b]\n", &d, &err) == 0 && d.n_names == 2 && !strcmp(d.root, "/data/my"));
    CHECK(bfio_data_yaml_val_dirs(&d, &im, &lb, &err) == -1 && strstr(err.msg, "val"));
    bfio_data_yaml_free(&d);
    CHECK(parse("val: v/images\nnames: [a]\n", &d, &err) == 0);
    CHECK(bfio_data_yaml_val_dirs(&d, &im, &lb, &err) == 0 && !strcmp(lb, "/data/my/v/labels"));
    free(im);
    free(lb);
    bfio_data_yaml_free(&d);
    CHECK(parse("val: v/pics\nnames: [a]\n", &d, &err) == 0);
    CHECK(bfio_data_yaml_val_dirs(&d, &im, &lb, &err) == -1 && strstr(err.msg, "images"));
    bfio_data_yaml_free(&d);

    CHECK(parse("names: {0: a, 0: b}\n", &d, &err) == -1 && strstr(err.msg, "twice"));
    CHECK(parse("names: {0: a, 1000: b}\n", &d, &err) == -1 && strstr(err.msg, "line 1"));
    CHECK(parse("names: [a, , b]\n", &d, &err) == -1);
    CHECK(parse("names: ['a]\n", &d, &err) == -1);
    CHECK(parse("names:\n\t- a\n", &d, &err) == -1 && strstr(err.msg, "tab"));
    CHECK(parse("names: [a]\nnames: [b]\n", &d, &err) == -1);
    CHECK(parse("names: [a]\nnc: 0\n", &d, &err) == -1);
    CHECK(parse("names: cat\n", &d, &err) == -1);
    CHECK(bfio_data_yaml_parse("names: [a]\0", 12, "y", &d, &err) == -1 && strstr(err.msg, "NUL"));
    /* 1000 names */
    size_t cap = 20000, n = 0;
    char *big = malloc(cap);
    n += (size_t)snprintf(big + n, cap - n, "names:\n");
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(big + n, cap - n, "  - c%d\n", i);
    CHECK(parse(big, &d, &err) == 0 && d.n_names == 1000 && !strcmp(d.names[999], "c999"));
    bfio_data_yaml_free(&d);
    n += (size_t)snprintf(big + n, cap - n, "  - c1000\n");
    CHECK(parse(big, &d, &err) == -1);
    free(big);
}

static uint32_t rng = 12345;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void replay(const char *dir)
{
    DIR *dp = opendir(dir);
    CHECK(dp != NULL);
    if (!dp)
        return;
    struct dirent *de;
    int files = 0;
    while ((de = readdir(dp))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 5, ".yaml"))
            continue;
        char *path = bfio_path_join(dir, de->d_name);
        uint8_t *data = NULL;
        size_t size = 0;
        bfio_err err;
        CHECK(bfio_read_file(path, 1 << 20, &data, &size, &err) == 0);
        bfio_data_yaml d;
        int rc = bfio_data_yaml_read(path, &d, &err);
        int ok = !strncmp(de->d_name, "ok_", 3);
        if (ok != (rc == 0))
            fprintf(stderr, "%s: rc %d (%s)\n", path, rc, rc ? err.msg : "");
        CHECK(ok == (rc == 0));
        if (rc == 0) {
            char *im, *lb;
            CHECK(bfio_data_yaml_val_dirs(&d, &im, &lb, &err) == 0);
            free(im);
            free(lb);
        } else {
            CHECK(err.msg[0] != 0);
        }
        bfio_data_yaml_free(&d);
        /* fuzz: 300 mutants each */
        for (int k = 0; k < 300 && size; k++) {
            size_t n = size;
            char *m = malloc(n + 8);
            memcpy(m, data, n);
            switch (next() % 4) {
            case 0: m[next() % n] = (char)next(); break;
            case 1: n = next() % n; break;
            case 2: m[next() % n] = "\n:#'\"[]{},- \t0"[next() % 14]; break;
            default: {
                size_t a = next() % n;
                memmove(m + a, m + a + 1, n - a - 1);
                n--;
            }
            }
            rc = bfio_data_yaml_parse(m, n, "fuzz.yaml", &d, &err);
            if (rc == 0) {
                CHECK(d.n_names >= 1 && d.n_names <= BFIO_DATA_MAX_NAMES && d.root);
                for (int i = 0; i < d.n_names; i++)
                    CHECK(d.names[i] && d.names[i][0]);
                bfio_data_yaml_free(&d);
            }
            free(m);
        }
        free(data);
        free(path);
        files++;
    }
    closedir(dp);
    CHECK(files >= 8);
}

int main(int argc, char **argv)
{
    test_cases();
    if (argc > 1)
        replay(argv[1]);
    return check_finish("test_datayaml");
}
