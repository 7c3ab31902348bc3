/* dispatch.h — what a client sent, and the answer: demultiplexing, STUN checks, routing. */
#ifndef SERVER_DISPATCH_H
#define SERVER_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/stun.h"
#include "proto/stun_build.h"
#include "relay/relay.h"

struct worker;

/* A client is a relay_client (relay/relay.h): its 5-tuple, and as handle the udp_sock (UDP),
 * tcp_conn (TCP, TLS) or dtls_session (DTLS) it came on. */

/* Handles one packet (a datagram, or one frame of a stream) from a client on worker w:
 * STUN requests are checked and answered, indications taken, ChannelData relayed; anything
 * else is dropped and counted.  buf is only borrowed for the call.  Returns 0, or
 * DISPATCH_PARKED when a request waits for Redis (server/pending.h): a datagram's bytes were
 * copied; a stream must stop reading, leaving the frame first in its input, until resumed. */
int dispatch_packet(struct worker *w, const struct relay_client *c, const uint8_t *buf,
                    size_t len);

#define DISPATCH_PARKED 1

/* Sends buf[0..len) to client c on the transport it came from.  0 or -1. */
int dispatch_send(struct worker *w, const struct relay_client *c, const void *buf, size_t len);

/* Adds SOFTWARE to an answer when --software-attribute asks; a signed answer gets it before
 * its MESSAGE-INTEGRITY, which must cover it (RFC 8489 §14.5: what follows is ignored). */
void dispatch_software(const struct worker *w, struct stun_builder *b);

/* Finishes an answer to req built in b: SOFTWARE when configured (unless b is signed: then the
 * signer added it), FINGERPRINT when the request had one or --fingerprint asks, then sends it
 * and counts its code (0 for success).  An answer longer than limit is not sent (no
 * amplification); returns -1 then, else 0. */
int dispatch_finish(struct worker *w, const struct relay_client *c, const struct stun_msg *req,
                    struct stun_builder *b, size_t limit, int code);

/* An error answer to req with code and reason (NULL: the RFC's phrase), finished as above. */
void dispatch_error(struct worker *w, const struct relay_client *c, const struct stun_msg *req,
                    int code, const char *reason, size_t limit);

/* Room for any answer the server builds. */
#define DISPATCH_REPLY_MAX 1024

#endif
