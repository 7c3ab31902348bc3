/* peer.h — relay endpoints: the UDP sockets of allocations, facing the peers. */
#ifndef SERVER_PEER_H
#define SERVER_PEER_H

#include "relay/relay.h"

struct worker;

/* The first member of every relay endpoint the I/O layer hands relay/, so that close() can tell
 * a UDP endpoint from a TCP relayed address (tcppeer.c). */
enum peer_kind { PEER_UDP = 1, PEER_TCP };

/* Fills io with worker w's implementation of relay/'s network: endpoints are UDP sockets in
 * w's loop, whose datagrams are read in batches and handed to relay_peer_data(); answers to
 * clients go out through the listener they came in on. */
void peer_io_init(struct relay_io *io, struct worker *w);

/* --relay-steering: worker w reads its steering sockets (w->shared->steer) from now on, and
 * registers its endpoints' addresses there.  0, or -1 (no memory).  peer_steering_stop()
 * undoes it, once every endpoint is closed (after relay_free); it accepts a w that has none. */
int peer_steering_start(struct worker *w);
void peer_steering_stop(struct worker *w);

/* Closes a socket held for a reservation (relay_io's unhold; ctx is not used), for the
 * reservations still pending at shutdown. */
void peer_unhold(void *ctx, void *held);

#endif
