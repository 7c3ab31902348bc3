/* redis.h — the Redis user database as one worker sees it: users, REST secrets, realm options
 * and origins in coturn's schema (auth/schema.h), cached, fetched without blocking. */
#ifndef AUTH_REDIS_H
#define AUTH_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "auth/rconn.h"
#include "auth/store.h"

struct event_base;
struct auth_redis;
/* A fetch under way: what a lookup that could not be answered from the cache waits for. */
struct auth_redis_fetch;

struct auth_redis_opts {
    const struct auth_redisconf *conf;
    unsigned timeout_ms;     /* --redis-timeout */
    unsigned ttl_s;          /* --redis-cache-ttl: how long a record found is trusted (>= 1) */
    unsigned negative_ttl_s; /* an unknown user or origin (>= 1) */
    unsigned stale_s;        /* how long past its TTL a record still serves while Redis cannot
                                answer (known users keep authenticating in an outage) */
    size_t max_records;      /* cache bound, per worker */
    bool rest;               /* REST names are checked against the realm's secret set */
    char rest_sep;
    rconn_log_fn *log;
    struct rconn_group *group;
};

/* What a lookup returns besides a result. */
enum {
    AUTH_REDIS_WAIT = -1, /* not cached: *fetch is under way, wait for it and ask again */
    AUTH_REDIS_DOWN = -2, /* not cached and Redis cannot be asked now: answer 500 */
};

/* A realm's options as Redis holds them (a field absent or malformed there is absent here). */
struct auth_redis_realm {
    uint64_t serial; /* a new number at every fetch: what was built from it may be stale */
    bool has_user_quota, has_total_quota, has_max_bps;
    uint32_t user_quota, total_quota, max_bps;
    char **secrets; /* the realm's REST secrets (at most AUTH_MAX_KEYS) */
    size_t nsecrets;
    char **allowed; /* allowed-peer-ip and denied-peer-ip ranges, as written there */
    size_t nallowed;
    char **denied;
    size_t ndenied;
};

/* One worker's store: its connection (rconn) and cache, in base's loop.  0 or -1. */
int auth_redis_new(struct auth_redis **out, struct event_base *base,
                   const struct auth_redis_opts *o);

/* Fails the fetches under way (their waiters are told) and frees.  Accepts NULL. */
void auth_redis_free(struct auth_redis *r);

/* The keys of user (NUL-terminated) in realm at wall time wall (Unix seconds): the user's
 * MD5 key (turn/.../key, or made from turn/.../password) and SHA-256 key (sha256-key), or,
 * with opts.rest and a REST name, one key per secret of the realm.  Returns the number of
 * keys written (at most max; 0 for an unknown user), AUTH_REDIS_WAIT with *fetch set, or
 * AUTH_REDIS_DOWN.  A fresh record answers at once, without a loop turn. */
int auth_redis_keys(struct auth_redis *r, const char *realm, const char *user, uint32_t wall,
                    struct auth_key *keys, size_t max, struct auth_redis_fetch **fetch);

/* The options of realm: 0 with *out set (valid until the next call into r), or
 * AUTH_REDIS_WAIT / AUTH_REDIS_DOWN as above. */
int auth_redis_realm(struct auth_redis *r, const char *realm,
                     const struct auth_redis_realm **out, struct auth_redis_fetch **fetch);

/* The realm of an ORIGIN (turn/origin/<origin>): 1 with it copied into realm (capacity
 * cap), 0 when the origin has none, or AUTH_REDIS_WAIT / AUTH_REDIS_DOWN.  With may_fetch
 * false, a record not fresh in the cache is not fetched: its stale value, else 0. */
int auth_redis_origin(struct auth_redis *r, const char *origin, bool may_fetch, char *realm,
                      size_t cap, struct auth_redis_fetch **fetch);

/* Someone waiting for a fetch: embedded in the waiter's own object. */
struct auth_redis_waiter {
    TAILQ_ENTRY(auth_redis_waiter) link;
    struct auth_redis_fetch *fetch;
    void (*fn)(void *arg);
    void *arg;
};

/* Calls fn(arg) once fetch ends, whichever way (then ask again: the answer is cached, or
 * Redis is down).  Call right after the lookup that returned AUTH_REDIS_WAIT. */
void auth_redis_wait(struct auth_redis_fetch *fetch, struct auth_redis_waiter *w,
                     void (*fn)(void *arg), void *arg);

/* Stops waiting (the waiter's object is going away).  Accepts a waiter already told. */
void auth_redis_unwait(struct auth_redis_waiter *w);

/* Counters of one worker's store, read by any thread with atomic loads. */
struct auth_redis_stats {
    _Atomic uint64_t hits;      /* answered from a fresh record */
    _Atomic uint64_t fetches;   /* records asked of Redis */
    _Atomic uint64_t joined;    /* lookups that waited for a fetch already under way */
    _Atomic uint64_t stale;     /* answered from a stale record: Redis could not be asked */
    _Atomic uint64_t down;      /* not answered: not cached and Redis down */
    _Atomic uint64_t malformed; /* values in Redis treated as absent */
};
const struct auth_redis_stats *auth_redis_stats(const struct auth_redis *r);
const struct rconn_stats *auth_redis_conn_stats(const struct auth_redis *r);

#endif
