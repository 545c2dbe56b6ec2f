/* files.c - see files.h. */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "video_names.h"

int bfio_read_file(const char *path, size_t max_bytes, uint8_t **out_data, size_t *out_size,
                   bfio_err *err)
{
    int fd;
    do
        /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
         * writer forever; the fstat below then refuses it. It has no effect on
         * regular files. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return bfio_fail(err, "%s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return bfio_fail(err, "%s", strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return bfio_fail(err, "is a directory");
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return bfio_fail(err, "not a regular file");
    }
    /* Size check before allocating: the limit, then size_t range. */
    if (st.st_size < 0 || (uint64_t)st.st_size > (uint64_t)max_bytes) {
        close(fd);
        return bfio_fail(err, "file is %lld bytes, more than the %zu byte limit",
                         (long long)st.st_size, max_bytes);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = malloc(size + 1);
    if (!data) {
        close(fd);
        return bfio_fail(err, "out of memory reading %zu bytes", size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(data);
            close(fd);
            return bfio_fail(err, "read failed: %s", strerror(e));
        }
        if (n == 0)
            break; /* the file shrank while we read it: keep what is there */
        got += (size_t)n;
    }
    close(fd);
    data[got] = 0;
    *out_data = data;
    *out_size = got;
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w == 0)
            errno = ENOSPC; /* nothing written and no error: the device is full */
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The first `keep` bytes of path followed by tail (malloc'd; NULL without memory). */
static char *prefix_then(const char *path, size_t keep, const char *tail)
{
    size_t tl = strlen(tail);
    char *s = malloc(keep + tl + 1);
    if (!s)
        return NULL;
    memcpy(s, path, keep);
    memcpy(s + keep, tail, tl + 1);
    return s;
}

/* The folder part of path joined with a relative link target. */
static char *join_dir_of(const char *path, const char *rel)
{
    return prefix_then(path, (size_t)(bfio_path_basename(path) - path), rel);
}

#define MAX_LINK_HOPS 40 /* as the kernel's ELOOP limit */

int bfio_output_resolve(const char *path, bfio_output *out, bfio_err *err)
{
    memset(out, 0, sizeof *out);
    if (strcmp(path, "-") == 0) {
        out->kind = BFIO_OUT_STDOUT;
        return 0;
    }
    if (!*path)
        return bfio_fail(err, "empty file name");
    char *cur = strdup(path);
    if (!cur)
        return bfio_fail(err, "out of memory");
    /* Follow the links one by one rather than with realpath(): the final
     * target of a link may not exist yet, and is then created. */
    struct stat st;
    for (int hops = 0;; hops++) {
        if (lstat(cur, &st) != 0) {
            int e = errno;
            if (e == ENOENT || e == ENOTDIR) {
                /* Nothing there (ENOTDIR: a parent is a file; creating the
                 * folders reports that). */
                out->kind = BFIO_OUT_NEW;
                out->target = cur;
                return 0;
            }
            free(cur);
            return bfio_fail(err, "%s", strerror(e));
        }
        if (!S_ISLNK(st.st_mode))
            break;
        if (hops == MAX_LINK_HOPS) {
            free(cur);
            return bfio_fail(err, "too many levels of symbolic links");
        }
        char buf[4096];
        ssize_t n = readlink(cur, buf, sizeof buf - 1);
        if (n < 0 || (size_t)n >= sizeof buf - 1) {
            int e = n < 0 ? errno : ENAMETOOLONG;
            free(cur);
            return bfio_fail(err, "cannot read the symbolic link: %s", strerror(e));
        }
        buf[n] = 0;
        char *next = buf[0] == '/' ? strdup(buf) : join_dir_of(cur, buf);
        free(cur);
        if (!next)
            return bfio_fail(err, "out of memory");
        cur = next;
    }
    const char *why = NULL;
    if (S_ISDIR(st.st_mode))
        why = "is a folder, not a file";
    else if (S_ISBLK(st.st_mode))
        why = "is a block device; refusing to write over it";
    else if (S_ISSOCK(st.st_mode))
        why = "is a socket, not a file";
    if (why) {
        free(cur);
        return bfio_fail(err, "%s", why);
    }
    out->kind = S_ISREG(st.st_mode) ? BFIO_OUT_REGULAR : BFIO_OUT_STREAM;
    out->target = cur;
    out->exists = 1;
    out->dev = (unsigned long long)st.st_dev;
    out->ino = (unsigned long long)st.st_ino;
    return 0;
}

int bfio_file_looks_like_image(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return 0;
    struct stat st;
    unsigned char h[8] = {0};
    ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, h, sizeof h) : -1;
    close(fd);
    if (n < 3)
        return 0;
    if (h[0] == 0xff && h[1] == 0xd8 && h[2] == 0xff)
        return 1; /* JPEG */
    if (n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0)
        return 1;
    return h[0] == 'B' && h[1] == 'M' && n >= 6; /* BMP */
}

static void atomic_clear(bfio_atomic_file *f)
{
    free(f->tmp);
    free(f->path);
    f->tmp = f->path = NULL;
    f->fd = -1;
    f->direct = 0;
}

int bfio_atomic_open(bfio_atomic_file *f, const char *path, bfio_err *err)
{
    f->fd = -1;
    f->tmp = NULL;
    f->path = NULL;
    f->direct = 0;
    f->failed = 0;
    f->err_no = 0;
    bfio_output o;
    if (bfio_output_resolve(path, &o, err) != 0)
        return -1;
    if (o.kind == BFIO_OUT_STDOUT) {
        f->fd = STDOUT_FILENO;
        f->direct = 2;
        return 0;
    }
    f->path = o.target; /* after symlinks: the temporary goes next to the real file */
    if (o.kind == BFIO_OUT_STREAM) {
        /* A device or FIFO is not ours to replace: write into it. (Opening a
         * FIFO waits for its reader, as any writer to a FIFO does.) */
        int fd;
        do
            fd = open(f->path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        while (fd < 0 && errno == EINTR);
        if (fd < 0) {
            int e = errno;
            atomic_clear(f);
            return bfio_fail(err, "cannot open for writing: %s", strerror(e));
        }
        f->fd = fd;
        f->direct = 1;
        return 0;
    }
    /* The temporary lives next to the destination, hidden: "dir/.name.tmp-XXXXXX". */
    const char *dest = f->path;
    const char *base = bfio_path_basename(dest);
    size_t dir_len = (size_t)(base - dest);
    size_t tmp_len = dir_len + 1 + strlen(base) + sizeof ".tmp-XXXXXX";
    f->tmp = malloc(tmp_len);
    if (!f->tmp) {
        atomic_clear(f);
        return bfio_fail(err, "out of memory");
    }
    snprintf(f->tmp, tmp_len, "%.*s.%s.tmp-XXXXXX", (int)dir_len, dest, base);
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        int e = errno;
        atomic_clear(f);
        return bfio_fail(err, "cannot create a temporary file: %s", strerror(e));
    }
    if (fchmod(f->fd, 0644) != 0) { /* mkstemp makes 0600; outputs are meant to be shared */
        int e = errno;
        bfio_atomic_abort(f);
        return bfio_fail(err, "chmod failed: %s", strerror(e));
    }
    return 0;
}

const char *bfio_atomic_tmp_path(const bfio_atomic_file *f)
{
    return f->tmp;
}

int bfio_atomic_write(bfio_atomic_file *f, const void *data, size_t size, bfio_err *err)
{
    if (f->failed)
        return bfio_fail(err, "write failed: %s", strerror(f->err_no));
    if (write_all(f->fd, data, size) != 0) {
        f->err_no = errno ? errno : EIO;
        f->failed = 1;
        return bfio_fail(err, "write failed: %s", strerror(f->err_no));
    }
    return 0;
}

int bfio_atomic_commit(bfio_atomic_file *f, bfio_err *err)
{
    const char *what = f->failed ? "write" : NULL;
    int e = f->failed ? f->err_no : 0;
    if (f->direct) {
        /* No fsync: a pipe or terminal has nothing to sync (EINVAL). */
        if (f->direct == 1 && close(f->fd) != 0 && !what) {
            what = "close";
            e = errno;
        }
        atomic_clear(f);
        return what ? bfio_fail(err, "%s failed: %s", what, strerror(e)) : 0;
    }
    if (!what && fsync(f->fd) != 0) {
        what = "fsync";
        e = errno;
    }
    if (close(f->fd) != 0 && !what) {
        what = "close";
        e = errno;
    }
    f->fd = -1;
    if (!what && rename(f->tmp, f->path) != 0) {
        what = "rename";
        e = errno;
    }
    if (what) {
        bfio_atomic_abort(f);
        return bfio_fail(err, "%s failed: %s", what, strerror(e ? e : EIO));
    }
    /* Make the rename itself durable; failure here only costs durability. */
    const char *base = bfio_path_basename(f->path);
    size_t dir_len = (size_t)(base - f->path);
    char *dir = dir_len ? strndup(f->path, dir_len) : strdup(".");
    if (dir) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    atomic_clear(f);
    return 0;
}

void bfio_atomic_abort(bfio_atomic_file *f)
{
    if (f->fd >= 0 && f->direct != 2)
        close(f->fd);
    if (f->tmp)
        unlink(f->tmp);
    atomic_clear(f);
}

int bfio_write_file_atomic(const char *path, const void *data, size_t size, bfio_err *err)
{
    bfio_atomic_file f;
    if (bfio_atomic_open(&f, path, err) != 0)
        return -1;
    if (bfio_atomic_write(&f, data, size, err) != 0) {
        bfio_atomic_abort(&f);
        return -1;
    }
    return bfio_atomic_commit(&f, err);
}

int bfio_mkdirs(const char *dir, bfio_err *err)
{
    if (!dir || !*dir)
        return 0;
    char *p = strdup(dir);
    if (!p)
        return bfio_fail(err, "out of memory");
    /* Create each prefix ending at a '/', then the whole path. */
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char saved = *s;
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                int e = errno;
                int rc = bfio_fail(err, "cannot create folder %s: %s", p, strerror(e));
                free(p);
                return rc;
            }
            *s = saved;
            if (saved == '\0')
                break;
        }
    }
    struct stat st;
    if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
        int rc = bfio_fail(err, "%s exists and is not a folder", p);
        free(p);
        return rc;
    }
    free(p);
    return 0;
}

