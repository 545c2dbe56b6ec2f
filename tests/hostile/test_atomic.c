/*
 * test_atomic.c - the stepwise atomic file writer (files.h): pieces appended
 * and committed give the whole file; nothing is visible under the final name
 * before the commit; abort leaves no trace; an old file stays whole until the
 * new one replaces it; a destination folder that does not exist fails at open.
 */
#include "../apps/tmpdir.h" /* first: it sets _XOPEN_SOURCE */

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "files.h"

static int entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static int content_is(const char *path, const char *want)
{
    uint8_t *data;
    size_t n;
    bfio_err err;
    if (bfio_read_file(path, 1 << 20, &data, &n, &err) != 0)
        return 0;
    int ok = n == strlen(want) && memcmp(data, want, n) == 0;
    free(data);
    return ok;
}

int main(void)
{
    const char *dir = tmpdir_create("atomic");
    char path[512], missing[512];
    tmp_file(path, sizeof path, "all.json");
    tmp_file(missing, sizeof missing, "no/such/x.json");
    CHECK(write_bytes(path, "old", 3) == 0);
    CHECK(content_is(path, "old"));
    bfio_err err;
    struct stat st;

    bfio_atomic_file f;
    CHECK(bfio_atomic_open(&f, path, &err) == 0);
    CHECK(bfio_atomic_write(&f, "[1,", 3, &err) == 0);
    CHECK(content_is(path, "old")); /* the final name is untouched until the commit */
    CHECK(entries(dir) == 2);       /* it and the hidden temporary */
    CHECK(bfio_atomic_write(&f, "2]", 2, &err) == 0);
    CHECK(bfio_atomic_commit(&f, &err) == 0);
    CHECK(content_is(path, "[1,2]"));
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    CHECK(entries(dir) == 1);

    CHECK(bfio_atomic_open(&f, path, &err) == 0);
    CHECK(bfio_atomic_write(&f, "[3]", 3, &err) == 0);
    CHECK(content_is(path, "[1,2]")); /* the old file stays whole meanwhile */
    bfio_atomic_abort(&f);
    CHECK(content_is(path, "[1,2]"));
    CHECK(entries(dir) == 1); /* the temporary is gone */
    CHECK(f.tmp == NULL && f.path == NULL && f.fd == -1);

    CHECK(bfio_atomic_open(&f, missing, &err) == -1);
    CHECK(strstr(err.msg, "temporary") != NULL);
    CHECK(f.tmp == NULL && f.path == NULL);

    CHECK(bfio_write_file_atomic(path, "x", 1, &err) == 0);
    CHECK(content_is(path, "x"));
    int rc = check_finish("test_atomic");
    if (rc == 0)
        tmpdir_remove();
    return rc;
}
