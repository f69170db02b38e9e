/* Minimal test harness for the C unit tests: each test program is one ctest test.
 * CHECK* macros record a failure with file, line and both values, and carry on; the program's
 * exit status is the number of failures (capped). A test that cannot run here (no GPU, say)
 * calls SKIP(), which exits with 77, ctest's SKIP_RETURN_CODE for these tests. */
#ifndef AV_TESTS_CHECK_H
#define AV_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);      \
            check_failures++;                                                              \
        }                                                                                  \
    } while (0)

#define CHECK_INT(a, b)                                                                    \
    do {                                                                                   \
        long long va_ = (long long)(a), vb_ = (long long)(b);                              \
        if (va_ != vb_) {                                                                  \
            fprintf(stderr, "%s:%d: CHECK_INT failed: %s = %lld, %s = %lld\n", __FILE__,   \
                    __LINE__, #a, va_, #b, vb_);                                           \
            check_failures++;                                                              \
        }                                                                                  \
    } while (0)

#define CHECK_STR(a, b)                                                                    \
    do {                                                                                   \
        const char *sa_ = (a), *sb_ = (b);                                                 \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                                       \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s = \"%s\", %s = \"%s\"\n",         \
                    __FILE__, __LINE__, #a, sa_ ? sa_ : "(null)", #b, sb_ ? sb_ : "(null)"); \
            check_failures++;                                                              \
        }                                                                                  \
    } while (0)

/* |a - b| <= tol */
#define CHECK_NEAR(a, b, tol)                                                              \
    do {                                                                                   \
        double va_ = (double)(a), vb_ = (double)(b);                                       \
        if (!(fabs(va_ - vb_) <= (double)(tol))) {                                         \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, %s = %.9g (tol %g)\n",   \
                    __FILE__, __LINE__, #a, va_, #b, vb_, (double)(tol));                  \
            check_failures++;                                                              \
        }                                                                                  \
    } while (0)

#define SKIP(...)                                                                          \
    do {                                                                                   \
        printf("SKIP: ");                                                                  \
        printf(__VA_ARGS__);                                                               \
        printf("\n");                                                                      \
        exit(77);                                                                          \
    } while (0)

static inline int check_report(const char *name)
{
    if (check_failures)
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
    else
        printf("%s: all checks passed\n", name);
    return check_failures > 100 ? 100 : check_failures;
}

#endif /* AV_TESTS_CHECK_H */
