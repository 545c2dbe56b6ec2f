/*
 * check.h - minimal test assertions for the io and apps tests.
 *
 * CHECK keeps going after a failure so one run shows every broken case;
 * main returns check_finish(), non-zero when anything failed.
 */
#ifndef BF_TESTS_APPS_CHECK_H
#define BF_TESTS_APPS_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        check_count++;                                                                \
        if (!(cond)) {                                                                \
            check_failures++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                             \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                         \
    do {                                                                              \
        double check_a_ = (a), check_b_ = (b);                                        \
        check_count++;                                                                \
        if (!(fabs(check_a_ - check_b_) <= (tol))) {                                  \
            check_failures++;                                                         \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.12f, expected %.12f\n", \
                    __FILE__, __LINE__, #a, check_a_, check_b_);                      \
        }                                                                             \
    } while (0)

static int check_finish(const char *name)
{
    if (check_failures)
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, check_failures, check_count);
    else
        printf("%s: all %d checks passed\n", name, check_count);
    return check_failures ? 1 : 0;
}

#endif /* BF_TESTS_APPS_CHECK_H */
