/*
 * check.h - the assertions of every C test in tests/.
 *
 *     CHECK(cond);                          on failure: file:line: CHECK(cond) failed
 *     CHECK(cond, "got %d, want %d", g, w); the same, then the message
 *     CHECK_NEAR(a, b, tol);                |a - b| <= tol, both values printed
 *
 * A CHECK keeps going after a failure, so one run shows every broken case;
 * main returns check_finish("name") (non-zero when anything failed). The
 * counters are one pair per program (tests/common/check.c), whatever the
 * number of files that check. CHECK_LIMIT() returns 1 from the calling
 * function once more than 50 checks failed (a loop over many cases).
 */
#ifndef BF_TESTS_COMMON_CHECK_H
#define BF_TESTS_COMMON_CHECK_H

#include <math.h>
#include <stdio.h>

extern int check_failures;
extern int check_count;

void check_fail(const char *file, int line, const char *what);
void check_failf(const char *file, int line, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void check_fail_near(const char *file, int line, const char *what, double a, double b, double tol);

/* "All passed" or "N of M FAILED" on stdout/stderr; the exit status to return. */
int check_finish(const char *name);

/* CHECK(cond) or CHECK(cond, fmt, ...): picked by the argument count (up to 40). */
#define CHECK_PICK_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18, _19,  \
                    _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32, _33, _34, _35, _36,  \
                    _37, _38, _39, _40, name, ...) name
#define CHECK(...) \
    CHECK_PICK_(__VA_ARGS__, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, \
                CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, \
                CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, \
                CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, \
                CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, \
                CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_MSG_, CHECK_COND_, unused)(__VA_ARGS__)
#define CHECK_COND_(cond)                                  \
    do {                                                   \
        check_count++;                                     \
        if (!(cond))                                       \
            check_fail(__FILE__, __LINE__, #cond);         \
    } while (0)
#define CHECK_MSG_(cond, ...)                                   \
    do {                                                        \
        check_count++;                                          \
        if (!(cond))                                            \
            check_failf(__FILE__, __LINE__, #cond, __VA_ARGS__); \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                       \
    do {                                                                            \
        const double check_a_ = (a), check_b_ = (b), check_tol_ = (tol);            \
        check_count++;                                                              \
        if (!(fabs(check_a_ - check_b_) <= check_tol_))                             \
            check_fail_near(__FILE__, __LINE__, #a, check_a_, check_b_, check_tol_); \
    } while (0)

#define CHECK_LIMIT()                                     \
    do {                                                  \
        if (check_failures > 50) {                        \
            fprintf(stderr, "too many failures, stopping\n"); \
            return 1;                                     \
        }                                                 \
    } while (0)

#endif /* BF_TESTS_COMMON_CHECK_H */