int bfio_mkdirs_for_file(const char *file_path, bfio_err *err)
{
    const char *base = bfio_path_basename(file_path);
    if (base == file_path)
        return 0;
    char *dir = strndup(file_path, (size_t)(base - file_path));
    if (!dir)
        return bfio_fail(err, "out of memory");
    int rc = bfio_mkdirs(dir, err);
    free(dir);
    return rc;
}

char *bfio_path_join(const char *a, const char *b)
{
    if (!a || !*a)
        return strdup(b);
    size_t la = strlen(a), lb = strlen(b);
    int slash = a[la - 1] != '/';
    char *s = malloc(la + (size_t)slash + lb + 1);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    if (slash)
        s[la] = '/';
    memcpy(s + la + (size_t)slash, b, lb + 1);
    return s;
}

const char *bfio_path_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The position of the extension's dot in the last component, or NULL.
 * A leading dot (".bashrc") is part of the name, not an extension. */
static const char *ext_dot(const char *path)
{
    const char *base = bfio_path_basename(path);
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot : NULL;
}

char *bfio_path_stem(const char *path)
{
    const char *base = bfio_path_basename(path);
    const char *dot = ext_dot(path);
    return strndup(base, dot ? (size_t)(dot - base) : strlen(base));
}

char *bfio_path_replace_ext(const char *path, const char *ext)
{
    const char *dot = ext_dot(path);
    return prefix_then(path, dot ? (size_t)(dot - path) : strlen(path), ext);
}

