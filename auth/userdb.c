/* userdb.c — the userdb file edited for turnadmin: checked, locked, rewritten atomically. */
#include "auth/userdb.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/err.h"
#include "auth/store.h"

#define MAX_FILE (64 << 20) /* a userdb file larger than this is refused */

/* The server's own check of the file (its realm does not matter to the syntax). */
static int check_file(const char *path, char *err, size_t errlen)
{
    struct auth_store *s;
    int rc;

    if (auth_store_new(&s, "check") < 0)
        return auth_err(err, errlen, "out of memory");
    rc = auth_store_load_file(s, path, err, errlen);
    auth_store_free(s);
    return rc;
}

/* The name a line defines, or NULL for a comment or a blank line: its length in *len. */
static const char *line_user(const char *line, size_t *len)
{
    line += strspn(line, " \t");
    if (*line == '#' || *line == '\n' || *line == '\r' || *line == '\0')
        return NULL;
    *len = strcspn(line, ":\n");
    return line;
}

static bool is_user(const char *line, const char *name)
{
    size_t len;
    const char *u = line_user(line, &len);

    return u != NULL && len == strlen(name) && memcmp(u, name, len) == 0;
}

/* Opens and locks path (created when create), making sure the file locked is the one at
 * path: another editor may have renamed a new one over it meanwhile. */
static int open_locked(const char *path, bool create, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        struct stat a, b;
        int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);

        if (fd < 0)
            return auth_err(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        if (flock(fd, LOCK_EX) < 0) {
            close(fd);
            return auth_err(err, errlen, "cannot lock '%s': %s", path, strerror(errno));
        }
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev)
            return fd;
        close(fd);
    }
    return auth_err(err, errlen, "'%s' keeps changing", path);
}

/* The whole file into a NUL-terminated buffer. */
static char *slurp(int fd, const char *path, char *err, size_t errlen)
{
    struct stat st;
    char *buf;
    ssize_t n;

    if (fstat(fd, &st) < 0 || st.st_size > MAX_FILE) {
        auth_err(err, errlen, "cannot read '%s': %s", path, st.st_size > MAX_FILE ? "too large"
                                                                              : strerror(errno));
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 2);
    if (buf == NULL) {
        auth_err(err, errlen, "out of memory");
        return NULL;
    }
    n = pread(fd, buf, (size_t)st.st_size, 0);
    if (n != st.st_size) {
        free(buf);
        auth_err(err, errlen, "cannot read '%s': %s", path, n < 0 ? strerror(errno) : "short read");
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes text (tlen bytes) to a new file beside path with the mode of the old one (fd),
 * syncs it, renames it over path and syncs the directory: a reader sees the old file or the
 * new one, whole, even after a crash. */
static int replace(const char *path, int fd, const char *text, size_t tlen, char *err,
                   size_t errlen)
{
    char tmp[4096], dir[4096];
    struct stat st;
    int out, dfd, e;

    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return auth_err(err, errlen, "path too long");
    out = mkstemp(tmp);
    if (out < 0)
        return auth_err(err, errlen, "cannot create a file beside '%s': %s", path, strerror(errno));
    if (fstat(fd, &st) == 0)
        fchmod(out, st.st_mode & 07777);
    if (write_all(out, text, tlen) < 0 || fsync(out) < 0 || close(out) < 0) {
        e = errno;
        unlink(tmp);
        return auth_err(err, errlen, "cannot write '%s': %s", tmp, strerror(e));
    }
    if (rename(tmp, path) < 0) {
        e = errno;
        unlink(tmp);
        return auth_err(err, errlen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(e));
    }
    snprintf(dir, sizeof dir, "%s", path);
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* Rewrites path without name's lines, and with "name:value" in place of the first of them
 * (appended when there is none) when value is not NULL.  Returns the number of the user's
 * lines found, or -1. */
static int rewrite(const char *path, const char *name, const char *value, char *err,
                   size_t errlen)
{
    int fd = open_locked(path, value != NULL, err, errlen), found = 0, rc;
    char *old, *text = NULL, last = '\n';
    size_t tlen = 0;
    FILE *m;

    if (fd < 0)
        return -1;
    if (check_file(path, err, errlen) < 0 || (old = slurp(fd, path, err, errlen)) == NULL) {
        close(fd);
        return -1;
    }
    m = open_memstream(&text, &tlen);
    for (char *line = old, *next; m != NULL && *line; line = next) {
        next = line + strcspn(line, "\n");
        next += *next == '\n';
        if (!is_user(line, name)) {
            fwrite(line, 1, (size_t)(next - line), m);
            last = next[-1];
        } else if (found++ == 0 && value != NULL) {
            fprintf(m, "%s:%s\n", name, value);
            last = '\n';
        }
    }
    if (m != NULL && found == 0 && value != NULL)
        fprintf(m, "%s%s:%s\n", last == '\n' ? "" : "\n", name, value);
    explicit_bzero(old, strlen(old));
    free(old);
    if (m == NULL || fclose(m) != 0) {
        close(fd);
        free(text);
        return auth_err(err, errlen, "out of memory");
    }
    rc = found == 0 && value == NULL ? 0 : replace(path, fd, text, tlen, err, errlen);
    explicit_bzero(text, tlen);
    free(text);
    close(fd);
    return rc < 0 ? -1 : found;
}

int auth_userdb_set(const char *path, const char *name, const char *value, char *err,
                    size_t errlen)
{
    struct auth_store *s = NULL;
    char *line;
    int rc;

    /* The new line must be one the server takes. */
    if (auth_store_new(&s, "check") < 0 || asprintf(&line, "%s:%s", name, value) < 0) {
        auth_store_free(s);
        return auth_err(err, errlen, "out of memory");
    }
    rc = auth_store_add_user(s, line, err, errlen);
    explicit_bzero(line, strlen(line));
    free(line);
    auth_store_free(s);
    if (rc < 0 || strchr(name, '\n') != NULL || strchr(value, '\n') != NULL)
        return rc < 0 ? -1 : auth_err(err, errlen, "a name or password cannot hold a line break");
    return rewrite(path, name, value, err, errlen) < 0 ? -1 : 0;
}

int auth_userdb_del(const char *path, const char *name, char *err, size_t errlen)
{
    int n = rewrite(path, name, NULL, err, errlen);

    return n < 0 ? -1 : n > 0;
}

int auth_userdb_list(const char *path, void (*fn)(void *arg, const char *name), void *arg,
                     char *err, size_t errlen)
{
    FILE *f;
    char *line = NULL;
    size_t cap = 0;

    if (check_file(path, err, errlen) < 0)
        return -1;
    if ((f = fopen(path, "r")) == NULL)
        return auth_err(err, errlen, "cannot read '%s': %s", path, strerror(errno));
    while (getline(&line, &cap, f) > 0) {
        size_t len;
        const char *u = line_user(line, &len);
        if (u != NULL) {
            ((char *)u)[len] = '\0';
            fn(arg, u);
        }
    }
    if (line != NULL)
        explicit_bzero(line, cap);
    free(line);
    fclose(f);
    return 0;
}
