/* test_docs.c — the documentation keeps up with the option table: every option is in the
 * manual page etc/turnserver.8 and in README's options table, and the manual names no option
 * that does not exist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config_opts.h"
#include "tests/lib/check.h"

/* The whole file, NUL-terminated and malloc'ed; NULL when it cannot be read. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        buf[fread(buf, 1, (size_t)n, f)] = '\0';
    }
    fclose(f);
    return buf;
}

/* How roff writes an option in bold: "\fB\-\-no\-udp\fR", "\fB\-L\fR". */
static void roff_option(char *out, size_t cap, const char *dashes, const char *name)
{
    size_t n = 0;

    n += (size_t)snprintf(out, cap, "\\fB");
    for (const char *s = dashes; *s && n + 3 < cap; s++)
        n += (size_t)snprintf(out + n, cap - n, "\\-");
    for (const char *s = name; *s && n + 3 < cap; s++)
        n += (size_t)snprintf(out + n, cap - n, *s == '-' ? "\\-" : "%c", *s);
    snprintf(out + n, cap - n, "\\fR");
}

/* Every option of the table, by its long name and its letter, heads an entry of the page. */
static void manual_has_every_option(void)
{
    char *page = slurp("etc/turnserver.8"), needle[160];

    if (!CHECK(page != NULL))
        return;
    for (size_t i = 0; i < config_nopts; i++) {
        const struct config_opt *o = &config_opts[i];
        char letter[2] = {o->letter, '\0'};

        if (o->name) {
            roff_option(needle, sizeof(needle), "--", o->name);
            if (!CHECK(strstr(page, needle) != NULL))
                printf("  etc/turnserver.8 lacks --%s\n", o->name);
        }
        if (o->letter) {
            roff_option(needle, sizeof(needle), "-", letter);
            if (!CHECK(strstr(page, needle) != NULL))
                printf("  etc/turnserver.8 lacks -%c\n", o->letter);
        }
    }
    free(page);
}

/* Every "\-\-name" the page writes is an option, so that a renamed or removed one does not
 * linger there. */
static void manual_names_only_options(void)
{
    char *page = slurp("etc/turnserver.8");

    if (!CHECK(page != NULL))
        return;
    for (const char *p = strstr(page, "\\-\\-"); p; p = strstr(p + 1, "\\-\\-")) {
        char name[64];
        size_t n = 0;

        for (const char *s = p + 4; n + 1 < sizeof(name);) {
            if (strncmp(s, "\\-", 2) == 0) {
                name[n++] = '-';
                s += 2;
            } else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                       (*s >= '0' && *s <= '9')) {
                name[n++] = *s++;
            } else {
                break;
            }
        }
        name[n] = '\0';
        if (!CHECK(config_opt_long(name, n) != NULL))
            printf("  etc/turnserver.8 names --%s, which is no option\n", name);
    }
    free(page);
}

/* README's table has a row "| `--name ARG` | `-x` | default | meaning |" for every option. */
static void readme_has_every_option(void)
{
    char *readme = slurp("README.md"), needle[160];

    if (!CHECK(readme != NULL))
        return;
    for (size_t i = 0; i < config_nopts; i++) {
        const struct config_opt *o = &config_opts[i];
        const char *row, *end, *hit;

        if (o->name == NULL)
            continue;
        snprintf(needle, sizeof(needle), "\n| `--%s%s%s` |", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        row = strstr(readme, needle);
        if (!CHECK(row != NULL)) {
            printf("  README.md has no row \"%s\"\n", needle + 1);
            continue;
        }
        end = strchr(row + 1, '\n');
        snprintf(needle, sizeof(needle), " | `-%c` |", o->letter);
        hit = strstr(row, needle);
        if (o->letter && !CHECK(hit != NULL && (end == NULL || hit < end)))
            printf("  README.md's row of --%s lacks -%c\n", o->name, o->letter);
    }
    free(readme);
}

int main(void)
{
    RUN(manual_has_every_option);
    RUN(manual_names_only_options);
    RUN(readme_has_every_option);
    return check_summary();
}
