/* redis.c — the Redis user database of one worker: records of users, realms and origins in a
 * cache, fetched asynchronously (one fetch per record, however many wait for it). */
#include "auth/redis.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/cache.h"
#include "auth/rest.h"
#include "auth/schema.h"
#include "proto/stun.h"
#include "proto/stun_integrity.h"

#define REALM_MAX 512  /* bytes: a realm is fewer than 128 characters (RFC 8489 §14.9) */
#define ORIGIN_MAX 512 /* bytes of an ORIGIN looked up; a longer one has no realm */
#define INFLIGHT_MAX 4096

/* Cache keys: a kind letter, then the realm (and for a user, a NUL and the name), or the
 * origin.  Values: the records below, each starting with its kind. */
enum kind { KIND_USER = 'U', KIND_REALM = 'R', KIND_ORIGIN = 'O' };

struct user_rec {
    uint8_t kind;
    bool found;
    struct auth_key key;
};

struct realm_rec {
    uint8_t kind;
    struct auth_redis_realm pub;
};

struct origin_rec {
    uint8_t kind;
    bool found;
    char realm[REALM_MAX];
};

struct auth_redis {
    struct rconn *conn;
    struct auth_cache *cache;
    struct auth_cache *inflight; /* cache key -> the fetch under way (not owned) */
    struct auth_redis_opts o;
    uint64_t serial;
    struct auth_redis_stats stats;
};

TAILQ_HEAD(waiter_list, auth_redis_waiter);

struct auth_redis_fetch {
    struct auth_redis *r;
    struct waiter_list waiters;
    unsigned left; /* replies still to come */
    bool failed;
    void *value;   /* the record being filled */
    const char *realm;
    const char *name; /* the user or the origin */
    size_t klen;
    uint8_t key[];    /* the cache key, then realm and name, NUL-terminated */
};

__attribute__((format(printf, 3, 4))) static void say(struct auth_redis *r,
                                                      enum rconn_level level, const char *fmt,
                                                      ...)
{
    char msg[1024];
    va_list ap;

    if (r->o.log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->o.log(level, msg);
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        explicit_bzero(v[i], strlen(v[i]));
        free(v[i]);
    }
    free(v);
}

static void rec_free(void *value)
{
    uint8_t *kind = value;

    if (value == NULL)
        return;
    if (*kind == KIND_REALM) {
        struct realm_rec *rr = value;
        free_strings(rr->pub.secrets, rr->pub.nsecrets);
        free_strings(rr->pub.allowed, rr->pub.nallowed);
        free_strings(rr->pub.denied, rr->pub.ndenied);
    } else if (*kind == KIND_USER) {
        explicit_bzero(value, sizeof(struct user_rec));
    }
    free(value);
}

/* ---- fetches -------------------------------------------------------------------------------- */

static struct auth_redis_fetch *fetch_new(struct auth_redis *r, const uint8_t *key, size_t klen,
                                          const char *realm, const char *name, void *value)
{
    size_t rl = strlen(realm) + 1, nl = name ? strlen(name) + 1 : 1;
    struct auth_redis_fetch *f = calloc(1, sizeof *f + klen + rl + nl);

    if (f == NULL) {
        rec_free(value);
        return NULL;
    }
    f->r = r;
    TAILQ_INIT(&f->waiters);
    f->value = value;
    f->klen = klen;
    memcpy(f->key, key, klen);
    f->realm = memcpy(f->key + klen, realm, rl);
    f->name = memcpy(f->key + klen + rl, name ? name : "", nl);
    return f;
}

/* Sends one command of f's; a command refused marks f failed. */
static void issue(struct auth_redis_fetch *f, rconn_reply_fn *fn, int argc, const char **argv,
                 const size_t *lens)
{
    if (rconn_command(f->r->conn, fn, f, argc, argv, lens) == 0)
        f->left++;
    else
        f->failed = true;
}

/* After the commands: f is in flight (registered, returned) or, if none went out, gone. */
static struct auth_redis_fetch *launch(struct auth_redis_fetch *f)
{
    struct auth_redis *r = f->r;