int bfio_path_is_image_name(const char *path)
{
    const char *dot = ext_dot(path);
    if (!dot)
        return 0;
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".bmp"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0)
            return 1;
    return 0;
}

/* --- walk --- */

typedef struct walk_state {
    bfio_walk_list *list;
    size_t root_rel; /* offset of the relative part in joined paths */
    bfio_walk_error_fn on_error;
    void *ctx;
    int reported;
    /* The folders on the current path, to detect symlink cycles. */
    dev_t devs[BFIO_WALK_MAX_DEPTH + 1];
    ino_t inos[BFIO_WALK_MAX_DEPTH + 1];
    int depth;
    int has_skip; /* a folder not to descend into (the output folder) */
    dev_t skip_dev;
    ino_t skip_ino;
    bfio_err *err;
} walk_state;

static void report(walk_state *w, const char *path, const char *cause)
{
    w->reported++;
    if (w->on_error)
        w->on_error(w->ctx, path, cause);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_push(bfio_walk_list *list, char *path, size_t rel, const struct stat *st)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *list->items)
            return -1;
        bfio_walk_entry *p = realloc(list->items, cap * sizeof *p);
        if (!p)
            return -1;
        list->items = p;
        list->cap = cap;
    }
    list->items[list->count].path = path;
    list->items[list->count].rel = rel;
    list->items[list->count].dev = (unsigned long long)st->st_dev;
    list->items[list->count].ino = (unsigned long long)st->st_ino;
    list->count++;
    return 0;
}

