/*
 * files.h - reading whole files, atomic writes, directory walks, path helpers.
 *
 * Atomic write: the data goes to a hidden temporary file in the destination's
 * own directory (so rename() never crosses a file system), is fsync'ed, and is
 * renamed over the destination. Readers see the old file or the new one, never
 * a partial one; on any failure the temporary is removed.
 *
 * Directory walk: collects image files (by extension: .jpg .jpeg .png .bmp,
 * any case) below a folder in a deterministic order: the entries of each
 * folder sorted by byte value, depth first. Hidden entries (names starting
 * with '.') are skipped: they are editor, OS and our own temporary files
 * ("._x.jpg" AppleDouble files are not JPEGs). Symbolic links are followed; a
 * link back to a folder being walked (a cycle) is skipped, and nesting deeper
 * than BFIO_WALK_MAX_DEPTH (64) folders stops there with a report. Entries
 * that cannot be read (a broken link, a folder without permission) are
 * reported through a callback and the walk goes on.
 */
#ifndef BFIO_FILES_H
#define BFIO_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Default cap for bfio_read_file: a bigger "image" or detections file is a mistake. */
#define BFIO_MAX_FILE_BYTES ((size_t)1 << 30)
#define BFIO_WALK_MAX_DEPTH 64

/* Reads a whole regular file. On success *out_data (malloc'ed, one extra NUL
 * byte after the data so text parsers can rely on it) and *out_size are set.
 * Files larger than max_bytes are refused before allocating. */
int bfio_read_file(const char *path, size_t max_bytes, uint8_t **out_data, size_t *out_size,
                   bfio_err *err);

/* What an output path names, decided before anything is written to it.
 * Symbolic links are followed to their final target (which need not exist
 * yet), so that writing "through" a link replaces the target and keeps the
 * link: a link is a user's way of saying where the file really lives. */
typedef enum bfio_output_kind {
    BFIO_OUT_NEW = 0,  /* nothing there yet: a new regular file */
    BFIO_OUT_REGULAR,  /* an existing regular file: replaced atomically */
    BFIO_OUT_STREAM,   /* a character device or FIFO: written directly, no rename */
    BFIO_OUT_STDOUT,   /* "-": standard output, written directly */
} bfio_output_kind;

typedef struct bfio_output {
    bfio_output_kind kind;
    char *target;      /* the final path after symlinks (malloc'ed; NULL for stdout) */
    int exists;        /* target exists: dev/ino are set */
    unsigned long long dev, ino;
} bfio_output;

/* Resolves path into *out (free out->target with free()). Fails, naming the
 * cause, for a folder, a block device, a socket, a symlink loop or a target
 * that cannot be examined: writing there could never be what was meant. */
int bfio_output_resolve(const char *path, bfio_output *out, bfio_err *err);

/* Writes data to path atomically (temp file + fsync + rename), mode 0644.
 * The path is resolved as by bfio_output_resolve: through symlinks, and a
 * device or FIFO is written directly. */
int bfio_write_file_atomic(const char *path, const void *data, size_t size, bfio_err *err);

/* The same in steps, for a file written piece by piece (a JSON array that
 * would not fit in memory): open creates the hidden temporary, write appends
 * (after a failure it does nothing and returns -1), commit fsyncs and renames
 * it over path, abort removes it. After commit or abort the struct holds
 * nothing; every path through open ends in exactly one of them. For a stream
 * target (device, FIFO, "-") there is no temporary: write goes straight to
 * it, commit only reports the first write error, abort only closes it. */
typedef struct bfio_atomic_file {
    int fd;
    char *tmp;  /* the temporary's path (NULL when writing directly) */
    char *path; /* the destination (after symlinks) */
    int direct; /* 0 temp + rename, 1 an opened device/FIFO, 2 standard output */
    int failed; /* a write failed: commit will fail */
    int err_no; /* errno of the first failed write */
} bfio_atomic_file;

int bfio_atomic_open(bfio_atomic_file *f, const char *path, bfio_err *err);
int bfio_atomic_write(bfio_atomic_file *f, const void *data, size_t size, bfio_err *err);
int bfio_atomic_commit(bfio_atomic_file *f, bfio_err *err);
void bfio_atomic_abort(bfio_atomic_file *f);
/* The temporary being written, or NULL: for a signal handler that must remove
 * it before exiting at once (unlink is async-signal-safe). */
const char *bfio_atomic_tmp_path(const bfio_atomic_file *f);

/* 1 when the first bytes of the regular file at path are those of a JPEG,
 * PNG or BMP (a cheap check before replacing a file with something else). */
int bfio_file_looks_like_image(const char *path);

/* mkdir -p: creates dir and its missing parents (mode 0755). */
int bfio_mkdirs(const char *dir, bfio_err *err);
/* Creates the folders above a file path ("out/a/b.jpg" -> out/a). */
int bfio_mkdirs_for_file(const char *file_path, bfio_err *err);

/* --- path helpers (all return malloc'ed strings, NULL only when out of memory) --- */

/* a + "/" + b, without doubling a trailing slash of a; b alone when a is "" or NULL. */
char *bfio_path_join(const char *a, const char *b);
/* The last component: "a/b.jpg" -> "b.jpg" (a pointer into path). */
const char *bfio_path_basename(const char *path);
/* Basename without its last extension: "a/b.c.jpg" -> "b.c"; ".x" stays ".x". */
char *bfio_path_stem(const char *path);
/* Replaces the extension of the last component: ("a/b.png", ".jpg") -> "a/b.jpg". */
char *bfio_path_replace_ext(const char *path, const char *ext);
/* 1 when the name ends in .jpg .jpeg .png or .bmp (any case). */
int bfio_path_is_image_name(const char *path);

/* --- directory walk --- */

typedef struct bfio_walk_entry {
    char *path; /* root joined with the relative path */
    size_t rel; /* path + rel is the path relative to the root */
    unsigned long long dev, ino; /* the file's identity (stat, links followed) */
} bfio_walk_entry;

typedef struct bfio_walk_list {
    bfio_walk_entry *items;
    size_t count;
    size_t cap;
} bfio_walk_list;

/* Called for each entry that could not be read; cause is one line. */
typedef void (*bfio_walk_error_fn)(void *ctx, const char *path, const char *cause);

/* Appends the images below root to list (which the caller zero-initialises
 * and frees with bfio_walk_list_free). Returns the number of entries reported
 * through on_error (>= 0), or -1 when root itself cannot be opened as a
 * folder or memory runs out (err says why). */
int bfio_walk_images(const char *root, bfio_walk_list *list, bfio_walk_error_fn on_error,
                     void *ctx, bfio_err *err);
/* The same, not descending into the folder (dev, ino) when it is found below
 * root: the output folder of a run, kept inside its input folder, is not
 * walked again by the next run. The root itself is always walked. */
int bfio_walk_images_skip(const char *root, unsigned long long skip_dev,
                          unsigned long long skip_ino, bfio_walk_list *list,
                          bfio_walk_error_fn on_error, void *ctx, bfio_err *err);
void bfio_walk_list_free(bfio_walk_list *list);

#endif /* BFIO_FILES_H */