    if (f->left == 0) {
        rec_free(f->value);
        free(f);
        return NULL;
    }
    RCONN_INC(r->stats.fetches);
    auth_cache_put(r->inflight, f->key, f->klen, f, UINT64_MAX, UINT64_MAX);
    return f;
}

/* The last reply came: the record is cached (unless the fetch failed), then every waiter is
 * told.  A waiter may start other lookups or stop waiting for others meanwhile. */
static void complete(struct auth_redis_fetch *f)
{
    struct auth_redis *r = f->r;
    struct auth_redis_waiter *w;
    uint64_t now = now_ms();

    auth_cache_remove(r->inflight, f->key, f->klen);
    if (!f->failed) {
        bool negative = (f->key[0] == KIND_USER && !((struct user_rec *)f->value)->found) ||
                        (f->key[0] == KIND_ORIGIN && !((struct origin_rec *)f->value)->found);
        uint64_t fresh = now + 1000ull * (negative ? r->o.negative_ttl_s : r->o.ttl_s);
        auth_cache_put(r->cache, f->key, f->klen, f->value, fresh,
                       negative ? fresh : fresh + 1000ull * r->o.stale_s);
    } else {
        rec_free(f->value);
    }
    f->value = NULL;
    while ((w = TAILQ_FIRST(&f->waiters)) != NULL) {
        TAILQ_REMOVE(&f->waiters, w, link);
        w->fetch = NULL;
        w->fn(w->arg);
    }
    free(f);
}

/* A reply of f's has been taken in. */
static void done_one(struct auth_redis_fetch *f)
{
    if (--f->left == 0)
        complete(f);
}

/* A reply no lookup can use: NULL (the connection failed, or timed out) fails the fetch; an
 * error other than WRONGTYPE (which only says a value is malformed) means Redis refuses our
 * reads: the connection is dropped and retried, and lookups meanwhile get stale records or 500.
 * True when the reply is to be ignored. */
static bool unusable(struct auth_redis_fetch *f, const struct rconn_reply *reply)
{
    size_t len;
    const char *msg;

    if (reply == NULL) {
        f->failed = true;
        return true;
    }
    if (rconn_reply_type(reply) != RCONN_ERROR)
        return false;
    msg = rconn_reply_str(reply, &len);
    if (strncmp(msg, "WRONGTYPE", 9) == 0)
        return false;
    f->failed = true;
    rconn_reset(f->r->conn, msg);
    return true;
}

/* ---- users ---------------------------------------------------------------------------------- */

static void malformed(struct auth_redis_fetch *f, const char *leaf, const char *what)
{
    RCONN_INC(f->r->stats.malformed);
    say(f->r, RCONN_LOG_WARN, "redis userdb: turn/realm/%s/user/%s/%s %s: ignored", f->realm,
        f->name, leaf, what);
}

/* MGET key password sha256-key (auth/schema.h). */
static void on_user(void *arg, const struct rconn_reply *reply)
{
    struct auth_redis_fetch *f = arg;
    struct user_rec *u = f->value;
    struct auth_key *k = &u->key;
    const struct rconn_reply *v[3];
    const char *s[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0};

    if (unusable(f, reply) || rconn_reply_count(reply) != 3)
        goto out;
    for (int i = 0; i < 3; i++) {
        v[i] = rconn_reply_elem(reply, (size_t)i);
        if (v[i] != NULL && rconn_reply_type(v[i]) == RCONN_STRING)
            s[i] = rconn_reply_str(v[i], &len[i]);
    }
    if (s[0] != NULL && !(k->has_md5 = auth_schema_md5(s[0], len[0], k->md5)))
        malformed(f, AUTH_SCHEMA_KEY, "is not an MD5 key (32 hex digits)");
    /* coturn's older form: a plain password, which gives both keys. */
    if (!k->has_md5 && s[1] != NULL && len[1] > 0 && strlen(s[1]) == len[1])
        auth_key_from_password(k, f->name, f->realm, s[1]);
    if (k->has_md5 && s[2] != NULL) {
        enum auth_schema_sha256 st = auth_schema_sha256(s[2], len[2], k->md5, k->sha256);
        if (st == AUTH_SCHEMA_SHA256_OK)
            k->has_sha256 = true;
        else if (st == AUTH_SCHEMA_SHA256_MALFORMED)
            malformed(f, AUTH_SCHEMA_SHA256, "is not '<64 hex digits>:<32 hex digits>'");
        else
            say(f->r, RCONN_LOG_INFO, "redis userdb: turn/realm/%s/user/%s/%s was made with "
                "another password: ignored", f->realm, f->name, AUTH_SCHEMA_SHA256);
    }
    u->found = k->has_md5;
out:
    done_one(f);
}

