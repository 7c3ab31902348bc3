/* rstore.c — the Redis databases in the server: shared set-up, per-worker connections and
 * caches, and the questions a request asks of them (realm, keys, limits, quota slot). */
#include "server/rstore.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "auth/redis.h"
#include "auth/schema.h"
#include "proto/crypto.h"
#include "proto/stun_attr.h"
#include "relay/policy.h"
#include "relay/quota.h"
#include "server/config.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/pending.h"
#include "server/statsdb.h"
#include "server/worker.h"

#define MAX_WORKERS 256      /* --relay-threads is at most 128 */
#define REALMS_KEPT 16       /* realms whose limits a worker keeps built */
#define CACHE_RECORDS 50000  /* users, realms and origins cached per worker */
#define ORIGIN_MAX 512
/* Origins not cached that one worker asks Redis about per second.  The realm of an ORIGIN
 * is needed before the nonce has proved the client's address (its 401 carries that realm),
 * so spoofed requests could name any number of origins: past this, an origin not cached
 * counts as unmapped until the next second.  Real origins are few and stay cached. */
#define ORIGIN_FETCHES_PER_S 100

struct rstore_shared {
    struct auth_redisconf userdb;
    struct auth_redisconf statsdb;
    bool has_userdb, has_statsdb;
    struct rconn_group userdb_group;
    struct rconn_group statsdb_group;
    struct relay_quota *realm_count; /* allocations by realm, for a realm's total-quota */
    uint64_t node;
    struct rstore *_Atomic workers[MAX_WORKERS]; /* for the metrics */
};

/* A realm's limits as built from its record (serial 0: built while Redis was down). */
struct realm_limits {
    uint64_t serial;
    struct relay_limits *limits;
};

struct rstore {
    struct worker *w;
    struct rstore_shared *sh;
    struct auth_redis *userdb;
    struct statsdb *statsdb;
    struct pending *pending;
    struct realm_limits realms[REALMS_KEPT];
    unsigned next_realm;
    uint32_t origin_second; /* the worker clock's second of ... */
    unsigned origin_fetches; /* ... this many origin fetches */
};

static void say(enum rconn_level level, const char *msg)
{
    log_msg((enum log_level)level, "%s", msg);
}

/* ---- shared --------------------------------------------------------------------------------- */

