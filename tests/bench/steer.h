/* steer.h — relay-port steering, an experiment of the bare forwarder (forward --steer): a BPF
 * sk_lookup program hands every UDP datagram that arrives for a registered IPv4 port to one
 * socket, which learns from IP_ORIGDSTADDR which port it came to.  The relay sockets keep
 * their ports and still send, but are no longer read one by one.  Needs Linux 5.9 or later,
 * CAP_BPF and CAP_NET_ADMIN; the program is detached when the process exits. */
#ifndef TESTS_BENCH_STEER_H
#define TESTS_BENCH_STEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proto/addr.h"

struct steer {
    int sock;  /* where the steered datagrams arrive: non-blocking, IP_RECVORIGDSTADDR */
    int ports; /* BPF array: port -> 1 when steered */
    int socks; /* BPF sockmap: 0 -> sock */
    int prog, link;
};

/* Opens the steering socket on a's IP (any port) and attaches the program to this network
 * namespace.  Returns 0, or -1 with the reason in err (everything opened is closed again). */
int steer_open(struct steer *s, const union addr *a, char *err, size_t errlen);

/* Steers what arrives for the port UDP socket fd is bound to (on any local IPv4 address) to
 * s->sock.  Returns that port, or 0 with errno set. */
uint16_t steer_add(struct steer *s, int fd);

/* The port a datagram received on s->sock was sent to, from its control data; 0 if absent. */
uint16_t steer_port(const struct msghdr *h);

/* Room for steer_port's control data in a receive. */
#define STEER_CTL 64

void steer_close(struct steer *s);

#endif
