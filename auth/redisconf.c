/* redisconf.c — coturn's Redis connection strings, parsed into a struct auth_redisconf. */
#include "auth/redisconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "auth/err.h"

#define DEFAULT_PORT 6379
#define MAX_DB 1000000
#define MAX_CONNECT_TIMEOUT 3600

enum field { F_HOST, F_PORT, F_DB, F_PASSWORD, F_USER, F_TIMEOUT, F_SOCKET };

/* coturn's names (dbd_redis's connection strings) and the one turnpike adds, unix_socket. */
static const struct {
    const char *name;
    enum field field;
} names[] = {
    {"host", F_HOST},         {"ip", F_HOST},          {"addr", F_HOST},
    {"ipaddr", F_HOST},       {"hostaddr", F_HOST},    {"port", F_PORT},
    {"p", F_PORT},            {"dbname", F_DB},        {"db", F_DB},
    {"database", F_DB},       {"password", F_PASSWORD}, {"pwd", F_PASSWORD},
    {"passwd", F_PASSWORD},   {"secret", F_PASSWORD},  {"user", F_USER},
    {"uname", F_USER},        {"name", F_USER},        {"username", F_USER},
    {"connect_timeout", F_TIMEOUT}, {"timeout", F_TIMEOUT}, {"unix_socket", F_SOCKET},
    {"socket", F_SOCKET},
};

/* Decimal digits only, in 0..max. */
static bool number(const char *v, size_t n, unsigned long max, unsigned long *out)
{
    unsigned long x = 0;

    if (n == 0 || n > 10)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (unsigned long)(v[i] - '0');
    }
    if (x > max)
        return false;
    *out = x;
    return true;
}

static int set_text(char *dst, size_t cap, const char *key, size_t klen, const char *v, size_t n,
                    char *err, size_t errlen)
{
    if (n >= cap)
        return auth_err(err, errlen, "'%.*s' is longer than %zu characters", (int)klen, key,
                    cap - 1);
    memcpy(dst, v, n);
    dst[n] = '\0';
    return 0;
}

/* One key=value word: key at w (klen bytes), value at v (n bytes). */
static int set_field(struct auth_redisconf *c, enum field f, const char *w, size_t klen,
                     const char *v, size_t n, char *err, size_t errlen)
{
    unsigned long x;

    switch (f) {
    case F_HOST:
    case F_SOCKET:
        if (n == 0)
            return auth_err(err, errlen, "'%.*s' is empty", (int)klen, w);
        return f == F_HOST ? set_text(c->host, sizeof c->host, w, klen, v, n, err, errlen)
                           : set_text(c->unix_socket, sizeof c->unix_socket, w, klen, v, n,
                                      err, errlen);
    case F_PASSWORD:
        return set_text(c->password, sizeof c->password, w, klen, v, n, err, errlen);
    case F_USER:
        return set_text(c->user, sizeof c->user, w, klen, v, n, err, errlen);
    case F_PORT:
        if (!number(v, n, 65535, &x) || x == 0)
            return auth_err(err, errlen, "%.*s '%.*s' is not a port in 1..65535", (int)klen, w,
                        (int)n, v);
        c->port = (uint16_t)x;
        return 0;
    case F_DB:
        if (!number(v, n, MAX_DB, &x))
            return auth_err(err, errlen, "%.*s '%.*s' is not a database number", (int)klen, w,
                        (int)n, v);
        c->db = (unsigned)x;
        return 0;
    case F_TIMEOUT:
        if (!number(v, n, MAX_CONNECT_TIMEOUT, &x))
            return auth_err(err, errlen, "%.*s '%.*s' is not a number of seconds in 0..%d",
                        (int)klen, w, (int)n, v, MAX_CONNECT_TIMEOUT);
        c->connect_timeout = (unsigned)x;
        return 0;
    }
    return auth_err(err, errlen, "unknown field");
}

static int parse_word(struct auth_redisconf *c, const char *w, size_t len, char *err,
                      size_t errlen)
{
    const char *eq = memchr(w, '=', len);

    if (eq == NULL)
        return auth_err(err, errlen, "'%.*s' is not key=value", (int)len, w);
    size_t klen = (size_t)(eq - w);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].name) == klen && memcmp(names[i].name, w, klen) == 0)
            return set_field(c, names[i].field, w, klen, eq + 1, len - klen - 1, err, errlen);
    }
    return auth_err(err, errlen, "unknown key '%.*s' (host, port, dbname, password, user, "
                "connect_timeout or unix_socket)", (int)klen, w);
}

int auth_redisconf_parse(struct auth_redisconf *c, const char *s, char *err, size_t errlen)
{
    struct auth_redisconf tmp = {.port = DEFAULT_PORT};

    strcpy(tmp.host, "127.0.0.1");
    for (const char *p = s; *p;) {
        size_t len;

        p += strspn(p, " \t");
        len = strcspn(p, " \t");
        if (len > 0 && parse_word(&tmp, p, len, err, errlen) < 0) {
            explicit_bzero(&tmp, sizeof tmp);
            return -1;
        }
        p += len;
    }
    *c = tmp;
    explicit_bzero(&tmp, sizeof tmp);
    return 0;
}

void auth_redisconf_describe(const struct auth_redisconf *c, char *out, size_t cap)
{
    if (c->unix_socket[0])
        snprintf(out, cap, "unix:%s db %u", c->unix_socket, c->db);
    else if (strchr(c->host, ':') != NULL)
        snprintf(out, cap, "[%s]:%u db %u", c->host, c->port, c->db);
    else
        snprintf(out, cap, "%s:%u db %u", c->host, c->port, c->db);
}
