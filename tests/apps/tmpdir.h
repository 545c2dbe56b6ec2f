/*
 * tmpdir.h - a scratch folder for a test, inside the current (build) folder,
 * removed at the end unless the test failed (kept for inspection).
 */
#ifndef BF_TESTS_APPS_TMPDIR_H
#define BF_TESTS_APPS_TMPDIR_H

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir_path[256];

static const char *tmpdir_create(const char *prefix)
{
    snprintf(tmpdir_path, sizeof tmpdir_path, "%s-XXXXXX", prefix);
    if (!mkdtemp(tmpdir_path)) {
        perror("mkdtemp");
        exit(1);
    }
    return tmpdir_path;
}

static int tmpdir_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(path);
}

static void tmpdir_remove(void)
{
    nftw(tmpdir_path, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* path inside the scratch folder (a static buffer per call site is enough for tests) */
static char *tmp_file(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir_path, name);
    return buf;
}

static int write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

#endif /* BF_TESTS_APPS_TMPDIR_H */