static struct auth_redis_fetch *fetch_user(struct auth_redis *r, const uint8_t *ckey,
                                           size_t klen, const char *realm, const char *name)
{
    static const char *const leaves[3] = {AUTH_SCHEMA_KEY, AUTH_SCHEMA_PASSWORD,
                                          AUTH_SCHEMA_SHA256};
    char keys[3][AUTH_SCHEMA_KEY_MAX];
    const char *argv[4] = {"MGET", keys[0], keys[1], keys[2]};
    size_t lens[4] = {4, 0, 0, 0};
    struct user_rec *u = calloc(1, sizeof *u);
    struct auth_redis_fetch *f;

    if (u == NULL)
        return NULL;
    u->kind = KIND_USER;
    if ((f = fetch_new(r, ckey, klen, realm, name, u)) == NULL)
        return NULL;
    for (int i = 0; i < 3; i++) {
        int n = auth_schema_user(keys[i], sizeof keys[i], realm, name, leaves[i]);
        lens[i + 1] = n < 0 ? 0 : (size_t)n;
    }
    issue(f, on_user, 4, argv, lens);
    return launch(f);
}

/* ---- realms --------------------------------------------------------------------------------- */

static void realm_count(struct auth_redis_fetch *f, const struct rconn_reply *v,
                        const char *leaf, bool *has, uint32_t *out)
{
    const char *s;
    size_t len;

    if (v == NULL || rconn_reply_type(v) != RCONN_STRING)
        return;
    s = rconn_reply_str(v, &len);
    if ((*has = auth_schema_count(s, len, out)))
        return;
    RCONN_INC(f->r->stats.malformed);
    say(f->r, RCONN_LOG_WARN, "redis userdb: turn/realm/%s/%s is not a number: ignored",
        f->realm, leaf);
}

/* MGET user-quota total-quota max-bps. */
static void on_realm_opts(void *arg, const struct rconn_reply *reply)
{
    struct auth_redis_fetch *f = arg;
    struct auth_redis_realm *p = &((struct realm_rec *)f->value)->pub;

    if (!unusable(f, reply) && rconn_reply_count(reply) == 3) {
        realm_count(f, rconn_reply_elem(reply, 0), AUTH_SCHEMA_USER_QUOTA, &p->has_user_quota,
                    &p->user_quota);
        realm_count(f, rconn_reply_elem(reply, 1), AUTH_SCHEMA_TOTAL_QUOTA,
                    &p->has_total_quota, &p->total_quota);
        realm_count(f, rconn_reply_elem(reply, 2), AUTH_SCHEMA_MAX_BPS, &p->has_max_bps,
                    &p->max_bps);
    }
    done_one(f);
}

/* SMEMBERS of one of the realm's sets into *out (at most max members). */
static void take_set(struct auth_redis_fetch *f, const struct rconn_reply *reply,
                     const char *leaf, char ***out, size_t *n, size_t max)
{
    size_t count;

    if (unusable(f, reply))
        return;
    if (rconn_reply_type(reply) == RCONN_ERROR) { /* WRONGTYPE: not a set */
        RCONN_INC(f->r->stats.malformed);
        say(f->r, RCONN_LOG_WARN, "redis userdb: turn/realm/%s/%s is not a set: ignored",
            f->realm, leaf);
        return;
    }
    count = rconn_reply_count(reply);
    if (count > max) {
        say(f->r, RCONN_LOG_WARN, "redis userdb: turn/realm/%s/%s has %zu members: %zu used",
            f->realm, leaf, count, max);
        count = max;
    }
    if (count == 0 || (*out = calloc(count, sizeof **out)) == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        const struct rconn_reply *m = rconn_reply_elem(reply, i);
        size_t len;
        const char *s = m ? rconn_reply_str(m, &len) : NULL;

        if (s != NULL && len > 0 && strlen(s) == len && ((*out)[*n] = strdup(s)) != NULL)
            (*n)++;
    }
}

