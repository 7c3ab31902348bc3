/* statsdb.h — --redis-statsdb: allocation status for operators and other nodes, in coturn's
 * keys and channels, and --user-quota counted over every node sharing the database. */
#ifndef SERVER_STATSDB_H
#define SERVER_STATSDB_H

#include <stddef.h>
#include <stdint.h>

#include "auth/rconn.h"
#include "relay/relay.h"

struct event_base;
struct statsdb;
struct statsdb_ask;

struct statsdb_opts {
    const struct auth_redisconf *conf;
    unsigned timeout_ms;
    uint64_t node;          /* this process's random tag: allocation ids differ across nodes */
    uint32_t max_lifetime;  /* --max-allocate-lifetime: a quota slot's first expiry */
    rconn_log_fn *log;
    struct rconn_group *group;
};

/* One worker's connection to the statsdb, in base's loop.  0 or -1. */
int statsdb_new(struct statsdb **out, struct event_base *base, const struct statsdb_opts *o);

/* Closes (asks still waiting are answered STATSDB_UNKNOWN first).  Accepts NULL. */
void statsdb_free(struct statsdb *s);

/* An allocation started, was refreshed, or ended (relay/'s on_allocation), in realm:
 *   SET turn/realm/R/user/U/allocation/ID/status "new lifetime=N" (or "refreshed
 *   lifetime=N") EX N, and PUBLISH the same on the channel of that name;
 *   at the end DEL it, PUBLISH "deleted" there, and PUBLISH "rcvp=P, rcvb=B, sentp=P, sentb=B"
 *   (received from the client, sent to it) on .../allocation/ID/total_traffic;
 * and the user's quota slot follows the allocation's lifetime, or goes.  Nothing waits: while
 * Redis is down these are lost (the status keys expire by themselves). */
void statsdb_allocation(struct statsdb *s, const char *realm, const struct relay_alloc_info *i);

/* The verdict on a quota slot. */
enum { STATSDB_OVER = 0, STATSDB_GRANTED = 1, STATSDB_UNKNOWN = -1 };

typedef void statsdb_verdict_fn(void *arg, int verdict);

/* Asks for a slot for an allocation of user on client c's 5-tuple, at most quota slots for the
 * user over all nodes (slots expire with their allocations: a node that dies leaks none for
 * longer than a lifetime).  Atomic in Redis (one script); asking again for the same 5-tuple
 * keeps its one slot.  fn(arg, verdict) follows once, unless cancelled first.  NULL when
 * Redis cannot be asked now (the caller counts this node's allocations only). */
struct statsdb_ask *statsdb_quota_ask(struct statsdb *s, const char *realm, const char *user,
                                      const struct relay_client *c, uint32_t quota,
                                      statsdb_verdict_fn *fn, void *arg);

/* fn will not be called.  Accepts NULL. */
void statsdb_quota_cancel(struct statsdb_ask *a);

/* Gives back the slot of an Allocate that did not make an allocation. */
void statsdb_quota_release(struct statsdb *s, const char *realm, const char *user,
                           const struct relay_client *c);

#endif
