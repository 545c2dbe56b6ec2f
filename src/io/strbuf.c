/* strbuf.c - see strbuf.h. */
#include "strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bfio_sb_init(bfio_sb *sb)
{
    sb->data = NULL;
    sb->len = 0;
    sb->cap = 0;
    sb->failed = 0;
}

void bfio_sb_free(bfio_sb *sb)
{
    free(sb->data);
    bfio_sb_init(sb);
}

void bfio_sb_clear(bfio_sb *sb)
{
    sb->len = 0;
    if (sb->data)
        sb->data[0] = '\0';
}

/* Makes room for n more bytes plus the terminating NUL. */
static int reserve(bfio_sb *sb, size_t n)
{
    if (sb->failed)
        return -1;
    if (n > SIZE_MAX - sb->len - 1) {
        sb->failed = 1;
        return -1;
    }
    size_t need = sb->len + n + 1;
    if (need <= sb->cap)
        return 0;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(sb->data, cap);
    if (!p) {
        sb->failed = 1;
        return -1;
    }
    sb->data = p;
    sb->cap = cap;
    return 0;
}

void bfio_sb_append(bfio_sb *sb, const char *bytes, size_t n)
{
    if (reserve(sb, n) != 0)
        return;
    if (n)
        memcpy(sb->data + sb->len, bytes, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void bfio_sb_puts(bfio_sb *sb, const char *s)
{
    bfio_sb_append(sb, s, strlen(s));
}

void bfio_sb_putc(bfio_sb *sb, char c)
{
    bfio_sb_append(sb, &c, 1);
}

void bfio_sb_printf(bfio_sb *sb, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        bfio_sb_append(sb, small, (size_t)n);
        return;
    }
    /* Longer than the stack buffer: format straight into the buffer. */
    if (reserve(sb, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}
