/* test_install.c — `make install DESTDIR=… PREFIX=…` of the binary under test: the tree, the
 * modes, @PREFIX@ replaced in the unit and the manual, a config file never overwritten, the
 * installed binary running, and `make uninstall`.  Runs from the top of the source tree. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/check.h"
#include "tests/lib/proc.h"

static char out[8192];

/* Runs make with target and args on the build directory of the binary under test, which it
 * does not remake (-o): that binary is what gets installed.  Returns make's exit status. */
static int run_make(const char *target, const char *args)
{
    char bin[4096], dir[4096], cmd[8192];

    snprintf(bin, sizeof(bin), "%s", proc_server_path());
    snprintf(dir, sizeof(dir), "%s", bin);
    snprintf(cmd, sizeof(cmd), "make --no-print-directory -o %s %s B=%s SAN=%d %s", bin, target,
             dirname(dir), proc_sanitized() ? 1 : 0, args);
    return proc_capture(cmd, 120, out, sizeof(out));
}

/* The mode bits of path when it is a regular file (or a directory, with dir), else -1. */
static int mode_of(const char *path, bool dir)
{
    struct stat st;

    if (stat(path, &st) < 0 || (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
        return -1;
    return (int)(st.st_mode & 07777);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 1 << 20);

    if (f && buf)
        fread(buf, 1, (1 << 20) - 1, f);
    if (f)
        fclose(f);
    return buf;
}

/* text with every @PREFIX@ replaced by prefix, malloc'ed. */
static char *substituted(const char *text, const char *prefix)
{
    char *res = calloc(1, strlen(text) * 2 + 1), *w = res;

    for (const char *p = text; *p;) {
        if (strncmp(p, "@PREFIX@", 8) == 0) {
            w += sprintf(w, "%s", prefix);
            p += 8;
        } else {
            *w++ = *p++;
        }
    }
    return res;
}

/* root/rel holds exactly what the source file holds, with @PREFIX@ replaced by prefix. */
static void check_copy(const char *root, const char *rel, const char *source, const char *prefix)
{
    char path[512];
    char *got, *src = slurp(source), *want;

    snprintf(path, sizeof(path), "%s%s", root, rel);
    got = slurp(path);
    want = substituted(src, prefix);
    if (!CHECK(strcmp(got, want) == 0))
        printf("  %s differs from %s\n", path, source);
    CHECK(strstr(got, "@PREFIX@") == NULL);
    free(got);
    free(src);
    free(want);
}

static void check_mode(const char *root, const char *rel, int want, bool dir)
{
    char path[512];

    snprintf(path, sizeof(path), "%s%s", root, rel);
    if (!CHECK_INT(mode_of(path, dir), want))
        printf("  %s\n", path);
}

/* The tree of one install with PREFIX=/usr. */
static void check_tree(const char *root)
{
    char cmd[600], *unit;

    check_mode(root, "/usr/bin/turnserver", 0755, false);
    check_mode(root, "/usr/share/man/man8/turnserver.8", 0644, false);
    check_mode(root, "/usr/lib/systemd/system/turnpike.service", 0644, false);
    check_mode(root, "/etc/turnpike/turnserver.conf", 0644, false);
    check_mode(root, "/usr/bin", 0755, true);
    check_mode(root, "/usr/lib/systemd/system", 0755, true);
    check_mode(root, "/etc/turnpike", 0755, true);
    check_copy(root, "/usr/lib/systemd/system/turnpike.service", "etc/turnpike.service", "/usr");
    check_copy(root, "/usr/share/man/man8/turnserver.8", "etc/turnserver.8", "/usr");
    check_copy(root, "/etc/turnpike/turnserver.conf", "etc/turnserver.conf", "/usr");
    snprintf(cmd, sizeof(cmd), "%s/usr/lib/systemd/system/turnpike.service", root);
    unit = slurp(cmd);
    CHECK(strstr(unit, "\nExecStart=/usr/bin/turnserver -c /etc/turnpike/turnserver.conf") != NULL);
    CHECK(strstr(unit, "\nType=notify\n") != NULL);
    free(unit);
    snprintf(cmd, sizeof(cmd), "%s/usr/bin/turnserver --version", root);
    CHECK_INT(proc_capture(cmd, 10, out, sizeof(out)), 0);
    CHECK_STR(out, "turnpike 0.1.0\n");
    snprintf(cmd, sizeof(cmd), "cmp -s %s/usr/bin/turnserver %s", root, proc_server_path());
    CHECK_INT(proc_capture(cmd, 10, out, sizeof(out)), 0);
}

static void install_tree(void)
{
    char root[] = "/tmp/turnpike-install-XXXXXX", args[256], conf[300], cmd[400], *text;
    FILE *f;

    if (!CHECK(access("Makefile", R_OK) == 0) || !CHECK(mkdtemp(root) != NULL))
        return;
    snprintf(args, sizeof(args), "DESTDIR=%s PREFIX=/usr", root);
    if (!CHECK_INT(run_make("install", args), 0))
        printf("%s", out);
    check_tree(root);

    /* An operator's config file survives the next install. */
    snprintf(conf, sizeof(conf), "%s/etc/turnpike/turnserver.conf", root);
    f = fopen(conf, "w");
    if (CHECK(f != NULL)) {
        fputs("realm=example.org\n", f);
        fclose(f);
    }
    CHECK_INT(run_make("install", args), 0);
    CHECK(strstr(out, "not overwritten") != NULL);
    text = slurp(conf);
    CHECK_STR(text, "realm=example.org\n");
    free(text);

    /* uninstall takes what install put under PREFIX, and leaves the config. */
    CHECK_INT(run_make("uninstall", args), 0);
    check_mode(root, "/usr/bin/turnserver", -1, false);
    check_mode(root, "/usr/share/man/man8/turnserver.8", -1, false);
    check_mode(root, "/usr/lib/systemd/system/turnpike.service", -1, false);
    check_mode(root, "/etc/turnpike/turnserver.conf", 0644, false);

    /* PREFIX defaults to /usr/local. */
    snprintf(args, sizeof(args), "DESTDIR=%s", root);
    CHECK_INT(run_make("install", args), 0);
    check_mode(root, "/usr/local/bin/turnserver", 0755, false);
    check_copy(root, "/usr/local/lib/systemd/system/turnpike.service", "etc/turnpike.service",
               "/usr/local");
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    CHECK_INT(proc_capture(cmd, 30, out, sizeof(out)), 0);
}

/* The build directory's turnadmin (beside the server under test) into path. */
static void turnadmin_path(char *path, size_t cap)
{
    char dir[4096];

    snprintf(dir, sizeof(dir), "%s", proc_server_path());
    snprintf(path, cap, "%s/turnadmin", dirname(dir));
}

/* turnadmin is installed with its manual, and the manual has every long option of its
 * --help (roff writes "--set-secret" as "\-\-set\-secret"). */
static void turnadmin_manual(void)
{
    char root[] = "/tmp/turnpike-install-XXXXXX", admin[4200], cmd[4400], args[256];
    char *page = slurp("etc/turnadmin.1"), *help;
    int options = 0;

    turnadmin_path(admin, sizeof(admin));
    if (!CHECK(access(admin, X_OK) == 0) || !CHECK(mkdtemp(root) != NULL))
        goto out;
    snprintf(cmd, sizeof(cmd), "%s --help", admin);
    CHECK_INT(proc_capture(cmd, 10, out, sizeof(out)), 0);
    help = out;
    for (char *p = strstr(help, "--"); p; p = strstr(p + 2, "--"), options++) {
        char needle[128] = "";
        size_t n = 0;

        for (const char *s = p;
             (*s == '-' || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')) &&
             n + 3 < sizeof(needle);
             s++)
            n += (size_t)snprintf(needle + n, sizeof(needle) - n, *s == '-' ? "\\-" : "%c", *s);
        if (!CHECK(strstr(page, needle) != NULL))
            printf("  etc/turnadmin.1 lacks %.*s\n", (int)strcspn(p, " ,)\n"), p);
    }
    CHECK(options >= 20);
    snprintf(args, sizeof(args), "DESTDIR=%s PREFIX=/usr", root);
    CHECK_INT(run_make("install", args), 0);
    check_mode(root, "/usr/bin/turnadmin", 0755, false);
    check_copy(root, "/usr/share/man/man1/turnadmin.1", "etc/turnadmin.1", "/usr");
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    CHECK_INT(proc_capture(cmd, 30, out, sizeof(out)), 0);
out:
    free(page);
}

int main(void)
{
    RUN(install_tree);
    RUN(turnadmin_manual);
    return check_summary();
}
