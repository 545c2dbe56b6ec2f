/*
 * strbuf.h - a growable byte buffer for building output files in memory.
 *
 * Output files (JSON, YOLO txt) are built completely in memory and then
 * written in one atomic step (files.h), so a crash never leaves half a file.
 * An allocation failure is sticky, like ferror() on a stdio stream: appends
 * after a failure do nothing and the caller checks `failed` once at the end
 * instead of after every append.
 */
#ifndef BFIO_STRBUF_H
#define BFIO_STRBUF_H

#include <stddef.h>

#include "err.h"

typedef struct bfio_sb {
    char *data;  /* NUL-terminated when not NULL */
    size_t len;
    size_t cap;
    int failed;  /* an allocation failed; the contents are incomplete */
} bfio_sb;

void bfio_sb_init(bfio_sb *sb);
void bfio_sb_free(bfio_sb *sb);
void bfio_sb_clear(bfio_sb *sb); /* empties it, keeps the memory */
void bfio_sb_append(bfio_sb *sb, const char *bytes, size_t n);
void bfio_sb_puts(bfio_sb *sb, const char *s);
void bfio_sb_putc(bfio_sb *sb, char c);
void bfio_sb_printf(bfio_sb *sb, const char *fmt, ...) BFIO_PRINTF(2, 3);

#endif /* BFIO_STRBUF_H */