#define MAX_RANGES 1024

static void on_secrets(void *arg, const struct rconn_reply *reply)
{
    struct auth_redis_fetch *f = arg;
    struct auth_redis_realm *p = &((struct realm_rec *)f->value)->pub;

    take_set(f, reply, AUTH_SCHEMA_SECRET, &p->secrets, &p->nsecrets, AUTH_MAX_KEYS);
    done_one(f);
}

static void on_allowed(void *arg, const struct rconn_reply *reply)
{
    struct auth_redis_fetch *f = arg;
    struct auth_redis_realm *p = &((struct realm_rec *)f->value)->pub;

    take_set(f, reply, AUTH_SCHEMA_ALLOWED, &p->allowed, &p->nallowed, MAX_RANGES);
    done_one(f);
}

static void on_denied(void *arg, const struct rconn_reply *reply)
{
    struct auth_redis_fetch *f = arg;
    struct auth_redis_realm *p = &((struct realm_rec *)f->value)->pub;

    take_set(f, reply, AUTH_SCHEMA_DENIED, &p->denied, &p->ndenied, MAX_RANGES);
    done_one(f);
}

static struct auth_redis_fetch *fetch_realm(struct auth_redis *r, const uint8_t *ckey,
                                            size_t klen, const char *realm)
{
    static const char *const opts[3] = {AUTH_SCHEMA_USER_QUOTA, AUTH_SCHEMA_TOTAL_QUOTA,
                                        AUTH_SCHEMA_MAX_BPS};
    static const struct {
        const char *leaf;
        rconn_reply_fn *fn;
    } sets[3] = {{AUTH_SCHEMA_SECRET, on_secrets},
                 {AUTH_SCHEMA_ALLOWED, on_allowed},
                 {AUTH_SCHEMA_DENIED, on_denied}};
    char keys[3][AUTH_SCHEMA_KEY_MAX];
    const char *argv[4] = {"MGET", keys[0], keys[1], keys[2]};
    size_t lens[4] = {4, 0, 0, 0};
    struct realm_rec *rr = calloc(1, sizeof *rr);
    struct auth_redis_fetch *f;

    if (rr == NULL)
        return NULL;
    rr->kind = KIND_REALM;
    rr->pub.serial = ++r->serial;
    if ((f = fetch_new(r, ckey, klen, realm, NULL, rr)) == NULL)
        return NULL;
    for (int i = 0; i < 3; i++)
        lens[i + 1] = (size_t)auth_schema_realm(keys[i], sizeof keys[i], realm, opts[i]);
    issue(f, on_realm_opts, 4, argv, lens);
    for (int i = 0; i < 3; i++) {
        argv[0] = "SMEMBERS";
        lens[0] = 8;
        lens[1] = (size_t)auth_schema_realm(keys[0], sizeof keys[0], realm, sets[i].leaf);
        argv[1] = keys[0];
        issue(f, sets[i].fn, 2, argv, lens);
    }
    return launch(f);
}

/* ---- origins -------------------------------------------------------------------------------- */

static void on_origin(void *arg, const struct rconn_reply *reply)
{
    struct auth_redis_fetch *f = arg;
    struct origin_rec *o = f->value;
    const char *s;
    size_t len;

    if (!unusable(f, reply) && rconn_reply_type(reply) == RCONN_STRING) {
        s = rconn_reply_str(reply, &len);
        if (len > 0 && len < sizeof o->realm && strlen(s) == len) {
            memcpy(o->realm, s, len + 1);
            o->found = true;
        } else {
            RCONN_INC(f->r->stats.malformed);
            say(f->r, RCONN_LOG_WARN, "redis userdb: turn/origin/%s is not a realm: ignored",
                f->name);
        }
    }
    done_one(f);
}

