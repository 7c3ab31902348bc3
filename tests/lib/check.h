/* check.h — a minimal unit-test harness: RUN() a test function, CHECK() inside it. */
#ifndef TESTS_LIB_CHECK_H
#define TESTS_LIB_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Records a failed check of the current test and prints where it happened.  Returns the
 * condition so a test can stop early: `if (!CHECK(p != NULL)) return;`. */
int check_fail(int ok, const char *file, int line, const char *expr);
int check_int(long long got, long long want, const char *file, int line, const char *expr);
int check_mem(const void *got, const void *want, size_t n, const char *file, int line,
              const char *expr);
int check_str(const char *got, const char *want, const char *file, int line, const char *expr);

/* Runs one test function; its verdict is printed as "ok NAME" or "FAIL NAME". */
void check_run(void (*fn)(void), const char *name);

/* Prints "N passed, N failed" (tests, not checks) and returns the exit status for main(). */
int check_summary(void);

#define CHECK(c)          check_fail(!!(c), __FILE__, __LINE__, #c)
#define CHECK_INT(g, w)   check_int((long long)(g), (long long)(w), __FILE__, __LINE__, #g)
#define CHECK_MEM(g, w, n) check_mem((g), (w), (n), __FILE__, __LINE__, #g)
#define CHECK_STR(g, w)   check_str((g), (w), __FILE__, __LINE__, #g)
#define RUN(fn)           check_run(fn, #fn)

#endif
