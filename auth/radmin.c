/* radmin.c — turnadmin's Redis side: hiredis's blocking API, SCAN for listings. */
#include "auth/radmin.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "auth/err.h"
#include "auth/schema.h"
#include "proto/hex.h"

#define MAX_WORDS 8

struct radmin {
    redisContext *c;
    char where[300];
};

/* Runs a command of NUL-terminated words (argv NULL-terminated).  An error reply, or none,
 * fails with its text.  The reply is the caller's to free. */
static redisReply *run(struct radmin *r, char *err, size_t errlen, const char *const *argv)
{
    const char *words[MAX_WORDS];
    redisReply *reply;
    int n = 0;

    while (argv[n] != NULL && n < MAX_WORDS) {
        words[n] = argv[n];
        n++;
    }
    reply = redisCommandArgv(r->c, n, words, NULL);
    if (reply == NULL) {
        auth_err(err, errlen, "redis %s: %s", r->where, r->c->errstr[0] ? r->c->errstr : "no answer");
        return NULL;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        auth_err(err, errlen, "redis %s: %s: %s", r->where, argv[0], reply->str);
        freeReplyObject(reply);
        return NULL;
    }
    return reply;
}

/* run() for a reply only counted or checked: the integer it carries (0 for others), or -1. */
static long long run_int(struct radmin *r, char *err, size_t errlen, const char *const *argv)
{
    redisReply *reply = run(r, err, errlen, argv);
    long long v;

    if (reply == NULL)
        return -1;
    v = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
    freeReplyObject(reply);
    return v;
}