static struct auth_redis_fetch *fetch_origin(struct auth_redis *r, const uint8_t *ckey,
                                             size_t klen, const char *origin)
{
    char key[AUTH_SCHEMA_KEY_MAX];
    const char *argv[2] = {"GET", key};
    size_t lens[2] = {3, 0};
    struct origin_rec *o = calloc(1, sizeof *o);
    struct auth_redis_fetch *f;

    if (o == NULL)
        return NULL;
    o->kind = KIND_ORIGIN;
    if ((f = fetch_new(r, ckey, klen, "", origin, o)) == NULL)
        return NULL;
    lens[1] = (size_t)auth_schema_origin(key, sizeof key, origin);
    issue(f, on_origin, 2, argv, lens);
    return launch(f);
}

/* ---- lookups -------------------------------------------------------------------------------- */

/* What every lookup does with its record: fresh, use it; stale or missing, fetch it (or join
 * the fetch under way) while Redis can be asked (and may_fetch); when it cannot, a stale
 * record still serves and a missing one is AUTH_REDIS_DOWN.  Returns 0 with *value set, or a
 * lookup status. */
static int need(struct auth_redis *r, const uint8_t *key, size_t klen, const char *a,
                const char *b, bool may_fetch, void **value, struct auth_redis_fetch **fetch)
{
    enum auth_cache_state st = auth_cache_get(r->cache, key, klen, now_ms(), value);
    void *inflight;

    if (st == AUTH_CACHE_FRESH) {
        RCONN_INC(r->stats.hits);
        return 0;
    }
    if (may_fetch && rconn_usable(r->conn)) {
        if (auth_cache_get(r->inflight, key, klen, 0, &inflight) != AUTH_CACHE_MISS) {
            RCONN_INC(r->stats.joined);
            *fetch = inflight;
            return AUTH_REDIS_WAIT;
        }
        *fetch = key[0] == KIND_USER    ? fetch_user(r, key, klen, a, b)
                 : key[0] == KIND_REALM ? fetch_realm(r, key, klen, a)
                                        : fetch_origin(r, key, klen, b);
        if (*fetch != NULL)
            return AUTH_REDIS_WAIT;
    }
    if (st == AUTH_CACHE_STALE) {
        RCONN_INC(r->stats.stale);
        return 0;
    }
    RCONN_INC(r->stats.down);
    return AUTH_REDIS_DOWN;
}

/* The cache key: kind, then a, then (for a user) a NUL and b.  Length, or 0 when too long. */
static size_t cache_key(uint8_t *out, size_t cap, enum kind kind, const char *a, const char *b)
{
    size_t al = strlen(a), bl = b ? strlen(b) + 1 : 0;

    if (1 + al + bl > cap)
        return 0;
    out[0] = (uint8_t)kind;
    memcpy(out + 1, a, al);
    if (b != NULL) {
        out[1 + al] = '\0';
        memcpy(out + 2 + al, b, bl - 1);
    }
    return 1 + al + bl;
}

int auth_redis_realm(struct auth_redis *r, const char *realm,
                     const struct auth_redis_realm **out, struct auth_redis_fetch **fetch)
{
    uint8_t key[1 + REALM_MAX];
    size_t klen = cache_key(key, sizeof key, KIND_REALM, realm, NULL);
    static const struct auth_redis_realm none;
    void *v;
    int rc;

    *out = &none;
    if (klen == 0 || realm[0] == '\0')
        return 0;
    if ((rc = need(r, key, klen, realm, NULL, true, &v, fetch)) == 0)
        *out = &((struct realm_rec *)v)->pub;
    return rc;
}

