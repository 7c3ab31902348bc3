/* ratelimit.h — at most N answers of a kind per second to one client IP, per worker. */
#ifndef SERVER_RATELIMIT_H
#define SERVER_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/addr.h"

struct ratelimit;

/* A limit of per_second answers per client IP.  One per worker: no lock.  0 or -1. */
int ratelimit_new(struct ratelimit **out, unsigned per_second);
void ratelimit_free(struct ratelimit *rl);

/* Counts one answer for ip at time now (seconds); false when ip has had per_second already
 * this second.  A fixed table (no allocation, O(1)): two IPs sharing a slot take turns, each
 * starting afresh, which only ever lets more through, never fewer. */
bool ratelimit_allow(struct ratelimit *rl, const union addr *ip, uint32_t now);

#endif
