/* check.c — the minimal unit-test harness behind check.h. */
#include "tests/lib/check.h"

#include <stdio.h>
#include <string.h>

static int tests_passed;
static int tests_failed;
static int current_failed;

int check_fail(int ok, const char *file, int line, const char *expr)
{
    if (!ok) {
        fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, expr);
        current_failed = 1;
    }
    return ok;
}

int check_int(long long got, long long want, const char *file, int line, const char *expr)
{
    if (got != want) {
        fprintf(stderr, "  %s:%d: %s is %lld, expected %lld\n", file, line, expr, got, want);
        current_failed = 1;
        return 0;
    }
    return 1;
}

int check_mem(const void *got, const void *want, size_t n, const char *file, int line,
              const char *expr)
{
    const uint8_t *g = got, *w = want;

    for (size_t i = 0; i < n; i++) {
        if (g[i] != w[i]) {
            fprintf(stderr, "  %s:%d: %s differs at byte %zu: 0x%02x, expected 0x%02x\n", file,
                    line, expr, i, g[i], w[i]);
            current_failed = 1;
            return 0;
        }
    }
    return 1;
}

int check_str(const char *got, const char *want, const char *file, int line, const char *expr)
{
    if (got == NULL || strcmp(got, want) != 0) {
        fprintf(stderr, "  %s:%d: %s is \"%s\", expected \"%s\"\n", file, line, expr,
                got ? got : "(null)", want);
        current_failed = 1;
        return 0;
    }
    return 1;
}

void check_run(void (*fn)(void), const char *name)
{
    current_failed = 0;
    fn();
    if (current_failed) {
        tests_failed++;
        printf("FAIL %s\n", name);
    } else {
        tests_passed++;
        printf("ok   %s\n", name);
    }
    fflush(stdout);
}

int check_summary(void)
{
    printf("%d passed, %d failed\n", tests_passed, tests_failed);
    return tests_failed == 0 ? 0 : 1;
}