int rstore_shared_new(struct rstore_shared **out, const struct config *cfg, char *err,
                      size_t errlen)
{
    struct rstore_shared *s;
    const char *bad = NULL;
    char why[256];

    *out = NULL;
    if (cfg->redis_userdb == NULL && cfg->redis_statsdb == NULL)
        return 0;
    if ((s = calloc(1, sizeof *s)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (cfg->redis_userdb &&
        auth_redisconf_parse(&s->userdb, cfg->redis_userdb, why, sizeof why) < 0)
        bad = "--redis-userdb";
    else if (cfg->redis_statsdb &&
             auth_redisconf_parse(&s->statsdb, cfg->redis_statsdb, why, sizeof why) < 0)
        bad = "--redis-statsdb";
    if (bad) {
        snprintf(err, errlen, "%s: %s", bad, why);
        rstore_shared_free(s);
        return -1;
    }
    s->has_userdb = cfg->redis_userdb != NULL;
    s->has_statsdb = cfg->redis_statsdb != NULL;
    if (relay_quota_new(&s->realm_count) < 0 ||
        crypto_random(&s->node, sizeof s->node) < 0) {
        snprintf(err, errlen, "out of memory");
        rstore_shared_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void rstore_shared_free(struct rstore_shared *s)
{
    if (s == NULL)
        return;
    relay_quota_free(s->realm_count);
    explicit_bzero(s, sizeof *s);
    free(s);
}

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

void rstore_metrics(void *arg, struct metrics_store *out)
{
    struct rstore_shared *s = arg;

    memset(out, 0, sizeof *out);
    out->cached = true;
    for (unsigned i = 0; i < MAX_WORKERS; i++) {
        struct rstore *r = atomic_load(&s->workers[i]);
        const struct auth_redis_stats *st;
        const struct rconn_stats *cs;

        if (r == NULL || r->userdb == NULL)
            continue;
        st = auth_redis_stats(r->userdb);
        cs = auth_redis_conn_stats(r->userdb);
        out->reachable |= LOAD(cs->up);
        out->lookups += LOAD(st->fetches);
        out->errors += LOAD(cs->failed) + LOAD(st->down);
        out->cache_hits += LOAD(st->hits) + LOAD(st->stale);
    }
}

/* ---- per worker ----------------------------------------------------------------------------- */

int rstore_new(struct rstore **out, struct worker *w)
{
    struct rstore_shared *sh = w->shared->rstore;
    const struct config *cfg = w->cfg;
    struct rstore *r;

    *out = NULL;
    if (sh == NULL)
        return 0;
    if ((r = calloc(1, sizeof *r)) == NULL)
        return -1;
    r->w = w;
    r->sh = sh;
    if (pending_new(&r->pending, w) < 0)
        goto fail;
    if (sh->has_userdb) {
        const struct auth_redis_opts o = {
            .conf = &sh->userdb,
            .timeout_ms = (unsigned)cfg->redis_timeout,
            .ttl_s = (unsigned)cfg->redis_cache_ttl,
            .negative_ttl_s = (unsigned)cfg->redis_negative_ttl,
            .stale_s = (unsigned)cfg->redis_stale,
            .max_records = CACHE_RECORDS,
            .rest = cfg->use_auth_secret && cfg->nsecrets == 0,
            .rest_sep = cfg->rest_separator,
            .log = say,
            .group = &sh->userdb_group,
        };
        if (auth_redis_new(&r->userdb, w->base, &o) < 0)
            goto fail;
    }
    if (sh->has_statsdb) {
        const struct statsdb_opts o = {
            .conf = &sh->statsdb,
            .timeout_ms = (unsigned)cfg->redis_timeout,
            .node = sh->node,
            .max_lifetime = (uint32_t)cfg->max_allocate_lifetime,
            .log = say,
            .group = &sh->statsdb_group,
        };
        if (statsdb_new(&r->statsdb, w->base, &o) < 0)
            goto fail;
    }
    if (w->id >= 0 && w->id < MAX_WORKERS)
        atomic_store(&sh->workers[w->id], r);
    *out = r;
    return 0;
fail:
    rstore_free(r);
    return -1;
}

void rstore_free(struct rstore *r)
{
    if (r == NULL)
        return;
    if (r->w->id >= 0 && r->w->id < MAX_WORKERS)
        atomic_store(&r->sh->workers[r->w->id], NULL);
    /* The waiting requests first: they hold waits on the stores. */
    pending_free(r->pending);
    auth_redis_free(r->userdb);
    statsdb_free(r->statsdb);
    for (unsigned i = 0; i < REALMS_KEPT; i++)
        relay_limits_release(r->realms[i].limits);
    free(r);
}

/* Parks m until fetch ends: RSTORE_PARKED, or RSTORE_FAILED when it cannot wait. */
static int park(struct rstore *r, const struct relay_client *c, const struct stun_msg *m,
                struct auth_redis_fetch *fetch)
{
    return pending_wait_fetch(r->pending, c, m, fetch) == 0 ? RSTORE_PARKED : RSTORE_FAILED;
}

const char *rstore_realm(struct worker *w, const struct relay_client *c,
                         const struct stun_msg *m, char *buf)
{
    struct rstore *r = w->rstore;
    struct auth_redis_fetch *fetch;
    const struct relay_limits *l;
    char origin[ORIGIN_MAX + 1], canonic[ORIGIN_MAX + 8];
    const uint8_t *o;
    size_t len;
    int rc;

    if (r == NULL || r->userdb == NULL)
        return w->cfg->realm;
    if (stun_msg_get_bytes(m, STUN_ATTR_ORIGIN, &o, &len) == STUN_OK && len > 0 &&
        len <= ORIGIN_MAX && memchr(o, '\0', len) == NULL) {
        memcpy(origin, o, len);
        origin[len] = '\0';
        auth_schema_origin_canonic(origin, canonic, sizeof canonic);
        if (r->origin_second != worker_now(w)) {
            r->origin_second = worker_now(w);
            r->origin_fetches = 0;
        }
        rc = auth_redis_origin(r->userdb, canonic, r->origin_fetches < ORIGIN_FETCHES_PER_S, buf,
                               RSTORE_REALM_MAX, &fetch);
        r->origin_fetches += rc == AUTH_REDIS_WAIT;
        if (rc == AUTH_REDIS_WAIT)
            return park(r, c, m, fetch) == RSTORE_PARKED ? NULL : w->cfg->realm;
        if (rc == 1)
            return buf;
    }
    /* Copied: a Refresh may end the allocation, and its limits with it. */
    l = relay_alloc_limits(w->relay, c);
    if (l == NULL)
        return w->cfg->realm;
    snprintf(buf, RSTORE_REALM_MAX, "%s", l->realm);
    return buf;
}

int rstore_keys(struct worker *w, const struct relay_client *c, const struct stun_msg *m,
                const char *realm, const char *user, size_t len, uint32_t wall,
                struct auth_key *keys, size_t max)
{
    struct rstore *r = w->rstore;
    struct auth_redis_fetch *fetch;
    int rc;

    if (r == NULL || r->userdb == NULL || strlen(user) != len)
        return 0;
    rc = auth_redis_keys(r->userdb, realm, user, wall, keys, max, &fetch);
    if (rc == AUTH_REDIS_WAIT)
        return park(r, c, m, fetch);
    return rc == AUTH_REDIS_DOWN ? RSTORE_FAILED : rc;
}

/* Adds a realm's ranges to p; a range relay/ refuses is logged and left out. */
static void add_ranges(struct relay_policy *p, const char *realm, char **v, size_t n,
                       const char *leaf,
                       int (*add)(struct relay_policy *, const char *, char *, size_t))
{
    char why[256];

    for (size_t i = 0; i < n; i++)
        if (add(p, v[i], why, sizeof why) < 0)
            log_warn("redis userdb: turn/realm/%s/%s: %s: ignored", realm, leaf, why);
}

/* The limits of realm from its record (NULL: the configuration's alone). */
static struct relay_limits *build_limits(struct rstore *r, const char *realm,
                                         const struct auth_redis_realm *rec)
{
    const struct config *cfg = r->w->cfg;
    struct relay_limits *l;

    if (relay_limits_new(&l, realm) < 0)
        return NULL;
    l->user_quota = rec && rec->has_user_quota ? rec->user_quota : (uint32_t)cfg->user_quota;
    l->max_bps = rec && rec->has_max_bps ? rec->max_bps : cfg->max_bps;
    l->total_quota = rec && rec->has_total_quota ? rec->total_quota : 0;
    l->realm_count = r->sh->realm_count;
    if (rec && (rec->nallowed || rec->ndenied) && relay_policy_new(&l->peers) == 0) {
        add_ranges(l->peers, realm, rec->allowed, rec->nallowed, "allowed-peer-ip",
                   relay_policy_allow);
        add_ranges(l->peers, realm, rec->denied, rec->ndenied, "denied-peer-ip",
                   relay_policy_deny);
    }
    return l;
}

/* realm's limits, built again when its record has been fetched again since. */
static int limits_of(struct rstore *r, const struct relay_client *c, const struct stun_msg *m,
                     const char *realm, struct relay_limits **out)
{
    const struct auth_redis_realm *rec = NULL;
    struct auth_redis_fetch *fetch;
    struct realm_limits *slot = NULL;
    int rc = auth_redis_realm(r->userdb, realm, &rec, &fetch);
    uint64_t serial;

    if (rc == AUTH_REDIS_WAIT)
        return park(r, c, m, fetch);
    if (rc == AUTH_REDIS_DOWN)
        rec = NULL;
    serial = rec ? rec->serial : 0;
    for (unsigned i = 0; i < REALMS_KEPT && slot == NULL; i++) {
        struct realm_limits *k = &r->realms[i];
        if (k->limits != NULL && strcmp(k->limits->realm, realm) == 0)
            slot = k;
    }
    if (slot == NULL) {
        slot = &r->realms[r->next_realm];
        r->next_realm = (r->next_realm + 1) % REALMS_KEPT;
    } else if (slot->serial == serial || (rec == NULL && slot->limits != NULL)) {
        *out = slot->limits; /* while Redis is down, the limits last built stay */
        return 0;
    }
    relay_limits_release(slot->limits);
    slot->limits = build_limits(r, realm, rec);
    slot->serial = serial;
    *out = slot->limits;
    return 0;
}

int rstore_allocate(struct worker *w, const struct relay_client *c, const struct stun_msg *m,
                    const char *realm, const char *user, struct relay_limits **limits,
                    bool *granted)
{
    struct rstore *r = w->rstore;
    uint32_t quota = (uint32_t)w->cfg->user_quota;
    int rc, v;

    *limits = NULL;
    *granted = false;
    if (r == NULL)
        return 0;
    if (r->userdb && (rc = limits_of(r, c, m, realm, limits)) != 0)
        return rc;
    if (*limits != NULL)
        quota = (*limits)->user_quota;
    /* A retransmitted Allocate, or one on a 5-tuple that has an allocation, needs no slot. */
    if (r->statsdb == NULL || quota == 0 || user[0] == '\0' || relay_find(w->relay, c) != NULL)
        return 0;
    v = pending_verdict(r->pending, c, m);
    if (v == PENDING_NO_VERDICT) {
        if (pending_wait_quota(r->pending, c, m, r->statsdb, realm, user, quota) == 0)
            return RSTORE_PARKED;
        v = STATSDB_UNKNOWN; /* Redis down: this node's count alone decides */
    }
    if (v == STATSDB_OVER)
        return 486;
    *granted = v == STATSDB_GRANTED;
    return 0;
}

void rstore_release(struct worker *w, const struct relay_client *c, const char *realm,
                    const char *user)
{
    if (w->rstore && w->rstore->statsdb)
        statsdb_quota_release(w->rstore->statsdb, realm, user, c);
}

void rstore_allocation(struct worker *w, const struct relay_alloc_info *i)
{
    struct rstore *r = w->rstore;

    if (r == NULL || r->statsdb == NULL)
        return;
    statsdb_allocation(r->statsdb, i->limits ? i->limits->realm : w->cfg->realm, i);
}

void rstore_forget(struct worker *w, const void *handle)
{
    if (w->rstore)
        pending_forget(w->rstore->pending, handle);
}
