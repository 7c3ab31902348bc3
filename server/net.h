/* net.h — socket set-up helpers: bound UDP and TCP sockets and TCP listeners, non-blocking. */
#ifndef SERVER_NET_H
#define SERVER_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/addr.h"

/* Flags for net_udp_socket(), net_tcp_socket() and net_tcp_listener(). */
enum {
    NET_REUSEPORT = 1u << 0, /* SO_REUSEPORT: one socket per worker on the same address */
    NET_PKTINFO = 1u << 1,   /* ask for the destination address of each datagram */
    NET_RELAY = 1u << 2,     /* a relay endpoint: no address reuse, modest buffers */
};

/* Opens a non-blocking, close-on-exec UDP socket bound to a (IPv6 sockets are IPv6-only, so
 * 0.0.0.0 and :: can be bound side by side).  Returns the descriptor, or -1 with a message such
 * as "cannot bind UDP 127.0.0.1:3478: Address already in use" in err. */
int net_udp_socket(const union addr *a, unsigned flags, char *err, size_t errlen);

/* Opens a non-blocking, close-on-exec TCP socket bound to a (to connect from it: RFC 6062
 * connections leave from the relayed address).  Same contract; err may be NULL (errlen 0), and
 * errno tells the cause on failure. */
int net_tcp_socket(const union addr *a, unsigned flags, char *err, size_t errlen);

/* The same, listening.  Same contract. */
int net_tcp_listener(const union addr *a, unsigned flags, int backlog, char *err, size_t errlen);

/* Reads the local address a datagram was sent to from its IP_PKTINFO / IPV6_PKTINFO control
 * message into *out (port set to port).  Returns false when there is none. */
struct msghdr;
bool net_pktinfo_get(const struct msghdr *msg, uint16_t port, union addr *out);

/* Writes into ctl (capacity cap) a control message making a datagram leave from src's IP, and
 * returns its length (0 when src is not IPv4/IPv6). */
size_t net_pktinfo_put(void *ctl, size_t cap, const union addr *src);

/* Writes up to max of this host's interface addresses (port 0) into out, IPv4 then IPv6,
 * without IPv6 link-local ones (they need a scope to be used).  Returns how many. */
size_t net_local_addrs(union addr *out, size_t max);

/* Room a control buffer needs for net_pktinfo_get/put. */
#define NET_PKTINFO_SPACE 64

#endif
