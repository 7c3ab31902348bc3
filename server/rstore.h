/* rstore.h — the Redis databases in the server: --redis-userdb and --redis-statsdb set up from
 * the configuration, one connection of each per worker, and what a request asks of them. */
#ifndef SERVER_RSTORE_H
#define SERVER_RSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "auth/store.h"
#include "proto/stun.h"
#include "relay/relay.h"

struct config;
struct worker;
struct metrics_store;
struct rstore_shared;
struct rstore;

/* What a request's question may come to besides an answer. */
enum {
    RSTORE_PARKED = -1, /* the request waits (pending.h) and will run again */
    RSTORE_FAILED = -2, /* Redis cannot answer and nothing is cached: answer 500 */
};

/* Longest realm a request may be in (REALM: fewer than 128 characters, RFC 8489 §14.9). */
#define RSTORE_REALM_MAX 512

/* The state the workers share: the parsed connection strings, the outage groups, the count of
 * each realm's allocations (for the realm's total-quota), this node's tag.  *out is NULL when
 * neither --redis-userdb nor --redis-statsdb is given.  0, or -1 with the reason in err. */
int rstore_shared_new(struct rstore_shared **out, const struct config *cfg, char *err,
                      size_t errlen);
void rstore_shared_free(struct rstore_shared *s);

/* For metrics_source.store (server/metrics.h): the userdb's state summed over the workers,
 * from any thread, with atomic loads.  arg is the struct rstore_shared. */
void rstore_metrics(void *arg, struct metrics_store *out);

/* Worker w's connections, cache and waiting requests, in w's loop; *out NULL without Redis.
 * 0 or -1 (no memory). */
int rstore_new(struct rstore **out, struct worker *w);

/* Forgets the waiting requests, closes the connections, frees.  Accepts NULL. */
void rstore_free(struct rstore *r);

/* The realm request m from c is in: the realm its ORIGIN maps to in the userdb
 * (turn/origin/<origin>), else the realm of the allocation on c's 5-tuple (both copied into
 * buf, of RSTORE_REALM_MAX bytes), else --realm.  NULL when the request was parked. */
const char *rstore_realm(struct worker *w, const struct relay_client *c,
                         const struct stun_msg *m, char *buf);

/* The userdb's keys of user (len bytes) in realm at wall time wall: their number (at most
 * max), RSTORE_PARKED or RSTORE_FAILED. */
int rstore_keys(struct worker *w, const struct relay_client *c, const struct stun_msg *m,
                const char *realm, const char *user, size_t len, uint32_t wall,
                struct auth_key *keys, size_t max);

/* What an Allocate of user in realm needs before relay/ sees it: the realm's limits (*limits,
 * borrowed: relay/ takes its own reference; NULL without a userdb) and, with a statsdb and a
 * user quota, a slot among the user's allocations on every node (*granted: give it back with
 * rstore_release when the Allocate made nothing).  0, 486 (over the user's quota on all
 * nodes), or RSTORE_PARKED. */
int rstore_allocate(struct worker *w, const struct relay_client *c, const struct stun_msg *m,
                    const char *realm, const char *user, struct relay_limits **limits,
                    bool *granted);
void rstore_release(struct worker *w, const struct relay_client *c, const char *realm,
                    const char *user);

/* An allocation started, was refreshed or ended: its status goes to the statsdb. */
void rstore_allocation(struct worker *w, const struct relay_alloc_info *i);

/* A client connection or session is closing: its waiting requests are forgotten. */
void rstore_forget(struct worker *w, const void *handle);

#endif
