/* pending.h — requests waiting for Redis: kept while a lookup or a quota check is under way,
 * run again through dispatch when it ends, forgotten when their client goes first. */
#ifndef SERVER_PENDING_H
#define SERVER_PENDING_H

#include <stddef.h>

#include "proto/stun.h"
#include "relay/relay.h"

struct worker;
struct pending;
struct auth_redis_fetch;
struct statsdb;

/* Most requests one worker keeps waiting; more are answered 500 at once. */
#define PENDING_MAX 1024

/* An empty set for worker w.  0 or -1. */
int pending_new(struct pending **out, struct worker *w);

/* Forgets every request (none is answered) and frees.  Accepts NULL.  Before the stores whose
 * answers the requests wait for are freed. */
void pending_free(struct pending *p);

/* Parks request m from c until fetch ends, then runs it again as if it had just arrived: the
 * lookup that waited then finds its answer cached (or Redis down), so the request gets the
 * answer it would have got at once.  A datagram's bytes are copied; a stream connection
 * instead stops reading (the frame stays first in its input) until it is resumed.  Returns
 * 0, or -1 when not parked (PENDING_MAX reached, or m has already waited four times): answer
 * 500 then. */
int pending_wait_fetch(struct pending *p, const struct relay_client *c, const struct stun_msg *m,
                       struct auth_redis_fetch *fetch);

/* The same for the verdict on an Allocate's quota slot, asked of s here for user in realm
 * (see statsdb_quota_ask).  -1 also when Redis cannot be asked. */
int pending_wait_quota(struct pending *p, const struct relay_client *c, const struct stun_msg *m,
                       struct statsdb *s, const char *realm, const char *user, uint32_t quota);

/* While request m from c runs again after pending_wait_quota: the verdict it waited for
 * (STATSDB_GRANTED, _OVER or _UNKNOWN), taken once; otherwise -2. */
#define PENDING_NO_VERDICT (-2)
int pending_verdict(struct pending *p, const struct relay_client *c, const struct stun_msg *m);

/* The connection or session handle is closing: its requests are forgotten. */
void pending_forget(struct pending *p, const void *handle);

#endif