int auth_redis_keys(struct auth_redis *r, const char *realm, const char *user, uint32_t wall,
                    struct auth_key *keys, size_t max, struct auth_redis_fetch **fetch)
{
    uint8_t key[2 + REALM_MAX + STUN_MAX_USERNAME];
    size_t ulen = strlen(user), klen;
    const struct auth_redis_realm *rr;
    uint64_t expiry;
    void *v;
    int rc;

    if (ulen == 0 || ulen > STUN_MAX_USERNAME)
        return 0;
    if (r->o.rest && auth_rest_expiry(user, ulen, r->o.rest_sep, &expiry)) {
        if ((rc = auth_redis_realm(r, realm, &rr, fetch)) < 0)
            return rc;
        return (int)auth_rest_keys((const char *const *)rr->secrets, rr->nsecrets, user, realm,
                                   r->o.rest_sep, wall, keys, max);
    }
    if ((klen = cache_key(key, sizeof key, KIND_USER, realm, user)) == 0)
        return 0;
    if ((rc = need(r, key, klen, realm, user, true, &v, fetch)) < 0)
        return rc;
    if (!((struct user_rec *)v)->found || max == 0)
        return 0;
    keys[0] = ((struct user_rec *)v)->key;
    return 1;
}

int auth_redis_origin(struct auth_redis *r, const char *origin, bool may_fetch, char *realm,
                      size_t cap, struct auth_redis_fetch **fetch)
{
    uint8_t key[1 + ORIGIN_MAX];
    size_t klen = cache_key(key, sizeof key, KIND_ORIGIN, origin, NULL);
    struct origin_rec *o;
    int rc;

    if (klen == 0 || origin[0] == '\0')
        return 0;
    if ((rc = need(r, key, klen, NULL, origin, may_fetch, (void **)&o, fetch)) < 0)
        return may_fetch ? rc : 0;
    if (!o->found || strlen(o->realm) >= cap)
        return 0;
    memcpy(realm, o->realm, strlen(o->realm) + 1);
    return 1;
}

/* ---- waiting -------------------------------------------------------------------------------- */

void auth_redis_wait(struct auth_redis_fetch *fetch, struct auth_redis_waiter *w,
                     void (*fn)(void *arg), void *arg)
{
    w->fetch = fetch;
    w->fn = fn;
    w->arg = arg;
    TAILQ_INSERT_TAIL(&fetch->waiters, w, link);
}

void auth_redis_unwait(struct auth_redis_waiter *w)
{
    if (w->fetch == NULL)
        return;
    TAILQ_REMOVE(&w->fetch->waiters, w, link);
    w->fetch = NULL;
}

/* ---- life ----------------------------------------------------------------------------------- */

int auth_redis_new(struct auth_redis **out, struct event_base *base,
                   const struct auth_redis_opts *o)
{
    struct auth_redis *r = calloc(1, sizeof *r);
    struct rconn_opts co = {
        .conf = o->conf,
        .name = "userdb",
        .timeout_ms = o->timeout_ms,
        .down_note = "users not in the cache get 500",
        .log = o->log,
        .group = o->group,
    };

    if (r == NULL)
        return -1;
    r->o = *o;
    r->o.conf = NULL;
    if (r->o.ttl_s == 0)
        r->o.ttl_s = 1;
    if (r->o.negative_ttl_s == 0)
        r->o.negative_ttl_s = 1;
    if (auth_cache_new(&r->cache, o->max_records, rec_free) < 0 ||
        auth_cache_new(&r->inflight, INFLIGHT_MAX, NULL) < 0 ||
        rconn_new(&r->conn, base, &co) < 0) {
        auth_redis_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void auth_redis_free(struct auth_redis *r)
{
    if (r == NULL)
        return;
    /* Fails every fetch in flight (they leave the inflight table as they complete). */
    rconn_free(r->conn);
    auth_cache_free(r->inflight);
    auth_cache_free(r->cache);
    free(r);
}

const struct auth_redis_stats *auth_redis_stats(const struct auth_redis *r)
{
    return &r->stats;
}

const struct rconn_stats *auth_redis_conn_stats(const struct auth_redis *r)
{
    return rconn_stats(r->conn);
}
