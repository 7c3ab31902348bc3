/* dispatch.h — what a client sent, and the answer: demultiplexing, STUN checks, Binding. */
#ifndef SERVER_DISPATCH_H
#define SERVER_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"

struct worker;
struct udp_sock;
struct tcp_conn;

enum transport { TRANSPORT_UDP, TRANSPORT_TCP, TRANSPORT_TLS, TRANSPORT_DTLS };

/* Where a packet came from and how to answer it: the client's address, the local address it
 * was sent to, and the socket (UDP) or connection (streams) it arrived on. */
struct client_ref {
    enum transport tp;
    union addr remote;
    union addr local;
    struct udp_sock *udp;
    struct tcp_conn *conn;
};

/* Handles one packet (a datagram, or one frame of a stream) from a client on worker w:
 * STUN requests are checked and answered, indications taken, ChannelData relayed; anything
 * else is dropped and counted.  buf is only borrowed for the call. */
void dispatch_packet(struct worker *w, const struct client_ref *c, const uint8_t *buf,
                     size_t len);

/* Sends buf[0..len) to client c on the transport it came from.  0 or -1. */
int dispatch_send(struct worker *w, const struct client_ref *c, const void *buf, size_t len);

#endif
