/* check.c - see check.h. */
#include "check.h"

#include <stdarg.h>

int check_failures = 0;
int check_count = 0;

void check_fail(const char *file, int line, const char *what)
{
    check_failures++;
    fprintf(stderr, "%s:%d: CHECK(%s) failed\n", file, line, what);
}

void check_failf(const char *file, int line, const char *what, const char *fmt, ...)
{
    check_failures++;
    fprintf(stderr, "%s:%d: CHECK(%s) failed: ", file, line, what);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void check_fail_near(const char *file, int line, const char *what, double a, double b, double tol)
{
    check_failures++;
    fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.12g, expected %.12g (tolerance %g)\n", file, line, what, a, b,
            tol);
}

int check_finish(const char *name)
{
    if (check_failures)
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, check_failures, check_count);
    else
        printf("%s: all %d checks passed\n", name, check_count);
    return check_failures ? 1 : 0;
}
