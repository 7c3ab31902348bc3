/* dtls.h — TURN over DTLS 1.2 on the TLS ports: sockets, the cookie exchange, sessions. */
#ifndef SERVER_DTLS_H
#define SERVER_DTLS_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/addr.h"

struct tls;
struct worker;

/* A worker's DTLS sockets and its sessions, found by 5-tuple. */
struct dtls;

/* One client's DTLS association (RFC 6347): the handle of a relay_client whose transport is
 * RELAY_DTLS. */
struct dtls_session;

/* Sessions in their handshake per worker.  Each costs an SSL object, but only a client that
 * answered a HelloVerifyRequest from its own address gets one; past this many, the oldest
 * handshake is dropped to make room. */
#define DTLS_HANDSHAKES_MAX 256

/* The DTLS transport of worker w with context ctx (tls_new with dtls; borrowed, it must
 * outlive the transport).  0 or -1 (no memory). */
int dtls_new(struct dtls **out, struct worker *w, const struct tls *ctx);

/* Opens a SO_REUSEPORT UDP socket on a (a wildcard asks each datagram's destination) and
 * serves DTLS on it in w's loop.  A ClientHello from an unknown 5-tuple is answered with a
 * HelloVerifyRequest and forgotten; only one that brings back a valid cookie starts a session
 * (within --max-tcp-connections sessions and DTLS_HANDSHAKES_MAX handshakes per worker, the
 * handshake within --tcp-idle-timeout).  Each datagram a session decrypts is a STUN message
 * or a ChannelData message for dispatch_packet(); a session without an allocation closes
 * after --tcp-idle-timeout of silence.  0, or -1 with the reason in err. */
int dtls_listen(struct dtls *d, const union addr *a, char *err, size_t errlen);

/* Closes every session (sending close_notify; their allocations are deleted) and every socket,
 * then frees.  Accepts NULL.  Call before the worker's relay is freed. */
void dtls_free(struct dtls *d);

/* Encrypts buf[0..len) (a STUN or ChannelData message) into one datagram to the session's
 * client.  0, or -1 when the session cannot send (closing, in its handshake, or refused). */
int dtls_session_send(struct dtls_session *s, const void *buf, size_t len);

/* The session holds an allocation (or no longer does): while it does it lives as long as the
 * allocation, whatever its silence; afterwards the idle timeout counts again from now. */
void dtls_session_set_allocated(struct dtls_session *s, bool allocated);

#endif