int radmin_open(struct radmin **out, const struct auth_redisconf *conf, unsigned timeout_ms,
                char *err, size_t errlen)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    struct timeval ctv = conf->connect_timeout ? (struct timeval){.tv_sec = conf->connect_timeout}
                                               : tv;
    struct radmin *r = calloc(1, sizeof *r);
    char db[16];

    if (r == NULL)
        return auth_err(err, errlen, "out of memory");
    auth_redisconf_describe(conf, r->where, sizeof r->where);
    r->c = conf->unix_socket[0] ? redisConnectUnixWithTimeout(conf->unix_socket, ctv)
                                : redisConnectWithTimeout(conf->host, conf->port, ctv);
    if (r->c == NULL || r->c->err) {
        auth_err(err, errlen, "cannot reach Redis at %s: %s", r->where,
             r->c ? r->c->errstr : "out of memory");
        radmin_close(r);
        return -1;
    }
    redisSetTimeout(r->c, tv);
    snprintf(db, sizeof db, "%u", conf->db);
    if ((conf->password[0] &&
         run_int(r, err, errlen,
                 conf->user[0] ? (const char *const[]){"AUTH", conf->user, conf->password, NULL}
                               : (const char *const[]){"AUTH", conf->password, NULL}) < 0) ||
        (conf->db && run_int(r, err, errlen, (const char *const[]){"SELECT", db, NULL}) < 0)) {
        radmin_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

void radmin_close(struct radmin *r)
{
    if (r == NULL)
        return;
    if (r->c)
        redisFree(r->c);
    free(r);
}

/* The key names of user's records, or -1 when too long. */
static int user_key(char *buf, const char *realm, const char *user, const char *leaf,
                    char *err, size_t errlen)
{
    if (auth_schema_user(buf, AUTH_SCHEMA_KEY_MAX, realm, user, leaf) < 0)
        return auth_err(err, errlen, "realm and user name too long");
    return 0;
}

int radmin_set_user(struct radmin *r, const char *realm, const char *user,
                    const uint8_t md5[16], const uint8_t sha256[32], char *err, size_t errlen)
{
    char key[AUTH_SCHEMA_KEY_MAX], sha_key[AUTH_SCHEMA_KEY_MAX], pw_key[AUTH_SCHEMA_KEY_MAX];
    char md5_hex[33], sha_value[AUTH_SCHEMA_SHA256_VALUE_LEN + 1];

    if (user_key(key, realm, user, AUTH_SCHEMA_KEY, err, errlen) < 0 ||
        user_key(sha_key, realm, user, AUTH_SCHEMA_SHA256, err, errlen) < 0 ||
        user_key(pw_key, realm, user, AUTH_SCHEMA_PASSWORD, err, errlen) < 0)
        return -1;
    hex_encode(md5, 16, md5_hex);
    auth_schema_sha256_value(sha256, md5, sha_value);
    /* The MD5 key last: a server that reads the user between the commands finds the new
     * sha256-key stale (bound to the new MD5 key) rather than the old one valid. */
    if (run_int(r, err, errlen, (const char *const[]){"SET", sha_key, sha_value, NULL}) < 0 ||
        run_int(r, err, errlen, (const char *const[]){"DEL", pw_key, NULL}) < 0 ||
        run_int(r, err, errlen, (const char *const[]){"SET", key, md5_hex, NULL}) < 0)
        return -1;
    return 0;
}

int radmin_del_user(struct radmin *r, const char *realm, const char *user, char *err,
                    size_t errlen)
{
    char key[AUTH_SCHEMA_KEY_MAX], sha_key[AUTH_SCHEMA_KEY_MAX], pw_key[AUTH_SCHEMA_KEY_MAX];

    if (user_key(key, realm, user, AUTH_SCHEMA_KEY, err, errlen) < 0 ||
        user_key(sha_key, realm, user, AUTH_SCHEMA_SHA256, err, errlen) < 0 ||
        user_key(pw_key, realm, user, AUTH_SCHEMA_PASSWORD, err, errlen) < 0)
        return -1;
    return (int)run_int(r, err, errlen, (const char *const[]){"DEL", key, pw_key, sha_key, NULL});
}

/* A SCAN MATCH pattern that matches s literally: glob characters escaped. */
static void escape_glob(const char *s, char *out, size_t cap)
{
    size_t n = 0;

    for (; *s && n + 2 < cap; s++) {
        if (strchr("*?[]\\", *s))
            out[n++] = '\\';
        out[n++] = *s;
    }
    out[n] = '\0';
}

/* Calls each(arg, key) for every key matching pattern, with SCAN (never KEYS, which blocks the
 * server for the whole keyspace).  0 or -1. */
static int scan(struct radmin *r, const char *pattern, void (*each)(void *, const char *),
                void *arg, char *err, size_t errlen)
{
    char cursor[32] = "0";

    do {
        redisReply *reply = run(r, err, errlen,
                                (const char *const[]){"SCAN", cursor, "MATCH", pattern,
                                                      "COUNT", "1000", NULL});
        if (reply == NULL)
            return -1;
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
            reply->element[0]->type != REDIS_REPLY_STRING) {
            freeReplyObject(reply);
            return auth_err(err, errlen, "redis %s: SCAN: unexpected answer", r->where);
        }
        snprintf(cursor, sizeof cursor, "%s", reply->element[0]->str);
        for (size_t i = 0; i < reply->element[1]->elements; i++) {
            const redisReply *k = reply->element[1]->element[i];
            if (k->type == REDIS_REPLY_STRING)
                each(arg, k->str);
        }
        freeReplyObject(reply);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

/* A listing under way: the caller's function and what to cut from the keys found. */
struct listing {
    radmin_line_fn *fn;
    void *arg;
    const char *suffix; /* "/key", "/secret" ... */
    struct radmin *r;
    char *err;
    size_t errlen;
    int rc;
};

/* turn/realm/<realm>/user/<name>/<leaf>: the realm ends at the first "/user/". */
static void each_user(void *arg, const char *key)
{
    struct listing *l = arg;
    const char *realm = key + strlen("turn/realm/"), *mid = strstr(realm, "/user/");
    size_t klen = strlen(key), slen = strlen(l->suffix);
    char buf[AUTH_SCHEMA_KEY_MAX];

    if (mid == NULL || klen >= sizeof buf || klen < slen + (size_t)(mid + 6 - key))
        return;
    memcpy(buf, key, klen + 1);
    buf[mid - key] = '\0';
    buf[klen - slen] = '\0';
    l->fn(l->arg, buf + (mid + 6 - key), buf + strlen("turn/realm/"));
}

int radmin_list_users(struct radmin *r, const char *realm, radmin_line_fn *fn, void *arg,
                      char *err, size_t errlen)
{
    char esc[AUTH_SCHEMA_KEY_MAX / 2], pattern[AUTH_SCHEMA_KEY_MAX];
    struct listing l = {.fn = fn, .arg = arg, .suffix = "/" AUTH_SCHEMA_KEY};

    escape_glob(realm ? realm : "", esc, sizeof esc);
    snprintf(pattern, sizeof pattern, "turn/realm/%s/user/*/%s", realm ? esc : "*",
             AUTH_SCHEMA_KEY);
    if (scan(r, pattern, each_user, &l, err, errlen) < 0)
        return -1;
    /* Users of coturn's older form, with a plain password and no key. */
    l.suffix = "/" AUTH_SCHEMA_PASSWORD;
    snprintf(pattern, sizeof pattern, "turn/realm/%s/user/*/%s", realm ? esc : "*",
             AUTH_SCHEMA_PASSWORD);
    return scan(r, pattern, each_user, &l, err, errlen);
}

static int realm_key(char *buf, const char *realm, const char *leaf, char *err, size_t errlen)
{
    if (auth_schema_realm(buf, AUTH_SCHEMA_KEY_MAX, realm, leaf) < 0)
        return auth_err(err, errlen, "realm too long");
    return 0;
}

/* Calls each with realm's key named leaf, or with no realm, with that key of every realm
 * there is (SCAN).  0, or -1 with the reason in err. */
static int each_realm_key(struct radmin *r, const char *realm, const char *leaf,
                          void (*each)(void *, const char *), void *arg, char *err,
                          size_t errlen)
{
    char key[AUTH_SCHEMA_KEY_MAX];

    if (realm != NULL) {
        if (realm_key(key, realm, leaf, err, errlen) < 0)
            return -1;
        each(arg, key);
        return 0;
    }
    snprintf(key, sizeof key, "turn/realm/*/%s", leaf);
    return scan(r, key, each, arg, err, errlen);
}

int radmin_add_secret(struct radmin *r, const char *realm, const char *secret, char *err,
                      size_t errlen)
{
    char key[AUTH_SCHEMA_KEY_MAX];

    if (realm_key(key, realm, AUTH_SCHEMA_SECRET, err, errlen) < 0)
        return -1;
    return run_int(r, err, errlen, (const char *const[]){"SADD", key, secret, NULL}) < 0 ? -1
                                                                                       : 0;
}

int radmin_del_secret(struct radmin *r, const char *realm, const char *secret, char *err,
                      size_t errlen)
{
    char key[AUTH_SCHEMA_KEY_MAX];

    if (realm_key(key, realm, AUTH_SCHEMA_SECRET, err, errlen) < 0)
        return -1;
    return (int)run_int(r, err, errlen, (const char *const[]){"SREM", key, secret, NULL});
}

int radmin_del_secrets(struct radmin *r, const char *realm, char *err, size_t errlen)
{
    char key[AUTH_SCHEMA_KEY_MAX];

    if (realm_key(key, realm, AUTH_SCHEMA_SECRET, err, errlen) < 0)
        return -1;
    return (int)run_int(r, err, errlen, (const char *const[]){"DEL", key, NULL});
}

/* Every member of the set at key, with the realm it belongs to. */
static void each_secret_set(void *arg, const char *key)
{
    struct listing *l = arg;
    char realm[AUTH_SCHEMA_KEY_MAX];
    size_t n = strlen(key) - strlen("turn/realm/") - strlen(l->suffix);
    redisReply *reply;

    if (l->rc < 0)
        return;
    snprintf(realm, sizeof realm, "%.*s", (int)n, key + strlen("turn/realm/"));
    reply = run(l->r, l->err, l->errlen, (const char *const[]){"SMEMBERS", key, NULL});
    if (reply == NULL) {
        l->rc = -1;
        return;
    }
    for (size_t i = 0; i < reply->elements; i++)
        if (reply->element[i]->type == REDIS_REPLY_STRING)
            l->fn(l->arg, reply->element[i]->str, realm);
    freeReplyObject(reply);
}

int radmin_list_secrets(struct radmin *r, const char *realm, radmin_line_fn *fn, void *arg,
                        char *err, size_t errlen)
{
    struct listing l = {.fn = fn, .arg = arg, .suffix = "/" AUTH_SCHEMA_SECRET, .r = r,
                        .err = err, .errlen = errlen};

    if (each_realm_key(r, realm, AUTH_SCHEMA_SECRET, each_secret_set, &l, err, errlen) < 0)
        return -1;
    return l.rc;
}

int radmin_set_option(struct radmin *r, const char *realm, const char *option, uint32_t value,
                      char *err, size_t errlen)
{
    char key[AUTH_SCHEMA_KEY_MAX], v[16];

    if (realm_key(key, realm, option, err, errlen) < 0)
        return -1;
    snprintf(v, sizeof v, "%u", value);
    if (value == 0)
        return run_int(r, err, errlen, (const char *const[]){"DEL", key, NULL}) < 0 ? -1 : 0;
    return run_int(r, err, errlen, (const char *const[]){"SET", key, v, NULL}) < 0 ? -1 : 0;
}

static const char *const options[] = {AUTH_SCHEMA_MAX_BPS, AUTH_SCHEMA_TOTAL_QUOTA,
                                      AUTH_SCHEMA_USER_QUOTA};

/* One option key: "realm/option" and its value. */
static void each_option(void *arg, const char *key)
{
    struct listing *l = arg;
    redisReply *reply;

    if (l->rc < 0)
        return;
    reply = run(l->r, l->err, l->errlen, (const char *const[]){"GET", key, NULL});
    if (reply == NULL) {
        l->rc = -1;
        return;
    }
    if (reply->type == REDIS_REPLY_STRING)
        l->fn(l->arg, key + strlen("turn/realm/"), reply->str);
    freeReplyObject(reply);
}

int radmin_list_options(struct radmin *r, const char *realm, radmin_line_fn *fn, void *arg,
                        char *err, size_t errlen)
{
    struct listing l = {.fn = fn, .arg = arg, .r = r, .err = err, .errlen = errlen};

    for (size_t i = 0; i < sizeof options / sizeof options[0] && l.rc == 0; i++)
        if (each_realm_key(r, realm, options[i], each_option, &l, err, errlen) < 0)
            return -1;
    return l.rc;
}

static int origin_key(char *buf, const char *origin, char *err, size_t errlen)
{
    char canonic[AUTH_SCHEMA_KEY_MAX / 2];

    if (auth_schema_origin_canonic(origin, canonic, sizeof canonic) < 0 ||
        auth_schema_origin(buf, AUTH_SCHEMA_KEY_MAX, canonic) < 0)
        return auth_err(err, errlen, "origin too long");
    return 0;
}

int radmin_add_origin(struct radmin *r, const char *origin, const char *realm, char *err,
                      size_t errlen)
{
    char key[AUTH_SCHEMA_KEY_MAX];

    if (origin_key(key, origin, err, errlen) < 0)
        return -1;
    return run_int(r, err, errlen, (const char *const[]){"SET", key, realm, NULL}) < 0 ? -1 : 0;
}

int radmin_del_origin(struct radmin *r, const char *origin, char *err, size_t errlen)
{
    char key[AUTH_SCHEMA_KEY_MAX];

    if (origin_key(key, origin, err, errlen) < 0)
        return -1;
    return (int)run_int(r, err, errlen, (const char *const[]){"DEL", key, NULL});
}

/* One origin key and its realm, when it is the realm asked for (or any). */
struct origin_listing {
    struct listing l;
    const char *realm;
};

static void each_origin(void *arg, const char *key)
{
    struct origin_listing *o = arg;
    redisReply *reply;

    if (o->l.rc < 0)
        return;
    reply = run(o->l.r, o->l.err, o->l.errlen, (const char *const[]){"GET", key, NULL});
    if (reply == NULL) {
        o->l.rc = -1;
        return;
    }
    if (reply->type == REDIS_REPLY_STRING && (o->realm == NULL || strcmp(reply->str, o->realm) == 0))
        o->l.fn(o->l.arg, key + strlen("turn/origin/"), reply->str);
    freeReplyObject(reply);
}

int radmin_list_origins(struct radmin *r, const char *realm, radmin_line_fn *fn, void *arg,
                        char *err, size_t errlen)
{
    struct origin_listing o = {
        .l = {.fn = fn, .arg = arg, .r = r, .err = err, .errlen = errlen}, .realm = realm};

    if (scan(r, "turn/origin/*", each_origin, &o, err, errlen) < 0)
        return -1;
    return o.l.rc;
}
