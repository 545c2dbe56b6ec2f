/*
 * say.h - the capture layer's "why" strings: the reason a call failed, written
 * into the caller's buffer (NULL or zero-length: nothing written). One helper for
 * convert.c, v4l2_capture.c and window.c, which each had their own copy. Header-
 * only, so that the fuzz target and the replay test that compile convert.c alone
 * need nothing more.
 */
#ifndef CAM_SAY_H
#define CAM_SAY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline void cam_say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void cam_say(char *why, size_t len, const char *fmt, ...)
{
    if (!why || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

#endif /* CAM_SAY_H */
