/* turn.h — a TURN request's way through the server: authentication, relay/, signed answer. */
#ifndef SERVER_TURN_H
#define SERVER_TURN_H

#include "proto/stun.h"
#include "relay/relay.h"

struct worker;

/* Answers an Allocate, Refresh, CreatePermission or ChannelBind request from c: the long-term
 * credential check (unless --no-auth), 420 for unknown comprehension-required attributes,
 * then relay/; the answer is signed with the request's key and sent.  Nothing is kept for a
 * request that fails authentication.  Returns 0, or TURN_PARKED when the request waits for
 * Redis (a user, a realm, an origin or a quota slot not cached): it is run again, and
 * answered then, as it would have been at once (server/pending.h). */
int turn_request(struct worker *w, const struct relay_client *c, struct stun_msg *m);

#define TURN_PARKED 1

#endif
