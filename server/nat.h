/* nat.h — RFC 5780 NAT behaviour discovery: the other address of a listening address, and
 * where a Binding response leaves from and goes to (CHANGE-REQUEST, RESPONSE-PORT). */
#ifndef SERVER_NAT_H
#define SERVER_NAT_H

#include <stdbool.h>

#include "proto/addr.h"
#include "proto/stun.h"
#include "relay/relay.h"
#include "server/config.h"

struct worker;

/* At start: --rfc5780 needs two listening IPs of one family (each the other address of the
 * other).  0, or -1 with the reason in err. */
int nat_check(const struct config *cfg, char *err, size_t errlen);

/* The other address of local, one of our plain listening addresses (IP and port): the next
 * listening IP of its family (the first after the last) at the other plain port.  False when
 * --rfc5780 is off, local is on another port (TLS, DTLS), or its family has one IP only. */
bool nat_other(const struct config *cfg, const union addr *local, union addr *other);

/* Whether RFC 5780 answers the Binding requests of c: --rfc5780, plain UDP or TCP, and an
 * other address for c->local, then in *other. */
bool nat_serves(const struct config *cfg, const struct relay_client *c, union addr *other);

/* The route of the Binding response to request m of c (nat_serves(c) holds and gave other):
 * *to is c with the socket and local address CHANGE-REQUEST picks and the port RESPONSE-PORT
 * gives.
 * Returns 0, or 400 with *reason when the request asks what cannot be done (CHANGE-REQUEST or
 * RESPONSE-PORT over TCP, RESPONSE-PORT 0), 500 when this worker has no socket at the changed
 * address. */
int nat_route(struct worker *w, const struct relay_client *c, const struct stun_msg *m,
              const union addr *other, struct relay_client *to, const char **reason);

#endif
