/* error.c - one-line error messages and the status strings. */
#include "error.h"

#include "common.h"

#include <stdio.h>

bf_status bf_failv(bf_error *err, bf_status status, const char *fmt, va_list ap)
{
    if (err == NULL)
        return status;
    err->status = status;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    /* One line: a file name or a model string could carry control bytes. */
    for (char *c = err->message; *c != '\0'; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return status;
}

bf_status bf_fail(bf_error *err, bf_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bf_failv(err, status, fmt, ap);
    va_end(ap);
    return status;
}

BF_API const char *bf_status_str(bf_status status)
{
    switch (status) {
    case BF_OK: return "ok";
    case BF_ERR_ARGUMENT: return "invalid argument";
    case BF_ERR_IO: return "i/o error";
    case BF_ERR_FORMAT: return "format error";
    case BF_ERR_NOMEM: return "out of memory";
    case BF_ERR_UNSUPPORTED: return "unsupported";
    case BF_ERR_IMAGE: return "bad image";
    }
    return "unknown status";
}
