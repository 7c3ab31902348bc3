/* tcppeer.h — RFC 6062 on the server: TCP relayed addresses, peer connections, splicing. */
#ifndef SERVER_TCPPEER_H
#define SERVER_TCPPEER_H

#include <stdbool.h>

#include "proto/stun.h"
#include "relay/relay.h"

struct worker;

/* Fills the RFC 6062 part of io (open_tcp, tcp_connect, tcp_bind, tcp_close) for worker w. */
void tcppeer_io_init(struct relay_io *io, struct worker *w);

/* True when endpoint (from relay_io open_udp or open_tcp) is a TCP relayed address; closes
 * and frees it then. */
bool tcppeer_close_endpoint(void *endpoint);

/* A ConnectionBind m on client connection c belongs to another worker (relay_request said
 * RELAY_HANDOFF): moves the connection there, where relay_connection_bind() answers it.  When
 * that cannot be done, c gets the error answer here. */
void tcppeer_handoff(struct worker *w, const struct relay_client *c, const struct stun_msg *m,
                     const char *user, const struct relay_sig *sig);

#endif
