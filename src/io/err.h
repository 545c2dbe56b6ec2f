/*
 * err.h - one-line failure reasons for the io helpers.
 *
 * Every fallible io function returns 0 on success and -1 on failure; when the
 * caller passes a bfio_err it receives a short sentence naming the cause
 * ("JPEG is truncated or corrupt: Premature end of JPEG file"). The text has
 * no trailing newline and no path: the caller knows which file it asked for
 * and prints "bitfalcon: <path>: <cause>" itself.
 */
#ifndef BFIO_ERR_H
#define BFIO_ERR_H

typedef struct bfio_err {
    char msg[256];
} bfio_err;

#if defined(__GNUC__)
#define BFIO_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BFIO_PRINTF(f, a)
#endif

/* Formats the reason into err (when not NULL) and returns -1, so that a
 * failure is one line: `return bfio_fail(err, "bad %s", what);`. */
int bfio_fail(bfio_err *err, const char *fmt, ...) BFIO_PRINTF(2, 3);

#endif /* BFIO_ERR_H */
