/*
 * error.h - filling the caller's bf_error. Every fallible function in the core
 * reports through these helpers so that a failure is always one line (no
 * newlines, truncated to fit) and the status in the struct matches the one
 * returned.
 */
#ifndef BF_ERROR_H
#define BF_ERROR_H

#include <stdarg.h>

#include "bitfalcon.h"

#if defined(__GNUC__)
#define BF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BF_PRINTF(f, a)
#endif

/* Writes status and a printf-formatted message to `err` (when not NULL) and
 * returns `status`, so a failure path reads `return bf_fail(err, ...);`. */
bf_status bf_fail(bf_error *err, bf_status status, const char *fmt, ...) BF_PRINTF(3, 4);
bf_status bf_failv(bf_error *err, bf_status status, const char *fmt, va_list ap) BF_PRINTF(3, 0);

#endif /* BF_ERROR_H */