static int walk_dir(walk_state *w, const char *dir, const struct stat *dir_st);

/* Handles one entry of a folder; returns -1 only for fatal errors (memory). */
static int walk_entry(walk_state *w, char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        struct stat lst;
        if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
            report(w, path, e == ELOOP ? "too many levels of symbolic links" : "broken symbolic link");
        else
            report(w, path, strerror(e));
        free(path);
        return 0;
    }
    if (S_ISDIR(st.st_mode)) {
        if (w->has_skip && st.st_dev == w->skip_dev && st.st_ino == w->skip_ino) {
            free(path); /* the output folder: its files are our own results */
            return 0;
        }
        int rc = walk_dir(w, path, &st);
        free(path);
        return rc;
    }
    if (!bfio_path_is_image_name(path) && !bfio_path_is_video_name(path)) {
        free(path);
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        report(w, path, "not a regular file");
        free(path);
        return 0;
    }
    if (list_push(w->list, path, w->root_rel, &st) != 0) {
        free(path);
        return bfio_fail(w->err, "out of memory");
    }
    return 0;
}

static int walk_dir(walk_state *w, const char *dir, const struct stat *dir_st)
{
    for (int i = 0; i < w->depth; i++)
        if (w->devs[i] == dir_st->st_dev && w->inos[i] == dir_st->st_ino)
            return 0; /* a link back to a folder we are inside: a cycle, skip it */
    if (w->depth >= BFIO_WALK_MAX_DEPTH) {
        report(w, dir, "folders nested too deeply");
        return 0;
    }
    DIR *d = opendir(dir);
    if (!d) {
        report(w, dir, strerror(errno));
        return 0;
    }
    /* Read all names first, then sort: readdir order is file-system order. */
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                report(w, dir, strerror(errno));
            break;
        }
        if (de->d_name[0] == '.')
            continue; /* ".", "..", and hidden files */
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **p = ncap <= SIZE_MAX / sizeof *p ? realloc(names, ncap * sizeof *p) : NULL;
            if (!p) {
                rc = bfio_fail(w->err, "out of memory");
                break;
            }
            names = p;
            cap = ncap;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = bfio_fail(w->err, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == 0 && n > 1)
        qsort(names, n, sizeof *names, cmp_names);

    w->devs[w->depth] = dir_st->st_dev;
    w->inos[w->depth] = dir_st->st_ino;
    w->depth++;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            char *path = bfio_path_join(dir, names[i]);
            if (!path)
                rc = bfio_fail(w->err, "out of memory");
            else
                rc = walk_entry(w, path); /* takes ownership of path */
        }
        free(names[i]);
    }
    w->depth--;
    free(names);
    return rc;
}

static int walk_images(const char *root, int has_skip, dev_t skip_dev, ino_t skip_ino,
                       bfio_walk_list *list, bfio_walk_error_fn on_error, void *ctx, bfio_err *err)
{
    struct stat st;
    if (stat(root, &st) != 0)
        return bfio_fail(err, "%s", strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return bfio_fail(err, "not a folder");
    /* Opening it here turns "no permission" on the root into a failure of the
     * whole call rather than a reported entry. */
    DIR *d = opendir(root);
    if (!d)
        return bfio_fail(err, "%s", strerror(errno));
    closedir(d);

    size_t len = strlen(root);
    walk_state w = {
        .list = list,
        .root_rel = len == 0 ? 0 : root[len - 1] == '/' ? len : len + 1,
        .on_error = on_error,
        .ctx = ctx,
        .has_skip = has_skip,
        .skip_dev = skip_dev,
        .skip_ino = skip_ino,
        .err = err,
    };
    if (walk_dir(&w, root, &st) != 0)
        return -1;
    return w.reported;
}

int bfio_walk_images(const char *root, bfio_walk_list *list, bfio_walk_error_fn on_error,
                     void *ctx, bfio_err *err)
{
    return walk_images(root, 0, 0, 0, list, on_error, ctx, err);
}

int bfio_walk_images_skip(const char *root, unsigned long long skip_dev,
                          unsigned long long skip_ino, bfio_walk_list *list,
                          bfio_walk_error_fn on_error, void *ctx, bfio_err *err)
{
    return walk_images(root, 1, (dev_t)skip_dev, (ino_t)skip_ino, list, on_error, ctx, err);
}

void bfio_walk_list_free(bfio_walk_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].path);
    free(list->items);
    list->items = NULL;
    list->count = list->cap = 0;
}
