/* t.h: the tiny test harness shared by every unit test in tests/unit.
 *
 * A test file defines `static void test_x(void)` functions, lists them in a TESTS table and
 * calls t_main(). Each check prints both operands and file:line on failure; a failed check
 * marks the current test failed and the test goes on. Each binary ends with the line
 * "T-RESULT passed N failed M", which tests/run adds up into the one closing line CI reads.
 * Test data paths are relative to the repository root (tests/run starts binaries there). */
#ifndef TRUCE_T_H
#define TRUCE_T_H
#include <math.h>
#include <stdio.h>
#include <string.h>

static int t_failed_checks;
static const char *t_current;

#define T_FAIL_(...)                                                                       \
    do {                                                                                   \
        fprintf(stderr, "  %s:%d: in %s: ", __FILE__, __LINE__, t_current);                \
        fprintf(stderr, __VA_ARGS__);                                                      \
        fputc('\n', stderr);                                                               \
        t_failed_checks++;                                                                 \
    } while (0)

#define CHECK(c)                                                                           \
    do {                                                                                   \
        if (!(c)) T_FAIL_("check failed: %s", #c);                                         \
    } while (0)
#define CHECK_INT(a, b)                                                                    \
    do {                                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                                \
        if (a_ != b_) T_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);                   \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                                              \
    do {                                                                                   \
        double a_ = (double)(a), b_ = (double)(b);                                         \
        if (!(fabs(a_ - b_) <= (tol)))                                                     \
            T_FAIL_("%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, a_, b_, (double)(tol));      \
    } while (0)
#define CHECK_STR(a, b)                                                                    \
    do {                                                                                   \
        const char *a_ = (a), *b_ = (b);                                                   \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                             \
            T_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",              \
                    b_ ? b_ : "(null)");                                                   \
    } while (0)
#define CHECK_CONTAINS(hay, needle)                                                        \
    do {                                                                                   \
        const char *h_ = (hay), *n_ = (needle);                                            \
        if (!h_ || !strstr(h_, n_))                                                        \
            T_FAIL_("%s contains \"%s\": got \"%s\"", #hay, n_, h_ ? h_ : "(null)");       \
    } while (0)

struct t_case {
    const char *name;
    void (*fn)(void);
};
#define T(fn) { #fn, fn }

static int t_main(const struct t_case *cases, size_t n)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        int before = t_failed_checks;
        t_current = cases[i].name;
        cases[i].fn();
        if (t_failed_checks == before) {
            passed++;
            printf("ok   %s\n", cases[i].name);
        } else {
            failed++;
            printf("FAIL %s\n", cases[i].name);
        }
        fflush(stdout);
    }
    printf("T-RESULT passed %d failed %d\n", passed, failed);
    return failed ? 1 : 0;
}
#define T_RUN(table) t_main(table, sizeof(table) / sizeof((table)[0]))
#endif
